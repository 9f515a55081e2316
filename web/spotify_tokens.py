"""A person's Spotify login kept server-side: PKCE, the code exchange, refresh, files mode 0600."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import time

import requests

from etl.auth import PrivateTokenFile

# Creating playlists and adding to them is all the page does as a user.
SCOPES = "playlist-modify-private playlist-modify-public"
LOGIN_FOLDER = "spotify-logins"
PENDING_SECONDS = 600  # a login page left open longer than this must be started again
REFRESH_MARGIN = 60  # refresh a token this many seconds before it expires
LOGIN_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")


class LoginFailed(Exception):
    """The login could not be completed; code is a short reason, the message a sentence."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class LoginStorageFailed(Exception):
    """The login file could not be written (instance folder read-only, full, missing …)."""


class TokenEndpointDown(Exception):
    """Spotify's token endpoint could not be reached or answered with a server error."""


def new_login_id() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """A PKCE code verifier: 86 unreserved characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: base64url of its SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LoginStore:
    """One JSON file per browser session under instance/spotify-logins/, readable by us alone.

    The browser holds only the file's random name inside its signed session cookie; the tokens,
    the PKCE verifier and the state never leave the server.
    """

    def __init__(self, instance_path: str):
        self.folder = os.path.join(instance_path, LOGIN_FOLDER)

    def _path(self, login_id: str) -> str:
        if not LOGIN_ID.fullmatch(login_id or ""):
            raise ValueError("malformed login id")
        return os.path.join(self.folder, f"{login_id}.json")

    def read(self, login_id: str | None) -> dict:
        if not login_id or not LOGIN_ID.fullmatch(login_id):
            return {}
        return PrivateTokenFile(self._path(login_id)).get_cached_token() or {}

    def write(self, login_id: str, data: dict) -> None:
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            PrivateTokenFile(self._path(login_id)).save_token_to_cache(data)
        except OSError as exc:
            raise LoginStorageFailed(f"cannot write a login file: {exc}") from None

    def forget(self, login_id: str | None) -> None:
        if login_id and LOGIN_ID.fullmatch(login_id):
            for path in (self._path(login_id), self._path(login_id) + ".lock"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    @contextlib.contextmanager
    def locked(self, login_id: str):
        """Hold this login's lock (across processes): two requests must not both refresh it,
        since Spotify may retire a refresh token once it has been used."""
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            descriptor = os.open(self._path(login_id) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LoginStorageFailed(f"cannot lock a login file: {exc}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


class TokenClient:
    """Spotify's token endpoint for a public PKCE client: code exchange and refresh."""

    def __init__(self, token_url: str, client_id: str, timeout: float):
        self.token_url, self.client_id, self.timeout = token_url, client_id, timeout

    def _post(self, form: dict) -> dict:
        try:
            answer = requests.post(
                self.token_url, data={**form, "client_id": self.client_id}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise TokenEndpointDown(
                f"the token endpoint did not answer ({type(exc).__name__})"
            ) from None
        if answer.status_code >= 500:
            raise TokenEndpointDown(f"the token endpoint answered HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise TokenEndpointDown("the token endpoint answered without JSON") from None
        if answer.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            raise LoginFailed(str(error or "token_refused"), str(description or "refused"))
        return body

    def exchange(self, code: str, redirect_uri: str, verifier: str) -> dict:
        body = self._post(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        return tokens_from(body, previous_refresh=None)

    def refresh(self, refresh_token: str) -> dict:
        body = self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})
        # Spotify may or may not send a new refresh token; without one the old stays valid.
        return tokens_from(body, previous_refresh=refresh_token)


def tokens_from(body: dict, previous_refresh: str | None) -> dict:
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token") or previous_refresh,
        "expires_at": time.time() + float(body.get("expires_in") or 3600),
        "scope": body.get("scope"),
    }


def current_access_token(store: LoginStore, login_id: str, client: TokenClient) -> str | None:
    """The login's access token, refreshed first when it has expired or is about to.

    None when nobody is logged in or the refresh token was refused (the login is then forgotten).
    Raises TokenEndpointDown when Spotify cannot be asked.
    """
    login = store.read(login_id)
    tokens = login.get("tokens")
    if not tokens:
        return None
    if tokens["expires_at"] - REFRESH_MARGIN > time.time():
        return tokens["access_token"]
    with store.locked(login_id):
        login = store.read(login_id)  # another request may have refreshed it meanwhile
        tokens = login.get("tokens")
        if not tokens:
            return None
        if tokens["expires_at"] - REFRESH_MARGIN > time.time():
            return tokens["access_token"]
        if not tokens.get("refresh_token"):
            store.forget(login_id)
            return None
        try:
            login["tokens"] = client.refresh(tokens["refresh_token"])
        except LoginFailed:
            store.forget(login_id)
            return None
        store.write(login_id, login)
        return login["tokens"]["access_token"]


def describe(login: dict) -> dict:
    """What the page may know of a login: whether there is one and whose (never a token)."""
    return {"logged_in": bool(login.get("tokens")), "user": login.get("user")}


def api_client(access_token: str, api_base: str, timeout: float):
    """A spotipy client acting as the logged-in person, pointed at the configured API base."""
    import spotipy

    from etl.spotify import plain_session

    client = spotipy.Spotify(
        auth=access_token, requests_session=plain_session(), requests_timeout=timeout
    )
    # spotipy has no base-URL argument; prefix is the documented instance attribute.
    client.prefix = api_base.rstrip("/") + "/v1/"
    return client
