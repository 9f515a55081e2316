"""Benchmark: schemathesis fuzzing of every API operation at a larger case count than CI.

It runs on the real data.

Loads the demo data (../shared/data) into a temporary embedded store, serves the app in-process
(WSGI) with the trained model in models/ (or MODELS_DIR), and runs the same derandomized fuzz
as tests/test_fuzz_api.py with FUZZ_BENCH_EXAMPLES cases per operation and generation mode
(default 300). Records cases, responses >= 500, check failures, and the time per case against a
plain /healthz request measured in the same run.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import Counter

from bench.common import ROOT, record

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MAX_EXAMPLES = int(os.environ.get("FUZZ_BENCH_EXAMPLES", "300"))
HEALTHZ_REQUESTS = 500


def main() -> None:
    from store import open_store
    from tests.support import import_demo, make_app
    from tests.test_fuzz_api import CASES, fuzz_operation, load_schema

    # Without the model every predict is a (documented) 503 and its code goes unfuzzed.
    models = os.environ.get("MODELS_DIR") or os.path.join(ROOT, "models")
    if not os.path.isfile(os.path.join(models, "meta.json")):
        sys.exit(f"no genre model bundle in {models}: run `flask --app app ml train` first")
    workdir = tempfile.mkdtemp(prefix="bench-fuzz-")
    try:
        database = os.path.join(workdir, "plotify.sqlite3")
        target = open_store(database)
        import_demo(target)
        target.close()
        app = make_app(database, MODELS_DIR=models)
        client = app.test_client()
        client.get("/api/tracks")  # build the catalogue index once, as a running server has

        started = time.perf_counter()
        for _ in range(HEALTHZ_REQUESTS):
            client.get("/healthz")
        healthz_seconds = (time.perf_counter() - started) / HEALTHZ_REQUESTS

        schema = load_schema(app)
        tally: Counter = Counter()
        failures: list[dict] = []
        per_run: dict[str, int] = {}
        started = time.perf_counter()
        for method, path, mode in CASES:
            before = tally["cases"]
            try:
                fuzz_operation(schema, method, path, mode, MAX_EXAMPLES, tally)
            except Exception as exc:  # noqa: BLE001 - a check failure: record it and go on with the others
                failures.append(
                    {
                        "operation": f"{method} {path}",
                        "mode": mode.value,
                        "error": f"{type(exc).__name__}: {str(exc)[:500]}",
                    }
                )
            per_run[f"{method} {path} {mode.value}"] = tally["cases"] - before
        seconds = time.perf_counter() - started
        app.extensions["store"].close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    per_case = seconds / max(tally["cases"], 1)
    results = {
        "max_examples_per_operation_and_mode": MAX_EXAMPLES,
        "runs": len(CASES),
        "cases": tally["cases"],
        "responses_5xx": tally["5xx"],
        "responses_4xx": tally["4xx"],
        "responses_2xx_3xx": tally["2xx"],
        "check_failures": failures,
        "cases_per_run": per_run,
        "seconds": round(seconds, 2),
        "seconds_per_case": round(per_case, 5),
        "healthz_seconds_per_request": round(healthz_seconds, 5),
        "per_case_over_healthz": round(per_case / healthz_seconds, 2),
    }
    record(
        "fuzz",
        results,
        [
            (
                "cases (operations × modes)",
                f"{tally['cases']} ({len(CASES)} runs, max {MAX_EXAMPLES} each)",
            ),
            ("responses >= 500", str(tally["5xx"])),
            ("check failures", str(len(failures))),
            ("4xx / 2xx-3xx", f"{tally['4xx']} / {tally['2xx']}"),
            (
                "time",
                f"{seconds:.1f} s ({per_case * 1000:.1f} ms a case, "
                f"{per_case / healthz_seconds:.1f}x a /healthz request)",
            ),
        ],
    )
    if tally["5xx"] or failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
