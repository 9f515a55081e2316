"""Benchmark: API under gunicorn with wrk — predict (catalogue hit) vs /healthz, and the seed's way.

Starts gunicorn with the production config on 127.0.0.1 against a temporary store loaded with the
real demo data and the trained model in models/, drives it with wrk (Debian package) at
concurrency 8 for a bounded time, and beside it a one-route app that loads the Keras model on every
request, as the seed did. Also records the catalogue tracks payload size and time.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.common import ROOT, SHARED_DATA, record

DURATION = os.environ.get("BENCH_DURATION", "10s")
# Each measure is run this many times, interleaved with the others (see interleaved_rounds).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONCURRENCY = 8
PREDICT_QUERY = "/api/predict?artist=Gen%20Hoshino&track=Comedy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status in (200, 503):
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


def demo_store_env(work: str, models_dir: str, **extra: str) -> dict:
    """The app's environment on a new SQLite store in work, loaded with the real demo data.

    extra adds or overrides variables (INSTANCE_PATH, a SECRET_KEY …) for both the load and the
    server started with the returned environment.
    """
    env = dict(
        os.environ,
        DATABASE=os.path.join(work, "bench.sqlite3"),
        MODELS_DIR=models_dir,
        SECRET_KEY=os.urandom(16).hex(),
        MONGODB_URI="",
        TF_CPP_MIN_LOG_LEVEL="3",
        DEMO_DATA_DIR=SHARED_DATA,
    )
    env.update(extra)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "etl", "demo"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def distinct_paths_script(directory: str, database: str, count: int = 40000) -> str:
    """A wrk Lua script asking to predict a different catalogue track on every request."""
    from store import open_store

    ids = open_store(database).read_tracks_frame()["id"].sample(count, random_state=0)
    return paths_script(directory, [f"/api/predict?track_id={t}" for t in ids], "distinct")


def paths_script(directory: str, paths: list[str], name: str) -> str:
    """A wrk Lua script walking the paths, each of wrk's two threads from its own half.

    The requests are formatted once, when a thread starts: formatting one per request doubled
    wrk's own CPU per request (70 µs against 30 for a fixed path), taken from the server it
    measures on these two cores.
    """
    script = os.path.join(directory, f"{name}.lua")
    quoted = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(
            f"paths = {{\n{quoted}\n}}\ncounter = 0\n"
            "setup = function(thread) thread:set('offset', counter) counter = counter + 1 end\n"
            "init = function(args)\n"
            "  formatted = {}\n"
            "  for k, path in ipairs(paths) do formatted[k] = wrk.format('GET', path) end\n"
            f"  i = offset * {len(paths) // 2}\n"
            "end\n"
            "request = function() i = i + 1\n"
            "  return formatted[(i % #formatted) + 1] end\n"
        )
    return script


def wrk(
    url: str, duration: str = DURATION, connections: int = CONCURRENCY, script: str | None = None
) -> dict:
    """Run wrk and parse its latency distribution (ms) and throughput."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    output = subprocess.run(
        command + [url], capture_output=True, text=True, check=True, timeout=600
    ).stdout

    def to_ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    percentiles = {
        f"p{p}": to_ms(v, u)
        for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        **percentiles,
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def interleaved_rounds(
    measures: dict[str, tuple[str, str | None]], rounds: int = ROUNDS, duration: str = DURATION
) -> dict[str, list[dict]]:
    """wrk over each (url, script) measure in turn, `rounds` times over: each measure's runs.

    On these shared 2-core machines the same server's /healthz median moved between 1.3 and
    1.9 ms from one run to the next at the same throughput, so a ratio of two medians measured
    once each says more about when they ran than about the routes. Ratios are therefore taken
    within a round (adjacent runs) and their median is reported, with the range.
    """
    runs: dict[str, list[dict]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, (url, script) in measures.items():
            runs[name].append(wrk(url, duration=duration, script=script))
    return runs


def median_run(runs: list[dict]) -> dict:
    """Every figure of a measure's runs as its median; errors summed over the runs."""
    summary = {
        key: statistics.median(run[key] for run in runs)
        for key in ("p50", "p75", "p90", "p99", "rps")
    }
    summary.update(
        requests=sum(run["requests"] for run in runs),
        non_2xx=sum(run["non_2xx"] for run in runs),
        socket_errors="; ".join(run["socket_errors"] for run in runs if run["socket_errors"]),
        runs=runs,
    )
    return summary


def round_ratios(runs: dict[str, list[dict]], name: str, baseline: str) -> dict:
    """The p50 of one measure over the baseline's in each round: median, lowest, highest."""
    ratios = [a["p50"] / b["p50"] for a, b in zip(runs[name], runs[baseline])]
    return {"median": statistics.median(ratios), "low": min(ratios), "high": max(ratios)}


def ratio_text(ratio: dict) -> str:
    return f"{ratio['median']:.2f}× (rounds {ratio['low']:.2f}–{ratio['high']:.2f}×)"


def start(command: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )


def start_gunicorn(
    port: int,
    env: dict,
    log,
    *,
    config: str = "gunicorn.conf.py",
    cwd: str = ROOT,
    control_socket: str | None = None,
) -> subprocess.Popen:
    """The app under a gunicorn config (the production one by default) on 127.0.0.1:port.

    control_socket gives the run a socket of its own: gunicorn's default is one path per user,
    which any other gunicorn on the machine would take over or unlink.
    """
    command = [sys.executable, "-m", "gunicorn", "-c", config, "--bind", f"127.0.0.1:{port}"]
    if control_socket:
        command += ["--control-socket", control_socket]
    return subprocess.Popen(
        [*command, "app:create_app()"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    models_dir = os.environ.get("MODELS_DIR") or os.path.join(ROOT, "models")
    if not os.path.isfile(os.path.join(models_dir, "model.keras")):
        sys.exit("bench_api needs a trained model: run `flask --app app ml train` first")
    if shutil.which("wrk") is None:
        sys.exit("bench_api needs wrk (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="bench-api-")
    env = demo_store_env(work, models_dir)
    python = sys.executable
    port, seed_port = free_port(), free_port()
    base, seed_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{seed_port}"
    log = open(os.path.join(work, "gunicorn.log"), "w")
    server = start_gunicorn(port, env, log)
    seed = start(
        [
            python,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{seed_port}",
            "--workers",
            "2",
            "--chdir",
            ROOT,
            "bench.seed_way_app:app",
        ],
        env,
        log,
    )
    try:
        wait_until_up(base + "/healthz")
        wait_until_up(seed_base + "/healthz")
        # Warm-up requests so both sides are measured in their steady state.
        for url in (base + PREDICT_QUERY, seed_base + PREDICT_QUERY):
            urllib.request.urlopen(url, timeout=60).read()
        started = time.perf_counter()
        request = urllib.request.Request(base + "/api/tracks", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=60) as response:
            packed = response.read()
        tracks_seconds = time.perf_counter() - started
        tracks_count = len(gzip.decompress(packed))
        runs = interleaved_rounds(
            {
                "healthz": (base + "/healthz", None),
                "predict": (base + PREDICT_QUERY, None),
                "distinct": (base, distinct_paths_script(work, env["DATABASE"])),
            }
        )
        seed_way = wrk(seed_base + PREDICT_QUERY, duration="10s")
    finally:
        stop(server)
        stop(seed)
        log.close()
    health, predict, distinct = (median_run(runs[n]) for n in ("healthz", "predict", "distinct"))
    cached_ratio = round_ratios(runs, "predict", "healthz")
    distinct_ratio = round_ratios(runs, "distinct", "healthz")
    results = {
        "concurrency": CONCURRENCY,
        "duration": DURATION,
        "rounds": ROUNDS,
        "healthz": health,
        "predict": predict,
        "predict_distinct_tracks": distinct,
        "seed_way_predict": seed_way,
        "predict_p50_over_healthz_p50": cached_ratio,
        "distinct_p50_over_healthz_p50": distinct_ratio,
        "seed_way_p50_over_predict_p50": seed_way["p50"] / predict["p50"],
        "catalogue_tracks_gzip_bytes": len(packed),
        "catalogue_tracks_json_bytes": tracks_count,
        "catalogue_tracks_seconds_warm": tracks_seconds,
    }
    record(
        "api",
        results,
        [
            (
                "runs",
                f"{ROUNDS} rounds of healthz, predict and distinct predict, {DURATION} each; "
                "medians over the rounds, ratios within each round",
            ),
            (
                "/healthz p50 / p99 / req/s",
                f"{health['p50']:.2f} / {health['p99']:.2f} ms / {health['rps']:.0f}",
            ),
            (
                "predict (catalogue hit) p50 / p99 / req/s (goal p50 ≤ 2× healthz, p99 ≤ 25 ms)",
                f"{predict['p50']:.2f} / {predict['p99']:.2f} ms / {predict['rps']:.0f}",
            ),
            ("predict p50 ÷ healthz p50", ratio_text(cached_ratio)),
            (
                "predict, a different track every request (no answer cache) p50 / p99 / req/s",
                f"{distinct['p50']:.2f} / {distinct['p99']:.2f} ms / {distinct['rps']:.0f}",
            ),
            ("distinct-track predict p50 ÷ healthz p50 (goal ≤ 2×)", ratio_text(distinct_ratio)),
            (
                "seed's way (model loaded per request) p50 / p99 / req/s",
                f"{seed_way['p50']:.0f} / {seed_way['p99']:.0f} ms / {seed_way['rps']:.1f}",
            ),
            ("seed's way p50 ÷ predict p50", f"{seed_way['p50'] / predict['p50']:.0f}×"),
            (
                "errors (non-2xx) healthz / predict / distinct / seed",
                f"{health['non_2xx']} / {predict['non_2xx']} / "
                f"{distinct['non_2xx']} / {seed_way['non_2xx']}",
            ),
            (
                "catalogue /api/tracks gzipped (goal ≤ 4 MB)",
                f"{len(packed) / 1e6:.2f} MB ({tracks_count / 1e6:.1f} MB JSON), "
                f"{tracks_seconds * 1000:.0f} ms warm",
            ),
        ],
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
