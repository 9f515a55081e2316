"""Benchmark: /api/search under gunicorn against /healthz, and the search index's build cost.

Starts gunicorn with the production config on a temporary store loaded with the real demo data,
drives it with wrk at concurrency 8 with a different misspelled query on every request (made
from catalogue tracks: a letter dropped, swapped or doubled, artist and title in one box), and
/healthz in the same run. Then builds the index in this process for the demo catalogue and for a
synthetic catalogue of a million tracks, timing the build and measuring its memory.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request

import numpy as np

from bench.bench_api import (
    ROUNDS,
    demo_store_env,
    free_port,
    interleaved_rounds,
    median_run,
    paths_script,
    ratio_text,
    round_ratios,
    start_gunicorn,
    stop,
    wait_until_up,
)
from bench.common import record

CONCURRENCY = 8
QUERIES = 40_000
SYNTHETIC_TRACKS = int(os.environ.get("BENCH_SEARCH_SYNTHETIC", "1000000"))


def ensure_wrk() -> None:
    """wrk from Debian when this machine lacks it (a fresh machine does)."""
    if shutil.which("wrk"):
        return
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", *command]
    subprocess.run(command, check=True)


def misspell(text: str, rng: random.Random) -> str:
    """One typo: a letter dropped, two swapped, or one doubled (text too short stays as it is)."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i] + text[i:]


def search_paths(database: str, count: int = QUERIES) -> list[str]:
    """Distinct misspelled /api/search paths made from the stored tracks."""
    from store import open_store

    rng = random.Random(0)
    frame = open_store(database).read_tracks_frame()[["name", "artists"]].dropna()
    paths: list[str] = []
    seen: set[str] = set()
    for name, artists in frame.sample(frac=1.0, random_state=0).itertuples(index=False):
        artist = artists.split(";")[0]
        text = f"{artist} {name}" if rng.random() < 0.5 else f"{name} {artist}"
        query = misspell(text[:120], rng)
        if query.isprintable() and query not in seen:
            seen.add(query)
            paths.append("/api/search?" + urllib.parse.urlencode({"q": query, "limit": 10}))
        if len(paths) == count:
            break
    return paths


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_build(make) -> dict:
    """Seconds to build an index, and its memory: tracemalloc's count of what it holds (peak
    and retained, Python objects and numpy arrays) and the process's resident growth."""
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = make()
    seconds = time.perf_counter() - started
    grown = rss_bytes() - before
    del index
    gc.collect()
    tracemalloc.start()
    index = make()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "tracks": len(index),
        "seconds": seconds,
        "retained_mb": retained / 1e6,
        "peak_mb": peak / 1e6,
        "rss_growth_mb": grown / 1e6,
        "index": index,
    }


def in_process_latency(index, queries: list[str]) -> dict:
    """Per-query milliseconds of SearchIndex.search alone (one thread)."""
    times = []
    for query in queries:
        started = time.perf_counter()
        index.search(q=query, limit=10)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99))}


def synthetic_catalogue(catalogue, size: int, rng: random.Random):
    """A catalogue of size tracks whose names are recombined from real titles' and artists'
    words, so word and trigram frequencies stay realistic as it grows."""
    from api.search import SearchIndex

    names = [n for n in catalogue.columns["name"] if isinstance(n, str)]
    artists = [a for a in catalogue.columns["artists"] if isinstance(a, str)]
    title_words = [w for n in names for w in n.split()]
    artist_pool = list(dict.fromkeys(artists))
    ids = [f"{i:022d}" for i in range(size)]
    titles = [" ".join(rng.choices(title_words, k=rng.randint(1, 5))) for _ in range(size)]
    # Ten times the real artists, as a larger catalogue has more artists, not just more tracks.
    who = [
        f"{rng.choice(artist_pool)}{'' if rng.random() < 0.1 else ' ' + str(rng.randrange(10))}"
        for _ in range(size)
    ]
    popularity = [rng.randrange(100) for _ in range(size)]
    return lambda: SearchIndex(ids, titles, who, [None] * size, popularity), titles, who


