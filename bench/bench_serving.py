"""Benchmark: the serving footprint before and after issue 13, both measured in the same run.

Runs gunicorn with each side's own gunicorn.conf.py (production: 2 workers × 4 threads) on
127.0.0.1: "before" is the code of the commit before ml/bundle.py existed (or BENCH_BASELINE),
extracted with `git archive` into a temporary folder; "after" is a copy of the working tree.
The after side serves the trained bundle in models/; the baseline trains its own with its own
code (it reads one plain network, not today's ensemble). Both serve copies of one SQLite store
loaded with the real demo data.

For each side: worker start-up (fork to the end of post_worker_init, logged by a wrapper around
the side's own config), a mixed load, then every worker's RSS and whether TensorFlow is in its
memory map; the bench_api figures (wrk: /healthz, cached and distinct-track predict, catalogue
payload size); and the largest request latency while `flask etl import` stores 10,000 new tracks.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pandas as pd

from bench.bench_api import (
    PREDICT_QUERY,
    demo_store_env,
    distinct_paths_script,
    free_port,
    start_gunicorn,
    stop,
    wrk,
)
from bench.common import DATASET_CSV, ROOT, record

LOAD_SECONDS = 20  # mixed load before the memory is read
LOAD_THREADS = 6
IMPORT_ROWS = 10_000
SETTLE_SECONDS = 20  # probing continues this long after the import, while workers catch up
BOOT_WAIT = 300
WRAPPER = """
# The side's own production config, with the worker's readiness timed on top.
exec(open("gunicorn.conf.py").read())
_plotify_init = post_worker_init


def post_worker_init(worker):
    _plotify_init(worker)
    with open("/proc/self/stat") as handle:
        started = int(handle.read().rsplit(")", 1)[1].split()[19]) / {ticks}
    with open("/proc/uptime") as handle:
        now = float(handle.read().split()[0])
    worker.log.info("bench-serving: worker %d ready %.3f s after fork", worker.pid, now - started)
"""


def baseline_commit() -> str:
    chosen = os.environ.get("BENCH_BASELINE")
    if chosen:
        return chosen
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "ml/bundle.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"{added[-1]}~1" if added else "HEAD"


def code_of(side: str, work: str, commit: str) -> str:
    """A folder with the side's code: the working tree copied, or the baseline commit extracted."""
    target = os.path.join(work, side)
    if side == "after":
        from bench.bench_soak import NOT_SERVED

        shutil.copytree(ROOT, target, ignore=NOT_SERVED)
    else:
        os.makedirs(target)
        archive = subprocess.run(
            ["git", "archive", commit], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    with open(os.path.join(target, "bench_gunicorn.conf.py"), "w") as handle:
        handle.write(WRAPPER.format(ticks=os.sysconf("SC_CLK_TCK")))
    return target


def models_for(side: str, work: str, models: str, code: str, env: dict) -> str:
    """The side's models folder: a copy of models/; the baseline trains its own genre bundle.

    The baseline reads one plain network only, not today's ensemble, so it is given the bundle
    its own `flask ml train` makes (clusters stay the copied ones).
    """
    target = os.path.join(work, f"models-{side}")
    shutil.copytree(models, target, ignore=shutil.ignore_patterns("report", "*.png"))
    if side == "before":
        print("before: training the baseline's own genre bundle (a few minutes) …", flush=True)
        log = os.path.join(work, "train-before.log")
        with open(log, "w") as handle:
            done = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "ml", "train"]
                + ["--models-dir", target],
                cwd=code,
                env=dict(env, MODELS_DIR=target, PLOTIFY_PRODUCTION=""),
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        if done.returncode:
            with open(log) as handle:
                sys.exit(f"the baseline's training failed:\n{handle.read()[-3000:]}")
    return target


