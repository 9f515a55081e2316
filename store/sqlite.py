"""The embedded, server-less store: one SQLite file under instance/, safe across processes."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import resource
import sqlite3
import threading
import time
from collections.abc import Iterable

from store.base import (
    FRAME_COLUMNS,
    StoreUnavailable,
    TrackStore,
    chunked,
    clean_value,
    frame_from_rows,
)
from store.records import TRACK_FIELDS

SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (
    id TEXT PRIMARY KEY, name TEXT, artists TEXT, artist_ids TEXT, album TEXT, release_date TEXT,
    duration_ms INTEGER, explicit INTEGER, popularity INTEGER,
    acousticness REAL, danceability REAL, energy REAL, instrumentalness REAL, key INTEGER,
    liveness REAL, loudness REAL, mode INTEGER, speechiness REAL, tempo REAL,
    time_signature INTEGER, valence REAL, features_source TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS track_genres (
    track_id TEXT NOT NULL, genre TEXT NOT NULL, origin TEXT NOT NULL,
    PRIMARY KEY (track_id, genre, origin)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS playlists (
    id TEXT PRIMARY KEY, name TEXT, owner_id TEXT, snapshot_id TEXT, collaborative INTEGER,
    source TEXT
);
CREATE TABLE IF NOT EXISTS playlist_tracks (
    playlist_id TEXT NOT NULL, track_id TEXT NOT NULL, position INTEGER, added_by TEXT,
    added_at TEXT, PRIMARY KEY (playlist_id, track_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY, display_name TEXT);
CREATE TABLE IF NOT EXISTS artists (id TEXT PRIMARY KEY, name TEXT, genres TEXT);
CREATE TABLE IF NOT EXISTS recommendations (
    seed_track_id TEXT NOT NULL, track_id TEXT NOT NULL, source TEXT NOT NULL, rank INTEGER,
    PRIMARY KEY (seed_track_id, track_id, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY, label_set TEXT, source TEXT, description TEXT
);
CREATE TABLE IF NOT EXISTS dataset_tracks (
    dataset TEXT NOT NULL, track_id TEXT NOT NULL, label TEXT NOT NULL,
    PRIMARY KEY (dataset, track_id, label)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS etl_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), \
data_version INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (id, data_version) VALUES (1, 0);
CREATE INDEX IF NOT EXISTS dataset_tracks_by_track ON dataset_tracks (track_id);
"""

_EXPECTED_INDEXES = {"dataset_tracks_by_track"}

BATCH_SIZE = 5000
# Below this much room a commit may fail halfway (a write-ahead log frame is a page plus header,
# a checkpoint grows the main file), so writes are refused up front.
MIN_ROOM = 1 << 20


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


