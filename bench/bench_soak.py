"""Benchmark: load soak of gunicorn (production config), concurrency 16, the page's mixed workload.

Issue 7's soak. Starts gunicorn with gunicorn.conf.py (PLOTIFY_PRODUCTION, a SECRET_KEY made at run
time) on a free 127.0.0.1 port, from a copy of the working tree's code, against a temporary SQLite
store loaded with the real demo data and a copy of the trained bundle in models/ (copies, so that a
front-end rebuild or a retraining elsewhere in a shared checkout cannot change them halfway).
Sixteen keep-alive clients then ask, for a warm-up (BENCH_WARMUP, default 10 s) and then for
BENCH_DURATION (default 60 s), what the page asks: the page and its static bundle, playlist,
dataset and catalogue tracks (fresh and revalidated with If-None-Match), predictions for distinct
catalogue tracks and by artist/title text, recommendations for distinct tracks, and malformed or
unknown ids, which must be answered 4xx. The clients are Python threads on http.client, because
wrk cannot time requests per route; they share the machine's 2 cores with the server, so their CPU
and everyone else's is recorded beside the figures. Resident memory of the master and of each
worker is sampled every second.

Exits 1 when any request failed (a status other than the route's expected ones, any 5xx, a socket
error or a timeout), a worker was replaced, or the server logged an error: `make soak` can gate on
it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict

from bench.bench_api import demo_store_env, free_port, start_gunicorn, stop, wait_until_up
from bench.common import ROOT, record

CONCURRENCY = 16
REQUEST_TIMEOUT = 10.0  # seconds; a slower answer counts as a timeout (an error)
SAMPLE_EVERY = 1.0  # seconds between memory samples
BOOT_WAIT = 300  # seconds for the workers to come up
# "Flat" memory: after the warm-up a worker may still fill its bounded caches (2,048 predict answers
# of a few kB, 8 tracks payloads it already holds from the warm-up), i.e. a few MB, and must then
# stop growing. Both bounds apply to every process.
FLAT_GROWTH_MB = 16.0
FLAT_SLOPE_MB_PER_MIN = 5.0
# Another process using more than this many cores on average during the run disturbed it.
DISTURBED_OTHER_CORES = 0.3
UNKNOWN_ID_ALPHABET = string.ascii_letters + string.digits
# The server runs from a copy of the working tree's code, taken at the start: in a checkout shared
# with others, a front-end rebuild midway (it empties static/dist) or a half-saved module would
# otherwise be measured as this soak's errors. Environments, data, tests and secrets stay behind.
NOT_SERVED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".tools",
    "node_modules",
    "instance",
    "models",
    "tests",
    "test-artifacts",
    "bench",
    "frontend",
    ".env",
    ".pytest_cache",
    "__pycache__",
    "*.map",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def seconds(text: str) -> float:
    """'60', '60s', '2m' → seconds.

    BENCH_DURATION is shared with the wrk benchmarks, which say '10s'.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        sys.exit(f"bench_soak: cannot read a duration from {text!r} (say 60, 60s or 1m)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


DURATION = seconds(os.environ.get("BENCH_DURATION", "60"))
WARMUP = seconds(os.environ.get("BENCH_WARMUP", "10"))
# The 60 s soak is recorded as soak.{json,md}; other lengths beside it, never over it.
RESULTS_NAME = "soak" if DURATION == 60 else f"soak-{DURATION:g}s"


# -- the processes: memory and CPU from /proc ------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def children_of(pid: int) -> list[int]:
    """Direct children of pid (this kernel has no /proc/<pid>/task/*/children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    return sorted(found)


def memory_mb(pid: int) -> dict | None:
    """VmRSS and its private anonymous part (where a leak shows) in MB, None once pid is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return None
    kb = lambda name: int(fields.get(name, "0 kB").split()[0])  # noqa: E731
    return {"rss": kb("VmRSS") / 1024, "anon": kb("RssAnon") / 1024}


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by pids (those still alive)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (all cores)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class MemorySampler(threading.Thread):
    """Samples the master's and every worker's memory once a second until stopped."""

    def __init__(self, master: int, started: float):
        super().__init__(daemon=True)
        self.master = master
        # {"t": seconds since started, "master": memory, "workers": {pid: memory}}
        self.samples: list[dict] = []
        self.worker_pids_seen: set[int] = set()
        self.started = started
        self._stopping = threading.Event()

    def sample(self) -> dict:
        workers = {}
        for pid in children_of(self.master):
            memory = memory_mb(pid)
            if memory is not None:
                workers[pid] = memory
        self.worker_pids_seen.update(workers)
        entry = {
            "t": round(time.monotonic() - self.started, 2),
            "master": memory_mb(self.master),
            "workers": workers,
        }
        self.samples.append(entry)
        return entry

    def run(self) -> None:
        while not self._stopping.wait(SAMPLE_EVERY):
            self.sample()

    def stop(self) -> None:
        self._stopping.set()
        self.join()


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def memory_summary(samples: list[dict], measured_from: float, measured_to: float) -> dict:
    """Per process: before (first sample after the warm-up), peak, after (last under load), slope.

    The slope is fitted over the second half of the measured phase, when only a leak still grows.
    """
    # Sorted by time: the explicit before and after samples interleave with the sampler's own.
    measured = sorted(
        (s for s in samples if measured_from <= s["t"] <= measured_to), key=lambda s: s["t"]
    )
    if not measured:
        return {}
    halfway = (measured_from + measured_to) / 2
    series: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for sample in measured:
        if sample["master"]:
            series["master"].append((sample["t"], sample["master"]))
        for pid, memory in sample["workers"].items():
            series[f"worker {pid}"].append((sample["t"], memory))
        if sample["workers"]:
            series["workers total"].append(
                (
                    sample["t"],
                    {
                        key: sum(m[key] for m in sample["workers"].values())
                        for key in ("rss", "anon")
                    },
                )
            )
    summary = {}
    for name, points in series.items():
        second_half = [(t, m) for t, m in points if t >= halfway]
        summary[name] = {
            "samples": len(points),
            "rss_before_mb": round(points[0][1]["rss"], 1),
            "rss_peak_mb": round(max(m["rss"] for _, m in points), 1),
            "rss_after_mb": round(points[-1][1]["rss"], 1),
            "rss_growth_mb": round(points[-1][1]["rss"] - points[0][1]["rss"], 1),
            "anon_before_mb": round(points[0][1]["anon"], 1),
            "anon_after_mb": round(points[-1][1]["anon"], 1),
            "rss_slope_second_half_mb_per_min": round(
                slope_mb_per_min([(t, m["rss"]) for t, m in second_half]), 2
            ),
            "anon_slope_second_half_mb_per_min": round(
                slope_mb_per_min([(t, m["anon"]) for t, m in second_half]), 2
            ),
        }
    return summary


# -- what the clients ask --------------------------------------------------------------------------


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, dict(response.headers), response.read()


def page_assets(base: str) -> list[str]:
    """The static files the page loads: stylesheet, icon and script, and the chunks they import."""
    _, _, html = fetch(base + "/")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode())
    pending = [a for a in assets if a.endswith(".js")]
    while pending:
        script = pending.pop()
        _, headers, body = fetch(base + script, {"Accept-Encoding": "identity"})
        for relative in re.findall(r'["\'](\.{1,2}/[^"\']+\.js)["\']', body.decode()):
            path = urllib.parse.urljoin(script, relative)
            if path not in assets:
                assets.append(path)
                pending.append(path)
    return assets


