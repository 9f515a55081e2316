"""CSRF protection: a per-session token in the page, demanded back by every state-changing call."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from api.errors import json_error

HEADER = "X-CSRF-Token"
SESSION_KEY = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    """This session's token, made on first use (the page's meta tag carries it)."""
    token = session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def request_is_trusted() -> bool:
    """True when the request cannot change state, or carries this session's token in the header.

    A cross-site form can send cookies but not a custom header, and another origin's script can
    read neither the page nor the token, so a matching header proves the page itself asked.
    """
    if request.method in SAFE_METHODS:
        return True
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER, "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def init_app(app) -> None:
    """Check every state-changing request that reaches a route; give templates csrf_token."""

    @app.before_request
    def refuse_forged_requests():
        # A request no route serves (404, 405) is left to routing, which refuses it anyway.
        if request.url_rule is None or request_is_trusted():
            return None
        return json_error(
            403,
            "csrf_failed",
            f"This request must carry the page's {HEADER} header (reload the page and try again).",
        )

    @app.context_processor
    def add_csrf_token():
        return {"csrf_token": csrf_token}
