"""Import of track files (CSV, Parquet) in any known public shape into the store."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from etl.reading import ImportFailed, printable, read_headers, read_table
from etl.shapes import KINDS, PITCH_CLASSES, Shape, custom_shape, detect_shape
from store.base import TrackStore, chunked
from store.records import AUDIO_FEATURES, TRACK_FIELDS, validate_frame

BATCH_SIZE = 5000
SKIPPED_EXAMPLES = 5
# Longest duration kept: about 24.8 days, the largest whole number of ms in 32 bits. Beyond it
# (or infinite) a duration is a broken value, and the databases cannot store unbounded integers.
MAX_DURATION_MS = 2**31 - 1


@dataclass
class ImportReport:
    """What an import read, skipped and changed."""

    path: str
    shape: str
    description: str
    kind: str
    rows_read: int = 0
    rows_skipped: int = 0
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())

    def lines(self) -> list[str]:
        """Human-readable summary for the CLI."""
        out = [
            f"Detected shape: {self.shape} ({self.description}); imported as {self.kind}.",
            f"Rows read: {self.rows_read}; skipped: {self.rows_skipped}.",
        ]
        for line, reason in self.skipped_examples:
            out.append(f"  skipped line {line}: {reason}")
        if self.rows_skipped > len(self.skipped_examples):
            out.append(f"  … and {self.rows_skipped - len(self.skipped_examples)} more")
        changed = ", ".join(f"{k} {v}" for k, v in self.changed.items())
        out.append(f"Rows changed: {self.total_changed} ({changed}).")
        return out


def resolve_shape(
    headers: list[str], mapping: dict[str, str] | None, kind: str | None, label: str | None
) -> Shape:
    """The shape to import with: an explicit mapping, or the detected public shape."""
    if mapping:
        missing = sorted(h for h in mapping.values() if h not in headers)
        if missing:
            raise ImportFailed(
                "mapped columns not in the file: " + ", ".join(printable(h) for h in missing)
            )
        unknown = sorted(
            set(mapping) - set(TRACK_FIELDS) - {"added_by", "added_at", "seed_track_id"}
        )
        if unknown:
            raise ImportFailed(
                "unknown canonical fields in --map: " + ", ".join(printable(f) for f in unknown)
            )
        if "id" not in mapping:
            raise ImportFailed("--map must map the track id (id=HEADER)")
        chosen_kind = kind or ("dataset" if label else "tracks")
        if chosen_kind not in KINDS:
            raise ImportFailed(f"--kind must be one of {', '.join(KINDS)}")
        if chosen_kind == "dataset" and (not label or label not in headers):
            raise ImportFailed("a dataset import needs --label naming the genre column")
        return custom_shape(mapping, chosen_kind, label)
    shape = detect_shape(headers)
    if shape is None:
        raise ImportFailed(
            "unknown file shape (headers: "
            + ", ".join(printable(h) for h in headers[:12])
            + ("…" if len(headers) > 12 else "")
            + "). Known shapes: Spotify Tracks Dataset, "
            "TidyTuesday spotify_songs, Ultimate Spotify Tracks DB, Exportify, Plotify exports. "
            "For other files give an explicit mapping, e.g. --map id=TrackID --map name=Title."
        )
    return shape


def _convert(series: pd.Series, converter: str) -> pd.Series:
    if converter in {"spotify_uri", "spotify_uris"}:
        # spotify:track:ID → ID; several URIs are comma-separated.
        def last_parts(value):
            if not isinstance(value, str):
                return value
            ids = [part.rsplit(":", 1)[-1] for part in value.split(",") if part]
            return ids if converter == "spotify_uris" else (ids[0] if ids else None)

        return series.map(last_parts)
    if converter == "pitch_class":
        return series.map(lambda v: PITCH_CLASSES.get(v.strip(), v) if isinstance(v, str) else v)
    if converter == "major_minor":
        return series.map(lambda v: {"Major": 1, "Minor": 0}.get(v, v) if isinstance(v, str) else v)
    if converter == "over_four":
        return series.map(lambda v: v.split("/")[0] if isinstance(v, str) else v)
    raise ValueError(f"unknown converter {converter}")


def canonical_frame(table: pd.DataFrame, shape: Shape) -> pd.DataFrame:
    """Rename a file's columns to canonical fields, applying the shape's converters."""
    frame = pd.DataFrame(index=table.index)
    for target, candidates in shape.columns.items():
        header = next((h for h in candidates if h in table.columns), None)
        if header is None:
            continue
        column = table[header]
        if target in shape.converters:
            column = _convert(column, shape.converters[target])
        frame[target] = column
    if "id" not in frame:
        raise ImportFailed("the file has no track id column")
    return frame


def _split_artists(value, separator: str):
    if not isinstance(value, str):
        return None
    if separator == "\x00":
        return [value.strip()] if value.strip() else None
    return [part.strip() for part in value.split(separator) if part.strip()] or None


def _split_tags(value) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _track_records(frame: pd.DataFrame, shape: Shape, source: str) -> list[dict]:
    fields = [f for f in TRACK_FIELDS if f in frame.columns]
    unique = frame.drop_duplicates("id")[fields]
    records = []
    for row in unique.itertuples(index=False, name=None):
        record = dict(zip(fields, row))
        for name in AUDIO_FEATURES:  # an unknown feature stays absent, never stored as NaN
            value = record.get(name)
            if name in record and (value is None or value != value):
                del record[name]
        record["artists"] = _split_artists(record.get("artists"), shape.artist_separator)
        if "explicit" in record and isinstance(record["explicit"], str):
            record["explicit"] = int(record["explicit"].strip().lower() in {"true", "1", "yes"})
        for name in ("duration_ms", "popularity", "key", "mode", "time_signature"):
            value = record.get(name)
            if value is not None and value == value:  # not NaN
                record[name] = int(float(value))
        if any(record.get(f) is not None for f in AUDIO_FEATURES):
            record["features_source"] = source
        records.append(record)
    return records


# stage(name, total) announces one phase of an import (reading, validating, writing) and
# returns advance(n), called as n of its total units are done.
Stage = Callable[[str, int], Callable[[int], None]]


def _silent_stage(name: str, total: int) -> Callable[[int], None]:
    return lambda n: None


class _Loader:
    """Writes batches through the store, counting changes and advancing the progress bar."""

    def __init__(self, store: TrackStore, report: ImportReport, progress: Callable[[int], None]):
        self.store, self.report, self.progress = store, report, progress

    def write(self, what: str, method, rows, *args):
        total = self.report.changed.get(what, 0)
        for batch in chunked(rows, BATCH_SIZE):
            total += method(*args, batch)
            self.progress(len(batch))
        self.report.changed[what] = total


def import_file(
    store: TrackStore,
    path: str,
    *,
    mapping: dict[str, str] | None = None,
    kind: str | None = None,
    label: str | None = None,
    dataset: str | None = None,
    playlist_id: str | None = None,
    playlist_name: str | None = None,
    people: dict[str, str] | None = None,
    max_bytes: int | None = None,
    stage: Stage | None = None,
) -> ImportReport:
    """Import one file; raise ImportFailed before writing anything if it cannot be imported.

    max_bytes refuses larger files unread. stage (see Stage) is told of the reading (in bytes),
    validating and writing (in rows) phases and their progress.
    """
    stage = stage or _silent_stage
    headers = read_headers(path, max_bytes)
    shape = resolve_shape(headers, mapping, kind, label)
    read = stage("Reading", os.path.getsize(path))
    table = read_table(path)
    read(os.path.getsize(path))
    validated = stage("Validating", len(table))
    frame = canonical_frame(table, shape)
    if shape.label:
        frame["label"] = table[shape.label]
    for column in shape.extra_genres:
        if column in table.columns:
            frame[f"genres:{column}"] = table[column]
    basename = os.path.basename(path)
    report = ImportReport(
        path=path,
        shape=shape.name,
        description=shape.description,
        kind=shape.kind,
        rows_read=len(frame),
    )
    clean, rejects = validate_frame(frame, blank_features_unknown=shape.blank_features_unknown)
    if "duration_ms" in clean:
        # validate_frame refuses durations <= 0; infinite or absurdly long ones are refused here.
        duration = clean["duration_ms"]
        ok = duration.isna() | (duration <= MAX_DURATION_MS)
        rejects += [(int(i) + 2, f"duration_ms over {MAX_DURATION_MS}") for i in clean.index[~ok]]
        clean = clean[ok]
    if shape.kind == "recommendations":
        seeds = clean["seed_track_id"].astype("string")
        ok = seeds.str.fullmatch(r"[0-9A-Za-z]{22}").fillna(False).astype(bool)
        rejects += [(int(i) + 2, "not a Spotify seed track id") for i in clean.index[~ok]]
        clean = clean[ok]
    if shape.kind == "dataset":
        ok = clean["label"].notna()
        rejects += [(int(i) + 2, "missing genre label") for i in clean.index[~ok]]
        clean = clean[ok]
    rejects.sort()
    validated(len(table))
    report.rows_skipped = len(rejects)
    report.skipped_examples = rejects[:SKIPPED_EXAMPLES]
    if report.rows_read == 0:
        raise ImportFailed(f"{path}: a header line and no data rows")
    if clean.empty:
        raise ImportFailed(
            f"{path}: no valid rows ({report.rows_skipped} skipped; first: "
            + "; ".join(f"line {n}: {r}" for n, r in report.skipped_examples)
            + ")"
        )

    source = f"file:{basename}"
    tracks = _track_records(clean, shape, source)
    genre_rows = _genre_rows(clean, shape, dataset or shape.dataset_name or _stem(path))
    written = stage(
        "Writing", len(tracks) + len(genre_rows) + (len(clean) if shape.kind != "tracks" else 0)
    )
    loader = _Loader(store, report, written)
    loader.write("tracks", store.upsert_tracks, tracks)
    loader.write("genres", store.upsert_track_genres, genre_rows)
    if shape.kind == "dataset":
        name = dataset or shape.dataset_name or _stem(path)
        report.changed["datasets"] = store.upsert_dataset(
            {
                "name": name,
                "label_set": shape.label,
                "source": source,
                "description": shape.description,
            }
        )
        pairs = list(dict.fromkeys(zip(clean["id"], clean["label"])))
        loader.write("dataset rows", store.upsert_dataset_tracks, pairs, name)
    elif shape.kind == "playlist":
        _load_playlist(store, loader, clean, path, playlist_id, playlist_name, people or {})
    elif shape.kind == "recommendations":
        ranked = clean.assign(rank=clean.groupby("seed_track_id").cumcount() + 1)
        rows = [
            {"seed_track_id": s, "track_id": t, "source": "file", "rank": int(r)}
            for s, t, r in zip(ranked["seed_track_id"], ranked["id"], ranked["rank"])
        ]
        loader.write("recommendations", store.upsert_recommendations, rows)
    return report


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _genre_rows(clean: pd.DataFrame, shape: Shape, dataset: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if shape.label:
        origin = f"dataset:{dataset}"
        rows += [(t, g, origin) for t, g in zip(clean["id"], clean["label"])]
    for column in shape.extra_genres:
        key = f"genres:{column}"
        if key not in clean:
            continue
        # Exportify's Genres are the artists' Spotify genres; dataset extras are sub-labels.
        origin = "artist" if shape.kind == "playlist" else f"dataset:{dataset}:{column}"
        for track_id, value in zip(clean["id"], clean[key]):
            rows += [(track_id, tag, origin) for tag in _split_tags(value)]
    return list(dict.fromkeys(rows))


def _load_playlist(store, loader, clean, path, playlist_id, playlist_name, people):
    playlist_id = playlist_id or f"file:{_stem(path)}"
    playlist = {
        "id": playlist_id,
        "name": playlist_name or _stem(path),
        "source": f"file:{os.path.basename(path)}",
    }
    loader.report.changed["playlists"] = store.upsert_playlist(playlist)
    members = clean.drop_duplicates("id")
    rows = [
        {
            "playlist_id": playlist_id,
            "track_id": t,
            "position": i,
            "added_by": None if pd.isna(by) else by,
            "added_at": None if pd.isna(at) else at,
        }
        for i, (t, by, at) in enumerate(
            zip(
                members["id"],
                members["added_by"] if "added_by" in members else [None] * len(members),
                members["added_at"] if "added_at" in members else [None] * len(members),
            )
        )
    ]
    loader.write("memberships", store.upsert_playlist_tracks, rows)
    added_by = {r["added_by"] for r in rows if r["added_by"]}
    loader.report.changed["people"] = store.upsert_people(
        {person: people.get(person) for person in sorted(added_by)}
    )
    # A re-export of the same playlist replaces it: tracks no longer in the file leave it.
    loader.report.changed["memberships removed"] = store.prune_playlist_tracks(
        playlist_id, members["id"]
    )
