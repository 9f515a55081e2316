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


def save_results(name: str, document: dict, markdown: str) -> None:
    """Write bench/results/<name>.json and <name>.md, and print the markdown."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    with open(os.path.join(RESULTS, f"{name}.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n")
    print(markdown)


def record(name: str, results: dict, table: list[tuple[str, str]]) -> None:
    """Record results with a two-column markdown table of the headline measures."""
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "cpus": os.cpu_count()}
    lines = [f"# {name} ({meta['date']}, {meta['cpus']} CPUs)", "", "| measure | value |",
             "|---|---|", *(f"| {k} | {v} |" for k, v in table)]
    save_results(name, {"meta": meta, "results": results}, "\n".join(lines))
