"""Import of track files (CSV, Parquet) in any known public shape into the store."""

from __future__ import annotations

import codecs
import csv
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from etl.shapes import KINDS, PITCH_CLASSES, Shape, custom_shape, detect_shape
from store.base import TrackStore, chunked
from store.records import AUDIO_FEATURES, TRACK_FIELDS, validate_frame

BATCH_SIZE = 5000
SKIPPED_EXAMPLES = 5
# A header line longer than this is not a CSV of tracks (binary, or one giant line).
MAX_HEADER_BYTES = 64 * 1024
# Real rows are under 2 kB; a longer line is broken or hostile, and pandas would hold all of it.
MAX_LINE_BYTES = 1024 * 1024
# Files are read whole, so their size bounds the import's memory: the 114k catalogue's 20 MB of
# CSV peaks at 293 MB over the app's start (about 15x). 128 MiB is 4x the largest recognised
# public file (SpotifyFeatures.csv, 32 MB) and keeps an import near 2 GB. The app passes its
# IMPORT_MAX_BYTES setting (web/settings.py, 128 MiB by default); None here means no limit.
SCAN_BLOCK = 1 << 20
# Longest duration kept: about 24.8 days, the largest whole number of ms in 32 bits. Beyond it
# (or infinite) a duration is a broken value, and the databases cannot store unbounded integers.
MAX_DURATION_MS = 2**31 - 1


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written (reason in the message)."""


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


def printable(text: str, limit: int = 60) -> str:
    """Text from a file made safe for a terminal: control characters escaped, length bounded."""
    shown = "".join(
        ch if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"} else ascii(ch)[1:-1]
        for ch in text[:limit]
    )
    return shown + ("…" if len(text) > limit else "")


def check_regular_file(path: str, max_bytes: int | None = None) -> int:
    """The size of path when it is a regular, readable file of acceptable size; else ImportFailed.

    Judged from stat alone: opening a FIFO would block and /dev/zero or /dev/urandom never end.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such file") from None
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImportFailed(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ImportFailed(f"{path}: not a regular file (a device, pipe or socket)")
    if not os.access(path, os.R_OK):
        raise ImportFailed(f"{path}: permission denied")
    if max_bytes is not None and info.st_size > max_bytes:
        raise ImportFailed(
            f"{path}: {info.st_size} bytes, over the {max_bytes}-byte import "
            "limit (IMPORT_MAX_BYTES)"
        )
    if info.st_size == 0:
        raise ImportFailed(f"{path}: the file is empty")
    return info.st_size


def read_headers(path: str, max_bytes: int | None = None) -> list[str]:
    """The column names of a CSV or Parquet file; raises ImportFailed if unreadable."""
    check_regular_file(path, max_bytes)
    if _is_parquet(path):
        try:
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for bad files
            raise ImportFailed(f"{path}: not a readable Parquet file ({exc})") from None
        if len(set(names)) != len(names):
            raise ImportFailed(f"{path}: the Parquet file repeats column names")
        return names
    try:
        with open(path, "rb") as handle:
            head = handle.readline(MAX_HEADER_BYTES + 1)
        if len(head) > MAX_HEADER_BYTES:
            raise ImportFailed(
                f"{path}: the first line is over {MAX_HEADER_BYTES} bytes; not a CSV of tracks"
            )
        if b"\x00" in head:
            raise ImportFailed(f"{path}: binary content, not a CSV file")
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(f"{path}: not UTF-8 text") from None
    try:
        row = next(csv.reader([text]), [])
    except csv.Error as exc:  # e.g. a NUL or a stray quote in the header line
        raise ImportFailed(f"{path}: the header line is not CSV ({exc})") from None
    if len(row) < 2:
        raise ImportFailed(f"{path}: no comma-separated header line found")
    return [h.strip() for h in row]


def scan_csv(path: str) -> None:
    """Refuse a CSV with binary content, invalid UTF-8 or an over-long line, in bounded memory.

    Reads the file in 1 MB blocks before pandas sees it: pandas would otherwise hold a whole
    giant line (or the whole of a binary file) in memory before failing.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, line_bytes = 1, 0
    with open(path, "rb") as handle:
        while block := handle.read(SCAN_BLOCK):
            nul = block.find(b"\x00")
            if nul >= 0:
                at = line + block.count(b"\n", 0, nul)
                raise ImportFailed(
                    f"{path}: binary content (a NUL byte on line {at}), not a CSV file"
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                at = line + block.count(b"\n", 0, max(exc.start, 0))
                raise ImportFailed(f"{path}: not UTF-8 text (line {at})") from None
            start = 0
            while (newline := block.find(b"\n", start)) >= 0:
                line_bytes += newline - start
                if line_bytes > MAX_LINE_BYTES:
                    break
                line, line_bytes, start = line + 1, 0, newline + 1
            else:
                line_bytes += len(block) - start
            if line_bytes > MAX_LINE_BYTES:
                raise ImportFailed(
                    f"{path}: line {line} is over {MAX_LINE_BYTES} bytes; not a CSV of tracks"
                )
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path}: not UTF-8 text (it ends inside a character)") from None


def _is_parquet(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PAR1"


def _read_table(path: str) -> pd.DataFrame:
    try:
        if _is_parquet(path):
            frame = pd.read_parquet(path)
            # Nested or binary Parquet columns arrive as Python dicts, lists or bytes: as text
            # they can only fail validation, never reach a store query as an object.
            return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
        scan_csv(path)
        # Strings everywhere: ids must not become numbers and each feature is parsed (and
        # range-checked) by validate_frame.
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except (
        ValueError,
        TypeError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        OSError,
        MemoryError,
    ) as exc:
        raise ImportFailed(f"{path}: cannot be parsed ({printable(str(exc), 300)})") from None


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
    table = _read_table(path)
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
    clean, rejects = validate_frame(frame)
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
