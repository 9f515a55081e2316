"""The page's Spotify login (code flow + PKCE) and saving a selection, against the stand-in."""

from __future__ import annotations

import json
import os
import random
import stat
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy

from tests.standin.accounts import s256
from tests.standin.catalog import PLOTIFY_OWNER_ID
from tests.standin.fixtures import standin  # noqa: F401
from tests.standin.server import CLIENT_ID
from tests.support import csrf_headers, make_app
from web.spotify_tokens import LOGIN_FOLDER, SCOPES


@pytest.fixture
def spotify_app(standin, tmp_path):  # noqa: F811
    """The app on an empty store, with Spotify pointed at the stand-in."""
    application = make_app(str(tmp_path / "spotify.sqlite3"), **standin.config())
    yield application
    application.extensions["store"].close()


@pytest.fixture
def client(spotify_app):
    return spotify_app.test_client()


def selection(standin, count: int, seed: int = 12) -> list[str]:  # noqa: F811
    """count catalogue tracks in a shuffled order (so that order kept is order proven)."""
    return random.Random(seed).sample(sorted(standin.catalog.tracks), count)


def start_login(client, next_page: str = "/#playlist") -> dict:
    response = client.get("/auth/login", query_string={"next": next_page})
    assert response.status_code == 302
    return response.headers["Location"]


def visit_spotify(location: str) -> str:
    """The person's browser at Spotify's authorize page: where it is sent back to (path?query)."""
    answer = requests.get(location, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert (back.netloc, back.path) == ("localhost", "/auth/callback")
    return f"{back.path}?{back.query}"


def log_in(client, next_page: str = "/#playlist"):
    return client.get(visit_spotify(start_login(client, next_page)))


def login_files(app) -> list[str]:
    folder = os.path.join(app.instance_path, LOGIN_FOLDER)
    return [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".json")]


def stored_login(app) -> dict:
    (path,) = login_files(app)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save(client, ids, name="Plotify selection", **extra):
    body = {"name": name, "ids": ids, **extra}
    return client.post("/api/spotify/playlists", json=body, headers=csrf_headers(client))


def saved_ids(standin, playlist_id: str) -> list[str]:  # noqa: F811
    """The playlist as its owner reads it back: GET /playlists/{id}/items, 50 a page."""
    token = next(t for t, u in standin.token_users.items() if u == PLOTIFY_OWNER_ID)
    reader = spotipy.Spotify(auth=token, requests_timeout=5)
    reader.prefix = standin.url + "/v1/"
    page = reader.playlist_items(playlist_id, limit=50)
    ids = []
    while page:
        ids += [row["item"]["id"] for row in page["items"]]
        page = reader.next(page) if page["next"] else None
    return ids


def test_login_sends_state_and_an_s256_challenge_and_keeps_the_verifier_server_side(
    spotify_app, client
):
    location = urlsplit(start_login(client))
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://localhost/auth/callback"
    assert query["code_challenge_method"] == "S256" and query["scope"] == SCOPES
    pending = stored_login(spotify_app)["pending"]
    assert query["state"] == pending["state"] and len(pending["state"]) >= 32
    assert query["code_challenge"] == s256(pending["code_verifier"])
    assert 43 <= len(pending["code_verifier"]) <= 128
    # Neither the verifier nor the state is in the cookie the browser holds.
    cookie = client.get_cookie("session").value
    assert pending["code_verifier"] not in cookie and pending["state"] not in cookie


def test_full_flow_login_save_250_tracks_in_three_chunks_in_order(spotify_app, client, standin):  # noqa: F811
    assert client.get("/api/me").get_json() == {
        "configured": True,
        "logged_in": False,
        "user": None,
        "login_url": "/auth/login",
    }
    back = log_in(client, "/#playlist")
    assert back.status_code == 302 and urlsplit(back.headers["Location"]).path == "/"
    assert urlsplit(back.headers["Location"]).fragment == "playlist"
    me = client.get("/api/me").get_json()
    assert me["logged_in"] and me["user"] == {
        "id": PLOTIFY_OWNER_ID,
        "display_name": "Pauly Richmeier",
    }

    ids = selection(standin, 250)
    response = save(client, ids, name="Chill picks", description="from the scatter")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "Chill picks" and body["added"] == 250
    assert body["url"] == f"https://open.spotify.com/playlist/{body['id']}"
    assert standin.created == [body["id"]] and standin.calls["create_playlist"] == 1
    assert standin.calls["add_items"] == 3  # 100 + 100 + 50
    assert standin.playlist_track_ids(body["id"]) == ids
    assert saved_ids(standin, body["id"]) == ids
    assert standin.created_details[body["id"]] == {
        "public": False,
        "description": "from the scatter",
    }


