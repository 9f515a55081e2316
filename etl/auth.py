"""Spotify authorisation: client credentials, or a user's code/PKCE token cached privately."""

from __future__ import annotations

import json
import os

import requests
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth, SpotifyPKCE

# Reading private and collaborative playlists is all the ETL ever does as a user.
USER_SCOPES = "playlist-read-private playlist-read-collaborative"
TOKEN_CACHE_NAME = "spotify-user-token.json"
APP_TOKEN_CACHE_NAME = "spotify-app-token.json"


class MissingCredentials(Exception):
    """Spotify credentials are not configured; the message names the variables to set."""


class PrivateTokenFile(CacheHandler):
    """A spotipy token cache in one JSON file that only its owner can read (mode 0600).

    spotipy's CacheFileHandler writes with the process umask (usually world-readable) and by
    default into the working directory, i.e. the repository root; a refresh token is a password.
    """

    def __init__(self, path: str):
        self.path = path

    def get_cached_token(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def save_token_to_cache(self, token_info):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # An existing file keeps its old mode through O_CREAT, so tighten it explicitly.
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(token_info, handle)


def token_cache_path(instance_path: str) -> str:
    """Where a user's token lives: the app's instance folder, never the repository root."""
    return os.path.join(instance_path, TOKEN_CACHE_NAME)


def app_token_cache_path(instance_path: str) -> str:
    """Where the app's client-credentials token lives between runs (it is valid for an hour)."""
    return os.path.join(instance_path, APP_TOKEN_CACHE_NAME)


def has_user_token(instance_path: str) -> bool:
    """True when someone has already authorised the app as a user."""
    return PrivateTokenFile(token_cache_path(instance_path)).get_cached_token() is not None


def client_credentials(
    client_id: str | None,
    client_secret: str | None,
    token_url: str,
    session: requests.Session,
    timeout: float,
    cache_path: str | None = None,
) -> SpotifyClientCredentials:
    """App-only authorisation (public playlists, catalogue endpoints).

    The token is cached in cache_path (0600) when given, so a run that finds nothing changed
    makes one request in all; otherwise it is kept in memory.
    """
    missing = [
        name
        for name, value in (
            ("SPOTIFY_CLIENT_ID", client_id),
            ("SPOTIFY_CLIENT_SECRET", client_secret),
        )
        if not value
    ]
    if missing:
        raise MissingCredentials(
            f"Spotify credentials missing: set {' and '.join(missing)} in the environment or in "
            ".env (create an app at https://developer.spotify.com/dashboard)."
        )
    manager = SpotifyClientCredentials(
        client_id,
        client_secret,
        requests_session=session,
        requests_timeout=timeout,
        cache_handler=PrivateTokenFile(cache_path) if cache_path else MemoryCacheHandler(),
    )
    manager.OAUTH_TOKEN_URL = token_url
    return manager


def user_authorisation(
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
    cache_path: str,
    token_url: str,
    authorize_url: str,
    session: requests.Session,
    timeout: float,
    open_browser: bool = True,
):
    """Authorisation as a user, for private and collaborative playlists.

    With a client secret this is the authorization-code flow; without one, PKCE (a public client
    may not hold a secret). The first run asks the person to log in; the token, refreshed
    automatically afterwards, is cached in cache_path with mode 0600.
    """
    missing = [
        name
        for name, value in (
            ("SPOTIFY_CLIENT_ID", client_id),
            ("SPOTIFY_REDIRECT_URI", redirect_uri),
        )
        if not value
    ]
    if missing:
        raise MissingCredentials(
            f"User authorisation needs {' and '.join(missing)} (the redirect URI must also be "
            "registered in the Spotify dashboard); SPOTIFY_CLIENT_SECRET is optional (PKCE)."
        )
    cache = PrivateTokenFile(cache_path)
    if client_secret:
        manager = SpotifyOAuth(
            client_id,
            client_secret,
            redirect_uri,
            scope=USER_SCOPES,
            cache_handler=cache,
            requests_session=session,
            requests_timeout=timeout,
            open_browser=open_browser,
        )
    else:
        manager = SpotifyPKCE(
            client_id,
            redirect_uri,
            scope=USER_SCOPES,
            cache_handler=cache,
            requests_session=session,
            requests_timeout=timeout,
            open_browser=open_browser,
        )
    manager.OAUTH_TOKEN_URL = token_url
    manager.OAUTH_AUTHORIZE_URL = authorize_url
    return manager
