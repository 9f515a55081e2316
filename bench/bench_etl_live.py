"""Benchmark: API calls and wall time to load a 1,000-track playlist, against the seed app's way."""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
import warnings

from bench.common import record
from etl import auth
from etl.calls import CallGuard
from etl.runs import RunContext, load_playlist
from etl.spotify import SpotifyApi, plain_session
from store import open_store
from tests.standin import StandIn, load_catalog
from web.settings import live_settings

BENCH_PLAYLIST_ID = "1000TracksBenchPlayl1s"
PEOPLE = [
    "5x3jsdd20gyv86pg2naw63zwp",
    "1221063701",
    "kukulski.2",
    "1213961138",
    "1239315253",
    "1256631666",
]


def bench_tracks(n: int) -> list[str]:
    """n distinct real tracks spread over all 114 genres (so artists repeat as in real lists)."""
    catalog = load_catalog()
    per_genre = math.ceil(n / len(catalog.genre_tracks))
    chosen: list[str] = []
    for genre in sorted(catalog.genre_tracks):
        fresh = [
            t
            for t in dict.fromkeys(catalog.genre_tracks[genre])
            if t not in chosen and catalog.tracks[t]["duration_ms"] > 0
        ]
        chosen += fresh[:per_genre]
    return chosen[:n]


def artists_of(track_ids: list[str]) -> int:
    catalog = load_catalog()
    return len({a for t in track_ids for a in catalog.tracks[t]["artists"]})


def seed_way(server: StandIn, playlist_id: str) -> int:
    """The original app's loop: per track one track call, one audio-features call, a 0.1 s sleep.

    Listing the playlist uses /items 50 a page, since the seed's /tracks endpoint is gone.
    """
    settings = server.config()
    session = plain_session()
    manager = auth.client_credentials(
        settings["SPOTIFY_CLIENT_ID"],
        settings["SPOTIFY_CLIENT_SECRET"],
        settings["SPOTIFY_TOKEN_URL"],
        session,
        10,
    )
    api = SpotifyApi(manager, CallGuard(), server.url, session)
    ids, offset = [], 0
    while True:
        page = api.playlist_items(playlist_id, offset)
        ids += [entry["item"]["id"] for entry in page["items"]]
        offset += len(page["items"])
        if not page["next"]:
            break
    stored = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for track_id in ids:
            api.track(track_id)
            api.audio_features([track_id])
            time.sleep(0.1)
            stored += 1
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=1000)
    args = parser.parse_args()
    n = args.tracks

    catalog = load_catalog()
    tracks = bench_tracks(n)
    catalog.add_playlist(BENCH_PLAYLIST_ID, f"{n} tracks", tracks, PEOPLE)
    new_artists = artists_of(tracks)
    floor = math.ceil(n / 50) + math.ceil(n / 100) + new_artists
    with StandIn(catalog) as server, tempfile.TemporaryDirectory() as directory:
        target = open_store(os.path.join(directory, "bench.sqlite3"))
        settings = live_settings(server.config(), directory)

        started = time.perf_counter()
        load_playlist(RunContext(target, settings), BENCH_PLAYLIST_ID)
        ours_s = time.perf_counter() - started
        ours = dict(server.calls)
        ours_calls = server.spotify_calls()
        assert target.counts()["playlist_tracks"] == n

        server.reset_calls()
        started = time.perf_counter()
        load_playlist(RunContext(target, settings), BENCH_PLAYLIST_ID)
        again_s = time.perf_counter() - started
        again_calls = sum(server.calls.values())

        server.reset_calls()
        started = time.perf_counter()
        seed_count = seed_way(server, BENCH_PLAYLIST_ID)
        seed_s = time.perf_counter() - started
        seed = dict(server.calls)
        seed_calls = server.spotify_calls()
        assert seed_count == n
        target.close()

    profiles = ours.get("user", 0)
    results = {
        "tracks": n,
        "distinct_artists": new_artists,
        "floor_calls": floor,
        "ours": {
            "calls": ours_calls,
            "by_endpoint": ours,
            "seconds": ours_s,
            "calls_above_floor": ours_calls - floor,
            "profile_calls": profiles,
        },
        "unchanged_rerun": {"requests": again_calls, "seconds": again_s},
        "seed_way": {"calls": seed_calls, "by_endpoint": seed, "seconds": seed_s},
        "call_ratio_seed_to_ours": seed_calls / ours_calls,
        "time_ratio_seed_to_ours": seed_s / ours_s,
    }
    record(
        "etl_live",
        results,
        [
            ("playlist size", f"{n} tracks, {new_artists} distinct artists, 6 people"),
            ("floor: ⌈n/50⌉ pages + ⌈n/100⌉ feature calls + 1 per new artist", f"{floor} calls"),
            (
                "etl playlist (ours)",
                f"{ours_calls} calls ({ours.get('playlist', 0)} playlist incl. first page, "
                f"{ours.get('playlist_items', 0)} item pages, {ours.get('audio_features', 0)} "
                f"feature, {ours.get('artist', 0)} artist, {profiles} profile), {ours_s:.2f} s",
            ),
            ("ours above the floor", f"{ours_calls - floor} (the people's profile calls)"),
            ("re-run, same snapshot_id", f"{again_calls} request, {again_s:.3f} s"),
            (
                "seed's way (track + audio-features per track, 0.1 s sleep; no genres, no people)",
                f"{seed_calls} calls, {seed_s:.1f} s",
            ),
            ("seed ÷ ours", f"{seed_calls / ours_calls:.1f}× calls, {seed_s / ours_s:.0f}× time"),
        ],
    )


if __name__ == "__main__":
    main()
