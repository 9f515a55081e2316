"""Fault and kill campaigns: the live ETL and `etl import` under random faults and SIGKILLs."""

from __future__ import annotations

import os
import random

import pytest

from store import open_store
from tests.standin import FaultPlan, StandIn
from tests.standin.campaign import (
    CLIENT_TIMEOUT,
    LIVE_COMMANDS,
    PASSING_KINDS,
    RESTRICTED_WORLDS,
    STOPPING_ONLY,
    cli_environment,
    complete,
    kill_during,
    reference_digest,
    restrict,
    run_live,
    run_to_completion,
    timed_clean_run,
)
from tests.standin.integrity import content_digest, duplicates, junk
from tests.support import DATASET_CSV, DATASET_TRACKS, PLAYLIST_TRACKS

CAMPAIGN_SEEDS = range(4)
NULL_SEEDS = range(2)


@pytest.fixture(scope="module")
def campaign_standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def references(campaign_standin, tmp_path_factory):
    """Reference digests per restricted world, computed once for the module."""
    cache = {}
    root = tmp_path_factory.mktemp("references")

    def get(index: int):
        if index not in cache:
            cache[index] = reference_digest(
                campaign_standin, RESTRICTED_WORLDS[index], root / str(index)
            )
        return cache[index]

    return get


@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_random_faults_stop_clearly_and_reruns_converge(
    campaign_standin, references, tmp_path, seed
):
    world = seed % len(RESTRICTED_WORLDS)
    expected = references(world)
    restrict(campaign_standin, RESTRICTED_WORLDS[world])
    plan = FaultPlan(
        seed,
        probability=0.04,
        kinds=PASSING_KINDS,
        only=STOPPING_ONLY,
        retry_after=0.05,
        timeout_delay=CLIENT_TIMEOUT * 3,
    )
    database = str(tmp_path / "faulty.sqlite3")
    stops, _ = run_to_completion(campaign_standin, database, tmp_path, plan)

    assert sum(plan.injected.values()) >= 5, plan.injected  # the campaign did disturb the run
    assert content_digest(database) == expected
    assert not any(duplicates(database).values())
    assert junk(database) == []


@pytest.mark.parametrize("seed", NULL_SEEDS)
def test_null_entries_are_skipped_counted_and_never_stored(campaign_standin, tmp_path, seed):
    restrict(campaign_standin, {})
    campaign_standin.nulls.clear()
    plan = FaultPlan(100 + seed, probability=0.15, kinds=("null",))
    campaign_standin.plan = plan
    database = str(tmp_path / "nulls.sqlite3")
    try:
        playlist, recommendations = run_live(campaign_standin, database, tmp_path)
    finally:
        campaign_standin.plan = None
    nulls = campaign_standin.nulls
    assert sum(nulls.values()) >= 10, nulls

    # Null rows of the playlist are skipped as unavailable, positions counting on.
    rows_nulled = nulls[("playlist", "entry")] + nulls[("playlist_items", "entry")]
    assert playlist.counts["skipped"]["unavailable"] == rows_nulled
    assert playlist.counts["tracks"] == PLAYLIST_TRACKS - rows_nulled
    # Every other null is dropped and counted in the run's report under its endpoint.
    names = {
        "playlist": "Spotify GET /playlists/{id}",
        "playlist_items": "Spotify GET /playlists/{id}/items",
        "artist": "Spotify GET /artists/{id}",
        "recommendations": "Spotify GET /recommendations",
        "rb_audio_features": "ReccoBeats GET /v1/audio-features",
        "rb_recommendation": "ReccoBeats GET /v1/track/recommendation",
    }
    expected_counts: dict[str, int] = {}
    for (endpoint, what), count in nulls.items():
        if what == "entry" and endpoint in ("playlist", "playlist_items", "audio_features"):
            continue  # rows: counted as unavailable; features: Spotify's "unknown track"
        expected_counts[names[endpoint]] = expected_counts.get(names[endpoint], 0) + count
    reported: dict[str, int] = {}
    for report in (playlist, recommendations):
        for endpoint, count in report.counts["null_entries"].items():
            reported[endpoint] = reported.get(endpoint, 0) + count
    assert reported == expected_counts
    if reported:
        assert any(
            "null entries in answers" in line for line in playlist.lines + recommendations.lines
        )
    # A null in /audio-features means "unknown to Spotify": the track goes to ReccoBeats.
    store = open_store(database)
    try:
        frame = store.read_tracks_frame()
        from_reccobeats = int((frame["features_source"] == "reccobeats").sum())
    finally:
        store.close()
    unknown = sum(r.counts["features"].get("missing", 0) for r in (playlist, recommendations))
    assert from_reccobeats + unknown == nulls[("audio_features", "entry")]
    assert junk(database) == []
    assert not any(duplicates(database).values())


def test_live_etl_killed_at_random_moments_converges(tmp_path):
    kills = 2
    with StandIn() as standin:
        clean_db = str(tmp_path / "clean.sqlite3")
        clean_env = cli_environment(standin, clean_db, str(tmp_path / "clean"))
        duration = timed_clean_run(LIVE_COMMANDS, clean_env)
        expected = content_digest(clean_db)
        chooser = random.Random(2026)
        killed = 0
        for trial in range(kills):
            database = str(tmp_path / f"killed{trial}.sqlite3")
            env = cli_environment(standin, database, str(tmp_path / f"killed{trial}"))
            # Startup (~0.7 s) is part of the moments chosen: a kill may land anywhere.
            killed += kill_during(LIVE_COMMANDS, env, chooser.uniform(0.3, duration * 0.95))
            standin.release()
            complete(LIVE_COMMANDS, env)
            assert content_digest(database) == expected
            assert not any(duplicates(database).values())
    assert killed == kills


def test_import_killed_at_random_moments_converges(tmp_path):
    database = str(tmp_path / "killed.sqlite3")
    env = dict(
        os.environ, DATABASE=database, MONGODB_URI="", INSTANCE_PATH=str(tmp_path / "instance")
    )
    command = [["etl", "import", DATASET_CSV]]
    # One kill here (CI time); bench/bench_faults.py kills it many times, some in a row.
    assert kill_during(command, env, random.Random(114).uniform(1.5, 5.0))
    complete(command, env)
    from etl.files import import_file

    clean = str(tmp_path / "clean.sqlite3")
    store = open_store(clean)
    import_file(store, DATASET_CSV)
    store.close()
    counts, digest = content_digest(database)
    assert counts["tracks"] == DATASET_TRACKS
    assert (counts, digest) == content_digest(clean)
    assert not any(duplicates(database).values())
