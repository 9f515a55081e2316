"""Store checks for fault and kill campaigns: row counts, content hash, duplicates, junk."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3

from store.records import FEATURE_RANGES

# Bookkeeping, not content: checkpoints of unfinished runs and the write counter.
NOT_CONTENT = frozenset({"etl_state", "meta"})
TRACK_ID = re.compile(r"[0-9A-Za-z]{22}")


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def content_digest(path: str) -> tuple[dict[str, int], str]:
    """(rows per table, sha256 over every row of every content table) of an embedded store.

    Read straight from the SQLite file, so it sees every column the store keeps, whatever the
    store's API exposes; rows are sorted, so write order does not matter.
    """
    digest = hashlib.sha256()
    counts = {}
    with _connect(path) as db:
        tables = sorted(
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        )
        for table in tables:
            if table in NOT_CONTENT:
                continue
            width = len(db.execute(f"SELECT * FROM {table} LIMIT 0").description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            rows = db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            counts[table] = len(rows)
            digest.update(table.encode())
            for row in rows:
                digest.update(repr(row).encode())
    return counts, digest.hexdigest()


def duplicates(path: str) -> dict[str, int]:
    """Rows that say the same thing twice (beyond what primary keys already forbid)."""
    queries = {
        # One recommendation stored under two sources (say, before and after a resumed run).
        "recommendation pairs": "SELECT COUNT(*) FROM (SELECT seed_track_id, track_id FROM "
        "recommendations GROUP BY 1, 2 HAVING COUNT(*) > 1)",
        "playlist positions": "SELECT COUNT(*) FROM (SELECT playlist_id, position FROM "
        "playlist_tracks GROUP BY 1, 2 HAVING COUNT(*) > 1)",
        "dataset labels": "SELECT COUNT(*) FROM (SELECT dataset, track_id, label FROM "
        "dataset_tracks GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)",
    }
    with _connect(path) as db:
        return {name: db.execute(sql).fetchone()[0] for name, sql in queries.items()}


def junk(path: str) -> list[str]:
    """Problems with stored values: bad ids, nulls inside lists, features out of range, orphans."""
    problems = []
    with _connect(path) as db:
        db.row_factory = sqlite3.Row
        for row in db.execute("SELECT * FROM tracks"):
            track_id = row["id"]
            if not TRACK_ID.fullmatch(track_id or ""):
                problems.append(f"track id {track_id!r}")
            for column in ("artists", "artist_ids"):
                listed = json.loads(row[column]) if row[column] is not None else []
                if any(not isinstance(v, str) for v in listed):
                    problems.append(f"{track_id} {column} {listed!r}")
            for feature, (low, high) in FEATURE_RANGES.items():
                value = row[feature]
                if value is not None and not low <= value <= high:
                    problems.append(f"{track_id} {feature}={value!r}")
        for row in db.execute("SELECT id, genres FROM artists"):
            genres = json.loads(row["genres"]) if row["genres"] is not None else []
            if any(not isinstance(g, str) or not g for g in genres):
                problems.append(f"artist {row['id']} genres {genres!r}")
        for (genre,) in db.execute("SELECT DISTINCT genre FROM track_genres"):
            if not isinstance(genre, str) or not genre or genre.lower() in ("none", "null"):
                problems.append(f"genre {genre!r}")
        orphans = {
            "recommendation without its track": "SELECT COUNT(*) FROM recommendations r "
            "LEFT JOIN tracks t ON t.id = r.track_id WHERE t.id IS NULL",
            "playlist row without its track": "SELECT COUNT(*) FROM playlist_tracks p "
            "LEFT JOIN tracks t ON t.id = p.track_id WHERE t.id IS NULL",
        }
        for what, sql in orphans.items():
            count = db.execute(sql).fetchone()[0]
            if count:
                problems.append(f"{count} {what}")
    return problems
