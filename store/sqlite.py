"""The embedded, server-less store: one SQLite file under instance/, safe across processes."""

from __future__ import annotations

import json

from store.base import (
    FRAME_COLUMNS,
    TrackStore,
    chunked,
    clean_value,
    frame_from_rows,
)
from store.records import TRACK_FIELDS
from store.sqlite_file import SQLiteFile


def _merge_upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """INSERT … ON CONFLICT that merges non-null incoming values and skips no-op updates.

    The WHERE clause is what makes re-loading the same data report 0 changed rows: SQLite
    counts a row as changed only when the update actually runs.
    """
    placeholders = ", ".join("?" for _ in columns)
    values = [c for c in columns if c not in key]
    assignments = ", ".join(f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in values)
    differs = " OR ".join(
        f"(excluded.{c} IS NOT NULL AND excluded.{c} IS NOT {table}.{c})" for c in values
    )
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments} WHERE {differs}"
    )


_TRACK_UPSERT = _merge_upsert_sql("tracks", TRACK_FIELDS, ("id",))
_PLAYLIST_COLUMNS = ("id", "name", "owner_id", "snapshot_id", "collaborative", "source")
_PLAYLIST_UPSERT = _merge_upsert_sql("playlists", _PLAYLIST_COLUMNS, ("id",))
_MEMBER_COLUMNS = ("playlist_id", "track_id", "position", "added_by", "added_at")
_MEMBER_UPSERT = _merge_upsert_sql("playlist_tracks", _MEMBER_COLUMNS, ("playlist_id", "track_id"))
_PEOPLE_UPSERT = _merge_upsert_sql("people", ("id", "display_name"), ("id",))
_ARTIST_UPSERT = _merge_upsert_sql("artists", ("id", "name", "genres"), ("id",))
_RECOMMENDATION_UPSERT = _merge_upsert_sql(
    "recommendations",
    ("seed_track_id", "track_id", "source", "rank"),
    ("seed_track_id", "track_id", "source"),
)
_DATASET_UPSERT = _merge_upsert_sql(
    "datasets", ("name", "label_set", "source", "description"), ("name",)
)


