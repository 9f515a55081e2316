"""`flask etl playlist|recommendations|genres`: the live ETL commands and their console."""

from __future__ import annotations

import contextlib

import click
from flask import current_app
from flask.cli import with_appcontext

import store
from etl.auth import MissingCredentials
from etl.calls import ApiError
from etl.progress import progress_bars
from etl.runs import (
    GENRE_DATASET,
    LiveEtlError,
    QuietConsole,
    RunContext,
    build_genre_dataset,
    load_playlist,
    load_recommendations,
)
from store.base import StoreUnavailable
from web.settings import live_settings

# Failures a person can act on: shown as one message, never as a traceback.
EXPECTED_FAILURES = (MissingCredentials, ApiError, LiveEtlError, StoreUnavailable)


class Console(QuietConsole):
    """Messages on stdout, a progress bar per stage on stderr, retry waits shown on the bar."""

    def __init__(self):
        super().__init__()
        self._bars = None
        self._task = None
        self._label = ""

    def say(self, message: str) -> None:
        super().say(message)
        click.echo(message)

    @contextlib.contextmanager
    def progress(self, total: int, label: str):
        with progress_bars() as bars:
            self._bars, self._label = bars, label
            self._task = bars.add_task(label, total=max(total, 0) or None)
            try:
                yield self
            finally:
                self._bars = self._task = None

    def advance(self, count: int) -> None:
        if self._bars is not None and count:
            # A wait notice is over once work moves on.
            self._bars.update(self._task, advance=count, description=self._label)

    def waiting(self, what: str, delay: float, waited: float, budget: float) -> None:
        super().waiting(what, delay, waited, budget)
        if self._bars is not None:
            self._bars.update(self._task, description=f"{self._label} — {self.messages[-1]}")
        else:
            click.echo(self.messages[-1], err=True)


def _run(job, **settings_overrides):
    """Build a run context from the app config, run job(context) and print its report."""
    try:
        settings = live_settings(
            current_app.config, current_app.instance_path, **settings_overrides
        )
    except ValueError as exc:  # e.g. ETL_HTTP_RETRIES=many
        raise click.ClickException(f"invalid ETL setting: {exc}") from None
    target = store.get_store()
    try:
        # Before the first request to Spotify: a store that cannot take the results stops here.
        target.check_writable()
    except StoreUnavailable as exc:
        raise click.ClickException(f"Nothing was written. {exc}") from None
    try:
        report = job(RunContext(target, settings, Console()))
    except EXPECTED_FAILURES as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            "Interrupted. Everything fetched so far is stored; run the same command again to "
            "continue where it stopped."
        ) from None
    click.echo(report.title)
    for line in report.lines:
        click.echo(f"  {line}")
    return report


def _auth_mode(user: bool | None) -> dict:
    return {} if user is None else {"user_auth": user}


@click.command("playlist")
@click.argument("reference", metavar="URL|URI|ID")
@click.option(
    "--user/--app",
    "user",
    default=None,
    help="Authorise as a Spotify user (needed for private and collaborative "
    "playlists; the token is cached in instance/) or as the app only. "
    "Default: as the user when a user token is cached.",
)
@with_appcontext
def playlist_command(reference, user):
    """Load a Spotify playlist: items, who added them, audio features, genres, people."""
    _run(lambda ctx: load_playlist(ctx, reference), **_auth_mode(user))


@click.command("recommendations")
@click.option(
    "--playlist",
    "playlist",
    metavar="URL|URI|ID",
    help="Only this stored playlist's tracks as seeds (default: every stored playlist).",
)
@click.option(
    "--per-seed",
    default=20,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Recommended tracks per seed track.",
)
@click.option("--user/--app", "user", default=None, help="Authorise as a user or as the app.")
@with_appcontext
def recommendations_command(playlist, per_seed, user):
    """Recommended tracks (with features) for each playlist track, linked to it."""
    _run(lambda ctx: load_recommendations(ctx, playlist, per_seed), **_auth_mode(user))


@click.command("genres")
@click.option(
    "--genres",
    "genre_count",
    default=10,
    show_default=True,
    type=click.IntRange(1, 200),
    help="How many of Spotify's genre seeds to use.",
)
@click.option(
    "--per-genre",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Recommended tracks per genre (Spotify allows 100 per call).",
)
@click.option("--genre", "genres", multiple=True, help="Use these genres (repeatable).")
@click.option(
    "--dataset", default=GENRE_DATASET, show_default=True, help="Name of the labelled dataset."
)
@with_appcontext
def genres_command(genre_count, per_genre, genres, dataset):
    """Build a genre-labelled dataset from Spotify recommendations seeded by genre."""
    _run(lambda ctx: build_genre_dataset(ctx, genre_count, per_genre, genres, dataset))


COMMANDS = (playlist_command, recommendations_command, genres_command)


def register(group: click.Group) -> None:
    """Add the live commands to the `flask etl` group (safe to call twice)."""
    for command in COMMANDS:
        if command.name not in group.commands:
            group.add_command(command)