def unknown_id(rng: random.Random) -> str:
    """A well-formed track id that is not in the store (62^22 ids: a collision is not a concern)."""
    return "".join(rng.choice(UNKNOWN_ID_ALPHABET) for _ in range(22))


class Workload:
    """The weighted routes, each request with the statuses that count as a correct answer."""

    def __init__(self, base: str, database: str):
        from api.folding import fold
        from store import open_store

        target = open_store(database)
        frame = target.read_tracks_frame()
        self.playlist = target.list_playlists()[0]["id"]
        self.dataset = target.list_datasets()[0]["name"]
        playlist_ids = list(target.read_tracks_frame(playlist=self.playlist)["id"])
        # Seeds with stored recommendations that are stored tracks themselves: the seed export has
        # recommendations for 4 tracks the playlist export lacks, which the API rightly calls 404.
        self.stored_recommendation_ids = sorted(target.recommendation_seed_ids() & set(frame["id"]))
        target.close()
        shuffled = frame.sample(frac=1.0, random_state=7)
        ids = list(shuffled["id"])
        # Disjoint pools, walked in order by all clients together, so that every predict and every
        # recommendation asks a track no request has asked before (until a pool wraps round).
        self.predict_ids = ids[: len(ids) // 2]
        self.recommendation_ids = ids[len(ids) // 2 :]
        # Text questions the catalogue answers: the first artist and the title of a track, where
        # both have a searchable form and are short and printable enough for the API's checks.
        self.texts = []
        for artists, name in zip(shuffled["artists"], shuffled["name"]):
            if not (isinstance(artists, str) and isinstance(name, str)):
                continue
            artist = artists.split(";")[0]
            if (
                fold(artist)
                and fold(name)
                and len(artist) <= 200
                and len(name) <= 200
                and artist.isprintable()
                and name.isprintable()
            ):
                self.texts.append((artist, name))
        self.playlist_ids = playlist_ids
        self.playlist_path = "/api/tracks?" + urllib.parse.urlencode({"playlist": self.playlist})
        self.dataset_path = "/api/tracks?" + urllib.parse.urlencode({"dataset": self.dataset})
        self.assets = page_assets(base)
        # ETags the browser would hold: the tracks documents and the static files.
        self.etags = {}
        for path in (self.playlist_path, self.dataset_path, "/api/tracks", *self.assets):
            status, headers, _ = fetch(base + path)
            if status != 200 or "ETag" not in headers:
                raise RuntimeError(f"{path} answered {status} without an ETag")
            self.etags[path] = headers["ETag"]
        self._cursors = {name: itertools.count() for name in ("predict", "text", "recommendation")}
        self.routes = [
            # (name, weight, request maker)
            ("page", 4, lambda rng: ("/", {}, {200})),
            ("static", 5, lambda rng: (rng.choice(self.assets), {}, {200})),
            ("static revalidated", 5, self._static_revalidated),
            ("playlists", 2, lambda rng: ("/api/playlists", {}, {200})),
            ("tracks playlist", 6, lambda rng: (self.playlist_path, {}, {200})),
            ("tracks playlist revalidated", 6, lambda rng: self._revalidated(self.playlist_path)),
            ("tracks dataset revalidated", 3, lambda rng: self._revalidated(self.dataset_path)),
            ("tracks catalogue revalidated", 3, lambda rng: self._revalidated("/api/tracks")),
            # A browser fetches the 4.5 MB catalogue once, then revalidates: rarely, but it must
            # hold.
            ("tracks dataset full", 0.3, lambda rng: (self.dataset_path, {}, {200})),
            ("tracks catalogue full", 0.3, lambda rng: ("/api/tracks", {}, {200})),
            ("predict track_id", 18, self._predict_by_id),
            ("predict text", 14, self._predict_by_text),
            ("predict text partial", 2, self._predict_by_partial_text),
            ("recommendations", 18, self._recommendations),
            ("bad or unknown ids (4xx)", 6, self._bad_request),
        ]
        self.names = [name for name, _, _ in self.routes]
        self.weights = list(itertools.accumulate(weight for _, weight, _ in self.routes))

    def next_request(self, rng: random.Random) -> tuple[str, str, dict, set[int]]:
        name, _, make = rng.choices(self.routes, cum_weights=self.weights)[0]
        path, headers, expected = make(rng)
        return name, path, headers, expected

    def _next(self, cursor: str, pool: list):
        return pool[next(self._cursors[cursor]) % len(pool)]

    def _revalidated(self, path: str):
        return path, {"If-None-Match": self.etags[path]}, {304}

    def _static_revalidated(self, rng):
        return self._revalidated(rng.choice(self.assets))

    def _predict_by_id(self, rng):
        return f"/api/predict?track_id={self._next('predict', self.predict_ids)}", {}, {200}

    def _predict_by_text(self, rng):
        artist, title = self._next("text", self.texts)
        # One question in five gives the title alone, as someone who does not know the artist would.
        query = {"track": title} if rng.random() < 0.2 else {"artist": artist, "track": title}
        return "/api/predict?" + urllib.parse.urlencode(query), {}, {200}

    def _predict_by_partial_text(self, rng):
        # Part of a title: no exact match, so the catalogue scans its titles for the text.
        artist, title = self._next("text", self.texts)
        words = title.split()
        part = max(words, key=len) if words else title
        return (
            "/api/predict?" + urllib.parse.urlencode({"artist": artist, "track": part}),
            {},
            {200},
        )

    def _recommendations(self, rng):
        # A third of them are playlist tracks with stored recommendations, the rest nearest tracks.
        if rng.random() < 1 / 3:
            track_id = rng.choice(self.stored_recommendation_ids or self.playlist_ids)
        else:
            track_id = self._next("recommendation", self.recommendation_ids)
        return f"/api/tracks/{track_id}/recommendations", {}, {200}

    def _bad_request(self, rng):
        unknown = unknown_id(rng)
        known = rng.choice(self.predict_ids)
        cases = [
            ("/api/tracks/not-a-track-id/recommendations", {400}),
            (f"/api/tracks/{unknown}/recommendations", {404}),
            (f"/api/tracks/{unknown}", {404}),
            ("/api/predict", {400}),
            ("/api/predict?track_id=abc", {400}),
            (f"/api/predict?track_id={known}&top_k=999", {400}),
            (f"/api/predict?track_id={unknown}", {404}),
            (f"/api/predict?artist=zzqxv&track={unknown}", {404}),
            (f"/api/tracks?playlist={unknown}", {404}),
            ("/api/tracks?playlist=a&dataset=b", {400}),
            ("/api/no-such-endpoint", {404}),
        ]
        path, expected = rng.choice(cases)
        return path, {}, expected


# -- the clients -----------------------------------------------------------------------------------


class Client(threading.Thread):
    """One keep-alive connection asking one request after another until the deadline."""

    def __init__(
        self, number: int, host: str, port: int, workload: Workload, started: float, deadline: float
    ):
        super().__init__(daemon=True)
        self.host, self.port, self.workload = host, port, workload
        self.rng = random.Random(number)
        self.started, self.deadline = started, deadline
        # (seconds since start, route, status or error kind, latency seconds, expected?)
        self.results: list[tuple[float, str, object, float, bool]] = []

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)

    def run(self) -> None:
        connection = self.connect()
        while True:
            began = time.monotonic()
            if began >= self.deadline:
                break
            route, path, headers, expected = self.workload.next_request(self.rng)
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
                response = connection.getresponse()
                response.read()
                outcome, correct = response.status, response.status in expected
            except TimeoutError:
                outcome, correct = "timeout", False
            except (OSError, http.client.HTTPException) as exc:
                outcome, correct = f"socket: {type(exc).__name__}", False
            elapsed = time.monotonic() - began
            if not isinstance(outcome, int):
                connection.close()
                connection = self.connect()
            self.results.append((began - self.started, route, outcome, elapsed, correct))
        connection.close()


def percentiles_ms(latencies: list[float]) -> dict:
    """Nearest-rank p50/p95/p99 and the maximum, in milliseconds."""
    if not latencies:
        return {}
    ordered = sorted(latencies)

    def rank(p):
        return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))] * 1000

    return {
        "p50": round(rank(50), 2),
        "p95": round(rank(95), 2),
        "p99": round(rank(99), 2),
        "max": round(ordered[-1] * 1000, 2),
    }


