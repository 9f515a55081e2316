"""The MongoDB database behind MongoStore: one client per process, its indexes, bulk writes
and what its errors mean."""

from __future__ import annotations

import os

from store.base import StoreUnavailable, chunked

BATCH_SIZE = 5000


class MongoDatabase:
    """One MongoClient per process, created lazily with connect=False; every PyMongoError
    becomes a StoreUnavailable that names what went wrong."""

    def __init__(self, uri: str, client_factory=None, timeout_ms: int = 5000):
        self.uri = uri
        self.timeout_ms = timeout_ms
        self._client_factory = client_factory
        self._client = None
        self._pid = None
        self._indexes_ready = False
        self._write_denied: StoreUnavailable | None = None

    # -- connection handling --------------------------------------------------------------
    @property
    def db(self):
        # pymongo clients are not fork-safe: a process that inherited one (gunicorn preload)
        # makes its own.
        if self._client is None or self._pid != os.getpid():
            factory = self._client_factory
            if factory is None:
                from pymongo import MongoClient

                factory = MongoClient
            options = {"connect": False}
            # Keyword options override the URI's, so the default applies only when the URI
            # does not choose its own (mongodb://…/?serverSelectionTimeoutMS=500).
            if "serverselectiontimeoutms" not in self.uri.lower():
                options["serverSelectionTimeoutMS"] = self.timeout_ms
            self._client = factory(self.uri, **options)
            self._pid = os.getpid()
        database = self._client.get_default_database(default="plotify")
        if not self._indexes_ready:
            self._ensure_indexes(database)
        return database

    def _ensure_indexes(self, database):
        from pymongo.errors import PyMongoError

        try:
            database.dataset_tracks.create_index([("dataset", 1), ("track_id", 1)])
            database.recommendations.create_index([("seed_track_id", 1)])
            database.playlist_tracks.create_index([("playlist_id", 1)])
            database.track_genres.create_index([("track_id", 1)])
        except PyMongoError as exc:
            failure = _failure(exc)
            if failure.reason != "denied":
                raise failure from exc
            # A user allowed to read but not to write still gets the page; writes are refused.
            self._write_denied = failure
        self._indexes_ready = True

    @staticmethod
    def _guard(action):
        from pymongo.errors import PyMongoError

        try:
            return action()
        except PyMongoError as exc:
            raise _failure(exc) from exc

    def check_writable(self, needed_bytes=0):
        # The server manages its own disk, so needed_bytes is not checked here. ping goes to the
        # primary, the only member that takes writes.
        self.ping()
        if self._write_denied is not None:
            raise self._write_denied

    def write_problem(self):
        return self._write_denied

    def _bulk(self, collection: str, operations) -> int:
        """Ordered bulk writes in batches; returns documents inserted or actually modified."""
        changed = 0
        for batch in chunked(operations, BATCH_SIZE):
            result = self._guard(lambda b=batch: self.db[collection].bulk_write(b, ordered=True))
            changed += result.upserted_count + result.modified_count + result.deleted_count
        if changed:
            # Readers cache payloads per data version (ETags), so every change bumps it.
            self._guard(
                lambda: self.db.meta.update_one(
                    {"_id": "data_version"}, {"$inc": {"value": 1}}, upsert=True
                )
            )
        return changed

    @staticmethod
    def _merge(key: dict, values: dict):
        """Upsert that sets only the values present, so absent fields never erase stored ones."""
        import bson
        from pymongo import UpdateOne

        plain_key(key["_id"])
        present = {k: v for k, v in values.items() if v is not None}
        # Encode now so that a value MongoDB cannot store fails the batch before any write,
        # not halfway through a bulk_write.
        bson.encode(present)
        if not present:
            return UpdateOne(key, {"$setOnInsert": key}, upsert=True)
        return UpdateOne(key, {"$set": present}, upsert=True)

    def close(self):
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None


def plain_key(value):
    """value, if it is a plain string: anything else (a dict from some JSON) would be a query
    operator."""
    if not isinstance(value, str):
        raise TypeError(f"a MongoDB key must be a string, not {type(value).__name__}")
    return value


_DENIED_CODES = {13, 18, 8000}
_OUT_OF_DISK_CODES = {14031}


def _failure(exc) -> StoreUnavailable:
    """What a pymongo error means for whoever runs the app; host names stay in the detail."""
    from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure

    detail = f"MongoDB: {exc}"
    if isinstance(exc, ConnectionFailure):  # includes server selection timeouts
        return StoreUnavailable(
            "unreachable", detail, "The MongoDB server cannot be reached (MONGODB_URI)."
        )
    if isinstance(exc, ConfigurationError):  # includes an invalid URI or unknown SRV record
        return StoreUnavailable(
            "misconfigured", detail, "MONGODB_URI is not a valid or resolvable MongoDB address."
        )
    if isinstance(exc, OperationFailure):
        if exc.code in _DENIED_CODES:
            return StoreUnavailable("denied", detail)
        if exc.code in _OUT_OF_DISK_CODES:
            return StoreUnavailable("disk_full", detail)
    return StoreUnavailable("error", detail)
