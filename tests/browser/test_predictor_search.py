"""The predictor's type-ahead in Chromium: suggestions for a typo, picked by keyboard."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_misspelled_title_suggests_and_predicts(page, screenshot):
    page.goto("/#predict")
    box = page.locator("#predict-track")
    box.click()
    box.press_sequentially("bohemian rapsody", delay=20)
    listbox = page.get_by_role("listbox", name="Matching tracks")
    first = listbox.get_by_role("option").first
    first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert "Rhapsody" in first.locator(".option-title").inner_text()
    assert first.locator(".option-artists").inner_text().strip()
    assert first.locator(".option-genre").inner_text().strip()
    # ↓ makes the first suggestion active (aria-activedescendant), Enter picks it.
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    picked = first.locator(".option-title").inner_text()
    requests = []
    page.on("request", lambda r: "/api/predict" in r.url and requests.append(r.url))
    box.press("Enter")
    result = page.get_by_test_id("predict-result")
    result.wait_for()
    assert picked in result.locator(".matched-track").inner_text()
    assert page.get_by_test_id("predicted-genre").inner_text().strip() not in ("", "\u2014")
    assert requests and "track_id=" in requests[0]
    assert box.get_attribute("aria-expanded") == "false"
    screenshot(page, "predictor-suggestions")
    assert page.console.unexpected() == []


def test_escape_closes_suggestions_and_placeholders_are_catalogue_tracks(page, live_server):
    page.goto("/#predict")
    box = page.locator("#predict-track")
    page.wait_for_function(
        "() => document.querySelector('#predict-track').placeholder.startsWith('e.g. ')"
    )
    example = box.get_attribute("placeholder").removeprefix("e.g. ")
    found = page.evaluate(
        "async (q) => (await (await fetch(`/api/search?track=${encodeURIComponent(q)}`)).json())",
        example,
    )
    assert found["results"][0]["name"] == example and found["results"][0]["match"] == "exact"
    box.click()
    box.press_sequentially("queeen", delay=20)
    page.get_by_role("listbox", name="Matching tracks").get_by_role("option").first.wait_for()
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert page.console.unexpected() == []


def test_weak_match_offers_did_you_mean_links(page):
    page.goto("/#predict")
    page.fill("#predict-track", "bohemien rapsodie live")
    page.locator("#predict-track").press("Enter")
    links = page.get_by_test_id("did-you-mean")
    links.wait_for()
    assert "Rhapsody" in links.inner_text()
    links.get_by_role("button").first.click()
    page.get_by_test_id("predict-result").wait_for()
    assert page.console.unexpected(allowed_statuses=(404,)) == []
