"""Exportify-compatible CSV of a playlist or of chosen tracks, as `flask etl import` reads it."""

from __future__ import annotations

import csv
import io
import re

from api.errors import APIError, bad_request
from store.records import AUDIO_FEATURES, is_track_id

# Exportify's columns (etl/shapes.py EXPORTIFY maps each of them back to a track field), plus
# Artist URI(s) from its older layout, which keeps the artists' ids through a round trip.
FEATURE_HEADERS = {f: f.replace("_", " ").title() for f in AUDIO_FEATURES}
HEADER = (
    "Track URI",
    "Track Name",
    "Album Name",
    "Artist Name(s)",
    "Artist URI(s)",
    "Release Date",
    "Duration (ms)",
    "Popularity",
    "Explicit",
    "Added By",
    "Added At",
    "Genres",
    *FEATURE_HEADERS.values(),
)
MAX_IDS = 100_000  # the catalogue's size: any selection on the page fits
FILENAME_UNSAFE = re.compile(r"[^0-9A-Za-z._ -]+")


def parse_ids(raw) -> list[str]:
    """Track ids from a comma-separated string or a JSON list, in order, duplicates dropped."""
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise bad_request("'ids' must be a list of Spotify track ids (or a comma-separated string)")
    ids = list(dict.fromkeys(i.strip() for i in raw if i.strip()))
    if not ids:
        raise bad_request("'ids' holds no track id")
    if len(ids) > MAX_IDS:
        raise bad_request(f"at most {MAX_IDS} ids per export ({len(ids)} given)")
    malformed = [i for i in ids if not is_track_id(i)]
    if malformed:
        raise bad_request(f"not Spotify track ids: {', '.join(malformed[:5])}")
    return ids


def safe_filename(name: str | None, fallback: str) -> str:
    """A download name without path separators, quotes or control characters, ending in .csv."""
    stem = FILENAME_UNSAFE.sub("_", (name or "").removesuffix(".csv")).strip(" ._")[:100]
    return f"{stem or fallback}.csv"


def _cell(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same number
    return str(value)


def _row(record: dict, membership: dict | None, genres: list[str]) -> list[str]:
    explicit = record.get("explicit")
    added_by = (membership or {}).get("added_by")
    row = [
        f"spotify:track:{record['id']}",
        record.get("name"),
        record.get("album"),
        # Exportify separates artists by commas, so the importer splits on them.
        ",".join(record.get("artists") or []),
        ",".join(f"spotify:artist:{a}" for a in record.get("artist_ids") or []),
        record.get("release_date"),
        record.get("duration_ms"),
        record.get("popularity"),
        "" if explicit is None else ("true" if explicit else "false"),
        f"spotify:user:{added_by}" if added_by else None,
        (membership or {}).get("added_at"),
        ",".join(genres),
        *(record.get(f) for f in AUDIO_FEATURES),
    ]
    return [_cell(v) for v in row]


def export_csv(target, ids: list[str] | None, playlist: str | None) -> tuple[str, int]:
    """The CSV text of the given tracks (or the whole playlist, in its order), and how many of the
    ids were unknown (skipped).

    Added By/Added At are filled for tracks of the playlist, when one is given. Raises APIError:
    404 for an unknown playlist, 400 when none of the ids is a stored track.
    """
    memberships: dict[str, dict] = {}
    if playlist:
        if target.get_playlist(playlist) is None:
            raise APIError(404, "not_found", f"no playlist with id {playlist!r}")
        members = target.read_tracks_frame(playlist=playlist)
        for track_id, by, at in zip(members["id"], members["added_by"], members["added_at"]):
            memberships[track_id] = {
                "added_by": by if isinstance(by, str) and by else None,
                "added_at": at if isinstance(at, str) and at else None,
            }
    wanted = ids if ids is not None else list(memberships)
    records = target.get_tracks(wanted)
    found = [i for i in wanted if i in records]
    if ids is not None and not found:
        raise APIError(
            400, "unknown_tracks", f"none of the ids is a stored track: {', '.join(ids[:10])}"
        )
    genres = target.get_track_genres(found)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for track_id in found:
        # Only the artists' genres are Exportify's "Genres"; dataset labels are not.
        artist_genres = [g["genre"] for g in genres.get(track_id, []) if g["origin"] == "artist"]
        writer.writerow(_row(records[track_id], memberships.get(track_id), artist_genres))
    return out.getvalue(), len(wanted) - len(found)
