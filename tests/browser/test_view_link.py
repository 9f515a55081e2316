"""Links that reproduce the Playlist tab's view: axes, colouring, filters, sort and selection."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_playlist, wait_still
from tests.browser.selection_tools import drag, hash_params, listed_ids, screen, selected_ids

pytestmark = pytest.mark.browser


def view_of(page) -> dict:
    return {
        "axes": page.evaluate("() => window.plotify.scatter.axes"),
        "colour": page.locator("#colour-select").input_value(),
        "energy_min": page.locator("#filter-energy-min").input_value(),
        "chill": page.locator("[data-preset='chill']").get_attribute("aria-pressed"),
        "hide": page.locator("[data-testid=hide-filtered]").is_checked(),
        "selected": sorted(selected_ids(page)),
        "listed": listed_ids(page),
        "drawn": page.evaluate("() => window.plotify.scatter.drawnCount"),
    }


def open_link(browser, live_server, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    fresh = context.new_page()
    fresh.goto(url)
    fresh.wait_for_function(
        "() => window.plotify && window.plotify.scatter && window.plotify.scatter.pointCount > 0"
    )
    wait_still(fresh)
    return context, fresh


@pytest.mark.parametrize("size", ["large selection (shapes)", "small selection (ids)"])
def test_a_link_restores_the_whole_view(page, browser, live_server, size):
    open_playlist(page)
    page.select_option("#x-axis", "tempo")
    page.select_option("#y-axis", "acousticness")
    wait_still(page)
    if page.locator("#colour-select option[value='family']").count():
        page.select_option("#colour-select", "family")
    page.locator("#filter-energy-min").fill("0.4")
    page.locator("#filter-energy-min").press("Enter")
    page.check("[data-testid=hide-filtered]")
    page.click("[data-sort='tempo']")
    if size.startswith("large"):
        drag(page, "box", [(57, 0.97), (207, -0.02)])  # corners inside the plot: everything
    else:
        drag(page, "box", [(118, 0.0), (126, 0.3)])
    page.wait_for_function("() => window.plotify.playlist.selectedCount > 0")
    before = view_of(page)
    params = hash_params(page)
    assert params["x"] == "tempo" and params["y"] == "acousticness"
    assert params["f"] == "energy:0.4:" and params["hide"] == "1" and params["sort"] == "tempo:desc"
    if size.startswith("large"):
        assert len(before["selected"]) > 100 and "shapes" in params and "sel" not in params
    else:
        assert len(before["selected"]) <= 100 and params["sel"].split(",")
    url = page.url
    context, fresh = open_link(browser, live_server, url)
    try:
        fresh.wait_for_function(
            "(n) => window.plotify.playlist.selectedCount === n", arg=len(before["selected"])
        )
        assert view_of(fresh) == before
        screen(fresh, f"link-restored-{size.split()[0]}")
    finally:
        context.close()


def test_tab_links_without_a_view_still_work(page):
    page.goto("/#definitions")
    page.locator("#panel-definitions").wait_for()
    assert page.locator("#tab-definitions").get_attribute("aria-selected") == "true"
    page.goto("/#playlist?x=tempo&y=energy")
    page.wait_for_function(
        "() => window.plotify && window.plotify.scatter && window.plotify.scatter.pointCount > 0"
    )
    wait_still(page)
    assert page.evaluate("() => window.plotify.scatter.axes") == ["tempo", "energy"]
    assert page.locator("#tab-playlist").get_attribute("aria-selected") == "true"
    # Leaving and coming back keeps the view in the address.
    page.click("#tab-clusters")
    page.click("#tab-playlist")
    page.wait_for_function("() => location.hash.startsWith('#playlist?')")
    assert hash_params(page)["x"] == "tempo"
