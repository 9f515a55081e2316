"""One SQLite file in WAL mode: its connections, schema, transactions and what its failures mean."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import resource
import sqlite3
import threading
import time
from collections.abc import Iterable

from store.base import StoreUnavailable, chunked

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
# Page cache of each connection (one per thread). SQLite's default of 2 MiB filled up in every
# thread of a web worker under varied load, 11 MB of its RSS; the look-ups the API makes need the
# B-trees' upper pages only (the file's other pages stay in the OS's cache). Measured: the same
# distinct-track predict time, and a 114k-track import 5.0 → 5.1 s.
PAGE_CACHE_KIB = 256
# Below this much room a commit may fail halfway (a write-ahead log frame is a page plus header,
# a checkpoint grows the main file), so writes are refused up front.
MIN_ROOM = 1 << 20


class SQLiteFile:
    """The database file behind SQLiteStore: one connection per thread and process, the schema
    set up or checked once, writes in transactions, and every sqlite3 or OS error turned into a
    StoreUnavailable that names what went wrong."""

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
                conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
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
