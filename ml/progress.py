"""Progress bars for long ML work (epochs, boosting rounds), drawn with rich."""

from __future__ import annotations

from contextlib import contextmanager


class _Silent:
    """Stands in for a bar when progress is off: accepts the same calls, shows nothing."""

    def advance(self, steps: int = 1, **fields) -> None:
        pass

    def finish(self, **fields) -> None:
        pass


class _Bar:
    """One rich task: advance it by steps, show the latest figures beside it."""

    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def advance(self, steps: int = 1, **fields) -> None:
        self._progress.update(self._task, advance=steps, status=_status(fields))

    def finish(self, **fields) -> None:
        """Fill the bar (early stopping ends before the nominal total)."""
        total = self._progress.tasks[self._task].total
        self._progress.update(self._task, completed=total, status=_status(fields))


def _status(fields: dict) -> str:
    return "  ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items()
    )


@contextmanager
def bar(description: str, total: int, enabled: bool = True):
    """A progress bar over total steps (epochs, boosting rounds) while the block runs."""
    if not enabled:
        yield _Silent()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns) as progress:
        yield _Bar(progress, progress.add_task(description, total=total, status=""))
