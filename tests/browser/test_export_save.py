"""Acting on the listed tracks: CSV export (and its round trip through `flask etl import`).

Also saving them as a Spotify playlist against the stand-in, with the refusals' messages.
"""

from __future__ import annotations

import csv

import pytest

from tests.browser.helpers import PLAYLIST_SIZE, open_playlist
from tests.browser.selection_tools import columns, listed_ids, screen

pytestmark = pytest.mark.browser


def narrow_and_sort(page) -> list[str]:
    """Danceable tracks sorted by energy, high to low: a subset in a non-playlist order."""
    page.click("[data-preset='danceable']")
    page.wait_for_function("(n) => window.plotify.playlist.passingCount < n", arg=PLAYLIST_SIZE)
    page.click("[data-sort='energy']")
    page.wait_for_selector("th[aria-sort='descending'] [data-sort='energy']")
    return listed_ids(page)


def test_csv_export_is_the_listed_tracks_in_table_order_and_round_trips(page, tmp_path):
    from store import open_store
    from tests.support import make_app

    open_playlist(page)
    cols = columns(page)
    ids = narrow_and_sort(page)
    assert 10 < len(ids) < PLAYLIST_SIZE
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["Track URI"].removeprefix("spotify:track:") for r in rows] == ids
    adder = dict(zip(cols["id"], cols["added_by"], strict=True))
    assert [r["Added By"] for r in rows] == [f"spotify:user:{adder[t]}" for t in ids]
    page.locator("[data-testid=export-message]").wait_for()
    assert f"Exported {len(ids)} tracks" in page.inner_text("[data-testid=export-message]")

    empty = make_app(str(tmp_path / "empty.sqlite3"))
    result = empty.test_cli_runner().invoke(args=["etl", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "exportify" in result.output.lower()
    empty.extensions["store"].close()
    copy = open_store(str(tmp_path / "empty.sqlite3"))
    try:
        (playlist,) = copy.list_playlists()
        frame = copy.read_tracks_frame(playlist=playlist["id"])
        assert list(frame["id"]) == ids  # the table's order survives the round trip
        assert list(frame["added_by"]) == [adder[t] for t in ids]
        energy = dict(zip(cols["id"], cols["energy"], strict=True))
        assert list(frame["energy"]) == [energy[t] for t in ids]
    finally:
        copy.close()


def test_without_spotify_configured_the_page_says_so(page):
    open_playlist(page)
    note = page.locator("[data-testid=spotify-not-configured]")
    note.wait_for()
    assert "no Spotify app configured" in note.inner_text()


def open_on(page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.wait_for_function(
        "() => window.plotify && window.plotify.scatter && window.plotify.scatter.pointCount > 0"
    )


def test_log_in_and_save_the_listed_tracks_as_a_playlist_in_table_order(browser, spotify_server):
    base_url, standin = spotify_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_on(page, base_url)
        ids = narrow_and_sort(page)
        page.click("[data-testid=spotify-login]")
        # Spotify (the stand-in) sends the browser back to the page, the view kept in the hash.
        page.wait_for_selector("[data-testid=spotify-save-button]")
        assert page.locator("[data-preset='danceable']").get_attribute("aria-pressed") == "true"
        page.wait_for_function("(n) => window.plotify.playlist.passingCount === n", arg=len(ids))
        assert listed_ids(page) == ids
        page.fill("#spotify-playlist-name", "Danceable by energy")
        page.click("[data-testid=spotify-save-button]")
        saved = page.locator("[data-testid=spotify-saved]")
        saved.wait_for()
        assert f"Saved {len(ids)} tracks" in saved.inner_text()
        (created,) = standin.created
        assert standin.catalog.playlists[created].name == "Danceable by energy"
        assert standin.playlist_track_ids(created) == ids
        screen(page, "spotify-saved", ".track-list-head")

        # Logged out behind the page's back: saving says so and offers the login again.
        page.evaluate(
            """async () => fetch('/auth/logout', {method: 'POST', headers: {'X-CSRF-Token':
                document.querySelector("meta[name='csrf-token']").content}})"""
        )
        page.click("[data-testid=spotify-save-button]")
        error = page.locator("[data-testid=spotify-error]")
        error.wait_for()
        assert error.get_attribute("data-error") == "not_logged_in"
        assert "Log in with Spotify first" in error.inner_text()
        page.locator("[data-testid=spotify-login]").wait_for()
    finally:
        context.close()


def test_an_account_spotify_refuses_gets_the_developer_mode_message(browser, spotify_server):
    base_url, standin = spotify_server
    standin.allowed_users = set()  # a development-mode app whose allow-list lacks this person
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        open_on(page, base_url)
        page.click("[data-testid=spotify-login]")
        refused = page.locator("[data-testid=spotify-refused]")
        refused.wait_for(timeout=30_000)
        assert "5" in refused.inner_text() or "allow" in refused.inner_text().lower()
        assert page.locator("[data-testid=spotify-save-button]").count() == 0
    finally:
        context.close()