class SQLiteStore(SQLiteFile, TrackStore):
    """TrackStore on a SQLite file in WAL mode (readers never block the writer)."""

    backend = "sqlite"

    # -- writes ---------------------------------------------------------------------------
    def upsert_tracks(self, records):
        def rows():
            for record in records:
                row = list(self.track_row(record))
                for index in (2, 3):  # artists, artist_ids as JSON lists
                    if row[index] is not None:
                        row[index] = json.dumps(row[index], ensure_ascii=False)
                yield tuple(row)

        return self._write_many(_TRACK_UPSERT, rows())

    def upsert_track_genres(self, rows):
        sql = "INSERT OR IGNORE INTO track_genres (track_id, genre, origin) VALUES (?, ?, ?)"
        return self._write_many(sql, (tuple(r) for r in rows))

    def upsert_playlist(self, playlist):
        row = tuple(clean_value(playlist.get(c)) for c in _PLAYLIST_COLUMNS)
        return self._write_many(_PLAYLIST_UPSERT, [row])

    def upsert_playlist_tracks(self, rows):
        return self._write_many(
            _MEMBER_UPSERT, (tuple(clean_value(r.get(c)) for c in _MEMBER_COLUMNS) for r in rows)
        )

    def prune_playlist_tracks(self, playlist_id, keep_track_ids):
        keep = set(keep_track_ids)
        stored = {
            r[0]
            for r in self._query(
                "SELECT track_id FROM playlist_tracks WHERE playlist_id = ?", (playlist_id,)
            )
        }
        gone = [(playlist_id, t) for t in stored - keep]
        return self._write_many(
            "DELETE FROM playlist_tracks WHERE playlist_id = ? AND track_id = ?", gone
        )

    def upsert_people(self, people):
        return self._write_many(_PEOPLE_UPSERT, list(people.items()))

    def upsert_artists(self, artists):
        return self._write_many(
            _ARTIST_UPSERT,
            (
                (
                    a["id"],
                    a.get("name"),
                    None
                    if a.get("genres") is None
                    else json.dumps(list(a["genres"]), ensure_ascii=False),
                )
                for a in artists
            ),
        )

    def upsert_recommendations(self, rows):
        return self._write_many(
            _RECOMMENDATION_UPSERT,
            ((r["seed_track_id"], r["track_id"], r["source"], r.get("rank")) for r in rows),
        )

    def upsert_dataset(self, dataset):
        return self._write_many(
            _DATASET_UPSERT,
            [
                (
                    dataset["name"],
                    dataset.get("label_set"),
                    dataset.get("source"),
                    dataset.get("description"),
                )
            ],
        )

    def upsert_dataset_tracks(self, dataset, rows):
        sql = "INSERT OR IGNORE INTO dataset_tracks (dataset, track_id, label) VALUES (?, ?, ?)"
        return self._write_many(sql, ((dataset, t, label) for t, label in rows))

    def set_state(self, key, value):
        sql = (
            "INSERT INTO etl_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        self._write_many(sql, [(key, json.dumps(value))])

    def delete_state(self, key):
        self._write_many("DELETE FROM etl_state WHERE key = ?", [(key,)])

    # -- reads ----------------------------------------------------------------------------
    def ping(self):
        # A read of a real table: "SELECT 1" would succeed on a locked or damaged file.
        self._query("SELECT data_version FROM meta")

    def data_version(self):
        return self._query("SELECT data_version FROM meta")[0][0]

    def counts(self):
        tables = (
            "tracks",
            "track_genres",
            "playlists",
            "playlist_tracks",
            "people",
            "artists",
            "recommendations",
            "datasets",
            "dataset_tracks",
        )
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
        return dict(self._query(sql))

    def get_state(self, key, default=None):
        rows = self._query("SELECT value FROM etl_state WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def get_tracks(self, track_ids):
        ids = list(dict.fromkeys(track_ids))
        found = {}
        for batch in chunked(ids, 900):  # SQLite caps bound parameters per statement
            marks = ", ".join("?" for _ in batch)
            for row in self._query(
                f"SELECT {', '.join(TRACK_FIELDS)} FROM tracks WHERE id IN ({marks})", batch
            ):
                record = {f: v for f, v in zip(TRACK_FIELDS, row) if v is not None}
                for field in ("artists", "artist_ids"):
                    if field in record:
                        record[field] = json.loads(record[field])
                found[record["id"]] = record
        return found

    def read_tracks_frame(self, dataset=None, playlist=None, track_ids=None):
        columns = [f"t.{c}" for c in FRAME_COLUMNS]
        extra: tuple[str, ...] = ()
        params: list = []
        if playlist is not None:
            extra = ("added_by", "added_at", "position")
            sql = (
                f"SELECT {', '.join(columns)}, m.added_by, m.added_at, m.position "
                "FROM playlist_tracks m JOIN tracks t ON t.id = m.track_id "
                "WHERE m.playlist_id = ? ORDER BY m.position, t.id"
            )
            params = [playlist]
        elif dataset is not None:
            extra = ("label",)
            sql = (
                f"SELECT {', '.join(columns)}, d.label FROM dataset_tracks d "
                "JOIN tracks t ON t.id = d.track_id WHERE d.dataset = ? ORDER BY t.id, d.label"
            )
            params = [dataset]
        else:
            sql = f"SELECT {', '.join(columns)} FROM tracks t ORDER BY t.id"
        rows = self._query(sql, params)
        if track_ids is not None:
            wanted = set(track_ids)
            rows = [r for r in rows if r[0] in wanted]
        frame = frame_from_rows(rows, (*FRAME_COLUMNS, *extra))
        frame["artists"] = [_join_artists(a) for a in frame["artists"]]
        return frame

    def list_playlists(self):
        playlists = [
            dict(zip(_PLAYLIST_COLUMNS, r))
            for r in self._query(
                f"SELECT {', '.join(_PLAYLIST_COLUMNS)} FROM playlists ORDER BY name, id"
            )
        ]
        members = self._query(
            "SELECT m.playlist_id, m.added_by, p.display_name, COUNT(*) FROM playlist_tracks m "
            "LEFT JOIN people p ON p.id = m.added_by GROUP BY m.playlist_id, m.added_by "
            "ORDER BY COUNT(*) DESC, m.added_by"
        )
        for playlist in playlists:
            people = [
                {"id": who, "display_name": name, "track_count": n}
                for pid, who, name, n in members
                if pid == playlist["id"]
            ]
            playlist["people"] = people
            playlist["track_count"] = sum(p["track_count"] for p in people)
            playlist["collaborative"] = bool(playlist["collaborative"])
        return playlists

    def get_playlist(self, playlist_id):
        rows = self._query(
            f"SELECT {', '.join(_PLAYLIST_COLUMNS)} FROM playlists WHERE id = ?", (playlist_id,)
        )
        if not rows:
            return None
        playlist = dict(zip(_PLAYLIST_COLUMNS, rows[0]))
        playlist["collaborative"] = bool(playlist["collaborative"])
        return playlist

    def get_people(self, person_ids=None):
        rows = self._query("SELECT id, display_name FROM people")
        wanted = None if person_ids is None else set(person_ids)
        return {i: n for i, n in rows if wanted is None or i in wanted}

    def get_artists(self, artist_ids):
        found = {}
        for batch in chunked(list(dict.fromkeys(artist_ids)), 900):
            marks = ", ".join("?" for _ in batch)
            for i, name, genres in self._query(
                f"SELECT id, name, genres FROM artists WHERE id IN ({marks})", batch
            ):
                found[i] = {
                    "id": i,
                    "name": name,
                    "genres": None if genres is None else json.loads(genres),
                }
        return found

    def get_recommendations(self, seed_track_id):
        rows = self._query(
            "SELECT track_id, source, rank FROM recommendations WHERE seed_track_id = ? "
            "ORDER BY source, rank, track_id",
            (seed_track_id,),
        )
        return [{"track_id": t, "source": s, "rank": r} for t, s, r in rows]

    def recommendation_seed_ids(self):
        return {r[0] for r in self._query("SELECT DISTINCT seed_track_id FROM recommendations")}

    def get_track_genres(self, track_ids):
        found: dict[str, list[dict]] = {}
        for batch in chunked(list(dict.fromkeys(track_ids)), 900):
            marks = ", ".join("?" for _ in batch)
            for t, genre, origin in self._query(
                f"SELECT track_id, genre, origin FROM track_genres WHERE track_id IN ({marks}) "
                "ORDER BY track_id, origin, genre",
                batch,
            ):
                found.setdefault(t, []).append({"genre": genre, "origin": origin})
        return found

    def dataset_labels(self, dataset):
        return self._query(
            "SELECT track_id, label FROM dataset_tracks WHERE dataset = ? ORDER BY track_id, label",
            (dataset,),
        )

    def list_datasets(self):
        rows = self._query(
            "SELECT d.name, d.label_set, d.source, d.description, COUNT(t.track_id), "
            "COUNT(DISTINCT t.track_id), COUNT(DISTINCT t.label) FROM datasets d "
            "LEFT JOIN dataset_tracks t ON t.dataset = d.name GROUP BY d.name ORDER BY d.name"
        )
        keys = (
            "name",
            "label_set",
            "source",
            "description",
            "row_count",
            "track_count",
            "label_count",
        )
        return [dict(zip(keys, r)) for r in rows]


def _join_artists(value):
    if not isinstance(value, str):  # None, or NaN once pandas has seen a column of them
        return None
    return ";".join(json.loads(value))
