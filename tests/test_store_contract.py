"""One contract for every store back end: SQLite always, MongoDB when TEST_MONGODB_URI is set."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from store import open_store
from store.base import FRAME_COLUMNS, StoreUnavailable
from store.records import AUDIO_FEATURES, normalize_track
from tests.support import DATASET_CSV, PLAYLIST_CSV, PLAYLIST_TRACKS

BACKENDS = ["sqlite", "mongodb"]


def _mongo_uri_for(test_name: str) -> str:
    base = os.environ["TEST_MONGODB_URI"].rstrip("/")
    # One database per test so tests never see each other's rows.
    return f"{base.split('?')[0]}/plotify_test_{abs(hash(test_name)) % 10**8}"


@pytest.fixture(params=BACKENDS)
def track_store(request, tmp_path):
    """A fresh, empty store of each back end that this machine can run."""
    if request.param == "sqlite":
        target = open_store(str(tmp_path / "contract.sqlite3"))
    elif request.param == "mongodb":
        if not os.environ.get("TEST_MONGODB_URI"):
            pytest.skip("TEST_MONGODB_URI is not set (no MongoDB server on this machine)")
        target = open_store(_mongo_uri_for(request.node.name))
        target.db.client.drop_database(target.db.name)
    yield target
    if request.param == "mongodb":
        target.db.client.drop_database(target.db.name)
    target.close()


@pytest.fixture(scope="module")
def real_tracks() -> list[dict]:
    """2,000 distinct real tracks from the 114k dataset as canonical records."""
    frame = pd.read_csv(DATASET_CSV, index_col=0, nrows=2600).drop_duplicates("track_id").head(2000)
    records = []
    for row in frame.to_dict("records"):
        raw = {f: row[f] for f in (*AUDIO_FEATURES, "popularity", "duration_ms", "explicit")}
        raw.update(
            id=row["track_id"],
            name=row["track_name"],
            album=row["album_name"],
            artists=row["artists"],
        )
        records.append(normalize_track(raw))
    return records


def test_upsert_is_idempotent(track_store, real_tracks):
    assert track_store.upsert_tracks(real_tracks) == 2000
    version = track_store.data_version()
    assert track_store.upsert_tracks(real_tracks) == 0
    assert track_store.counts()["tracks"] == 2000
    assert track_store.data_version() == version  # nothing changed, so caches stay valid
    track_store.upsert_tracks(
        [dict(real_tracks[0], popularity=(real_tracks[0]["popularity"] + 1) % 100)]
    )
    assert track_store.data_version() > version


def test_tracks_round_trip(track_store, real_tracks):
    track_store.upsert_tracks(real_tracks)
    stored = track_store.get_tracks([r["id"] for r in real_tracks[:50]] + ["0" * 22])
    assert len(stored) == 50
    for record in real_tracks[:50]:
        assert stored[record["id"]] == record


def test_absent_fields_never_erase(track_store, real_tracks):
    track_store.upsert_tracks(real_tracks[:10])
    first = real_tracks[0]
    partial = {"id": first["id"], "popularity": (first["popularity"] + 1) % 100}
    assert track_store.upsert_tracks([partial]) == 1
    stored = track_store.get_tracks([first["id"]])[first["id"]]
    assert stored["popularity"] == partial["popularity"]
    assert stored["energy"] == first["energy"] and stored["name"] == first["name"]


def test_failed_batch_writes_nothing(track_store, real_tracks):
    broken = dict(real_tracks[5], name=object())  # no database can store this
    with pytest.raises(Exception):  # noqa: B017 - each back end raises its own driver's type
        track_store.upsert_tracks(real_tracks[:5] + [broken] + real_tracks[6:20])
    assert track_store.counts()["tracks"] == 0


def test_frame_has_all_columns_and_features(track_store, real_tracks):
    track_store.upsert_tracks(real_tracks)
    frame = track_store.read_tracks_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == 2000 and frame["id"].is_unique
    by_id = frame.set_index("id")
    sample = real_tracks[123]
    assert by_id.loc[sample["id"], "artists"] == ";".join(sample["artists"])
    for feature in AUDIO_FEATURES:
        assert by_id.loc[sample["id"], feature] == pytest.approx(sample[feature])


def test_dataset_rows_keep_every_label(track_store, real_tracks):
    track_store.upsert_tracks(real_tracks[:3])
    track_store.upsert_dataset({"name": "d", "label_set": "track_genre", "source": "test"})
    rows = [
        (real_tracks[0]["id"], "acoustic"),
        (real_tracks[0]["id"], "folk"),
        (real_tracks[1]["id"], "acoustic"),
    ]
    assert track_store.upsert_dataset_tracks("d", rows) == 3
    assert track_store.upsert_dataset_tracks("d", rows) == 0
    frame = track_store.read_tracks_frame(dataset="d")
    assert sorted(zip(frame["id"], frame["label"])) == sorted(rows)
    assert track_store.dataset_labels("d") == sorted(rows)
    [info] = track_store.list_datasets()
    assert (info["row_count"], info["track_count"], info["label_count"]) == (3, 2, 2)


def test_playlist_membership_people_and_prune(track_store):
    frame = pd.read_csv(PLAYLIST_CSV, index_col=0)
    records = [
        normalize_track(
            {"id": r["id"], "name": r["name"], "artists": [r["artist"]], "energy": r["energy"]}
        )
        for r in frame.to_dict("records")
    ]
    track_store.upsert_tracks(records)
    track_store.upsert_playlist(
        {"id": "p1", "name": "Jamz", "snapshot_id": "s1", "collaborative": True, "source": "test"}
    )
    members = [
        {
            "playlist_id": "p1",
            "track_id": r["id"],
            "position": i,
            "added_by": str(r["user_id"]),
            "added_at": None,
        }
        for i, r in enumerate(frame.drop_duplicates("id").to_dict("records"))
    ]
    assert track_store.upsert_playlist_tracks(members) == len(members)
    assert track_store.upsert_playlist_tracks(members) == 0
    people = {m["added_by"]: None for m in members}
    assert track_store.upsert_people(people) == 6
    assert track_store.upsert_people({"kukulski.2": "Matt Kukulski"}) == 1
    assert track_store.upsert_people(people) == 0  # a missing name does not erase a known one
    [playlist] = track_store.list_playlists()
    assert playlist["track_count"] == len(members) == PLAYLIST_TRACKS
    assert [p["track_count"] for p in playlist["people"]] == [55, 36, 30, 28, 6, 3]
    assert {p["id"]: p["display_name"] for p in playlist["people"]}["kukulski.2"] == "Matt Kukulski"
    assert track_store.get_playlist("p1")["snapshot_id"] == "s1"
    assert track_store.get_playlist("nope") is None
    keep = [m["track_id"] for m in members[:100]]
    assert track_store.prune_playlist_tracks("p1", keep) == 58
    assert len(track_store.read_tracks_frame(playlist="p1")) == 100


def test_recommendations_artists_genres_and_state(track_store, real_tracks):
    seed, a, b = (r["id"] for r in real_tracks[:3])
    rows = [
        {"seed_track_id": seed, "track_id": a, "source": "file", "rank": 2},
        {"seed_track_id": seed, "track_id": b, "source": "file", "rank": 1},
    ]
    assert track_store.upsert_recommendations(rows) == 2
    assert track_store.upsert_recommendations(rows) == 0
    assert [r["track_id"] for r in track_store.get_recommendations(seed)] == [b, a]
    assert track_store.recommendation_seed_ids() == {seed}
    assert track_store.upsert_track_genres([(a, "rock", "artist"), (a, "rock", "artist")]) == 1
    assert track_store.get_track_genres([a, b]) == {a: [{"genre": "rock", "origin": "artist"}]}
    artist = {"id": "4Z8W4fKeB5YxbusRsdQVPb", "name": "Radiohead", "genres": ["art rock"]}
    assert track_store.upsert_artists([artist]) == 1
    assert track_store.upsert_artists([artist]) == 0
    assert track_store.get_artists([artist["id"]])[artist["id"]] == artist
    track_store.set_state("etl:playlist:p1", {"offset": 100})
    assert track_store.get_state("etl:playlist:p1") == {"offset": 100}
    track_store.delete_state("etl:playlist:p1")
    assert track_store.get_state("etl:playlist:p1", "gone") == "gone"


def test_unreachable_database_raises_store_unavailable(tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a directory should be")
    target = open_store(str(blocked / "db.sqlite3"))
    with pytest.raises(StoreUnavailable):
        target.ping()


def test_a_new_embedded_database_opened_by_many_threads_at_once(tmp_path):
    """The page's first requests arrive together; none may find a fresh file locked."""
    import threading

    errors = []
    for attempt in range(20):
        target = open_store(str(tmp_path / f"fresh-{attempt}.sqlite3"))
        start = threading.Barrier(8)

        def first_request(start=start, target=target):
            start.wait()
            try:
                target.list_playlists()
            except Exception as exc:  # noqa: BLE001 - collected, so the assertion shows every failure
                errors.append(exc)

        threads = [threading.Thread(target=first_request) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def test_check_writable_passes_and_writes_nothing(track_store, real_tracks):
    track_store.upsert_tracks(real_tracks[:10])
    version, counts = track_store.data_version(), track_store.counts()
    track_store.check_writable(needed_bytes=1024)
    assert track_store.write_problem() is None
    assert (track_store.data_version(), track_store.counts()) == (version, counts)


def test_a_huge_import_is_refused_up_front(tmp_path):
    target = open_store(str(tmp_path / "contract.sqlite3"))
    with pytest.raises(StoreUnavailable) as failure:
        target.check_writable(needed_bytes=1 << 62)  # more than any disk holds
    assert failure.value.reason == "disk_full" and str(tmp_path) not in failure.value.message


def test_tracks_without_artists_read_back(track_store, real_tracks):
    # ReccoBeats or a hand-made file can give a track no artist; every reader must still work.
    bare = [
        {key: value for key, value in track.items() if key not in ("artists", "artist_ids")}
        for track in real_tracks[:3]
    ]
    track_store.upsert_tracks(bare)
    frame = track_store.read_tracks_frame()
    assert len(frame) == 3 and frame["artists"].isna().all()
    assert sorted(track_store.get_tracks([t["id"] for t in bare])) == sorted(t["id"] for t in bare)


@pytest.mark.parametrize("hostile", [{"$ne": None}, {"$gt": ""}, ["a"], 1])
def test_mongodb_refuses_operators_where_keys_belong(hostile):
    # No server is needed: the values are refused before any round trip, so nothing can reach a
    # query as an operator even if a caller forgot to validate its input.
    mongo = open_store("mongodb://127.0.0.1:1/plotify?serverSelectionTimeoutMS=200")
    calls = [
        lambda: mongo.get_tracks([hostile]),
        lambda: mongo.get_playlist(hostile),
        lambda: mongo.get_recommendations(hostile),
        lambda: mongo.get_artists([hostile]),
        lambda: mongo.read_tracks_frame(dataset=hostile),
        lambda: mongo.upsert_playlist({"id": hostile, "name": "x"}),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="must be a string"):
            call()
    mongo.close()