def test_tokens_stay_on_the_server_in_a_private_file(spotify_app, client, standin):  # noqa: F811
    log_in(client)
    (path,) = login_files(spotify_app)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    tokens = stored_login(spotify_app)["tokens"]
    assert tokens["access_token"] in standin.tokens and tokens["refresh_token"]
    seen = client.get("/").get_data(as_text=True) + client.get("/api/me").get_data(as_text=True)
    seen += client.get_cookie("session").value
    for secret in (tokens["access_token"], tokens["refresh_token"], *standin.tokens):
        assert secret not in seen


def test_a_state_that_does_not_match_is_refused(spotify_app, client, standin):  # noqa: F811
    callback = visit_spotify(start_login(client))
    forged = callback.replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 400 and response.get_json()["error"] == "state_mismatch"
    assert standin.calls["token"] == 0 and not client.get("/api/me").get_json()["logged_in"]
    # The attempt is used up: the real answer afterwards does not log in either.
    assert client.get(callback).get_json()["error"] == "login_not_started"


def test_the_stand_in_refuses_a_wrong_code_verifier(spotify_app, client, standin):  # noqa: F811
    location = start_login(client)
    (path,) = login_files(spotify_app)
    record = stored_login(spotify_app)
    record["pending"]["code_verifier"] = "x" * 64  # not the one the challenge was made from
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    response = client.get(visit_spotify(location))
    assert response.status_code == 400 and response.get_json()["error"] == "login_failed"
    assert standin.calls["token"] == 1 and not client.get("/api/me").get_json()["logged_in"]


def test_a_code_cannot_be_used_twice(client):
    callback = visit_spotify(start_login(client))
    assert client.get(callback).status_code == 302
    again = client.get(callback)
    assert again.status_code == 400 and again.get_json()["error"] == "login_not_started"


def test_login_returns_only_to_pages_of_this_site(client):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        location = urlsplit(log_in(client, target).headers["Location"])
        assert location.netloc in ("", "localhost") and location.path == "/"


def test_an_expired_token_is_refreshed_before_saving(spotify_app, client, standin):  # noqa: F811
    standin.token_lifetime = 30  # less than the refresh margin: every use refreshes first
    log_in(client)
    first = stored_login(spotify_app)["tokens"]["access_token"]
    standin.expire_tokens()  # the first token no longer works at all
    ids = selection(standin, 5)
    response = save(client, ids)
    assert response.status_code == 201, response.get_json()
    grants = [path for name, path in standin.log if name == "token"]
    assert len(grants) == 2  # the code exchange, then one refresh
    assert stored_login(spotify_app)["tokens"]["access_token"] != first
    assert standin.playlist_track_ids(response.get_json()["id"]) == ids


def test_a_revoked_refresh_token_logs_the_person_out(spotify_app, client, standin):  # noqa: F811
    standin.token_lifetime = 30
    log_in(client)
    standin.refresh_tokens.clear()
    response = save(client, selection(standin, 3))
    assert response.status_code == 401 and response.get_json()["error"] == "not_logged_in"
    assert client.get("/api/me").get_json()["logged_in"] is False
    assert login_files(spotify_app) == [] and standin.created == []


def test_a_user_outside_the_developer_mode_allow_list_gets_a_clear_403(client, standin):  # noqa: F811
    standin.allowed_users = {"someone-else"}
    assert log_in(client).status_code == 302  # Spotify lets them log in …
    me = client.get("/api/me").get_json()
    assert me["logged_in"] and me["user"] is None and "allow-list" in me["message"]
    response = save(client, selection(standin, 3))  # … and then refuses every call
    body = response.get_json()
    assert response.status_code == 403 and body["error"] == "spotify_refused"
    assert "User not registered in the Developer Dashboard" in body["message"]
    assert "five users" in body["message"] and standin.created == []


