"""The MongoDB store (pymongo), used when MONGODB_URI is set."""

from __future__ import annotations

from store.base import (
    FRAME_COLUMNS,
    TrackStore,
    clean_value,
    frame_from_rows,
)
from store.mongo_database import MongoDatabase, plain_key
from store.records import TRACK_FIELDS

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


class MongoStore(MongoDatabase, TrackStore):
    """TrackStore on MongoDB: one MongoClient per process, created lazily with connect=False."""

    backend = "mongodb"

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
        dataset, playlist = (None if v is None else plain_key(v) for v in (dataset, playlist))
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
        playlist_id = plain_key(playlist_id)
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
        seed_track_id = plain_key(seed_track_id)
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
        dataset = plain_key(dataset)
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


def _plain_list(values) -> list[str]:
    return [plain_key(value) for value in values]


# Server error codes that mean the credentials or their roles do not allow the operation
# (Unauthorized, AuthenticationFailed, and Atlas's own code for both).


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
