"""Benchmark: hostile 1 GB files through `flask etl import`, peak memory and time of each.

IMPORT_MAX_BYTES is raised above the file size for the content checks (one line, binary) and
left at its default for one more run. Each import runs in its own process; its peak RSS comes
from wait4 (that child alone) and is
compared with the baseline of the same command refusing a missing file (the cost of starting the
app). RUSAGE_CHILDREN's maximum over all of them is recorded as a cross-check. Also times a URL
import from a local server that trickles one byte every 0.2 s, against DOWNLOAD_MAX_SECONDS=5.
HOSTILE_BENCH_BYTES sets the size (default 1 GB); the files live in a temporary folder.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record

SIZE = int(os.environ.get("HOSTILE_BENCH_BYTES", str(10**9)))
TRICKLE_LIMIT_SECONDS = 5


def write_binary(path: str, size: int, header: bytes) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as handle:
        handle.write(header)
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])


def main() -> None:
    from tests.test_hostile_inputs import (
        HEADER,
        HostileServer,
        import_in_subprocess,
        trickle,
        write_giant_line,
    )

    workdir = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    rows: dict[str, dict] = {}
    try:
        status, baseline_rss, baseline_seconds, output = import_in_subprocess(
            str(workdir / "missing.csv"), workdir, "baseline.log"
        )
        assert status != 0 and "no such file" in output, output
        # With IMPORT_MAX_BYTES raised above the file (as an operator may), the content checks
        # are what refuses it; with the default limit, the size alone does, before reading.
        raised = {"IMPORT_MAX_BYTES": str(4 * SIZE)}
        files = {
            "one line": (lambda p: write_giant_line(p, SIZE), raised),
            "header then one line": (lambda p: write_giant_line(p, SIZE, HEADER.encode()), raised),
            "header then binary": (lambda p: write_binary(p, SIZE, HEADER.encode()), raised),
            "one line, default size limit": (lambda p: write_giant_line(p, SIZE), {}),
        }
        for label, (make, env) in files.items():
            path = str(workdir / "hostile.csv")
            make(path)
            try:
                status, rss, seconds, output = import_in_subprocess(path, workdir, "run.log", **env)
            finally:
                os.unlink(path)
            rows[label] = measured(status, rss, seconds, output, baseline_rss, baseline_seconds)
        for device in ("/dev/zero", "/dev/urandom"):
            status, rss, seconds, output = import_in_subprocess(device, workdir, "run.log")
            rows[device] = measured(status, rss, seconds, output, baseline_rss, baseline_seconds)

        # The child reads the limit from its environment (or the app config built from it).
        os.environ["DOWNLOAD_MAX_SECONDS"] = str(TRICKLE_LIMIT_SECONDS)
        with HostileServer(trickle) as server:
            started = time.perf_counter()
            status, _, _, output = import_in_subprocess(
                f"{server.url}/slow.csv", workdir, "url.log"
            )
            trickle_seconds = time.perf_counter() - started
        assert status != 0 and "not complete after" in output, output
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    results = {
        "size_bytes": SIZE,
        "baseline_rss_bytes": baseline_rss,
        "baseline_seconds": round(baseline_seconds, 2),
        "imports": rows,
        "rusage_children_peak_rss_bytes": children_peak,
        "trickle_download": {
            "limit_seconds": TRICKLE_LIMIT_SECONDS,
            "stopped_after_seconds": round(trickle_seconds, 2),
            "message": output.strip().splitlines()[-1],
        },
    }
    table = [
        ("file size", f"{SIZE / 1e9:g} GB"),
        (
            "baseline (app start, missing file)",
            f"{baseline_rss >> 20} MB peak RSS, {baseline_seconds:.1f} s",
        ),
    ]
    for label, row in rows.items():
        table.append(
            (
                label,
                f"peak {row['peak_rss_bytes'] >> 20} MB "
                f"(+{row['extra_rss_bytes'] >> 20} MB over baseline), "
                f"{row['seconds']:.1f} s ({row['time_over_baseline']}x): "
                f"{row['message']}",
            )
        )
    table.append(
        (
            "slow URL (1 byte / 0.2 s)",
            f"stopped after {trickle_seconds:.1f} s with a {TRICKLE_LIMIT_SECONDS} s limit",
        )
    )
    record("hostile", results, table)
    if any(row["status"] == 0 for row in rows.values()):
        sys.exit(1)


def measured(status, rss, seconds, output, baseline_rss, baseline_seconds) -> dict:
    lines = [line for line in output.strip().splitlines() if line.startswith("Error:")]
    return {
        "status": status,
        "peak_rss_bytes": rss,
        "extra_rss_bytes": max(rss - baseline_rss, 0),
        "seconds": round(seconds, 2),
        "time_over_baseline": round(seconds / baseline_seconds, 2),
        "message": (lines[-1] if lines else output.strip()[-200:])[:200],
    }


if __name__ == "__main__":
    main()
