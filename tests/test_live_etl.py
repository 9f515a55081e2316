"""Live ETL against the local stand-in: the Plotify playlist, fallbacks, faults and resumed runs."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from etl.calls import QuotaExceeded, RateLimitBudgetSpent, ServiceFailed
from etl.lookup import TrackLookup
from etl.runs import LiveEtlError, build_genre_dataset, load_playlist, load_recommendations
from tests.standin import load_catalog, wait_for_calls
from tests.standin.catalog import Entry
from tests.standin.fixtures import (  # noqa: F401 - pytest fixtures
    live_store,
    live_test_settings,
    make_etl,
    standin,
    store_content,
)
from tests.support import PLAYLIST_CSV, PLAYLIST_TRACKS, PLOTIFY_PLAYLIST_ID, ROOT

SEED = pd.read_csv(PLAYLIST_CSV, index_col=0)
PEOPLE = {
    "1221063701": "Charles Stephens",
    "1213961138": "Tempest Campbell",
    "kukulski.2": "Matt Kukulski",
    "1256631666": "Stu Yates",
    "1239315253": "John Edward Shuford",
    "5x3jsdd20gyv86pg2naw63zwp": "Pauly Richmeier",
}


def playlist_artist_count() -> int:
    """Distinct artists of the Plotify playlist as the stand-in serves them."""
    catalog = load_catalog()
    return len(
        {
            name
            for e in catalog.playlists[PLOTIFY_PLAYLIST_ID].entries
            for name in catalog.tracks[e.track_id]["artists"]
        }
    )


def test_plotify_playlist_lands_with_people_features_and_genres(standin, live_store, tmp_path):
    report = load_playlist(
        make_etl(standin, live_store, tmp_path),
        f"https://open.spotify.com/playlist/{PLOTIFY_PLAYLIST_ID}?si=abc",
    )

    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID).set_index("id")
    assert len(frame) == PLAYLIST_TRACKS and list(frame.index) == list(SEED["id"])
    assert frame["added_by"].to_dict() == dict(zip(SEED["id"], SEED["user_id"].astype(str)))
    assert frame["added_at"].notna().all()
    assert live_store.get_people() == PEOPLE
    [playlist] = live_store.list_playlists()
    assert playlist["collaborative"] and playlist["snapshot_id"]
    assert sorted(p["track_count"] for p in playlist["people"]) == [3, 6, 28, 30, 36, 55]
    # Features are the real ones, and every track says where they came from.
    assert (frame["features_source"] == "spotify").all()
    for column in ("danceability", "energy", "tempo", "loudness"):
        expected = SEED.set_index("id")[column]
        assert all(math.isclose(frame.at[t, column], expected[t]) for t in SEED["id"])
    # Artist genres, one artist at a time, each artist once.
    genres = live_store.get_track_genres(list(SEED["id"]))
    dreams = {g["genre"] for g in genres["0ofHAoxe9vBkTCp2UQIavz"]}  # Fleetwood Mac
    assert dreams and all(g["origin"] == "artist" for g in genres["0ofHAoxe9vBkTCp2UQIavz"])
    assert len(genres) >= 80
    assert standin.calls["artist"] == playlist_artist_count()
    assert standin.calls["artists"] == 0 and standin.calls["playlist_tracks"] == 0
    # Calls at the floor: the playlist object carries page 1, then 50 a page, 100 features a call.
    assert standin.calls["playlist"] == 1 and standin.calls["playlist_items"] == 3
    assert standin.calls["audio_features"] == 2
    assert report.calls == standin.spotify_calls()


def test_unchanged_snapshot_makes_exactly_one_call(standin, live_store, tmp_path):
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    before = store_content(live_store)
    standin.reset_calls()
    report = load_playlist(
        make_etl(standin, live_store, tmp_path), f"spotify:playlist:{PLOTIFY_PLAYLIST_ID}"
    )
    # One request in all: the app token is cached (0600) in the instance folder.
    assert dict(standin.calls) == {"playlist": 1}
    assert report.unchanged and "unchanged" in report.lines[0]
    assert store_content(live_store) == before
    assert oct(os.stat(tmp_path / "spotify-app-token.json").st_mode & 0o777) == "0o600"


def test_changed_playlist_fetches_only_what_is_new_and_prunes_removed(
    standin, live_store, tmp_path
):
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    catalog = load_catalog()
    entries = standin.catalog.playlists[PLOTIFY_PLAYLIST_ID].entries
    removed = entries.pop(3).track_id
    newcomer = next(t for t in catalog.genre_tracks["samba"] if t not in set(SEED["id"]))
    entries.append(Entry("track", newcomer, "kukulski.2", "2021-06-01T10:00:00Z"))
    standin.reset_calls()
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)

    members = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert len(members) == PLAYLIST_TRACKS and removed not in set(members["id"])
    assert members.set_index("id").at[newcomer, "added_by"] == "kukulski.2"
    assert standin.calls["audio_features"] == 1  # only the new track lacked features
    new_artists = {n for n in catalog.tracks[newcomer]["artists"]} - {
        n for t in SEED["id"] for n in catalog.tracks[t]["artists"]
    }
    assert standin.calls["artist"] == len(new_artists)


def test_restricted_audio_features_fall_back_to_reccobeats(standin, live_store, tmp_path):
    standin.fault("audio_features", status=403)
    etl = make_etl(standin, live_store, tmp_path)
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)

    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert (frame["features_source"] == "reccobeats").all()
    assert frame["time_signature"].isna().all()  # ReccoBeats has none
    assert frame["danceability"].notna().all()
    assert standin.calls["audio_features"] == 1  # refused once, never asked again this run
    assert standin.calls["rb_audio_features"] == math.ceil(PLAYLIST_TRACKS / 40)
    switches = [m for m in etl.console.messages if "refused" in m]
    assert len(switches) == 1 and "ReccoBeats" in switches[0]


def test_rate_limit_waits_for_retry_after_and_completes(standin, live_store, tmp_path):
    standin.fault("audio_features", status=429, retry_after=1, times=1)
    etl = make_etl(standin, live_store, tmp_path)
    started = time.monotonic()
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    assert time.monotonic() - started >= 1.0
    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert (frame["features_source"] == "spotify").all()
    assert standin.calls["audio_features"] == 3
    assert etl.guard.waited == 1.0
    assert any("429" in m and "waiting 1 s" in m for m in etl.console.messages)


def test_rate_limit_beyond_the_wait_budget_stops_without_sleeping(standin, live_store, tmp_path):
    standin.fault("audio_features", status=429, retry_after=3600)
    etl = make_etl(standin, live_store, tmp_path, max_wait=5)
    started = time.monotonic()
    with pytest.raises(RateLimitBudgetSpent, match="Spotify GET /audio-features"):
        load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    assert time.monotonic() - started < 5


def test_quota_exceeded_stops_then_the_rerun_finishes_without_refetching(
    standin, live_store, tmp_path
):
    standin.fault("artist", status=429, reason="QUOTA_EXCEEDED", after=20)
    with pytest.raises(QuotaExceeded, match="quota"):
        load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    assert standin.calls["artist"] == 21  # stopped at the first refusal, no retries
    standin.clear_faults()
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    assert standin.calls["artist"] == playlist_artist_count() + 1
    assert standin.calls["audio_features"] == 2 and standin.calls["playlist_items"] == 3
    assert len(live_store.get_people()) == 6


def test_server_errors_are_retried_then_fail_naming_the_endpoint(standin, live_store, tmp_path):
    standin.fault("audio_features", status=500, times=1)
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    assert standin.calls["audio_features"] == 3  # one 500, retried, then two batches

    standin.fault("artist", status=503)
    other = tmp_path / "other"
    other.mkdir()
    from store import open_store

    fresh = open_store(str(other / "x.sqlite3"))
    standin.reset_calls()
    with pytest.raises(ServiceFailed, match=r"Spotify GET /artists/\{id\} failed 3 times"):
        load_playlist(make_etl(standin, fresh, other, retries=2), PLOTIFY_PLAYLIST_ID)
    assert standin.calls["artist"] == 3


def test_slow_answers_time_out_and_fail_naming_the_endpoint(standin, live_store, tmp_path):
    standin.fault("user", delay=5)
    etl = make_etl(standin, live_store, tmp_path, timeout=0.3, retries=1)
    with pytest.raises(ServiceFailed, match=r"Spotify GET /users/\{id\} failed 2 times"):
        load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    standin.release()
    assert standin.calls["user"] == 2


def test_local_files_episodes_and_null_items_are_skipped_with_counts(standin, live_store, tmp_path):
    entries = standin.catalog.playlists[PLOTIFY_PLAYLIST_ID].entries
    entries.insert(10, Entry("local", None, "kukulski.2", "2021-06-01T00:00:00Z"))
    entries.insert(60, Entry("episode", None, "kukulski.2", "2021-06-01T00:00:00Z"))
    entries.insert(61, Entry("episode", None, "kukulski.2", "2021-06-01T00:00:00Z"))
    entries.insert(120, Entry("null", None, "1221063701", "2021-06-01T00:00:00Z"))
    standin.item_key = "track"  # only the pre-2026 key: the reader must fall back to it
    report = load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)

    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert list(frame["id"]) == list(SEED["id"])
    assert frame["position"].iloc[10] == 11  # positions keep counting the skipped rows
    assert "skipped 1 local files, 2 episodes, 1 unavailable" in report.lines[0]
    assert standin.calls["playlist_items"] == 3  # 162 rows: 50 embedded + 3 pages


def clean_reference_run(standin, tmp_path):
    """Load the Plotify playlist into a separate store with no faults: (store, calls it took).

    The stand-in's call counters are reset afterwards, so the run under test counts from zero.
    """
    from store import open_store

    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean = open_store(str(clean_dir / "clean.sqlite3"))
    load_playlist(make_etl(standin, clean, clean_dir), PLOTIFY_PLAYLIST_ID)
    calls = dict(standin.calls)
    standin.reset_calls()
    return clean, calls


def test_interrupted_run_resumes_with_identical_content_and_no_refetch(
    standin, live_store, tmp_path
):
    clean, clean_calls = clean_reference_run(standin, tmp_path)

    # Artist look-ups break down after 40 artists: the run dies in its third stage.
    standin.fault("artist", status=500, after=40)
    with pytest.raises(ServiceFailed):
        load_playlist(make_etl(standin, live_store, tmp_path, retries=1), PLOTIFY_PLAYLIST_ID)
    assert live_store.get_playlist(PLOTIFY_PLAYLIST_ID)["snapshot_id"] is None
    standin.clear_faults()
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)

    assert store_content(live_store) == store_content(clean)
    assert live_store.get_state(f"etl:playlist:{PLOTIFY_PLAYLIST_ID}") is None
    assert standin.calls["playlist"] == clean_calls["playlist"] + 1  # the re-run's version check
    for endpoint in ("playlist_items", "audio_features", "user"):
        assert standin.calls[endpoint] == clean_calls[endpoint], endpoint
    assert standin.calls["artist"] == clean_calls["artist"] + 2  # the failed call and its retry


# Run with the checkout as the working directory, which `python -c` puts on sys.path.
KILLED_RUN = """
from store import open_store
from etl.runs import RunContext, load_playlist
from web.settings import live_settings
settings = live_settings({config!r}, {instance!r}, timeout=60.0)
load_playlist(RunContext(open_store({database!r}), settings), {playlist!r})
"""


@pytest.mark.parametrize(
    "endpoint, after", [("playlist_items", 1), ("audio_features", 1), ("artist", 60)]
)
def test_killed_process_resumes_without_duplicates_losses_or_refetches(
    standin, live_store, tmp_path, endpoint, after
):
    clean, clean_calls = clean_reference_run(standin, tmp_path)

    # The call after `after` hangs; the process is killed (SIGKILL) while it waits for it.
    standin.fault(endpoint, delay=60, after=after, times=1)
    script = KILLED_RUN.format(
        config=standin.config(),
        instance=str(tmp_path),
        database=live_store.path,
        playlist=PLOTIFY_PLAYLIST_ID,
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        assert wait_for_calls(standin, endpoint, after + 1, timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        standin.release()
    standin.clear_faults()
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)

    assert store_content(live_store) == store_content(clean)
    # Everything answered before the kill stays fetched: only the request that was in flight
    # when the process died is repeated, plus the re-run's version check of the playlist.
    expected = dict(clean_calls)
    expected["playlist"] += 1
    expected[endpoint] += 1
    assert {k: v for k, v in standin.calls.items() if k != "token"} == {
        k: v for k, v in expected.items() if k != "token"
    }


def test_recommendations_come_from_spotify_with_features(standin, live_store, tmp_path):
    etl = make_etl(standin, live_store, tmp_path)
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    report = load_recommendations(etl, PLOTIFY_PLAYLIST_ID, per_seed=5)

    catalog = load_catalog()
    first = SEED["id"].iloc[0]
    links = live_store.get_recommendations(first)
    assert [
        r["track_id"] for r in sorted(links, key=lambda r: r["rank"])
    ] == catalog.recommendations[first][:5]
    assert {r["source"] for r in links} == {"spotify"}
    assert standin.calls["recommendations"] == PLAYLIST_TRACKS
    rec_ids = {r["track_id"] for s in SEED["id"] for r in live_store.get_recommendations(s)}
    tracks = live_store.get_tracks(rec_ids)
    assert all(t.get("features_source") for t in tracks.values())
    assert report.counts["sources"] == {"spotify": PLAYLIST_TRACKS}
    # A second run finds every seed done and fetches nothing.
    standin.reset_calls()
    load_recommendations(etl, PLOTIFY_PLAYLIST_ID, per_seed=5)
    assert standin.spotify_calls() == 0 and standin.calls["rb_recommendation"] == 0


def test_recommendations_fall_back_to_reccobeats_then_explain_when_neither_answers(
    standin, live_store, tmp_path
):
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    standin.fault("recommendations", status=404)
    standin.fault("audio_features", status=403)
    etl = make_etl(standin, live_store, tmp_path)
    seeds = list(SEED["id"][:20])
    for seed in SEED["id"][20:]:  # pretend the others are done so the test stays small
        live_store.upsert_recommendations(
            [{"seed_track_id": seed, "track_id": seed, "source": "test", "rank": 0}]
        )
    load_recommendations(etl, PLOTIFY_PLAYLIST_ID, per_seed=10)
    assert standin.calls["recommendations"] == 1 and standin.calls["rb_recommendation"] == 20
    for seed in seeds:
        links = live_store.get_recommendations(seed)
        assert {r["source"] for r in links} == {"reccobeats"}
        assert [r["track_id"] for r in links] == load_catalog().recommendations[seed][:10]
    assert (
        sum(
            "/recommendations answered HTTP 404; using ReccoBeats" in m
            for m in etl.console.messages
        )
        == 1
    )

    standin.fault("rb_recommendation", status=403)
    # A new playlist track is a seed without recommendations, so the next run must ask.
    standin.catalog.playlists[PLOTIFY_PLAYLIST_ID].entries.append(
        Entry("track", load_catalog().genre_tracks["samba"][0], "kukulski.2", None)
    )
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    with pytest.raises(LiveEtlError, match="No recommendation service answered"):
        load_recommendations(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)


def test_genre_dataset_is_labelled_by_seed_genre(standin, live_store, tmp_path):
    report = build_genre_dataset(make_etl(standin, live_store, tmp_path), 3, 20)
    frame = live_store.read_tracks_frame(dataset="spotify-genre-seeds")
    genres = sorted(load_catalog().genre_tracks)[:3]
    assert sorted(frame["label"].unique()) == genres
    assert frame.groupby("label").size().to_dict() == {g: 20 for g in genres}
    assert frame["features_source"].eq("spotify").all()
    assert standin.calls["recommendations"] == 3 and standin.calls["genre_seeds"] == 1
    assert report.counts["genres"] == 3


def test_refused_genre_seeding_points_to_the_public_dataset(standin, live_store, tmp_path):
    standin.fault("genre_seeds", status=404)
    with pytest.raises(LiveEtlError) as refused:
        build_genre_dataset(make_etl(standin, live_store, tmp_path), 5, 100)
    message = str(refused.value)
    assert "refuses genre seeding" in message and "etl import" in message
    assert "dataset.csv" in message


def test_refused_profiles_leave_people_with_their_ids(standin, live_store, tmp_path):
    standin.fault("user", status=403)
    report = load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    people = live_store.get_people()
    assert set(people) == set(PEOPLE)
    # The owner's name comes free with the playlist; the others stay unnamed (shown by id).
    assert people == {
        p: ("Pauly Richmeier" if p == "5x3jsdd20gyv86pg2naw63zwp" else None) for p in PEOPLE
    }
    assert standin.calls["user"] == 1  # refused once, not asked again this run
    assert any("refused their profiles (HTTP 403)" in line for line in report.lines)


def test_feature_providers_follow_the_configured_order(standin, live_store, tmp_path):
    etl = make_etl(standin, live_store, tmp_path, providers="reccobeats,spotify")
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert (frame["features_source"] == "reccobeats").all()
    assert standin.calls["audio_features"] == 0


def test_tracks_unknown_to_the_first_provider_are_offered_to_the_next(
    standin, live_store, tmp_path
):
    # Tracks Spotify does not know (null in /audio-features) but ReccoBeats does.
    first_ten = [e.track_id for e in standin.catalog.playlists[PLOTIFY_PLAYLIST_ID].entries[:10]]
    standin.spotify_unknown = set(first_ten)
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    frame = live_store.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID).set_index("id")
    assert (frame.loc[first_ten, "features_source"] == "reccobeats").all()
    assert (frame.drop(first_ten)["features_source"] == "spotify").all()
    assert standin.calls["rb_audio_features"] == 1


def test_ctrl_c_mid_run_is_reported_and_the_rerun_completes(standin, live_store, tmp_path):
    import threading

    clean, clean_calls = clean_reference_run(standin, tmp_path)

    standin.fault("artist", delay=30, after=25, times=1)
    pressed = threading.Event()

    def press_ctrl_c():
        if wait_for_calls(standin, "artist", 26, timeout=30):
            # Sent to the main thread, which is where Python raises KeyboardInterrupt.
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            pressed.set()

    # Python's own Ctrl-C handler: a suite started in the background by a non-interactive shell
    # inherits SIGINT ignored, and Python then leaves it ignored (what failed a CI run).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=press_ctrl_c, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    finally:
        if previous is not None:  # None: set outside Python, which signal.signal cannot restore
            signal.signal(signal.SIGINT, previous)
    assert pressed.is_set()
    standin.release()
    standin.clear_faults()
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    assert store_content(live_store) == store_content(clean)
    assert standin.calls["artist"] == clean_calls["artist"] + 1
    assert standin.calls["playlist_items"] == clean_calls["playlist_items"]


def test_find_tracks_searches_and_stores_hits_with_features(standin, live_store, tmp_path):
    standin.fault("audio_features", status=403)
    lookup = TrackLookup(live_store, live_test_settings(standin, tmp_path))
    found = lookup.search("dreams fleetwood", limit=20)
    assert found and found[0]["id"] == "0ofHAoxe9vBkTCp2UQIavz"
    assert all(t["features_source"] == "reccobeats" and "danceability" in t for t in found)
    assert standin.calls["search"] == 1 and standin.calls["rb_audio_features"] == 1
    assert "limit=10" in next(path for name, path in standin.log if name == "search")


def test_failing_recommendations_stop_the_run_instead_of_switching_source(
    standin, live_store, tmp_path
):
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    standin.fault("recommendations", status=503, after=10, times=3)
    with pytest.raises(ServiceFailed, match=r"Spotify GET /recommendations failed 3 times"):
        load_recommendations(
            make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID, per_seed=3
        )
    assert standin.calls["rb_recommendation"] == 0  # a passing 503 is no reason to switch
    report = load_recommendations(
        make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID, per_seed=3
    )
    assert report.counts["sources"] == {"spotify": PLAYLIST_TRACKS}


def test_token_endpoint_errors_and_cut_answers_are_retried(standin, live_store, tmp_path):
    standin.fault("token", status=503, times=1)
    standin.fault("playlist", breaks="truncated_json", times=1)
    standin.fault("playlist_items", breaks="truncated_body", times=1)
    standin.fault("artist", breaks="reset", times=1)
    etl = make_etl(standin, live_store, tmp_path)
    load_playlist(etl, PLOTIFY_PLAYLIST_ID)
    assert live_store.counts()["playlist_tracks"] == PLAYLIST_TRACKS
    assert standin.calls["token"] == 2 and standin.calls["playlist"] == 2
    waits = " ".join(etl.console.messages)
    assert "Spotify POST /api/token (for Spotify GET /playlists/{id}) HTTP 503" in waits
    assert "malformed JSON answer" in waits and "answer cut off mid-body" in waits
    assert "connection reset or refused" in waits


def test_null_artists_and_genres_are_dropped_counted_and_reported(standin, live_store, tmp_path):
    standin.fault("artist", breaks="null", times=5)
    report = load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)
    nulled = standin.nulls[("artist", "entry")]  # artists without genres get no null
    assert nulled >= 1
    assert report.counts["null_entries"] == {"Spotify GET /artists/{id}": nulled}
    assert any(
        line.startswith(f"Ignored {nulled} null entries in answers") for line in report.lines
    )
    genres = {
        g["genre"] for rows in live_store.get_track_genres(list(SEED["id"])).values() for g in rows
    }
    assert None not in genres and "None" not in genres
