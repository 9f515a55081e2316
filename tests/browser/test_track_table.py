"""The track table: sorting by features, names and people; row ↔ point highlighting."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_playlist
from tests.browser.selection_tools import columns, listed_ids, screen

pytestmark = pytest.mark.browser


def people_names(page) -> dict[str, str]:
    people = page.evaluate(
        "async () => (await (await fetch('/api/playlists')).json()).playlists[0].people"
    )
    return {p["id"]: p["display_name"] for p in people}


def expected_order(cols: dict, key: str, descending: bool, names=None) -> list[str]:
    """Missing values last in both directions; ties in playlist order."""
    values = cols[key]
    if names is not None:
        values = [names.get(v, v) if v else None for v in values]
    if key in ("name", "artists", "added_by"):
        values = [
            (", ".join(v) if isinstance(v, list) else v).lower() if v else None for v in values
        ]
    present = [i for i, v in enumerate(values) if v is not None]
    missing = [i for i, v in enumerate(values) if v is None]
    # Descending is tested on numbers only (text starts A → Z).
    present.sort(key=lambda i: (-values[i] if descending else values[i], i))
    return [cols["id"][i] for i in present + missing]


def test_sorting_by_a_feature_a_name_and_a_person(page):
    open_playlist(page)
    cols = columns(page)
    page.click("[data-sort='energy']")  # numbers start high → low
    page.wait_for_selector("th[aria-sort='descending'] [data-sort='energy']")
    assert listed_ids(page) == expected_order(cols, "energy", True)
    first_row = page.locator(".track-row").first
    assert first_row.get_attribute("data-id") == expected_order(cols, "energy", True)[0]
    page.click("[data-sort='energy']")
    page.wait_for_selector("th[aria-sort='ascending'] [data-sort='energy']")
    assert listed_ids(page) == expected_order(cols, "energy", False)
    page.click("[data-sort='energy']")  # third click: playlist order again
    page.wait_for_selector("th[aria-sort='none'] [data-sort='energy']")
    assert listed_ids(page) == cols["id"]

    page.click("[data-sort='tempo']")
    page.wait_for_selector("th[aria-sort='descending'] [data-sort='tempo']")
    assert listed_ids(page) == expected_order(cols, "tempo", True)
    page.click("[data-sort='name']")  # text starts A → Z
    page.wait_for_selector("th[aria-sort='ascending'] [data-sort='name']")
    assert listed_ids(page) == expected_order(cols, "name", False)
    page.click("[data-sort='added_by']")
    page.wait_for_selector("th[aria-sort='ascending'] [data-sort='added_by']")
    names = people_names(page)
    assert listed_ids(page) == expected_order(cols, "added_by", False, names)
    assert page.locator(".track-row").first.inner_text().split("\t")[3] == sorted(names.values())[0]
    screen(page, "track-table", ".track-list")
    assert page.console.unexpected() == []


def test_clicking_a_row_rings_its_point_and_clicking_a_point_scrolls_to_its_row(page):
    open_playlist(page)
    page.click("[data-sort='name']")
    row = page.locator(".track-row").nth(2)
    track = row.get_attribute("data-id")
    row.click()
    page.wait_for_function("(id) => window.plotify.scatter.focusedId === id", arg=track)
    assert "is-focused" in row.get_attribute("class")
    assert page.locator(".track-details").is_visible()

    # A point whose row is far down the name-sorted table, alone enough to click unambiguously.
    page.locator("[data-testid=scatter]").scroll_into_view_if_needed()
    listed = listed_ids(page)
    target = page.evaluate(
        """(order) => {
            const s = window.plotify.scatter;
            const points = order.map((id) => [id, s.positionOf(id)]).filter(([, p]) => p);
            for (const [id, p] of points.slice(60)) {
                if (points.every(([o, q]) => o === id || Math.hypot(p.x - q.x, p.y - q.y) > 14))
                    return {id, ...p};
            }
            return null;
        }""",
        listed,
    )
    assert target and listed.index(target["id"]) >= 60
    page.mouse.click(target["x"], target["y"])
    focused = page.locator(f".track-row[data-id='{target['id']}']")
    focused.wait_for()
    assert "is-focused" in focused.get_attribute("class")
    box = focused.bounding_box()
    frame = page.locator("[data-testid=track-table]").bounding_box()
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
