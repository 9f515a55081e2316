"""`flask etl …` commands: file import, demo data and store status."""

from __future__ import annotations

import contextlib
import json
import os

import click
from flask import current_app
from flask.cli import AppGroup

import store
from etl import demo
from etl.download import DownloadFailed, download, file_name_for, is_url
from etl.files import ImportFailed, import_file
from etl.progress import progress_bars
from store.base import StoreUnavailable
from web.settings import SettingError, value

etl_cli = AppGroup("etl", help="Load tracks, playlists and recommendations into the store.")

# How much the embedded database grows per byte of input file, to refuse an import the disk
# cannot hold before its first write. Measured: the 114k catalogue's 20.1 MB of CSV became
# 44.6 MB of database (2.2x); Parquet is compressed about 4x more. The margin covers the
# write-ahead log and the indexes.
GROWTH_PER_CSV_BYTE = 3
GROWTH_PER_PARQUET_BYTE = 12


def estimated_growth(path: str) -> int:
    """Bytes the database may grow by when path is imported (0 when it cannot be told)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return 0  # the import itself reports a missing file
    parquet = path.lower().endswith((".parquet", ".pq"))
    return size * (GROWTH_PER_PARQUET_BYTE if parquet else GROWTH_PER_CSV_BYTE)


def writable_store(needed_bytes: int = 0):
    """The app's store once it is known that loading data can start, else a one-line error.

    Every command that writes calls it before fetching or writing anything, so a read-only,
    locked, full or unreachable database stops the command with the reason and nothing written.
    """
    target = store.get_store()
    try:
        target.check_writable(needed_bytes)
    except StoreUnavailable as exc:
        raise click.ClickException(f"Nothing was written. {exc}") from None
    return target


def _stopped(exc: StoreUnavailable) -> click.ClickException:
    """A store failure in the middle of an import: what is kept and how to go on."""
    return click.ClickException(
        f"The import stopped. {exc} Batches written before the failure are kept; fix the "
        "problem and run the same command again (imports are idempotent)."
    )


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, rest = item.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        pairs[key.strip()] = rest.strip()
    return pairs


def _load_people(path: str | None, inline: dict[str, str]) -> dict[str, str]:
    people: dict[str, str] = {}
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                people = {str(k): str(v) for k, v in json.load(handle).items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise click.BadParameter(
                f"{path}: expected a JSON object id → name ({exc})", param_hint="--people"
            ) from None
    people.update(inline)
    return people


def _setting(name: str):
    try:
        return value(current_app.config, name)
    except SettingError as exc:
        raise click.ClickException(str(exc)) from None


def _download_limits() -> dict:
    return {
        "max_bytes": _setting("DOWNLOAD_MAX_BYTES"),
        "max_seconds": _setting("DOWNLOAD_MAX_SECONDS"),
    }


@contextlib.contextmanager
def _download_bar(label: str):
    """download()'s on_size and progress hooks, drawing one bar (bytes, speed, unknown size)."""
    with progress_bars(transfer=True) as bars:
        task = bars.add_task(label, total=None, start=False)

        def on_size(size):
            bars.update(task, total=size)
            bars.start_task(task)

        yield {"on_size": on_size, "progress": lambda n: bars.advance(task, n)}


def _download(url: str, directory: str, **options) -> str:
    """download() within the configured limits, with a progress bar."""
    # The file's name, not the whole URL: the bar needs the width for sizes and speed.
    with _download_bar(f"Downloading {file_name_for(url)}") as hooks:
        return download(url, directory, **_download_limits(), **hooks, **options)


def _fetch(url: str) -> str:
    return _download(url, os.path.join(current_app.instance_path, "downloads"))


