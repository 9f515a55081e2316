"""The canonical track record: field names, types and valid ranges shared by every source."""

from __future__ import annotations

import math
import re

# Audio features as Spotify defined them; any of them may be absent from a given provider
# (ReccoBeats has no time_signature, the Plotify export has no valence/key/mode).
AUDIO_FEATURES = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "key",
    "liveness",
    "loudness",
    "mode",
    "speechiness",
    "tempo",
    "time_signature",
    "valence",
)

# Inclusive ranges; a value outside them means a broken row, not an unusual song.
FEATURE_RANGES = {
    "acousticness": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "key": (-1, 11),
    "liveness": (0.0, 1.0),
    "loudness": (-60.0, 5.0),
    "mode": (0, 1),
    "speechiness": (0.0, 1.0),
    "tempo": (0.0, 300.0),
    "time_signature": (0, 7),
    "valence": (0.0, 1.0),
}
INTEGER_FEATURES = frozenset({"key", "mode", "time_signature"})

# Column order of the tracks table / document; `artists` and `artist_ids` are lists.
TRACK_FIELDS = (
    "id",
    "name",
    "artists",
    "artist_ids",
    "album",
    "release_date",
    "duration_ms",
    "explicit",
    "popularity",
    *AUDIO_FEATURES,
    "features_source",
)
INTEGER_FIELDS = frozenset({"duration_ms", "explicit", "popularity"} | INTEGER_FEATURES)
TEXT_FIELDS = frozenset({"id", "name", "album", "release_date", "features_source"})
LIST_FIELDS = frozenset({"artists", "artist_ids"})

# Spotify ids are 22 base-62 characters; anything else is not a Spotify track.
TRACK_ID_RE = re.compile(r"[0-9A-Za-z]{22}")


class InvalidRecord(ValueError):
    """A row that cannot become a canonical track record (reason in the message)."""


def is_track_id(value) -> bool:
    """True when value looks like a Spotify track id."""
    return isinstance(value, str) and TRACK_ID_RE.fullmatch(value) is not None


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def normalize_track(raw: dict) -> dict:
    """Return a clean track record from a mapping of canonical field names, or raise InvalidRecord.

    Absent fields stay absent (they are not set to None) so that an upsert never erases what
    another source already stored.
    """
    track_id = raw.get("id")
    if not is_track_id(track_id):
        raise InvalidRecord(f"not a Spotify track id: {track_id!r}")
    record = {"id": track_id}
    for field in TRACK_FIELDS[1:]:
        if field not in raw:
            continue
        value = raw[field]
        if _is_missing(value):
            if field in AUDIO_FEATURES:
                raise InvalidRecord(f"missing {field}")
            continue
        if field in LIST_FIELDS:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(";") if part.strip()]
            record[field] = [str(v) for v in value]
        elif field in TEXT_FIELDS:
            record[field] = str(value)
        elif field == "explicit":
            record[field] = int(_as_bool(value))
        else:
            record[field] = _as_number(field, value)
    if record.get("duration_ms") is not None and record["duration_ms"] <= 0:
        raise InvalidRecord(f"duration_ms {record['duration_ms']} is not positive")
    if "popularity" in record and not 0 <= record["popularity"] <= 100:
        raise InvalidRecord(f"popularity {record['popularity']} outside 0..100")
    return record


def _as_bool(value) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise InvalidRecord(f"explicit {value!r} is not a boolean")
    return bool(value)


def _as_number(field: str, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRecord(f"{field} {value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise InvalidRecord(f"{field} is not finite")
    if field in FEATURE_RANGES:
        low, high = FEATURE_RANGES[field]
        if not low <= number <= high:
            raise InvalidRecord(f"{field} {number:g} outside {low}..{high}")
    if field in INTEGER_FIELDS:
        if number != int(number):
            raise InvalidRecord(f"{field} {number:g} is not a whole number")
        return int(number)
    return number


def validate_frame(frame, first_line: int = 2, blank_features_unknown: bool = False):
    """Split a DataFrame of canonical columns into valid rows and rejects.

    Vectorised twin of normalize_track for bulk file imports: returns (clean_frame, rejects) where
    rejects is a list of (line_number, reason) in file order, line numbers counting the header as 1.
    With blank_features_unknown, a blank feature cell is kept as NaN (unknown) instead of
    rejecting its row; text that is not a number still is.
    """
    import numpy as np
    import pandas as pd

    reasons = pd.Series("", index=frame.index, dtype=object)

    def reject(mask, reason):
        fresh = mask & (reasons == "")
        reasons[fresh] = reason

    ids = frame["id"].astype("string")
    reject(
        ~ids.str.fullmatch(TRACK_ID_RE.pattern).fillna(False).astype(bool), "not a Spotify track id"
    )
    for field in AUDIO_FEATURES:
        if field not in frame:
            continue
        values = pd.to_numeric(frame[field], errors="coerce")
        missing = values.isna()
        if blank_features_unknown:
            missing &= frame[field].notna() & (frame[field].astype("string").str.strip() != "")
        reject(missing, f"missing or non-numeric {field}")
        low, high = FEATURE_RANGES[field]
        reject((values < low) | (values > high), f"{field} outside {low}..{high}")
        if field in INTEGER_FEATURES:
            reject(values.notna() & (values != np.floor(values)), f"{field} is not a whole number")
        frame[field] = values
    if "duration_ms" in frame:
        duration = pd.to_numeric(frame["duration_ms"], errors="coerce")
        reject(duration.notna() & (duration <= 0), "duration_ms is not positive")
        frame["duration_ms"] = duration
    if "popularity" in frame:
        popularity = pd.to_numeric(frame["popularity"], errors="coerce")
        reject(
            popularity.notna() & ((popularity < 0) | (popularity > 100)),
            "popularity outside 0..100",
        )
        frame["popularity"] = popularity
    bad = reasons != ""
    positions = np.flatnonzero(bad.to_numpy())
    rejects = [(int(pos) + first_line, reasons.iloc[pos]) for pos in positions]
    return frame[~bad], rejects
