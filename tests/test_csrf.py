"""CSRF: every state-changing request to a route carries the page's token, or it is refused."""

from __future__ import annotations

import re

import pytest

from tests.support import PLOTIFY_PLAYLIST_ID, csrf_headers

STATE_CHANGING = [
    ("post", "/api/export.csv"),
    ("post", "/api/spotify/playlists"),
    ("post", "/auth/logout"),
]


def assert_csrf_refused(response):
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "csrf_failed" and "X-CSRF-Token" in body["message"]


def test_the_page_carries_a_token_bound_to_the_session(app):
    first, second = app.test_client(), app.test_client()
    token = csrf_headers(first)["X-CSRF-Token"]
    assert len(token) >= 32 and csrf_headers(first)["X-CSRF-Token"] == token
    # Another browser (another session) gets another token.
    assert csrf_headers(second)["X-CSRF-Token"] != token
    page = first.get("/").get_data(as_text=True)
    assert re.search(r'<meta name="csrf-token" content="[A-Za-z0-9_-]{32,}">', page)


@pytest.mark.parametrize("method, path", STATE_CHANGING)
def test_state_changing_requests_without_the_token_are_refused(client, method, path):
    call = getattr(client, method)
    assert_csrf_refused(call(path, json={"ids": ["2cX2coZS1PYBfPs8wgbdWE"]}))
    csrf_headers(client)  # a session with a token, but the request does not send it
    assert_csrf_refused(call(path, json={"ids": ["2cX2coZS1PYBfPs8wgbdWE"]}))
    assert_csrf_refused(
        call(path, json={"ids": ["2cX2coZS1PYBfPs8wgbdWE"]}, headers={"X-CSRF-Token": "forged"})
    )


def test_a_token_from_another_session_is_refused(app):
    mine, theirs = app.test_client(), app.test_client()
    csrf_headers(mine)
    stolen = csrf_headers(theirs)
    assert_csrf_refused(mine.post("/api/export.csv", json={"playlist": "x"}, headers=stolen))


def test_the_right_token_passes_and_reads_need_none(client):
    headers = csrf_headers(client)
    body = {"playlist": PLOTIFY_PLAYLIST_ID}
    assert client.post("/api/export.csv", json=body, headers=headers).status_code == 200
    assert client.post("/auth/logout", headers=headers).get_json() == {"logged_in": False}
    assert client.get(f"/api/export.csv?playlist={PLOTIFY_PLAYLIST_ID}").status_code == 200


def test_requests_no_route_serves_keep_their_404_and_405(client):
    assert client.post("/api/playlists").status_code == 405
    assert client.post("/api/no-such-thing").status_code == 404