def run_import(path: str, **options) -> None:
    """Import one file with a bar per phase and print the report (shared by import and demo)."""
    target = writable_store(estimated_growth(path))
    with progress_bars() as bars:

        def stage(name, total):
            task = bars.add_task(name, total=total)
            return lambda n: bars.advance(task, n)

        report = import_file(
            target, path, max_bytes=_setting("IMPORT_MAX_BYTES"), stage=stage, **options
        )
        # The writing plan counts rows before duplicates fold together: the import is done.
        for task in bars.tasks:
            bars.update(task.id, completed=task.total)
    for line in report.lines():
        click.echo(line)


@etl_cli.command("import")
@click.argument("source")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Explicit column mapping for files of an unknown shape (repeatable).",
)
@click.option(
    "--kind",
    type=click.Choice(["dataset", "playlist", "recommendations", "tracks"]),
    help="What the rows become, with --map (default: tracks, or dataset with --label).",
)
@click.option("--label", help="Genre column of a labelled dataset, with --map.")
@click.option("--dataset", help="Name of the labelled dataset (default: from the shape or file).")
@click.option("--playlist-id", help="Id of the playlist a playlist export becomes.")
@click.option("--playlist-name", help="Name of that playlist.")
@click.option(
    "--people",
    "people_file",
    type=click.Path(dir_okay=False),
    help="JSON file {spotify user id: display name} for playlist exports.",
)
@click.option("--person", multiple=True, metavar="ID=NAME", help="One display name (repeatable).")
def import_command(
    source, mapping, kind, label, dataset, playlist_id, playlist_name, people_file, person
):
    """Import a CSV/Parquet file or http(s) URL of tracks with audio features."""
    people = _load_people(people_file, _pairs(person, "--person"))
    writable_store()  # before downloading anything
    try:
        path = _fetch(source) if is_url(source) else source
        run_import(
            path,
            mapping=_pairs(mapping, "--map") or None,
            kind=kind,
            label=label,
            dataset=dataset,
            playlist_id=playlist_id,
            playlist_name=playlist_name,
            people=people,
        )
    except (ImportFailed, DownloadFailed) as exc:
        raise click.ClickException(str(exc)) from None
    except StoreUnavailable as exc:
        raise _stopped(exc) from None


@etl_cli.command("demo")
@click.option(
    "--data-dir",
    envvar="DEMO_DATA_DIR",
    type=click.Path(file_okay=False),
    help="Local copies of the demo files (default: download them). Env: DEMO_DATA_DIR.",
)
@click.option("--force", is_flag=True, help="Import even when the store already holds tracks.")
def demo_command(data_dir, force):
    """Load the demo data (114-genre catalogue, Plotify playlist) if the store is empty."""
    target = writable_store()  # before downloading anything
    try:
        if not force and not target.is_empty():
            click.echo(
                f"The store already holds {target.counts()['tracks']} tracks; "
                "demo data not loaded (use --force to load it anyway)."
            )
            return
        downloads = os.path.join(current_app.instance_path, "downloads")
        paths = [demo.locate(item, data_dir, downloads, _download) for item in demo.DEMO_FILES]
        # Room for all of it, not just the first file, before the first write.
        writable_store(sum(estimated_growth(p) for p in paths))
    except (ImportFailed, DownloadFailed, StoreUnavailable, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        for item, path in zip(demo.DEMO_FILES, paths):
            click.echo(f"Importing {path}")
            options = dict(item.options)
            if "playlist_id" in options:
                options["people"] = demo.plotify_people()
            run_import(path, **options)
    except (ImportFailed, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    except StoreUnavailable as exc:
        raise _stopped(exc) from None


@etl_cli.command("status")
def status_command():
    """Show what the store holds."""
    try:
        target = store.get_store()
        click.echo(f"Store: {store.describe(target)}")
        for name, count in target.counts().items():
            click.echo(f"  {name}: {count}")
        problem = target.write_problem()
        if problem is not None:
            click.echo(f"Writes are refused: {problem}")
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None


# The live Spotify/ReccoBeats commands (playlist, recommendations, genres) join the same group.
from etl import live_cli  # noqa: E402

live_cli.register(etl_cli)