def test_logout_forgets_the_tokens(spotify_app, client, standin):  # noqa: F811
    log_in(client)
    assert client.post("/auth/logout").status_code == 403  # CSRF
    response = client.post("/auth/logout", headers=csrf_headers(client))
    assert response.get_json() == {"logged_in": False}
    assert login_files(spotify_app) == []
    assert client.get("/api/me").get_json()["logged_in"] is False
    assert save(client, selection(standin, 3)).status_code == 401


def test_without_a_client_id_everything_says_spotify_is_not_configured(tmp_path):
    app = make_app(str(tmp_path / "none.sqlite3"), SPOTIFY_CLIENT_ID=None)
    client = app.test_client()
    assert client.get("/api/me").get_json()["configured"] is False
    login = client.get("/auth/login")
    assert login.status_code == 503 and login.get_json()["error"] == "spotify_not_configured"
    response = save(client, ["2cX2coZS1PYBfPs8wgbdWE"])
    assert response.status_code == 503 and response.get_json()["error"] == "spotify_not_configured"
    app.extensions["store"].close()


def test_saving_needs_a_login(client, standin):  # noqa: F811
    response = save(client, selection(standin, 3))
    assert response.status_code == 401 and response.get_json()["error"] == "not_logged_in"
    assert standin.calls["create_playlist"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"ids": ["2cX2coZS1PYBfPs8wgbdWE"]},
        {"name": "", "ids": ["2cX2coZS1PYBfPs8wgbdWE"]},
        {"name": "x" * 101, "ids": ["2cX2coZS1PYBfPs8wgbdWE"]},
        {"name": "ok", "ids": []},
        {"name": "ok", "ids": ["not an id"]},
        {"name": "ok", "ids": "2cX2coZS1PYBfPs8wgbdWE", "public": "yes"},
        {"name": "ok", "ids": [f"{i:022d}" for i in range(10_001)]},
    ],
)
def test_bad_save_requests_are_400s(client, standin, body):  # noqa: F811
    log_in(client)
    response = client.post("/api/spotify/playlists", json=body, headers=csrf_headers(client))
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"
    assert standin.calls["create_playlist"] == 0


def test_a_failure_midway_says_how_far_the_save_got(client, standin):  # noqa: F811
    log_in(client)
    standin.fault("add_items", status=500, after=1)
    response = save(client, selection(standin, 250))
    body = response.get_json()
    assert response.status_code == 502 and body["error"] == "spotify_unavailable"
    assert "100 of 250 tracks" in body["message"]
    assert len(standin.playlist_track_ids(standin.created[0])) == 100


def test_the_stand_in_takes_at_most_100_items_a_call_and_needs_the_verifier(standin):  # noqa: F811
    verifier = "v" * 64
    authorize = requests.get(
        standin.url + "/authorize",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": "http://localhost/auth/callback",
            "code_challenge_method": "S256",
            "code_challenge": s256(verifier),
            "state": "s",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://localhost/auth/callback",
        "client_id": CLIENT_ID,
    }
    refused = requests.post(standin.url + "/api/token", data=form, timeout=5)  # no verifier
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    # The code was used up by the refused attempt, as Spotify's are.
    again = requests.post(
        standin.url + "/api/token", data={**form, "code_verifier": verifier}, timeout=5
    )
    assert again.status_code == 400

    standin.login_user = PLOTIFY_OWNER_ID
    token = standin._issue(PLOTIFY_OWNER_ID, refresh=False)["access_token"]
    user = spotipy.Spotify(auth=token, requests_timeout=5, retries=0)
    user.prefix = standin.url + "/v1/"
    created = user.current_user_playlist_create("x", public=False)
    with pytest.raises(spotipy.SpotifyException) as refused_items:
        user.playlist_add_items(created["id"], selection(standin, 101))
    assert refused_items.value.http_status == 400
    user.playlist_add_items(created["id"], selection(standin, 100))
    assert len(standin.playlist_track_ids(created["id"])) == 100


def test_a_login_that_cannot_be_stored_is_a_clear_503(spotify_app, client):
    # The login folder's place is taken by a file: nothing can be written there.
    with open(os.path.join(spotify_app.instance_path, LOGIN_FOLDER), "w") as blocker:
        blocker.write("not a folder")
    response = client.get("/auth/login")
    assert response.status_code == 503 and response.get_json()["error"] == "login_unavailable"
    assert client.get("/api/me").get_json()["logged_in"] is False
