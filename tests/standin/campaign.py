"""Fault and kill campaign helpers, shared by tests/test_faults_live.py and bench_faults."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from etl.calls import ApiError, QuotaExceeded, RateLimitBudgetSpent, ServiceFailed
from etl.runs import LiveEtlError, load_playlist, load_recommendations
from store import open_store
from tests.standin.fixtures import make_etl
from tests.standin.integrity import content_digest
from tests.standin.server import FaultPlan
from tests.support import PLOTIFY_PLAYLIST_ID, ROOT

# Faults that pass (or that a person waits out): each must be retried, or stop the run with a
# message that says to run again; the re-run must then end where an undisturbed run ends.
PASSING_KINDS = (
    "429",
    "quota",
    "500",
    "503",
    "timeout",
    "reset",
    "truncated_body",
    "truncated_json",
    "403",
    "404",
)
# 403/404 mean "this app may not" and make the ETL fall back for good on endpoints with a
# fallback; at random points they are injected only where they stop the run. Restrictions on
# the other endpoints are standing ones (RESTRICTED_WORLDS), as Spotify applies them.
STOPPING_ONLY = {
    "403": frozenset({"playlist", "playlist_items"}),
    "404": frozenset({"playlist", "playlist_items"}),
}
RESTRICTED_WORLDS = ({}, {"audio_features": 403}, {"recommendations": 404}, {"user": 403})
PER_SEED = 3  # recommendations per playlist track: enough to exercise every stage, quickly
CLIENT_TIMEOUT = 0.25  # ETL_HTTP_TIMEOUT in the campaign; a "timeout" fault waits longer
ETL_OPTIONS = {"timeout": CLIENT_TIMEOUT, "retries": 2, "backoff": 0.01, "max_wait": 2.0}
CLEAR_STOPS = (QuotaExceeded, RateLimitBudgetSpent, ServiceFailed, LiveEtlError)
ENDPOINT_NAMED = re.compile(r"(Spotify|ReccoBeats) (GET|POST) /")
SAYS_RUN_AGAIN = re.compile(r"\brun (again|the same command)\b", re.IGNORECASE)


def assert_clear_stop(exc: Exception) -> None:
    """A stop a person can act on: a known kind, naming the endpoint, saying to run again."""
    message = str(exc)
    assert isinstance(exc, CLEAR_STOPS), f"{type(exc).__name__}: {message}"
    assert ENDPOINT_NAMED.search(message), message
    assert SAYS_RUN_AGAIN.search(message), message
    assert "Traceback" not in message and "NoneType" not in message


def run_live(standin, database: str, instance, **options):
    """Playlist then recommendations in one process, like `etl playlist` + `etl recommendations`."""
    store = open_store(database)
    try:
        etl = make_etl(standin, store, instance, **{**ETL_OPTIONS, **options})
        reports = [
            load_playlist(etl, PLOTIFY_PLAYLIST_ID),
            load_recommendations(etl, PLOTIFY_PLAYLIST_ID, per_seed=PER_SEED),
        ]
    finally:
        store.close()
    return reports


def restrict(standin, world: dict) -> None:
    standin.clear_faults()
    for endpoint, status in world.items():
        standin.fault(endpoint, status=status)


def reference_digest(standin, world: dict, directory) -> tuple[dict, str]:
    """What an undisturbed run leaves behind in this restricted world."""
    directory.mkdir(parents=True, exist_ok=True)
    restrict(standin, world)
    standin.plan = None
    database = str(directory / "reference.sqlite3")
    run_live(standin, database, directory)
    return content_digest(database)


def run_to_completion(standin, database: str, instance, plan: FaultPlan, limit: int = 40):
    """Re-run under the fault plan until a run completes: (stops with their messages, reports)."""
    standin.plan = plan
    stops = []
    try:
        for _ in range(limit):
            try:
                return stops, run_live(standin, database, instance)
            except CLEAR_STOPS + (ApiError,) as exc:
                assert_clear_stop(exc)
                stops.append(f"{type(exc).__name__}: {exc}")
            finally:
                standin.release()  # answers held back for timeouts end now
        raise AssertionError(f"no completed run in {limit} attempts: {stops[-3:]}")
    finally:
        standin.plan = None


def cli_environment(standin, database: str, instance: str) -> dict:
    """The environment that points `flask --app app etl …` at the stand-in and a store file."""
    env = dict(
        os.environ,
        DATABASE=database,
        MONGODB_URI="",
        INSTANCE_PATH=instance,
        ETL_HTTP_TIMEOUT="5",
        ETL_HTTP_RETRIES="2",
    )
    env.update({k: str(v) for k, v in standin.config().items()})
    return env


LIVE_COMMANDS = (
    ["etl", "playlist", PLOTIFY_PLAYLIST_ID],
    ["etl", "recommendations", "--playlist", PLOTIFY_PLAYLIST_ID, "--per-seed", str(PER_SEED)],
)


def flask_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def kill_during(commands, env: dict, delay: float) -> bool:
    """Run the commands in turn and SIGKILL the one running `delay` s after the start.

    True when a process was killed, False when all of them finished first.
    """
    deadline = time.monotonic() + delay
    for args in commands:
        process = subprocess.Popen(
            flask_command(args),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return True
        assert process.returncode == 0, f"{args} failed before the kill"
    return False


def complete(commands, env: dict) -> None:
    for args in commands:
        result = subprocess.run(
            flask_command(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def timed_clean_run(commands, env: dict) -> float:
    started = time.monotonic()
    complete(commands, env)
    return time.monotonic() - started