class SQLiteStore(TrackStore):
    """TrackStore on a SQLite file in WAL mode (readers never block the writer)."""

    backend = "sqlite"

    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._setup_lock = threading.Lock()
        self._schema_ready = False
        # Set when the file turned out to be readable but not writable: reads carry on, writes
        # are refused with this detail before they start.
        self._read_only_detail: str | None = None

    # -- connection handling --------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # One connection per thread and per process: a connection inherited through fork (gunicorn
        # preload) must never be used by the child.
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise _os_failure(exc, f"cannot create the folder of {self.path}") from exc
        # Threads of this process set a new file up one at a time; other processes doing the
        # same are waited out, because switching to WAL can answer "locked" at once rather
        # than through the busy timeout.
        with self._setup_lock:
            conn = None
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                self._set_up(conn)
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                raise self._failure(exc, "cannot open") from exc
            except StoreUnavailable:
                conn.close()
                raise
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the schema; a read-only file that was set up before is accepted for
        reads."""
        # A read, before anything is written: another program's file is left as it was. A file
        # already set up needs no write at all, so opening it never waits for a busy writer.
        if not self._schema_ready and self._check_schema(conn):
            self._schema_ready = True
        try:
            self._while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._schema_ready:
                self._while_locked(lambda: conn.executescript(SCHEMA))
        except sqlite3.Error as exc:
            if _primary_code(exc) != sqlite3.SQLITE_READONLY:
                raise
            # Creating the tables needs a write even when they exist; whether they exist is a read.
            if not _table_columns(conn):
                raise StoreUnavailable(
                    "read_only",
                    f"{self.path}: {exc}",
                    "The database is read-only and has never been set up, so it holds nothing.",
                ) from exc
            self._read_only_detail = f"{self.path}: {exc}"
        self._schema_ready = True

    def _check_schema(self, conn: sqlite3.Connection) -> bool:
        """Refuse a file of another program, or whose tables lack columns this version uses.

        An empty file is set up; a file with some of the tables (an older version) gets the
        missing ones; columns are never added, so a table without them is refused. True when
        everything is already in place.
        """
        found = _table_columns(conn)
        expected = _expected_columns()
        if not found:
            return False
        if not set(found) & set(expected):
            raise StoreUnavailable(
                "schema",
                f"{self.path} holds other tables "
                f"({', '.join(sorted(found)[:5])}) and none of Plotify's",
            )
        problems = []
        for table, columns in expected.items():
            missing = sorted(columns - found.get(table, columns))
            if missing:
                more = ", …" if len(missing) > 4 else ""
                problems.append(f"table {table} lacks {', '.join(missing[:4])}{more}")
        if problems:
            raise StoreUnavailable("schema", f"{self.path}: {'; '.join(problems)}")
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        return (
            set(expected) <= set(found)
            and _EXPECTED_INDEXES <= indexes
            and conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 1
        )

    def _failure(self, exc: sqlite3.Error, action: str) -> StoreUnavailable:
        """The StoreUnavailable that says what an SQLite error means for whoever runs the app."""
        detail = f"{action} {self.path}: {exc}"
        code = _primary_code(exc)
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreUnavailable("locked", f"{detail} (waited {self.timeout:g} s)")
        if code == sqlite3.SQLITE_READONLY:
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_DIRECTORY":
                return StoreUnavailable(
                    "read_only",
                    detail,
                    "The database and its folder are "
                    "read-only, so it cannot even be opened for reading.",
                )
            return StoreUnavailable("read_only", detail)
        if code == sqlite3.SQLITE_FULL:
            return StoreUnavailable("disk_full", detail)
        if code == sqlite3.SQLITE_IOERR:
            # A write refused for lack of room shows up as a plain I/O error when the limit is the
            # process's file-size limit (EFBIG) rather than the disk (ENOSPC).
            room, limit = self._room()
            if room < MIN_ROOM:
                return StoreUnavailable("disk_full", f"{detail}; {room} bytes left ({limit})")
            return StoreUnavailable("io_error", detail)
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StoreUnavailable("corrupt", detail)
        if code == sqlite3.SQLITE_CANTOPEN:
            return StoreUnavailable("unreachable", detail, "The database file cannot be opened.")
        if code == sqlite3.SQLITE_PERM:
            return StoreUnavailable("denied", detail)
        if "no such table" in str(exc) or "no such column" in str(exc):
            return StoreUnavailable("schema", detail)
        return StoreUnavailable("error", detail)

    def _room(self) -> tuple[int, str]:
        """Bytes the database files may still grow by, and what limits them."""
        try:
            stats = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        except OSError:
            return MIN_ROOM, "unknown"
        room, limit = stats.f_bavail * stats.f_frsize, "free space on its disk"
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            # Every file of the database (main file, write-ahead log) may grow up to the limit.
            largest = max(
                (os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p)),
                default=0,
            )
            if soft - largest < room:
                room, limit = max(soft - largest, 0), "file-size limit of this process"
        return room, limit

    def _while_locked(self, action):
        """Run action, retrying while another connection holds the lock (up to the timeout)."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextlib.contextmanager
    def _transaction(self):
        """One write transaction: all of it lands or none of it does."""
        if self._read_only_detail is not None:
            raise StoreUnavailable("read_only", self._read_only_detail)
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failure(exc, "cannot write to") from exc
        try:
            yield conn
        except BaseException:
            _roll_back(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _roll_back(conn)
                raise self._failure(exc, "cannot write to") from exc

    def _write_many(self, sql: str, rows: Iterable[tuple]) -> int:
        changed = 0
        for batch in chunked(rows, BATCH_SIZE):
            try:
                with self._transaction() as conn:
                    before = conn.total_changes
                    conn.executemany(sql, batch)
                    batch_changed = conn.total_changes - before
                    if batch_changed:
                        # Readers cache payloads per data version (ETags), so every change bumps it.
                        conn.execute("UPDATE meta SET data_version = data_version + 1")
                    changed += batch_changed
            except sqlite3.Error as exc:
                raise self._failure(exc, "write to") from exc
        return changed

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        try:
            return self._connect().execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._failure(exc, "read from") from exc

    def check_writable(self, needed_bytes=0):
        conn = self._connect()
        if self._read_only_detail is not None:
            raise StoreUnavailable("read_only", self._read_only_detail)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Taking the write lock succeeds on a read-only file in rollback-journal mode; a
                # statement that needs a write transaction is refused there (and changes no row).
                conn.execute("UPDATE meta SET data_version = data_version WHERE 0")
            finally:
                _roll_back(conn)
        except sqlite3.Error as exc:
            raise self._failure(exc, "cannot write to") from exc
        room, limit = self._room()
        if room < needed_bytes + MIN_ROOM:
            raise StoreUnavailable(
                "disk_full",
                f"{self.path}: {room} bytes left ({limit}), about {needed_bytes + MIN_ROOM} needed",
            )

    def write_problem(self):
        if self._read_only_detail is not None:
            return StoreUnavailable("read_only", self._read_only_detail)
        # Opening a file that is already set up writes nothing, so ask the file system too.
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            return StoreUnavailable("read_only", f"{self.path} is not writable by this process")
        room, limit = self._room()
        if room < MIN_ROOM:
            return StoreUnavailable("disk_full", f"{self.path}: {room} bytes left ({limit})")
        return None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

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


def _primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code (extended codes keep it in the low byte)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _roll_back(conn: sqlite3.Connection) -> None:
    """End a failed transaction; SQLite has already rolled back after a full disk or I/O error,
    and a second error here must not hide the first one."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _table_columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


@functools.cache
def _expected_columns() -> dict[str, set[str]]:
    """The columns SCHEMA creates, read back from an in-memory database."""
    memory = sqlite3.connect(":memory:")
    try:
        memory.executescript(SCHEMA)
        return _table_columns(memory)
    finally:
        memory.close()


def _os_failure(exc: OSError, action: str) -> StoreUnavailable:
    detail = f"{action}: {exc}"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreUnavailable(
            "read_only",
            detail,
            "The database folder cannot be created or written (read-only or not permitted).",
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return StoreUnavailable("disk_full", detail)
    return StoreUnavailable("unreachable", detail, "The database file cannot be opened.")


def _join_artists(value):
    if not isinstance(value, str):  # None, or NaN once pandas has seen a column of them
        return None
    return ";".join(json.loads(value))
