"""The page in Chromium when the database cannot be read: an error state that names the problem."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def broken_store_server(built_assets, tmp_path):
    """The app over a non-database file (the store answers 503); yields its base URL and folder."""
    from werkzeug.serving import make_server

    from tests.support import make_app

    database = tmp_path / "plotify.sqlite3"
    database.write_bytes(b"this is not a database\n" * 200)
    application = make_app(str(database), MODELS_DIR=str(tmp_path))
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-broken-store", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", str(tmp_path)
    server.shutdown()
    thread.join(timeout=5)
    application.extensions["store"].close()


def test_unreadable_store_shows_what_is_wrong(browser, broken_store_server, screenshot):
    base_url, folder = broken_store_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    # The browser logs each 503 it was sent on purpose; anything else logged is a fault.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "status of 503" not in message.text
            and problems.append(message.text)
        ),
    )
    try:
        page.goto("/")
        alert = page.locator("#panel-playlist [role=alert]")
        alert.wait_for()
        text = alert.inner_text()
        assert "The database is unavailable." in text
        # The reason comes from /healthz rather than a generic sentence, and shows no server path.
        assert "damaged or is not a Plotify database" in text
        assert folder not in text
        assert page.locator("#panel-playlist .import-hint").count() == 0
        screenshot(page, "store-unavailable")

        alert.get_by_role("button", name="Try again").click()
        page.locator("#panel-playlist [role=alert]").wait_for()
        page.get_by_role("tab", name="Recommendations").click()
        other = page.locator("#panel-recommendations [role=alert]")
        other.wait_for()
        assert "The database is unavailable." in other.inner_text()
        assert problems == []
    finally:
        context.close()
