"""The people comparison under the Playlist tab: six profiles and the most-alike sentence."""

from __future__ import annotations

import pytest

from tests.browser.helpers import PLAYLIST_ID, open_playlist
from tests.browser.selection_tools import screen

pytestmark = pytest.mark.browser


def test_each_person_has_a_profile_per_feature_and_the_most_alike_pair_is_named(page):
    open_playlist(page)
    reply = page.evaluate(
        "async (id) => (await (await fetch(`/api/playlists/${id}/people`)).json())", PLAYLIST_ID
    )
    section = page.locator("[data-testid=people-compare]")
    section.locator("[data-testid=most-alike]").wait_for()
    assert len(reply["people"]) == 6
    assert section.locator(".people-key li").count() == 6
    for person in reply["people"]:
        assert person["display_name"] in section.locator(".people-key").inner_text()
    panels = section.locator(".people-panel")
    assert panels.count() == len(reply["features"])
    # One bar (the middle half) per person in every feature's panel, at the person's colour.
    first = panels.first.locator("rect.people-iqr")
    assert first.count() == 6
    assert [first.nth(i).get_attribute("fill") for i in range(6)] == [
        p["color"] for p in reply["people"]
    ]
    alike = reply["distances"]["most_alike"]
    assert section.locator("[data-testid=most-alike]").inner_text() == alike["sentence"]
    assert reply["distances"]["method"] in section.inner_text()
    # The pair's two cells of the distance matrix are marked.
    marked = section.locator("td.is-alike")
    assert marked.count() == 2
    assert {marked.nth(i).inner_text() for i in range(2)} == {f"{alike['distance']:.3f}"}
    section.scroll_into_view_if_needed()
    screen(page, "people-compare", "[data-testid=people-compare]")
    assert page.console.unexpected() == []
