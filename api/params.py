"""Validation of query parameters: bounded, printable text and well-formed ids, else a 400."""
from __future__ import annotations

import unicodedata

from flask import request

from api.errors import bad_request
from store.records import is_track_id

MAX_TEXT = 200  # longer than any real artist or title, short enough to refuse abuse


def text_param(name: str, required: bool = False, max_length: int = MAX_TEXT) -> str | None:
    """A query parameter as stripped printable text (None when absent and not required)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise bad_request(f"give '{name}' once")
    value = values[0].strip() if values else ""
    if not value:
        if required:
            raise bad_request(f"'{name}' is required")
        return None
    if len(value) > max_length:
        raise bad_request(f"'{name}' is longer than {max_length} characters")
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} for ch in value):
        raise bad_request(f"'{name}' contains control or invalid characters")
    return value


def track_id_param(name: str = "track_id", required: bool = False) -> str | None:
    """A Spotify track id parameter (22 base-62 characters)."""
    value = text_param(name, required=required, max_length=64)
    if value is not None and not is_track_id(value):
        raise bad_request(f"'{name}' is not a Spotify track id (22 letters and digits)")
    return value


def int_param(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer parameter."""
    value = text_param(name, max_length=6)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"'{name}' must be a whole number") from None
    if not low <= number <= high:
        raise bad_request(f"'{name}' must be between {low} and {high}")
    return number


def check_track_id(value: str) -> str:
    """A track id from the URL path, or a 400."""
    if not is_track_id(value):
        raise bad_request("not a Spotify track id (22 letters and digits)")
    return value