def main() -> None:
    ensure_wrk()
    work = tempfile.mkdtemp(prefix="bench-search-")
    models_dir = os.path.join(work, "models")  # no model: search does not need one
    os.makedirs(models_dir)
    env = demo_store_env(work, models_dir)
    paths = search_paths(env["DATABASE"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "gunicorn.log"), "w")
    server = start_gunicorn(port, env, log)
    try:
        wait_until_up(base + "/healthz")
        # post_worker_init builds the index in each worker; one request per worker to be sure.
        for path in paths[:4]:
            try:
                urllib.request.urlopen(base + path, timeout=120).read()
            except OSError:
                pass
        load_before = os.getloadavg()[0]
        runs = interleaved_rounds(
            {
                "healthz": (base + "/healthz", None),
                "search": (base, paths_script(work, paths, "search")),
            }
        )
        health, search = median_run(runs["healthz"]), median_run(runs["search"])
        load_after = os.getloadavg()[0]
    finally:
        stop(server)
        log.close()

    from api.catalogue import build_catalogue
    from store import open_store

    target = open_store(env["DATABASE"])
    catalogue = build_catalogue(target, models_dir)
    from api.search import build_index

    demo = measure_build(lambda: build_index(catalogue))
    queries = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)["q"][0] for p in paths[:2000]]
    demo_latency = in_process_latency(demo.pop("index"), queries)
    rng = random.Random(1)
    make, titles, who = synthetic_catalogue(catalogue, SYNTHETIC_TRACKS, rng)
    big = measure_build(make)
    picks = rng.sample(range(SYNTHETIC_TRACKS), 1000)
    big_queries = [misspell(f"{who[i].split(';')[0]} {titles[i]}"[:120], rng) for i in picks]
    big_latency = in_process_latency(big.pop("index"), big_queries)
    target.close()
    shutil.rmtree(work, ignore_errors=True)

    ratio = round_ratios(runs, "search", "healthz")
    results = {
        "concurrency": CONCURRENCY,
        "rounds": ROUNDS,
        "distinct_queries": len(paths),
        "healthz": health,
        "search": search,
        "search_p50_over_healthz_p50": ratio,
        "load_average_before_after": [load_before, load_after],
        "index_demo": {**demo, **demo_latency},
        "index_synthetic": {**big, **big_latency},
    }
    record(
        "search",
        results,
        [
            (
                "runs",
                f"{ROUNDS} rounds of healthz and search; medians over the rounds, ratios within "
                "each round",
            ),
            (
                "/healthz p50 / p99 / req/s (same run)",
                f"{health['p50']:.2f} / {health['p99']:.2f} ms / {health['rps']:.0f}",
            ),
            (
                "/api/search, a different misspelled query every request, p50 / p99 / req/s "
                "(goal p50 ≤ 2× healthz, p99 ≤ 25 ms)",
                f"{search['p50']:.2f} / {search['p99']:.2f} ms / {search['rps']:.0f}",
            ),
            ("search p50 ÷ healthz p50 (goal ≤ 2×)", ratio_text(ratio)),
            ("errors (non-2xx) healthz / search", f"{health['non_2xx']} / {search['non_2xx']}"),
            (
                "machine load average before / after the load runs (2 cores, shared)",
                f"{load_before:.1f} / {load_after:.1f}",
            ),
            (
                f"index build, demo catalogue ({demo['tracks']:,} tracks)",
                f"{demo['seconds']:.1f} s, {demo['retained_mb']:.0f} MB held "
                f"(peak {demo['peak_mb']:.0f} MB, RSS +{demo['rss_growth_mb']:.0f} MB)",
            ),
            (
                "in-process search, demo catalogue, p50 / p99",
                f"{demo_latency['p50_ms']:.2f} / {demo_latency['p99_ms']:.2f} ms",
            ),
            (
                f"index build, synthetic catalogue ({big['tracks']:,} tracks)",
                f"{big['seconds']:.1f} s, {big['retained_mb']:.0f} MB held "
                f"(peak {big['peak_mb']:.0f} MB, RSS +{big['rss_growth_mb']:.0f} MB)",
            ),
            (
                "in-process search, synthetic catalogue, p50 / p99",
                f"{big_latency['p50_ms']:.2f} / {big_latency['p99_ms']:.2f} ms",
            ),
        ],
    )


if __name__ == "__main__":
    main()
