"""Empty-store and failing-API states of the page in Chromium."""

from __future__ import annotations

import pytest

from tests.browser.helpers import PLAYLIST_SIZE

pytestmark = pytest.mark.browser


def test_empty_store_explains_how_to_import(browser, empty_server, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=empty_server)
    page = context.new_page()
    try:
        page.goto("/")
        hint = page.locator(".import-hint")
        hint.wait_for()
        assert "flask --app app etl demo" in hint.inner_text()
        assert "etl import" in hint.inner_text()
        screenshot(page, "empty-store")
        page.get_by_role("tab", name="Recommendations").click()
        page.locator("#panel-recommendations .import-hint").wait_for()
    finally:
        context.close()


def test_a_failing_api_shows_an_error_with_retry(page):
    failures = {"left": 1}

    def fail_once(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(
                status=500,
                json={"error": "internal_error", "message": "Something went wrong on our side."},
            )
        else:
            route.continue_()

    page.route("**/api/tracks?*", fail_once)
    page.goto("/")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Something went wrong on our side." in alert.inner_text()
    alert.get_by_role("button", name="Try again").click()
    page.wait_for_function(
        "(n) => window.plotify && window.plotify.scatter"
        " && window.plotify.scatter.drawnCount === n",
        arg=PLAYLIST_SIZE,
    )
    assert page.console.unexpected(allowed_statuses=(500,)) == []
