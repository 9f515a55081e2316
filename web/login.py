"""The page's Spotify login: /auth/login, /auth/callback and /auth/logout (code flow with PKCE)."""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlencode

import requests
from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from spotipy.exceptions import SpotifyException

from api.errors import json_error
from web import settings
from web.spotify_tokens import (
    PENDING_SECONDS,
    SCOPES,
    LoginFailed,
    LoginStorageFailed,
    LoginStore,
    TokenClient,
    TokenEndpointDown,
    api_client,
    code_challenge,
    new_code_verifier,
    new_login_id,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")
SESSION_KEY = "spotify_login"  # the random name of this browser's login file, nothing more
NOT_CONFIGURED = (
    "Saving to Spotify is not set up on this server: set SPOTIFY_CLIENT_ID (and register "
    "the app's /auth/callback as a redirect URI in the Spotify dashboard)."
)


def configured() -> bool:
    """True when the app can log people in (PKCE needs the client id, not the secret)."""
    return bool(current_app.config.get("SPOTIFY_CLIENT_ID"))


def login_store() -> LoginStore:
    return LoginStore(current_app.instance_path)


def login_id() -> str | None:
    return session.get(SESSION_KEY)


def timeout() -> float:
    return settings.value(current_app.config, "ETL_HTTP_TIMEOUT")


def token_client() -> TokenClient:
    config = current_app.config
    return TokenClient(
        settings.value(config, "SPOTIFY_TOKEN_URL"), config["SPOTIFY_CLIENT_ID"], timeout()
    )


def client_for(access_token: str):
    """spotipy as the logged-in person, at the configured API base."""
    return api_client(
        access_token, settings.value(current_app.config, "SPOTIFY_API_BASE"), timeout()
    )


def redirect_uri() -> str:
    """Where Spotify sends the person back: the setting, else this app's own callback."""
    return current_app.config.get("SPOTIFY_WEB_REDIRECT_URI") or url_for(
        "auth.callback", _external=True
    )


def safe_next(target: str | None) -> str:
    """A same-site path to return to; anything that could leave the site becomes "/"."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    return target


def login_error(status: int, code: str, message: str):
    return json_error(status, code, message)


def init_app(app) -> None:
    """Register /auth and the answer for a login that cannot be stored."""
    app.register_blueprint(bp)

    @app.errorhandler(LoginStorageFailed)
    def login_storage_failed(exc):
        current_app.logger.error("Spotify login storage: %s", exc)
        return json_error(
            503, "login_unavailable", "Logins cannot be stored on the server right now."
        )


@bp.get("/login")
def login():
    if not configured():
        return login_error(503, "spotify_not_configured", NOT_CONFIGURED)
    verifier = new_code_verifier()
    state = secrets.token_urlsafe(24)
    current = login_id() or new_login_id()
    session[SESSION_KEY] = current
    store = login_store()
    record = store.read(current)
    record["pending"] = {
        "state": state,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri(),
        "next": safe_next(request.args.get("next")),
        "created": time.time(),
    }
    store.write(current, record)
    query = {
        "client_id": current_app.config["SPOTIFY_CLIENT_ID"],
        "response_type": "code",
        "redirect_uri": record["pending"]["redirect_uri"],
        "state": state,
        "code_challenge_method": "S256",
        "code_challenge": code_challenge(verifier),
        "scope": SCOPES,
    }
    authorize_url = settings.value(current_app.config, "SPOTIFY_AUTHORIZE_URL")
    return redirect(f"{authorize_url}?{urlencode(query)}")


def _whoami(access_token: str) -> tuple[dict | None, str | None]:
    """The person's id and display name, or why Spotify refuses them (the developer-mode cap)."""
    try:
        me = client_for(access_token).me()
    except SpotifyException as exc:
        if exc.http_status == 403:
            return None, refusal_message(exc)
        current_app.logger.warning("Spotify /me failed after login: %s", exc)
        return None, None
    except requests.RequestException as exc:
        current_app.logger.warning("Spotify /me failed after login: %s", exc)
        return None, None
    return {"id": me.get("id"), "display_name": me.get("display_name") or me.get("id")}, None


def refusal_message(exc: SpotifyException) -> str:
    """Spotify's 403 as a sentence a person can act on."""
    said = (exc.msg or "").split("\n")[-1].strip()
    detail = f" (Spotify said: {said})" if said and said != "None" else ""
    return (
        "Spotify refused this account" + detail + ". While the app is in development mode "
        "only the five users on its allow-list in the Spotify dashboard may use it: ask the "
        "app's owner to add you."
    )


@bp.get("/callback")
def callback():
    store = login_store()
    current = login_id()
    record = store.read(current)
    pending = record.pop("pending", None)
    if pending is None:
        return login_error(400, "login_not_started", "No login is in progress: start it again.")
    # Whatever happens next, this attempt's state and verifier are used up.
    store.write(current, record)
    if request.args.get("error"):
        return login_error(
            400,
            "login_refused",
            f"Spotify did not log you in ({request.args['error'][:100]}).",
        )
    if time.time() - pending["created"] > PENDING_SECONDS:
        return login_error(400, "login_expired", "The login took too long: start it again.")
    state = request.args.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending["state"].encode()):
        return login_error(400, "state_mismatch", "The login's state does not match: start again.")
    code = request.args.get("code")
    if not code:
        return login_error(400, "login_failed", "Spotify sent no authorization code.")
    try:
        tokens = token_client().exchange(code, pending["redirect_uri"], pending["code_verifier"])
    except LoginFailed as exc:
        current_app.logger.warning("Spotify code exchange refused: %s %s", exc.code, exc.message)
        return login_error(400, "login_failed", f"Spotify refused the login ({exc.code}).")
    except TokenEndpointDown as exc:
        current_app.logger.warning("Spotify code exchange failed: %s", exc)
        return login_error(502, "spotify_unavailable", "Spotify could not be reached.")
    user, refused = _whoami(tokens["access_token"])
    # A fresh name for the logged-in session: one fixed before the login is worth nothing now.
    store.forget(current)
    fresh = new_login_id()
    store.write(fresh, {"tokens": tokens, "user": user, "refused": refused})
    session[SESSION_KEY] = fresh
    return redirect(pending["next"])


@bp.post("/logout")
def logout():
    login_store().forget(login_id())
    session.pop(SESSION_KEY, None)
    return jsonify(logged_in=False)
