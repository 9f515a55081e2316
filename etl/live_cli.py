"""`flask etl playlist|recommendations|genres`: live ETL commands, registered on the etl group."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

import store
from etl.auth import MissingCredentials
from etl.calls import ApiError
from etl.live import GENRE_DATASET, LiveEtl, LiveEtlError, LiveSettings
from store.base import StoreUnavailable

# Failures a person can act on: shown as one message, never as a traceback.
EXPECTED_FAILURES = (MissingCredentials, ApiError, LiveEtlError, StoreUnavailable)


def _run(job, **settings_overrides):
    """Build a LiveEtl from the app config, run job(etl) and print its report."""
    try:
        settings = LiveSettings.from_config(current_app.config, current_app.instance_path,
                                            **settings_overrides)
    except ValueError as exc:  # e.g. ETL_HTTP_RETRIES=many
        raise click.ClickException(f"invalid ETL setting: {exc}") from None
    target = store.get_store()
    try:
        # Before the first request to Spotify: a store that cannot take the results stops here.
        target.check_writable()
    except StoreUnavailable as exc:
        raise click.ClickException(f"Nothing was written. {exc}") from None
    try:
        report = job(LiveEtl(target, settings))
    except EXPECTED_FAILURES as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            "Interrupted. Everything fetched so far is stored; run the same command again to "
            "continue where it stopped.") from None
    click.echo(report.title)
    for line in report.lines:
        click.echo(f"  {line}")
    return report


def _auth_mode(user: bool | None) -> dict:
    return {} if user is None else {"user_auth": user}


@click.command("playlist")
@click.argument("reference", metavar="URL|URI|ID")
@click.option("--user/--app", "user", default=None,
              help="Authorise as a Spotify user (needed for private and collaborative "
                   "playlists; the token is cached in instance/) or as the app only. "
                   "Default: as the user when a user token is cached.")
@with_appcontext
def playlist_command(reference, user):
    """Load a Spotify playlist: items, who added them, audio features, genres, people."""
    _run(lambda etl: etl.load_playlist(reference), **_auth_mode(user))


@click.command("recommendations")
@click.option("--playlist", "playlist", metavar="URL|URI|ID",
              help="Only this stored playlist's tracks as seeds (default: every stored playlist).")
@click.option("--per-seed", default=20, show_default=True, type=click.IntRange(1, 100),
              help="Recommended tracks per seed track.")
@click.option("--user/--app", "user", default=None, help="Authorise as a user or as the app.")
@with_appcontext
def recommendations_command(playlist, per_seed, user):
    """Recommended tracks (with features) for each playlist track, linked to it."""
    _run(lambda etl: etl.load_recommendations(playlist, per_seed), **_auth_mode(user))


@click.command("genres")
@click.option("--genres", "genre_count", default=10, show_default=True,
              type=click.IntRange(1, 200), help="How many of Spotify's genre seeds to use.")
@click.option("--per-genre", default=100, show_default=True, type=click.IntRange(1, 100),
              help="Recommended tracks per genre (Spotify allows 100 per call).")
@click.option("--genre", "genres", multiple=True, help="Use these genres (repeatable).")
@click.option("--dataset", default=GENRE_DATASET, show_default=True,
              help="Name of the labelled dataset.")
@with_appcontext
def genres_command(genre_count, per_genre, genres, dataset):
    """Build a genre-labelled dataset from Spotify recommendations seeded by genre."""
    _run(lambda etl: etl.build_genre_dataset(genre_count, per_genre, genres, dataset))


COMMANDS = (playlist_command, recommendations_command, genres_command)


def register(group: click.Group) -> None:
    """Add the live commands to the `flask etl` group (safe to call twice)."""
    for command in COMMANDS:
        if command.name not in group.commands:
            group.add_command(command)
