"""pytest fixtures and helpers for ETL tests against the stand-in (import into a test module)."""

from __future__ import annotations

import pytest

from tests.standin.server import StandIn


@pytest.fixture
def standin():
    """A fresh stand-in on a free loopback port, with its own copy of the playlists."""
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def live_store(tmp_path):
    """An empty embedded store."""
    from store import open_store

    target = open_store(str(tmp_path / "live.sqlite3"))
    yield target
    target.close()


def live_test_settings(standin, instance_path, **overrides):
    """LiveSettings pointed at the stand-in, with test-sized timeouts and retries."""
    from web.settings import live_settings

    options = {"timeout": 5.0, "retries": 2, "backoff": 0.01, "max_wait": 30.0}
    options.update(overrides)
    return live_settings(standin.config(), str(instance_path), **options)


def make_etl(standin, store, instance_path, **overrides):
    """A run context on the stand-in that records its messages and draws no progress bars."""
    from etl.runs import RunContext

    return RunContext(store, live_test_settings(standin, instance_path, **overrides))


def store_content(store) -> dict:
    """Everything the live ETL writes, in a form that compares equal iff the content is equal."""
    tracks = store.read_tracks_frame().sort_values("id")
    track_ids = list(tracks["id"])
    records = store.get_tracks(track_ids)
    artist_ids = sorted({a for r in records.values() for a in r.get("artist_ids", [])})
    content = {
        "counts": store.counts(),
        "tracks": tracks.to_json(orient="records"),
        "track_records": [records[t] for t in track_ids],
        "playlists": store.list_playlists(),
        "people": store.get_people(),
        "artists": store.get_artists(artist_ids),
        "genres": store.get_track_genres(track_ids),
        "recommendations": {
            s: store.get_recommendations(s) for s in sorted(store.recommendation_seed_ids())
        },
        "datasets": store.list_datasets(),
    }
    for playlist in content["playlists"]:
        content[f"playlist:{playlist['id']}"] = store.read_tracks_frame(
            playlist=playlist["id"]
        ).to_json(orient="records")
    return content
