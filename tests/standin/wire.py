"""What every stand-in endpoint shares: the app's credentials, Spotify's error bodies, an answer."""

from __future__ import annotations

from dataclasses import dataclass, field

CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret"

DEFAULT_ERRORS = {
    # Bodies as restricted apps see them (see docs/spotify_api_2026.md §1e).
    400: {"error": {"status": 400, "message": "Invalid request"}},
    401: {"error": {"status": 401, "message": "Invalid access token"}},
    403: {"error": {"status": 403}},
    404: {"error": {"status": 404, "message": "Not Found"}},
    429: {"error": {"status": 429, "message": "API rate limit exceeded"}},
    500: {"error": {"status": 500, "message": "Server error"}},
    503: {"error": {"status": 503, "message": "Service unavailable"}},
}


@dataclass
class ApiResponse:
    status: int
    body: object
    headers: dict = field(default_factory=dict)
    breaks: str | None = None  # "reset", "truncated_body" or "truncated_json": how to send it
