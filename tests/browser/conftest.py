"""Browser-test fixtures: the app on 127.0.0.1 over real data; Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("PLOTIFY_CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium, never `playwright install`; flags keep it quiet and offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "browser")


@pytest.fixture(scope="session")
def built_assets():
    """The Vite bundle must exist (`npm run build`); the stylesheet is compiled here if missing."""
    bundle = os.path.join(ROOT, "static", "dist", "plotify.js")
    if not os.path.isfile(bundle):
        pytest.fail(
            "static/dist/plotify.js is missing: run `npm ci && npm run build` (make assets)"
        )
    if not os.path.isfile(os.path.join(ROOT, "static", "css", "plotify.css")):
        from web.assets import build_css

        build_css()


@pytest.fixture(scope="session")
def live_server(catalogue_db, trained_models_dir, built_assets, tmp_path_factory):
    """The real app over a copy of the imported data, in a werkzeug thread; yields its base URL."""
    from werkzeug.serving import make_server

    from tests.support import make_app

    database = str(tmp_path_factory.mktemp("browser") / "plotify.sqlite3")
    shutil.copyfile(catalogue_db, database)
    application = make_app(database, MODELS_DIR=trained_models_dir)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    # Warm the per-process caches so the first test does not pay for reading 114k tracks.
    with application.test_client() as client:
        client.get("/api/tracks?playlist=0fCFwL8LJE99raQb1g2YvF")
    yield base_url
    server.shutdown()
    thread.join(timeout=5)
    application.extensions["store"].close()


@pytest.fixture
def empty_server(built_assets, tmp_path):
    """The app over an empty store, for the "how to import data" state; yields its base URL."""
    from werkzeug.serving import make_server

    from tests.support import make_app

    application = make_app(str(tmp_path / "empty.sqlite3"), MODELS_DIR=str(tmp_path))
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-empty-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    application.extensions["store"].close()


@pytest.fixture
def spotify_server(catalogue_db, built_assets, tmp_path):
    """The app over a copy of the real data with Spotify pointed at the stand-in.

    Yields (base URL, the stand-in) so a test can read back what was saved.
    """
    from werkzeug.serving import make_server

    from tests.standin.server import StandIn
    from tests.support import make_app

    standin = StandIn().start()
    database = str(tmp_path / "spotify.sqlite3")
    shutil.copyfile(catalogue_db, database)
    application = make_app(database, MODELS_DIR=str(tmp_path), **standin.config())
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-spotify", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", standin
    server.shutdown()
    thread.join(timeout=5)
    application.extensions["store"].close()
    standin.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        # CI sets PLOTIFY_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
        if os.environ.get("PLOTIFY_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class ConsoleLog:
    """Console errors and uncaught exceptions seen by a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on(
            "console", lambda message: message.type == "error" and self.errors.append(message.text)
        )
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def unexpected(self, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        """Errors other than the browser's note on an HTTP status the test provoked on purpose."""
        allowed = tuple(f"status of {status}" for status in allowed_statuses)
        return [
            e
            for e in self.errors
            if not (allowed and "Failed to load resource" in e and any(a in e for a in allowed))
        ]


@pytest.fixture
def page(browser, live_server):
    """A fresh desktop-sized page on the app; its console errors are in page.console."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    page = context.new_page()
    page.console = ConsoleLog(page)
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Saves a full-page screenshot under test-artifacts/browser/NAME.png."""
    os.makedirs(ARTIFACTS, exist_ok=True)

    def save(page, name: str) -> str:
        path = os.path.join(ARTIFACTS, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return save
