"""Validation of query parameters: bounded, printable text and well-formed ids, else a 400."""

from __future__ import annotations

import re
import unicodedata

from flask import request

from api.errors import bad_request
from store.records import is_track_id

MAX_TEXT = 200  # longer than any real artist or title, short enough to refuse abuse
MAX_INT_DIGITS = 6  # every integer parameter is small; longer text is refused before int()
INTEGER_RE = re.compile(r"[+-]?[0-9]+")
# Control, surrogate, private-use and unassigned characters: never part of a name or title.
REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def _single(name: str) -> str | None:
    """The raw value of a query parameter given at most once (None when absent)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise bad_request(f"give '{name}' once")
    return values[0] if values else None


def check_text(name: str, value: str, max_length: int) -> None:
    # Length and characters are judged on the raw value, before stripping, so that what the
    # OpenAPI document promises (maxLength, no control characters) is exactly what is enforced.
    if len(value) > max_length:
        raise bad_request(f"'{name}' is longer than {max_length} characters")
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in value):
        raise bad_request(f"'{name}' contains control or invalid characters")


def text_param(name: str, required: bool = False, max_length: int = MAX_TEXT) -> str | None:
    """A query parameter as stripped printable text (None when absent or blank and not required)."""
    raw = _single(name)
    if raw is not None:
        check_text(name, raw, max_length)
    value = (raw or "").strip()
    if not value:
        if required:
            raise bad_request(f"'{name}' is required")
        return None
    return value


def track_id_param(name: str = "track_id", required: bool = False) -> str | None:
    """A Spotify track id parameter (exactly 22 base-62 characters, nothing around them)."""
    raw = _single(name)
    if raw is None or raw == "":
        if required:
            raise bad_request(f"'{name}' is required")
        return None
    if not is_track_id(raw):
        raise bad_request(f"'{name}' is not a Spotify track id (22 letters and digits)")
    return raw


def int_param(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer parameter, written in ASCII digits with an optional sign."""
    raw = _single(name)
    if raw is None or raw == "":
        return default
    # int() alone would also take "1_0", " 5 " and non-ASCII digits such as "١٢".
    if len(raw) > MAX_INT_DIGITS or not INTEGER_RE.fullmatch(raw):
        raise bad_request(f"'{name}' must be a whole number between {low} and {high}")
    number = int(raw)
    if not low <= number <= high:
        raise bad_request(f"'{name}' must be between {low} and {high}")
    return number


def check_track_id(value: str) -> str:
    """A track id from the URL path, or a 400."""
    if not is_track_id(value):
        raise bad_request("not a Spotify track id (22 letters and digits)")
    return value
