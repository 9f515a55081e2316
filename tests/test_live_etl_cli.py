"""`flask etl playlist|recommendations|genres` and user authorisation, against the stand-in."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
import requests

from etl import auth
from etl.runs import load_playlist
from tests.standin.fixtures import live_store, make_etl, standin  # noqa: F401
from tests.support import PLAYLIST_PEOPLE, PLAYLIST_TRACKS, PLOTIFY_PLAYLIST_ID


@pytest.fixture
def live_app(tmp_path, standin):
    """The app on an empty store, configured for the stand-in, with the live commands added."""
    from app import create_app
    from etl import live_cli
    from etl.cli import etl_cli

    live_cli.register(etl_cli)  # what app wiring does; registering twice is harmless
    config = {
        "TESTING": True,
        "DATABASE": str(tmp_path / "cli.sqlite3"),
        "MONGODB_URI": None,
        "SECRET_KEY": "test",
        "ETL_HTTP_RETRIES": "1",
        **standin.config(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    application = create_app(config)
    yield application
    application.extensions["store"].close()


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["etl", *args])


def test_playlist_command_loads_and_reports_then_short_circuits(live_app, standin):
    first = invoke(live_app, "playlist", f"https://open.spotify.com/playlist/{PLOTIFY_PLAYLIST_ID}")
    assert first.exit_code == 0, first.output
    assert (
        f"Tracks: {PLAYLIST_TRACKS} stored." in first.output
        and f"People: {PLAYLIST_PEOPLE} added tracks." in first.output
    )
    assert f"{PLAYLIST_TRACKS} spotify" in first.output
    standin.reset_calls()
    second = invoke(live_app, "playlist", PLOTIFY_PLAYLIST_ID)
    assert second.exit_code == 0 and "unchanged" in second.output
    assert dict(standin.calls) == {"playlist": 1}


def test_missing_credentials_name_the_variables_without_a_traceback(live_app):
    live_app.config.update(SPOTIFY_CLIENT_ID=None, SPOTIFY_CLIENT_SECRET=None)
    for args in (["playlist", PLOTIFY_PLAYLIST_ID], ["genres", "--genres", "2"]):
        result = invoke(live_app, *args)
        assert result.exit_code == 1
        assert "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET" in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


def test_quota_exceeded_is_one_clear_message(live_app, standin):
    standin.fault("audio_features", status=429, reason="QUOTA_EXCEEDED", retry_after=86400)
    result = invoke(live_app, "playlist", PLOTIFY_PLAYLIST_ID)
    assert result.exit_code == 1
    assert "quota is exhausted (429 QUOTA_EXCEEDED)" in result.output
    assert "resumes where it stopped" in result.output and "Traceback" not in result.output


def test_recommendations_command_without_spotify_credentials_uses_reccobeats(live_app, standin):
    assert invoke(live_app, "playlist", PLOTIFY_PLAYLIST_ID).exit_code == 0
    live_app.config.update(SPOTIFY_CLIENT_ID=None, SPOTIFY_CLIENT_SECRET=None)
    # The cached app token would still work; a person without credentials has none.
    os.remove(auth.app_token_cache_path(live_app.instance_path))
    result = invoke(live_app, "recommendations", "--per-seed", "3")
    assert result.exit_code == 0, result.output
    assert "recommendations from ReccoBeats" in result.output
    assert (
        standin.calls["recommendations"] == 0
        and standin.calls["rb_recommendation"] == PLAYLIST_TRACKS
    )


def test_genres_command_explains_refused_genre_seeding(live_app, standin):
    standin.fault("recommendations", status=404)
    result = invoke(live_app, "genres", "--genres", "2", "--per-genre", "10")
    assert result.exit_code == 1
    assert "refuses genre seeding" in result.output
    assert "flask --app app etl import https://huggingface.co/" in result.output


def test_genres_command_builds_the_dataset(live_app, standin):
    result = invoke(
        live_app,
        "genres",
        "--genre",
        "samba",
        "--genre",
        "tango",
        "--per-genre",
        "30",
        "--dataset",
        "two-genres",
    )
    assert result.exit_code == 0, result.output
    with live_app.app_context():
        from store import get_store

        [dataset] = get_store().list_datasets()
    assert dataset["name"] == "two-genres" and dataset["row_count"] == 60
    assert standin.calls["genre_seeds"] == 0  # the genres were given


@pytest.mark.parametrize("with_secret", [True, False], ids=["authorization-code", "pkce"])
def test_user_authorisation_caches_a_private_token_under_instance(
    standin, live_store, tmp_path, with_secret
):
    config = standin.config()
    manager = auth.user_authorisation(
        config["SPOTIFY_CLIENT_ID"],
        config["SPOTIFY_CLIENT_SECRET"] if with_secret else None,
        config["SPOTIFY_REDIRECT_URI"],
        auth.token_cache_path(str(tmp_path)),
        config["SPOTIFY_TOKEN_URL"],
        config["SPOTIFY_AUTHORIZE_URL"],
        requests.Session(),
        5,
        open_browser=False,
    )
    # The person's browser visit: the stand-in's /authorize redirects back with a code.
    if not with_secret:
        manager.get_pkce_handshake_parameters()
    redirect = requests.get(manager.get_authorize_url(), allow_redirects=False, timeout=5)
    assert urlsplit(redirect.headers["Location"]).netloc == "127.0.0.1:8888"
    manager.get_access_token(code=manager.parse_response_code(redirect.headers["Location"]))

    cache = tmp_path / auth.TOKEN_CACHE_NAME
    assert oct(os.stat(cache).st_mode & 0o777) == "0o600"
    assert auth.has_user_token(str(tmp_path))
    # With a user token cached, runs authorise as that user without being asked.
    secret = {} if with_secret else {"client_secret": None}
    etl = make_etl(standin, live_store, tmp_path, **secret)
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    assert etl.spotify.client.auth_manager.__class__.__name__ == (
        "SpotifyOAuth" if with_secret else "SpotifyPKCE"
    )
    assert live_store.counts()["playlist_tracks"] == PLAYLIST_TRACKS
    assert not os.path.exists(os.path.join(os.getcwd(), ".cache"))


def test_wrong_client_secret_is_explained(live_app, standin):
    live_app.config.update(SPOTIFY_CLIENT_SECRET="not-the-secret")
    result = invoke(live_app, "playlist", PLOTIFY_PLAYLIST_ID)
    assert result.exit_code == 1
    assert "invalid_client" in result.output and "SPOTIFY_CLIENT_SECRET" in result.output
    assert standin.calls["playlist"] == 0 and "Traceback" not in result.output
