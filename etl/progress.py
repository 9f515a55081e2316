"""Progress bars for long CLI work drawn by rich on stderr: counts or bytes, totals known or not."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


def progress_bars(*, transfer: bool = False) -> Progress:
    """A rich Progress for item counts, or with transfer=True for bytes (sizes and speed).

    A task added with total=None (a download without Content-Length) shows what is done so far
    and a pulsing bar instead of a full bar at "n/0". Written to stderr, so that the command's
    report on stdout stays clean.
    """
    amount = (DownloadColumn(), TransferSpeedColumn()) if transfer else (MofNCompleteColumn(),)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        *amount,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