def new_tracks_csv(work: str, existing: set[str]) -> tuple[str, list[str]]:
    """10,000 dataset rows under ids the store lacks (reversed ids), written to a temporary CSV."""
    frame = pd.read_csv(DATASET_CSV, index_col=0).drop_duplicates("track_id")
    frame = frame.sample(IMPORT_ROWS, random_state=1)
    frame["track_id"] = frame["track_id"].str[::-1]
    frame = frame[~frame["track_id"].isin(existing)]
    path = os.path.join(work, "new-tracks.csv")
    frame.to_csv(path)
    return path, list(frame["track_id"])


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Prober(threading.Thread):
    """Asks for distinct tracks' predictions and details until stopped, timing every request."""

    def __init__(self, base: str, ids: list[str], offset: int):
        super().__init__(daemon=True)
        self.base, self.ids, self.offset = base, ids, offset
        self.results: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self.stopping = threading.Event()

    def run(self) -> None:
        i = self.offset
        while not self.stopping.is_set():
            track = self.ids[i % len(self.ids)]
            path = f"/api/predict?track_id={track}" if i % 2 else f"/api/tracks/{track}"
            began = time.monotonic()
            try:
                status, _ = get(self.base + path, timeout=180)
            except OSError:
                status = 0
            self.results.append((began, time.monotonic() - began, status))
            i += 7


