"""Filters on the Playlist tab: feature ranges, every mood/style preset, dim or hide, the counts.

The thresholds shown on the Definitions tab are checked too.
"""

from __future__ import annotations

import pytest

from tests.browser.helpers import PLAYLIST_SIZE, open_playlist
from tests.browser.selection_tools import columns, listed_ids, screen

pytestmark = pytest.mark.browser


def passing(cols: dict, ranges: dict) -> list[str]:
    """Ids meeting every [low, high] range (None open); a missing value fails."""

    def ok(i):
        for name, (low, high) in ranges.items():
            value = cols[name][i]
            if value is None or (low is not None and value < low):
                return False
            if high is not None and value > high:
                return False
        return True

    return [t for i, t in enumerate(cols["id"]) if ok(i)]


def counts(page) -> dict:
    return page.evaluate(
        "() => ({passing: window.plotify.playlist.passingCount,"
        " dimmed: window.plotify.scatter.filteredOutCount,"
        " drawn: window.plotify.scatter.drawnCount})"
    )


def set_range(page, feature: str, low=None, high=None) -> None:
    for end, value in (("min", low), ("max", high)):
        field = page.locator(f"#filter-{feature}-{end}")
        field.fill("" if value is None else str(value))
        field.press("Enter")


def test_a_range_dims_the_rest_and_hiding_removes_them(page):
    open_playlist(page)
    cols = columns(page)
    set_range(page, "energy", low=0.7)
    expected = passing(cols, {"energy": (0.7, None)})
    assert 10 < len(expected) < PLAYLIST_SIZE - 10
    page.wait_for_function("(n) => window.plotify.playlist.passingCount === n", arg=len(expected))
    # Dimmed, not gone: every track is still drawn, the failing ones faintly.
    assert counts(page) == {
        "passing": len(expected),
        "dimmed": PLAYLIST_SIZE - len(expected),
        "drawn": PLAYLIST_SIZE,
    }
    assert listed_ids(page) == expected  # the table lists the filtered set, in playlist order
    assert f"{len(expected)} of {PLAYLIST_SIZE} tracks pass" in page.inner_text(
        "[data-testid=selection-count]"
    )
    screen(page, "filter-dimmed", ".scatter-frame")
    page.check("[data-testid=hide-filtered]")
    page.wait_for_function("(n) => window.plotify.scatter.drawnCount === n", arg=len(expected))
    assert counts(page)["dimmed"] == 0
    screen(page, "filter-hidden", ".scatter-frame")
    # A second range narrows further; clearing brings every track back.
    set_range(page, "tempo", low=100, high=130)
    both = passing(cols, {"energy": (0.7, None), "tempo": (100, 130)})
    page.wait_for_function("(n) => window.plotify.playlist.passingCount === n", arg=len(both))
    assert len(both) < len(expected)
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_function("(n) => window.plotify.scatter.drawnCount === n", arg=PLAYLIST_SIZE)
    assert page.console.unexpected() == []


def test_duration_is_filtered_in_minutes(page):
    open_playlist(page)
    cols = columns(page)
    set_range(page, "duration_ms", high=3)
    expected = passing(cols, {"duration_ms": (None, 180_000)})
    assert 0 < len(expected) < PLAYLIST_SIZE
    page.wait_for_function("(n) => window.plotify.playlist.passingCount === n", arg=len(expected))
    assert listed_ids(page) == expected


def test_every_preset_keeps_the_tracks_meeting_its_documented_thresholds(page):
    open_playlist(page)
    cols = columns(page)
    presets = page.evaluate("() => window.plotify.playlist.presets")
    assert [p["name"] for p in presets] == [
        "chill", "amped", "sad", "angry", "happy", "danceable",
        "acoustic", "instrumental", "live", "spoken", "loud", "quiet",
    ]  # fmt: skip
    seen_nonempty = 0
    for preset in presets:
        button = page.locator(f"[data-preset='{preset['name']}']")
        button.click()
        expected = passing(cols, {k: tuple(v) for k, v in preset["ranges"].items()})
        page.wait_for_function(
            "(n) => window.plotify.playlist.passingCount === n", arg=len(expected)
        )
        assert button.get_attribute("aria-pressed") == "true"
        assert listed_ids(page) == expected, preset["name"]
        seen_nonempty += bool(expected)
        button.click()
        page.wait_for_function(
            "(n) => window.plotify.playlist.passingCount === n", arg=PLAYLIST_SIZE
        )
    assert seen_nonempty >= 8  # the seed playlist has tracks for most moods and styles
    # Two presets together keep the tracks meeting both.
    page.click("[data-preset='danceable']")
    page.click("[data-preset='loud']")
    both = passing(cols, {"danceability": (0.7, None), "loudness": (-5, None)})
    page.wait_for_function("(n) => window.plotify.playlist.passingCount === n", arg=len(both))
    screen(page, "filter-panel", "[data-testid=filters]")

    # The Definitions tab documents the same thresholds.
    page.click("#tab-definitions")
    table = page.locator("[data-testid=preset-definitions]")
    table.wait_for()
    for preset in presets:
        row = table.locator(f"tr[data-preset='{preset['name']}']").inner_text()
        for low, high in preset["ranges"].values():
            for bound in (low, high):
                if bound is not None:
                    assert f"{bound:g}" in row, (preset["name"], row)
    screen(page, "definitions-presets", "[data-testid=preset-definitions]")
