"""Benchmark: import of the 114k dataset and read-back of all tracks, against pandas.read_csv."""

from __future__ import annotations

import os
import tempfile

import pandas as pd

from bench.common import DATASET_CSV, record, timed
from etl.files import import_file
from store import open_store


def main() -> None:
    baseline, frame = timed(lambda: pd.read_csv(DATASET_CSV, index_col=0), repeat=3)
    with tempfile.TemporaryDirectory() as directory:
        target = open_store(os.path.join(directory, "bench.sqlite3"))
        import_seconds, report = timed(lambda: import_file(target, DATASET_CSV))
        reimport_seconds, again = timed(lambda: import_file(target, DATASET_CSV))
        read_seconds, tracks = timed(target.read_tracks_frame, repeat=3)
        size = os.path.getsize(os.path.join(directory, "bench.sqlite3"))
    results = {
        "rows": len(frame),
        "tracks": len(tracks),
        "read_csv_s": baseline,
        "import_s": import_seconds,
        "import_ratio_to_read_csv": import_seconds / baseline,
        "reimport_s": reimport_seconds,
        "reimport_rows_changed": again.total_changed,
        "read_back_s": read_seconds,
        "read_back_ratio_to_read_csv": read_seconds / baseline,
        "database_bytes": size,
        "rows_changed_first_import": report.total_changed,
    }
    record(
        "store",
        results,
        [
            ("pandas.read_csv of dataset.csv (baseline)", f"{baseline:.2f} s"),
            (
                "import into embedded store (goal ≤ 15 s)",
                f"{import_seconds:.2f} s = {import_seconds / baseline:.1f}× read_csv",
            ),
            (
                "re-import of the same file",
                f"{reimport_seconds:.2f} s, {again.total_changed} rows changed",
            ),
            (
                f"read back all {len(tracks)} tracks (goal ≤ 1 s)",
                f"{read_seconds:.2f} s = {read_seconds / baseline:.2f}× read_csv",
            ),
            ("database size", f"{size / 2**20:.0f} MiB"),
        ],
    )


if __name__ == "__main__":
    main()
