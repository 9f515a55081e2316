"""Security headers, the refusal of a known SECRET_KEY in production, and credential-free logs."""

from __future__ import annotations

import logging
import re

# Everything the page loads is served by the app itself: no inline script or style, no eval.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEVELOPMENT_KEYS = {"", "dev", "change-me"}


# What a credential looks like inside a log line. spotipy logs every request's headers and body at
# DEBUG (a bearer token, the client id:secret in a Basic header, a refresh token in a form), and a
# MongoDB URI may carry a password; whoever turns debug logging on must not leak them.
CREDENTIAL_PATTERNS = [
    (re.compile(r"\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{16,}"), r"\1\2[redacted]"),
    (
        re.compile(
            r"""(['"]?\b(?:access_token|refresh_token|client_secret|code_verifier|password|"""
            r"""secret_key)['"]?\s*[:=]\s*['"]?)[^'"&,\s})]+""",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"([?&]code=)[^&\s'\"]+"), r"\1[redacted]"),
    (re.compile(r"(\bmongodb(?:\+srv)?://[^:/@\s]+:)[^@\s]+@"), r"\1[redacted]@"),
]


def redact(text: str) -> str:
    """The text with every credential it contains replaced by [redacted]."""
    for pattern, replacement in CREDENTIAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install_log_redaction() -> None:
    """Redact credentials from every log record, whichever library creates it (once per process).

    A filter on a logger sees only the records logged there, not those of its children or of
    libraries, so the redaction wraps the record factory: every record passes through it, and
    only records whose level is enabled are ever built.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_credentials", False):
        return

    def make_redacted_record(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call is the logging module's to report, at emit time
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    make_redacted_record.redacts_credentials = True
    logging.setLogRecordFactory(make_redacted_record)


class InsecureConfiguration(RuntimeError):
    """The app would run in production with a secret anyone can read."""


def init_app(app) -> None:
    """Add the headers; in production (gunicorn.conf.py sets PLOTIFY_PRODUCTION) demand a
    SECRET_KEY."""
    install_log_redaction()
    if app.config.get("PLOTIFY_PRODUCTION") and not app.testing:
        if str(app.config.get("SECRET_KEY") or "") in DEVELOPMENT_KEYS:
            raise InsecureConfiguration(
                "SECRET_KEY must be set to a long random value in production (see .env.example)"
            )
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.after_request
    def add_security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