def workers_of(master: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == master:
                        found.append(int(entry))
            except (OSError, ValueError):
                continue
    return sorted(found)


def worker_memory(pid: int) -> dict:
    with open(f"/proc/{pid}/status") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    with open(f"/proc/{pid}/maps") as handle:
        tensorflow = sum(1 for line in handle if "tensorflow" in line)
    # PSS shares each page among the processes mapping it: what a worker really adds, where RSS
    # also counts every page it shares with the master and the other worker.
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        rollup = dict(line.split(":", 1) for line in handle if ":" in line)
    kb = lambda fields, name: int(fields[name].split()[0]) / 1024  # noqa: E731
    return {
        "rss_mb": round(kb(fields, "VmRSS"), 1),
        "pss_mb": round(kb(rollup, "Pss"), 1),
        "private_mb": round(kb(rollup, "Private_Clean") + kb(rollup, "Private_Dirty"), 1),
        "tensorflow_mappings": tensorflow,
    }


def ready_times(log_path: str) -> dict[int, float]:
    times = {}
    with open(log_path, errors="replace") as handle:
        for line in handle:
            if "bench-serving: worker" in line:
                words = line.split("bench-serving: worker ")[1].split()
                times[int(words[0])] = float(words[2])
    return times


def serve(
    side: str, code: str, env: dict, work: str, ids: list[str], new_csv: str, new_ids: list[str]
) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(work, f"gunicorn-{side}.log")
    log = open(log_path, "w")
    started = time.monotonic()
    server = start_gunicorn(
        port,
        env,
        log,
        config="bench_gunicorn.conf.py",
        cwd=code,
        control_socket=os.path.join(work, f"{side}.ctl"),
    )
    try:
        while len(ready_times(log_path)) < 2:
            if time.monotonic() - started > BOOT_WAIT or server.poll() is not None:
                raise RuntimeError(f"{side}: workers did not come up (see {log_path})")
            time.sleep(0.2)
        boot = ready_times(log_path)
        status, body = get(base + "/healthz")
        if status != 200 or json.loads(body)["model"]["status"] != "ok":
            raise RuntimeError(f"{side}: served without its model: {body[:300]!r}")
        # A mixed load: distinct predictions and details, text predictions, catalogue payloads.
        probers = [Prober(base, ids, n) for n in range(LOAD_THREADS)]
        for prober in probers:
            prober.start()
        for path in ("/api/tracks", PREDICT_QUERY, "/api/playlists") * 3:
            get(base + path, timeout=120)
        time.sleep(LOAD_SECONDS)
        for prober in probers:
            prober.stopping.set()
            prober.join()
        load_requests = sum(len(p.results) for p in probers)
        load_errors = sum(1 for p in probers for _, _, s in p.results if s != 200)
        memory = {pid: worker_memory(pid) for pid in workers_of(server.pid)}
        master = worker_memory(server.pid)

        packed = get(base + "/api/tracks")[1]
        figures = {
            "healthz": wrk(base + "/healthz"),
            "predict": wrk(base + PREDICT_QUERY),
            "predict_distinct_tracks": wrk(
                base, script=distinct_paths_script(work, env["DATABASE"])
            ),
        }
        figures["catalogue_tracks_gzip_bytes"] = len(packed)
        figures["catalogue_tracks_json_bytes"] = len(gzip.decompress(packed))

        # New data while serving: requests are timed from the import's start until the last
        # worker has caught up (the new tracks answer) or SETTLE_SECONDS after it ended.
        probers = [Prober(base, ids, n) for n in range(4)]
        for prober in probers:
            prober.start()
        time.sleep(2)
        import_began = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "etl", "import", new_csv],
            cwd=code,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        import_ended = time.monotonic()
        caught_up = None
        while time.monotonic() - import_ended < SETTLE_SECONDS + 60:
            try:
                statuses = [
                    get(base + f"/api/tracks/{new_ids[-1]}", timeout=180)[0] for _ in range(6)
                ]
            except OSError:  # a request that timed out: not caught up yet
                statuses = []
            if statuses and all(s == 200 for s in statuses):
                caught_up = time.monotonic() - import_ended
                break
            time.sleep(0.5)
        time.sleep(max(0.0, SETTLE_SECONDS - (time.monotonic() - import_ended)))
        for prober in probers:
            prober.stopping.set()
            prober.join()
        during = sorted(
            seconds for p in probers for began, seconds, _ in p.results if began >= import_began
        )
        quiet = sorted(
            seconds for p in probers for began, seconds, _ in p.results if began < import_began
        )
        errors = sum(1 for p in probers for _, _, s in p.results if s != 200)
    finally:
        stop(server)
        log.close()
    rss = [m["rss_mb"] for m in memory.values()]
    return {
        "worker_start_s": sorted(boot.values()),
        "workers": memory,
        "worker_rss_max_mb": max(rss),
        "master": master,
        "worker_pss_max_mb": max(m["pss_mb"] for m in memory.values()),
        "server_pss_total_mb": round(master["pss_mb"] + sum(m["pss_mb"] for m in memory.values())),
        "tensorflow_in_any_worker": any(m["tensorflow_mappings"] for m in memory.values()),
        "mixed_load_requests": load_requests,
        "mixed_load_errors": load_errors,
        **figures,
        "import": {
            "rows": len(new_ids),
            "seconds": round(import_ended - import_began, 1),
            "new_tracks_served_after_s": caught_up and round(caught_up, 1),
            "requests": len(during),
            "errors": errors,
            "max_ms": round(during[-1] * 1000, 1) if during else None,
            "p99_ms": round(during[int(0.99 * (len(during) - 1))] * 1000, 1) if during else None,
            "max_ms_before_import": round(quiet[-1] * 1000, 1) if quiet else None,
        },
    }


