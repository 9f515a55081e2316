"""The one place that opens the database: embedded SQLite by default, MongoDB when configured."""
from __future__ import annotations

import os

from flask import current_app

from store.base import StoreUnavailable, TrackStore

__all__ = ["StoreUnavailable", "TrackStore", "open_store", "init_app", "get_store"]


def open_store(target: str) -> TrackStore:
    """A store for a mongodb:// URI or a SQLite file path."""
    if target.startswith(("mongodb://", "mongodb+srv://")):
        from store.mongo import MongoStore

        return MongoStore(target)
    from store.sqlite import SQLiteStore

    return SQLiteStore(target)


def init_app(app) -> None:
    """Attach one store per app: MONGODB_URI if set, else DATABASE (a file under instance/)."""
    target = app.config.get("MONGODB_URI") or app.config["DATABASE"]
    app.extensions["store"] = open_store(target)


def get_store() -> TrackStore:
    """The current app's store."""
    return current_app.extensions["store"]


def describe(store: TrackStore) -> str:
    """Where the data lives, without credentials."""
    if store.backend == "sqlite":
        return f"embedded SQLite at {os.path.relpath(store.path)}"
    return "MongoDB (MONGODB_URI)"