def request_summary(results: list, names: list[str]) -> dict:
    """Counts, statuses, failures and latency percentiles, overall and per route."""
    per_route = {
        name: {"latencies": [], "statuses": Counter(), "failures": Counter()} for name in names
    }
    for _, route, outcome, elapsed, correct in results:
        entry = per_route[route]
        entry["latencies"].append(elapsed)
        entry["statuses"][str(outcome)] += 1
        if not correct:
            entry["failures"][str(outcome)] += 1
    routes = {}
    for name, entry in per_route.items():
        routes[name] = {
            "requests": len(entry["latencies"]),
            "statuses": dict(entry["statuses"]),
            "failures": dict(entry["failures"]),
            **percentiles_ms(entry["latencies"]),
        }
    failures = Counter()
    for entry in per_route.values():
        failures.update(entry["failures"])
    statuses = [outcome for _, _, outcome, _, _ in results if isinstance(outcome, int)]
    return {
        "requests": len(results),
        "failures": sum(failures.values()),
        "failures_by_kind": dict(failures),
        "status_5xx": sum(1 for s in statuses if s >= 500),
        "socket_errors": sum(1 for _, _, o, _, _ in results if str(o).startswith("socket")),
        "timeouts": sum(1 for _, _, o, _, _ in results if o == "timeout"),
        "expected_4xx": sum(
            1 for _, _, o, _, c in results if c and isinstance(o, int) and o >= 400
        ),
        "latency_ms": percentiles_ms([elapsed for _, _, _, elapsed, _ in results]),
        "routes": routes,
    }