def main() -> None:
    models = os.environ.get("MODELS_DIR") or os.path.join(ROOT, "models")
    if not os.path.isfile(os.path.join(models, "meta.json")):
        sys.exit("bench_serving needs a trained genre model bundle in models/: run `make models`")
    commit = baseline_commit()
    work = tempfile.mkdtemp(prefix="bench-serving-")
    try:
        env = demo_store_env(
            work,
            models,
            INSTANCE_PATH=work,
            PLOTIFY_PRODUCTION="1",
            SPOTIFY_CLIENT_ID="",
            SPOTIFY_CLIENT_SECRET="",
        )
        from store import open_store

        ids = list(
            open_store(env["DATABASE"]).read_tracks_frame()["id"].sample(40000, random_state=3)
        )
        new_csv, new_ids = new_tracks_csv(work, set(ids))
        sides = {}
        for side in ("before", "after"):
            database = os.path.join(work, f"{side}.sqlite3")
            shutil.copyfile(env["DATABASE"], database)
            code = code_of(side, work, commit)
            side_env = dict(env, DATABASE=database)
            side_env["MODELS_DIR"] = models_for(side, work, models, code, side_env)
            sides[side] = serve(side, code, side_env, work, ids, new_csv, new_ids)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    before, after = sides["before"], sides["after"]
    revision = subprocess.run(
        ["git", "rev-parse", "--short", commit], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()

    def pair(pick, fmt="{:.2f}"):
        return f"{fmt.format(pick(before))} → {fmt.format(pick(after))}"

    def ratio(side, name):
        return side[name]["p50"] / side["healthz"]["p50"]

    results = {
        "baseline_commit": revision,
        "load_seconds": LOAD_SECONDS,
        **sides,
        "after_over_before": {
            "worker_rss_max": after["worker_rss_max_mb"] / before["worker_rss_max_mb"],
            "worker_start_max": max(after["worker_start_s"]) / max(before["worker_start_s"]),
            "import_max_latency": after["import"]["max_ms"] / before["import"]["max_ms"],
        },
    }
    record(
        "serving",
        results,
        [
            (
                "sides",
                f"before = {revision} (git archive), after = working tree; gunicorn.conf.py of "
                "each (2 workers × 4 threads), same bundle and store",
            ),
            (
                "worker RSS after warm-up and mixed load, max (goal ≤ 350 MB)",
                pair(lambda s: s["worker_rss_max_mb"], "{:.0f} MB"),
            ),
            (
                "worker PSS (its share of pages, shared ones divided), max",
                pair(lambda s: s["worker_pss_max_mb"], "{:.0f} MB"),
            ),
            (
                "master + workers PSS: the server's memory",
                pair(lambda s: s["server_pss_total_mb"], "{:.0f} MB"),
            ),
            (
                "TensorFlow in a worker's memory map",
                pair(lambda s: s["tensorflow_in_any_worker"], "{}"),
            ),
            (
                "worker start-up, slowest (goal ≤ 3 s)",
                pair(lambda s: max(s["worker_start_s"]), "{:.1f} s"),
            ),
            ("mixed-load errors", pair(lambda s: s["mixed_load_errors"], "{}")),
            ("/healthz p50", pair(lambda s: s["healthz"]["p50"], "{:.2f} ms")),
            ("predict (cached) p50 ÷ healthz p50", pair(lambda s: ratio(s, "predict"), "{:.2f}×")),
            (
                "predict, distinct tracks, p50 ÷ healthz p50 (goal ≤ 2×)",
                pair(lambda s: ratio(s, "predict_distinct_tracks"), "{:.2f}×"),
            ),
            (
                "predict, distinct tracks, p50 / p99",
                pair(
                    lambda s: (
                        s["predict_distinct_tracks"]["p50"],
                        s["predict_distinct_tracks"]["p99"],
                    ),
                    "{0[0]:.2f} / {0[1]:.2f} ms",
                ),
            ),
            (
                "catalogue /api/tracks gzipped (goal ≤ 3 MB)",
                pair(lambda s: s["catalogue_tracks_gzip_bytes"] / 1e6, "{:.2f} MB"),
            ),
            (
                f"largest request latency while importing {IMPORT_ROWS:,} new tracks",
                pair(lambda s: s["import"]["max_ms"], "{:.0f} ms"),
            ),
            (
                "… p99 during the import / largest before it",
                pair(
                    lambda s: (s["import"]["p99_ms"], s["import"]["max_ms_before_import"]),
                    "{0[0]:.0f} / {0[1]:.0f} ms",
                ),
            ),
            (
                "… new tracks served by every worker, seconds after the import",
                pair(lambda s: s["import"]["new_tracks_served_after_s"], "{}"),
            ),
            ("… request errors during the import", pair(lambda s: s["import"]["errors"], "{}")),
        ],
    )


if __name__ == "__main__":
    main()
