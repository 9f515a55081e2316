"""Helpers shared by the benchmarks: timing and recording results.

The data paths are tests.support's.
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime

from tests.support import DATASET_CSV, ROOT, SHARED_DATA

__all__ = ["DATASET_CSV", "ROOT", "SHARED_DATA", "record", "save_results", "timed"]
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
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    lines = [
        f"# {name} ({meta['date']}, {meta['cpus']} CPUs)",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in table),
    ]
    save_results(name, {"meta": meta, "results": results}, "\n".join(lines))