def server_log_problems(path: str) -> list[str]:
    """Lines of the gunicorn log that say something went wrong (tracebacks, errors, timeouts)."""
    with open(path, errors="replace") as handle:
        return [
            line.rstrip()
            for line in handle
            if re.search(
                r"Traceback|\[ERROR\]|\[CRITICAL\]|WORKER TIMEOUT|Exception|"
                r"Worker \(pid:\d+\) was sent|Booting worker",
                line,
            )
        ]


def code_snapshot(work: str) -> tuple[str, dict]:
    """A copy of the code the server runs, and which commit (and how many changed files) it is."""
    code = os.path.join(work, "code")
    shutil.copytree(ROOT, code, ignore=NOT_SERVED)

    def git(*args):
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()

    changed = [line for line in git("status", "--porcelain").splitlines() if line]
    return code, {"commit": git("rev-parse", "HEAD"), "uncommitted_files": len(changed)}


def soak(models: str, work: str) -> int:
    """Run the soak with a temporary store in work, record its results, return the error count."""
    load_at_start = os.getloadavg()
    code, code_version = code_snapshot(work)
    models_copy = os.path.join(work, "models")
    shutil.copytree(models, models_copy, ignore=shutil.ignore_patterns("report", "*.png"))
    # Keep a real key from the environment; otherwise a new one for this run, never a fixed one.
    secret = os.environ.get("SECRET_KEY", "")
    if secret in ("", "dev", "change-me"):
        secret = os.urandom(32).hex()
    env = demo_store_env(
        work,
        models_copy,
        INSTANCE_PATH=work,
        SECRET_KEY=secret,
        PLOTIFY_PRODUCTION="1",
        # No live look-ups: a catalogue miss must be a 404, not a call to Spotify.
        SPOTIFY_CLIENT_ID="",
        SPOTIFY_CLIENT_SECRET="",
    )
    env.pop("GUNICORN_ACCESS_LOG", None)  # 16 clients × 60 s of access lines would only slow it
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(work, "gunicorn.log")
    log = open(log_path, "w")
    server = start_gunicorn(
        port, env, log, cwd=code, control_socket=os.path.join(work, "gunicorn.ctl")
    )
    try:
        # Workers build the catalogue and load the genre model before serving.
        wait_until_up(base + "/healthz", seconds=BOOT_WAIT)
        _, _, health = fetch(base + "/healthz")
        if json.loads(health)["model"]["status"] != "ok":
            raise RuntimeError(f"the server is up without its model: {health.decode()}")
        workload = Workload(base, env["DATABASE"])
        workers_at_start = children_of(server.pid)
        started = time.monotonic()
        sampler = MemorySampler(server.pid, started)
        sampler.sample()
        measured_from = started + WARMUP
        deadline = measured_from + DURATION
        clients = [
            Client(n, "127.0.0.1", port, workload, started, deadline) for n in range(CONCURRENCY)
        ]
        sampler.start()
        for client in clients:
            client.start()
        # CPU is counted over the measured phase only.
        time.sleep(max(0.0, measured_from - time.monotonic()))
        before_t = sampler.sample()["t"]  # "before": the warm-up is over
        busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
        cpu_before = cpu_seconds([server.pid, *children_of(server.pid)])
        for client in clients:
            client.join(timeout=DURATION + WARMUP + 2 * REQUEST_TIMEOUT + 30)
        stuck = sum(client.is_alive() for client in clients)
        after_t = sampler.sample()["t"]  # "after": the moment the load stops
        busy_after, own_after = machine_busy_seconds(), own_cpu_seconds()
        cpu_after = cpu_seconds([server.pid, *children_of(server.pid)])
        measured_seconds = time.monotonic() - measured_from
        time.sleep(3)
        idle_sample = sampler.sample()  # a few seconds later, idle
        sampler.stop()
        load_at_end = os.getloadavg()
        # Read before stopping, so that the shutdown's own messages are not taken for problems.
        log.flush()
        log_problems = server_log_problems(log_path)
    except BaseException:
        log.flush()
        with open(log_path, errors="replace") as handle:
            print(
                "gunicorn log (last lines):\n", *handle.readlines()[-30:], sep="", file=sys.stderr
            )
        # Slow or stuck: a worker whose CPU time still grows is slow, one whose does not is stuck.
        workers = children_of(server.pid)
        print(
            "workers (pid: CPU s, state):",
            {pid: (cpu_seconds([pid]), _stat_fields(pid)[0]) for pid in workers},
            file=sys.stderr,
        )
        raise
    finally:
        stop(server)
        log.close()

    results_all = [r for client in clients for r in client.results]
    warm = [r for r in results_all if r[0] < WARMUP]
    measured = [r for r in results_all if r[0] >= WARMUP]
    names = workload.names
    summary = request_summary(measured, names)
    warm_summary = request_summary(warm, names)
    memory = memory_summary(sampler.samples, before_t, after_t)
    workers_replaced = sorted(sampler.worker_pids_seen - set(workers_at_start))
    # Everyone else's CPU: the machine's busy time minus the server's and this process's.
    server_cpu = cpu_after - cpu_before
    own_cpu = own_after - own_before
    other_cpu = (busy_after - busy_before) - server_cpu - own_cpu
    machine = {
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in load_at_start],
        "loadavg_at_end": [round(x, 2) for x in load_at_end],
        "server_cores": round(server_cpu / measured_seconds, 2),
        "load_generator_cores": round(own_cpu / measured_seconds, 2),
        "other_processes_cores": round(other_cpu / measured_seconds, 2),
    }
    machine["disturbed"] = (
        machine["other_processes_cores"] > DISTURBED_OTHER_CORES or load_at_start[0] > 1.0
    )
    process_memory = {k: v for k, v in memory.items() if k != "workers total"}
    flat = all(
        v["rss_growth_mb"] <= FLAT_GROWTH_MB
        and v["rss_slope_second_half_mb_per_min"] <= FLAT_SLOPE_MB_PER_MIN
        for v in process_memory.values()
    )
    errors = (
        summary["failures"]
        + warm_summary["failures"]
        + len(workers_replaced)
        + stuck
        + sum(1 for line in log_problems if "Booting worker" not in line)
    )
    results = {
        "config": {
            "duration_s": DURATION,
            "warmup_s": WARMUP,
            "concurrency": CONCURRENCY,
            "request_timeout_s": REQUEST_TIMEOUT,
            "workers": len(workers_at_start),
            "worker_class": "gthread",
            "threads_per_worker": int(env.get("GUNICORN_THREADS", 4)),
            "gunicorn_config": "gunicorn.conf.py",
            "store": "SQLite, real demo data",
            "code": {
                **code_version,
                "served_from": "a copy of the working tree taken at the start",
            },
            "assets": workload.assets,
            "playlist": workload.playlist,
            "dataset": workload.dataset,
            "distinct_predict_ids": len(workload.predict_ids),
            "distinct_texts": len(workload.texts),
        },
        "machine": machine,
        "measured_seconds": round(measured_seconds, 2),
        "requests_per_second": round(summary["requests"] / measured_seconds, 1),
        "measured": summary,
        "warmup": {
            k: warm_summary[k]
            for k in (
                "requests",
                "failures",
                "failures_by_kind",
                "status_5xx",
                "socket_errors",
                "timeouts",
            )
        },
        "errors": errors,
        "workers_replaced": workers_replaced,
        "clients_stuck": stuck,
        "server_log_problems": log_problems[:20],
        "memory": memory,
        "memory_idle_after_3s": idle_sample,
        "memory_flat": flat,
        "memory_flat_bounds": {
            "growth_mb": FLAT_GROWTH_MB,
            "slope_mb_per_min": FLAT_SLOPE_MB_PER_MIN,
        },
        "memory_series": [
            {
                "t": s["t"],
                "master_rss": s["master"] and round(s["master"]["rss"], 1),
                "workers_rss": {str(p): round(m["rss"], 1) for p, m in s["workers"].items()},
            }
            for s in sampler.samples
        ],
    }
    latency = summary["latency_ms"]
    table = [
        (
            "run",
            f"{measured_seconds:.0f} s measured after a {WARMUP:.0f} s warm-up, concurrency "
            f"{CONCURRENCY}, {len(workers_at_start)} gthread workers × "
            f"{results['config']['threads_per_worker']} threads, 127.0.0.1; code "
            f"{code_version['commit'][:7]} + {code_version['uncommitted_files']} uncommitted files",
        ),
        (
            "machine (load average at start; cores used during the run by server / "
            "load generator / others)",
            f"{load_at_start[0]:.2f} {load_at_start[1]:.2f} {load_at_start[2]:.2f}; "
            f"{machine['server_cores']} / {machine['load_generator_cores']} / "
            f"{machine['other_processes_cores']}"
            + (" — disturbed by other work" if machine["disturbed"] else " — quiet"),
        ),
        ("requests (req/s)", f"{summary['requests']} ({results['requests_per_second']})"),
        (
            "errors (goal 0): unexpected statuses / 5xx / socket / timeouts / workers replaced / "
            "server log",
            f"{summary['failures'] + warm_summary['failures']} / "
            f"{summary['status_5xx'] + warm_summary['status_5xx']} / "
            f"{summary['socket_errors'] + warm_summary['socket_errors']} / "
            f"{summary['timeouts'] + warm_summary['timeouts']} / {len(workers_replaced)} / "
            f"{len([line for line in log_problems if 'Booting worker' not in line])}",
        ),
        ("expected 4xx (bad or unknown ids)", str(summary["expected_4xx"])),
        (
            "latency p50 / p95 / p99 / max",
            f"{latency.get('p50')} / {latency.get('p95')} / "
            f"{latency.get('p99')} / {latency.get('max')} ms",
        ),
    ]
    for name, route in summary["routes"].items():
        if route["requests"]:
            statuses = ", ".join(f"{s}×{n}" for s, n in sorted(route["statuses"].items()))
            table.append(
                (
                    f"· {name}",
                    f"{route['requests']} req, p50 {route['p50']} / p95 "
                    f"{route['p95']} / p99 {route['p99']} ms ({statuses})",
                )
            )
    for name, entry in memory.items():
        table.append(
            (
                f"RSS {name}: before / peak / after (slope, second half)",
                f"{entry['rss_before_mb']} / {entry['rss_peak_mb']} / {entry['rss_after_mb']} MB "
                f"({entry['rss_slope_second_half_mb_per_min']:+.2f} MB/min; private "
                f"{entry['anon_before_mb']} → {entry['anon_after_mb']} MB)",
            )
        )
    table.append(
        (
            f"memory flat (every process grows ≤ {FLAT_GROWTH_MB:.0f} MB and ≤ "
            f"{FLAT_SLOPE_MB_PER_MIN:.0f} MB/min)",
            "yes" if flat else "NO",
        )
    )
    record(RESULTS_NAME, results, table)
    return errors


def main() -> None:
    models = os.environ.get("MODELS_DIR") or os.path.join(ROOT, "models")
    if not os.path.isfile(os.path.join(models, "meta.json")):
        # Training takes about two minutes of both cores, which would disturb nothing here but is
        # not what a soak measures: the bundle is made once, by the make target that owns it.
        sys.exit("bench_soak needs a trained genre model bundle in models/: run `make models`")
    work = tempfile.mkdtemp(prefix="bench-soak-")
    try:
        errors = soak(models, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if errors:
        sys.exit(f"bench_soak: {errors} errors (see bench/results/{RESULTS_NAME}.json)")


if __name__ == "__main__":
    main()
