"""The MongoDB store (pymongo), used when MONGODB_URI is set."""

from __future__ import annotations

import os

from store.base import (
    FRAME_COLUMNS,
    StoreUnavailable,
    TrackStore,
    chunked,
    clean_value,
    frame_from_rows,
)
from store.records import TRACK_FIELDS

BATCH_SIZE = 5000
COLLECTIONS = (
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


class MongoStore(TrackStore):
    """TrackStore on MongoDB: one MongoClient per process, created lazily with connect=False."""

    backend = "mongodb"

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

        _plain(key["_id"])
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

    # -- writes ---------------------------------------------------------------------------
    def upsert_tracks(self, records):
        return self._bulk(
            "tracks",
            (
                self._merge({"_id": r["id"]}, {f: clean_value(r.get(f)) for f in TRACK_FIELDS[1:]})
                for r in records
            ),
        )

    def upsert_track_genres(self, rows):
        return self._bulk(
            "track_genres",
            (
                self._merge({"_id": f"{t}\x1f{g}\x1f{o}"}, {"track_id": t, "genre": g, "origin": o})
                for t, g, o in rows
            ),
        )

    def upsert_playlist(self, playlist):
        values = {
            k: clean_value(playlist.get(k))
            for k in ("name", "owner_id", "snapshot_id", "collaborative", "source")
        }
        return self._bulk("playlists", [self._merge({"_id": playlist["id"]}, values)])

    def upsert_playlist_tracks(self, rows):
        return self._bulk(
            "playlist_tracks",
            (
                self._merge(
                    {"_id": f"{r['playlist_id']}\x1f{r['track_id']}"},
                    {
                        k: clean_value(r.get(k))
                        for k in ("playlist_id", "track_id", "position", "added_by", "added_at")
                    },
                )
                for r in rows
            ),
        )

    def prune_playlist_tracks(self, playlist_id, keep_track_ids):
        from pymongo import DeleteOne

        keep = set(keep_track_ids)
        stored = self._guard(
            lambda: list(
                self.db.playlist_tracks.find({"playlist_id": playlist_id}, {"track_id": 1})
            )
        )
        return self._bulk(
            "playlist_tracks",
            (DeleteOne({"_id": d["_id"]}) for d in stored if d["track_id"] not in keep),
        )

    def upsert_people(self, people):
        return self._bulk(
            "people",
            (self._merge({"_id": pid}, {"display_name": name}) for pid, name in people.items()),
        )

    def upsert_artists(self, artists):
        return self._bulk(
            "artists",
            (
                self._merge(
                    {"_id": a["id"]},
                    {
                        "name": a.get("name"),
                        "genres": None if a.get("genres") is None else list(a["genres"]),
                    },
                )
                for a in artists
            ),
        )

    def upsert_recommendations(self, rows):
        return self._bulk(
            "recommendations",
            (
                self._merge(
                    {"_id": f"{r['seed_track_id']}\x1f{r['track_id']}\x1f{r['source']}"},
                    {
                        "seed_track_id": r["seed_track_id"],
                        "track_id": r["track_id"],
                        "source": r["source"],
                        "rank": r.get("rank"),
                    },
                )
                for r in rows
            ),
        )

    def upsert_dataset(self, dataset):
        return self._bulk(
            "datasets",
            [
                self._merge(
                    {"_id": dataset["name"]},
                    {k: dataset.get(k) for k in ("label_set", "source", "description")},
                )
            ],
        )

    def upsert_dataset_tracks(self, dataset, rows):
        return self._bulk(
            "dataset_tracks",
            (
                self._merge(
                    {"_id": f"{dataset}\x1f{t}\x1f{label}"},
                    {"dataset": dataset, "track_id": t, "label": label},
                )
                for t, label in rows
            ),
        )

    def set_state(self, key, value):
        self._guard(
            lambda: self.db.etl_state.replace_one(
                {"_id": key}, {"_id": key, "value": value}, upsert=True
            )
        )

    def delete_state(self, key):
        self._guard(lambda: self.db.etl_state.delete_one({"_id": key}))

    # -- reads ----------------------------------------------------------------------------
    def ping(self):
        self._guard(lambda: self.db.command("ping"))

    def data_version(self):
        doc = self._guard(lambda: self.db.meta.find_one({"_id": "data_version"}))
        return 0 if doc is None else doc["value"]

    def counts(self):
        return {
            c: self._guard(lambda c=c: self.db[c].estimated_document_count()) for c in COLLECTIONS
        }

    def get_state(self, key, default=None):
        doc = self._guard(lambda: self.db.etl_state.find_one({"_id": key}))
        return default if doc is None else doc["value"]

    def get_tracks(self, track_ids):
        ids = list(dict.fromkeys(_plain_list(track_ids)))
        docs = self._guard(lambda: list(self.db.tracks.find({"_id": {"$in": ids}})))
        return {d["_id"]: _track_record(d) for d in docs}

    def read_tracks_frame(self, dataset=None, playlist=None, track_ids=None):
        dataset, playlist = (None if v is None else _plain(v) for v in (dataset, playlist))
        extra: tuple[str, ...] = ()
        if playlist is not None:
            members = self._guard(
                lambda: list(
                    self.db.playlist_tracks.find({"playlist_id": playlist}).sort(
                        [("position", 1), ("track_id", 1)]
                    )
                )
            )
            tracks = self.get_tracks(m["track_id"] for m in members)
            extra = ("added_by", "added_at", "position")
            rows = [
                (
                    *_frame_row(tracks[m["track_id"]]),
                    m.get("added_by"),
                    m.get("added_at"),
                    m.get("position"),
                )
                for m in members
                if m["track_id"] in tracks
            ]
        elif dataset is not None:
            labels = self._guard(
                lambda: list(
                    self.db.dataset_tracks.find({"dataset": dataset}, {"track_id": 1, "label": 1})
                )
            )
            tracks = self.get_tracks(d["track_id"] for d in labels)
            extra = ("label",)
            rows = sorted(
                (*_frame_row(tracks[d["track_id"]]), d["label"])
                for d in labels
                if d["track_id"] in tracks
            )
        else:
            docs = self._guard(lambda: list(self.db.tracks.find().sort("_id", 1)))
            rows = [_frame_row(_track_record(d)) for d in docs]
        if track_ids is not None:
            wanted = set(track_ids)
            rows = [r for r in rows if r[0] in wanted]
        return frame_from_rows(rows, (*FRAME_COLUMNS, *extra))

    def list_playlists(self):
        playlists = self._guard(
            lambda: list(self.db.playlists.find().sort([("name", 1), ("_id", 1)]))
        )
        people = self.get_people()
        result = []
        for doc in playlists:
            counts = self._guard(
                lambda d=doc: list(
                    self.db.playlist_tracks.aggregate(
                        [
                            {"$match": {"playlist_id": d["_id"]}},
                            {"$group": {"_id": "$added_by", "n": {"$sum": 1}}},
                        ]
                    )
                )
            )
            counts.sort(key=lambda c: (-c["n"], c["_id"] or ""))
            members = [
                {"id": c["_id"], "display_name": people.get(c["_id"]), "track_count": c["n"]}
                for c in counts
            ]
            result.append(
                {
                    **_playlist(doc),
                    "people": members,
                    "track_count": sum(m["track_count"] for m in members),
                }
            )
        return result

    def get_playlist(self, playlist_id):
        playlist_id = _plain(playlist_id)
        doc = self._guard(lambda: self.db.playlists.find_one({"_id": playlist_id}))
        return None if doc is None else _playlist(doc)

    def get_people(self, person_ids=None):
        query = {} if person_ids is None else {"_id": {"$in": _plain_list(person_ids)}}
        docs = self._guard(lambda: list(self.db.people.find(query)))
        return {d["_id"]: d.get("display_name") for d in docs}

    def get_artists(self, artist_ids):
        artist_ids = _plain_list(artist_ids)
        docs = self._guard(lambda: list(self.db.artists.find({"_id": {"$in": artist_ids}})))
        return {
            d["_id"]: {"id": d["_id"], "name": d.get("name"), "genres": d.get("genres")}
            for d in docs
        }

    def get_recommendations(self, seed_track_id):
        seed_track_id = _plain(seed_track_id)
        docs = self._guard(
            lambda: list(self.db.recommendations.find({"seed_track_id": seed_track_id}))
        )
        rows = [
            {"track_id": d["track_id"], "source": d["source"], "rank": d.get("rank")} for d in docs
        ]
        return sorted(
            rows, key=lambda r: (r["source"], r["rank"] is not None, r["rank"] or 0, r["track_id"])
        )

    def recommendation_seed_ids(self):
        return set(self._guard(lambda: self.db.recommendations.distinct("seed_track_id")))

    def get_track_genres(self, track_ids):
        track_ids = _plain_list(track_ids)
        docs = self._guard(
            lambda: list(self.db.track_genres.find({"track_id": {"$in": track_ids}}))
        )
        found: dict[str, list[dict]] = {}
        for d in sorted(docs, key=lambda d: (d["track_id"], d["origin"], d["genre"])):
            found.setdefault(d["track_id"], []).append({"genre": d["genre"], "origin": d["origin"]})
        return found

    def dataset_labels(self, dataset):
        dataset = _plain(dataset)
        docs = self._guard(
            lambda: list(
                self.db.dataset_tracks.find({"dataset": dataset}, {"track_id": 1, "label": 1})
            )
        )
        return sorted((d["track_id"], d["label"]) for d in docs)

    def list_datasets(self):
        result = []
        for doc in self._guard(lambda: list(self.db.datasets.find().sort("_id", 1))):
            rows = self._guard(
                lambda d=doc: list(
                    self.db.dataset_tracks.find({"dataset": d["_id"]}, {"track_id": 1, "label": 1})
                )
            )
            result.append(
                {
                    "name": doc["_id"],
                    "label_set": doc.get("label_set"),
                    "source": doc.get("source"),
                    "description": doc.get("description"),
                    "row_count": len(rows),
                    "track_count": len({r["track_id"] for r in rows}),
                    "label_count": len({r["label"] for r in rows}),
                }
            )
        return result


def _plain(value):
    """value, if it is a plain string: anything else (a dict from some JSON) would be a query
    operator."""
    if not isinstance(value, str):
        raise TypeError(f"a MongoDB key must be a string, not {type(value).__name__}")
    return value


def _plain_list(values) -> list[str]:
    return [_plain(value) for value in values]


# Server error codes that mean the credentials or their roles do not allow the operation
# (Unauthorized, AuthenticationFailed, and Atlas's own code for both).
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


def _track_record(doc: dict) -> dict:
    record = {"id": doc["_id"]}
    record.update({f: doc[f] for f in TRACK_FIELDS[1:] if doc.get(f) is not None})
    return record


def _frame_row(record: dict) -> tuple:
    row = []
    for field in FRAME_COLUMNS:
        value = record.get(field)
        row.append(";".join(value) if field == "artists" and value is not None else value)
    return tuple(row)


def _playlist(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "name": doc.get("name"),
        "owner_id": doc.get("owner_id"),
        "snapshot_id": doc.get("snapshot_id"),
        "collaborative": bool(doc.get("collaborative")),
        "source": doc.get("source"),
    }
