"""Security headers on every response, and the refusal to run in production with a known SECRET_KEY."""
from __future__ import annotations

import os

# Everything the page loads is served by the app itself: no inline script or style, no eval.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEVELOPMENT_KEYS = {"", "dev", "change-me"}


class InsecureConfiguration(RuntimeError):
    """The app would run in production with a secret anyone can read."""


def init_app(app) -> None:
    """Add the headers; in production (gunicorn.conf.py sets PLOTIFY_PRODUCTION) demand a SECRET_KEY."""
    if os.environ.get("PLOTIFY_PRODUCTION") and not app.testing:
        if str(app.config.get("SECRET_KEY") or "") in DEVELOPMENT_KEYS:
            raise InsecureConfiguration(
                "SECRET_KEY must be set to a long random value in production (see .env.example)")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.after_request
    def add_security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
