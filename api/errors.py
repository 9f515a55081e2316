"""JSON errors for the API: one shape, {"error": code, "message": text}, with the right status."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from store.base import StoreUnavailable


class APIError(Exception):
    """An error answered as JSON with the given HTTP status."""

    def __init__(self, status: int, error: str, message: str, **details):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        # Fields a client can act on besides the sentence (predict's "did you mean" tracks).
        self.details = details


def bad_request(message: str) -> APIError:
    return APIError(400, "bad_request", message)


def not_found(message: str) -> APIError:
    return APIError(404, "not_found", message)


def json_error(status: int, error: str, message: str, **details):
    response = jsonify(error=error, message=message, **details)
    response.status_code = status
    return response


def handle_api_error(exc: APIError):
    return json_error(exc.status, exc.error, exc.message, **exc.details)


def handle_store_unavailable(exc: StoreUnavailable):
    current_app.logger.warning("store unavailable: %s", exc)
    # The public sentence names the problem (locked, read-only, unreachable …) without paths
    # or hosts.
    return json_error(503, "store_unavailable", f"{exc.message} Try again later.")


def is_api_path(path: str) -> bool:
    """True for /api, /api/… and /healthz (Werkzeug has already collapsed leading slashes)."""
    return path.startswith("/api/") or path in {"/api", "/healthz"}


def handle_http_exception(exc: HTTPException):
    # Routing errors (404, 405) happen before a blueprint is chosen, so this runs app-wide;
    # only API paths get JSON, the page keeps Flask's HTML.
    if is_api_path(request.path):
        name = (exc.name or "error").lower().replace(" ", "_")
        return json_error(exc.code or 500, name, exc.description or exc.name)
    return exc


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    if is_api_path(request.path):
        current_app.logger.exception("unhandled error in the API")
        return json_error(500, "internal_error", "Something went wrong on our side.")
    raise exc


def register(app) -> None:
    """Answer every error under the API (and /healthz) as JSON, never as a traceback."""
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(StoreUnavailable, handle_store_unavailable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
