"""Lasso and box selection on the scatter plot: right tracks, Shift adds, Alt removes, Esc clears.

Also across axis changes and on the whole catalogue (~92k points).
"""

from __future__ import annotations

import pytest

from tests.browser.helpers import PLAYLIST_SIZE, open_playlist, wait_still
from tests.browser.selection_tools import (
    assert_same_but_outline,
    columns,
    drag,
    ids_in_box,
    ids_in_polygon,
    last_shape,
    listed_ids,
    screen,
    selected_ids,
)

pytestmark = pytest.mark.browser

PENTAGON = [(0.35, 0.35), (0.75, 0.3), (0.85, 0.7), (0.6, 0.95), (0.3, 0.75)]


def close_to(recorded, intended, tolerance=0.01) -> bool:
    """Every intended vertex has a recorded point within tolerance (pixels → data rounding)."""
    return all(
        any(abs(rx - x) < tolerance and abs(ry - y) < tolerance for rx, ry in recorded)
        for x, y in intended
    )


def test_lasso_selects_exactly_the_tracks_inside_and_the_table_lists_them(page):
    open_playlist(page)
    cols = columns(page)
    drag(page, "lasso", PENTAGON)
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0")
    x, y, polygon = last_shape(page)
    assert (x, y) == ("danceability", "energy") and close_to(polygon, PENTAGON)
    expected = ids_in_polygon(cols, x, y, polygon)
    # The pentagon's own answer, computed from the API's columns: a real subset of the playlist.
    assert 20 < len(expected) < PLAYLIST_SIZE - 20
    assert set(selected_ids(page)) == expected
    assert set(listed_ids(page)) == expected
    scatter = page.evaluate(
        "() => ({selected: window.plotify.scatter.selectedCount,"
        " drawn: window.plotify.scatter.selectedDrawn})"
    )
    assert scatter == {"selected": len(expected), "drawn": len(expected)}
    assert f"{len(expected)} selected" in page.inner_text("[data-testid=selection-count]")
    assert page.get_attribute("[data-testid=track-table]", "data-rows") == str(len(expected))
    screen(page, "lasso-selection", ".scatter-frame")
    assert page.console.unexpected() == []


def test_box_selection_with_shift_adding_and_alt_removing(page):
    open_playlist(page)
    cols = columns(page)
    low, high = (0.2, 0.2, 0.55, 0.6), (0.6, 0.6, 0.95, 0.95)
    drag(page, "box", [low[:2], low[2:]])
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0")
    first = ids_in_box(cols, "danceability", "energy", _recorded_box(page))
    assert first and set(selected_ids(page)) == first

    drag(page, "box", [high[:2], high[2:]], modifier="Shift")
    second = ids_in_box(cols, "danceability", "energy", _recorded_box(page))
    both = first | second
    page.wait_for_function("(n) => window.plotify.playlist.selectedCount === n", arg=len(both))
    assert second - first and set(selected_ids(page)) == first | second
    assert [s["op"] for s in page.evaluate("() => window.plotify.playlist.shapes")] == [
        "replace",
        "add",
    ]

    drag(page, "box", [low[:2], low[2:]], modifier="Alt")
    removed = ids_in_box(cols, "danceability", "energy", _recorded_box(page))
    remaining = (first | second) - removed
    page.wait_for_function("(n) => window.plotify.playlist.selectedCount === n", arg=len(remaining))
    assert set(selected_ids(page)) == remaining
    screen(page, "box-selection", ".scatter-frame")


def _recorded_box(page) -> tuple[float, float, float, float]:
    _x, _y, corners = last_shape(page)
    (x0, y0), (x1, y1) = corners
    return x0, y0, x1, y1


def test_selection_stays_when_the_axes_change_and_clears_with_esc_and_the_button(page):
    open_playlist(page)
    drag(page, "lasso", PENTAGON)
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0")
    before = sorted(selected_ids(page))
    page.select_option("#x-axis", "tempo")
    wait_still(page)
    assert sorted(selected_ids(page)) == before
    assert page.evaluate("() => window.plotify.scatter.selectedDrawn") == len(before)
    page.keyboard.press("Escape")
    page.wait_for_function("() => window.plotify.playlist.selectedCount === 0")
    assert page.evaluate("() => window.plotify.scatter.selectedCount") == 0
    assert page.get_attribute("[data-testid=track-table]", "data-rows") == str(PLAYLIST_SIZE)

    drag(page, "box", [(100, 0.3), (160, 0.9)])
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0")
    page.click("[data-testid=clear-selection]")
    page.wait_for_function("() => window.plotify.playlist.selectedCount === 0")


def test_pan_mode_drag_pans_instead_of_selecting(page):
    open_playlist(page)
    page.click("[data-tool='lasso']")
    page.click("[data-tool='pan']")
    page.keyboard.press("+")  # zoom in first so there is room to pan
    page.wait_for_timeout(400)
    drag(page, "pan", [(0.4, 0.4), (0.6, 0.6)])
    assert page.evaluate("() => window.plotify.playlist.selectedCount") == 0


def test_lasso_on_the_whole_catalogue(page):
    open_playlist(page)
    page.select_option("#source-select", "catalogue")
    page.wait_for_function("() => window.plotify.scatter.pointCount > 80000", timeout=120_000)
    cols = columns(page, "")
    drag(page, "lasso", PENTAGON)
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0", timeout=60_000)
    x, y, polygon = last_shape(page)
    expected = ids_in_polygon(cols, x, y, polygon)
    assert len(expected) > 10_000
    got = set(selected_ids(page))
    assert page.evaluate("() => window.plotify.playlist.selectedCount") == len(got)
    assert_same_but_outline(cols, x, y, polygon, got, expected)
    screen(page, "lasso-catalogue", ".scatter-frame")
