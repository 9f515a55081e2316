"""The one place that opens the database: embedded SQLite by default, MongoDB when configured."""

from __future__ import annotations

import os

from flask import current_app

from store.base import StoreUnavailable, TrackStore

__all__ = ["StoreUnavailable", "TrackStore", "open_store", "init_app", "get_store", "describe"]


def open_store(target: str, timeout: float = 30.0) -> TrackStore:
    """A store for a mongodb:// URI or a SQLite file path (nothing is opened yet).

    timeout is how long the embedded store waits for another process's lock; MongoDB takes its
    own from the URI (serverSelectionTimeoutMS, default 5 s).
    """
    if target.startswith(("mongodb://", "mongodb+srv://")):
        from store.mongo import MongoStore

        return MongoStore(target)
    from store.sqlite import SQLiteStore

    return SQLiteStore(target, timeout=timeout)


def init_app(app) -> None:
    """Attach one store per app: MONGODB_URI if set, else DATABASE (a file under instance/).

    Never connects: an unreachable database must not stop the app from starting (it answers
    503 and /healthz says why).
    """
    from web.settings import value

    target = app.config.get("MONGODB_URI") or app.config["DATABASE"]
    app.extensions["store"] = open_store(target, value(app.config, "DATABASE_TIMEOUT"))


def get_store() -> TrackStore:
    """The current app's store."""
    return current_app.extensions["store"]


def describe(store: TrackStore) -> str:
    """Where the data lives, without credentials."""
    if store.backend == "sqlite":
        return f"embedded SQLite at {os.path.relpath(store.path)}"
    return "MongoDB (MONGODB_URI)"
