"""Helpers shared by the benchmarks: paths to the real data, timing, and recording results."""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SHARED_DATA = os.environ.get("PLOTIFY_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")
DATASET_CSV = os.path.join(SHARED_DATA, "spotify-tracks-114k", "dataset.csv")
RESULTS = os.path.join(ROOT, "bench", "results")


def timed(action, repeat: int = 1):
    """(best wall seconds, last result) over repeat runs."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def record(name: str, results: dict, table: list[tuple[str, str]]) -> None:
    """Write bench/results/<name>.json and a markdown table beside it, and print the table."""
    os.makedirs(RESULTS, exist_ok=True)
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "cpus": os.cpu_count()}
    with open(os.path.join(RESULTS, f"{name}.json"), "w", encoding="utf-8") as handle:
        json.dump({"meta": meta, "results": results}, handle, indent=2)
    lines = [f"# {name} ({meta['date']}, {meta['cpus']} CPUs)", "", "| measure | value |",
             "|---|---|", *(f"| {k} | {v} |" for k, v in table)]
    with open(os.path.join(RESULTS, f"{name}.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))
