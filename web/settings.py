"""Every setting Plotify reads, with its default and one-line doc; .env.example is made from it."""

from __future__ import annotations

import os
from dataclasses import dataclass


class SettingError(ValueError):
    """A setting holds a value of the wrong kind; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default (None: unset), what it is for, and its kind."""

    name: str
    default: str | None
    doc: str
    kind: type = str
    example: str | None = None  # shown in .env.example when there is no default
    active: bool = False  # written uncommented in .env.example
    allow_zero: bool = False  # numbers must be positive, or at least 0 with this


@dataclass(frozen=True)
class Group:
    """Settings documented together in .env.example, under a short heading."""

    title: str
    settings: tuple[Setting, ...]


GROUPS = (
    Group(
        "Security",
        (
            Setting(
                "SECRET_KEY",
                "dev",
                "Flask session signing key: set a long random value in "
                "production, where a development key is refused.",
                active=True,
                example="change-me",
            ),
        ),
    ),
    Group(
        "Where the data lives",
        (
            Setting(
                "MONGODB_URI",
                None,
                "MongoDB connection string; unset = the embedded SQLite store.",
                example="mongodb://localhost:27017/plotify",
            ),
            Setting(
                "INSTANCE_PATH",
                None,
                "Folder for the embedded database, downloads and Spotify "
                "token caches (default: instance/).",
                example="/var/lib/plotify",
            ),
            Setting(
                "DATABASE",
                None,
                "Path of the embedded database file (default: INSTANCE_PATH/plotify.sqlite3).",
                example="/var/lib/plotify/plotify.sqlite3",
            ),
            Setting(
                "DATABASE_TIMEOUT",
                "30",
                "Seconds a request waits for another process's lock "
                "on the embedded database before answering 503.",
                float,
            ),
            Setting(
                "MODELS_DIR",
                None,
                "Where trained models and cluster results live (default: models/ in the project).",
                example="/var/lib/plotify/models",
            ),
            Setting(
                "DEMO_DATA_DIR",
                None,
                "Local copies of the demo files "
                "(spotify-tracks-114k/dataset.csv, seed-plotify/*.csv); unset = download them.",
                example="../shared/data",
            ),
        ),
    ),
    Group(
        "Imports",
        (
            Setting(
                "IMPORT_MAX_BYTES",
                str(128 * 1024**2),
                "Largest file `etl import` reads, in "
                "bytes (an import needs about 15x the file's size in memory).",
                int,
            ),
            Setting(
                "DOWNLOAD_MAX_BYTES",
                str(2 * 1024**3),
                "Largest download from a URL, in bytes.",
                int,
            ),
            Setting(
                "DOWNLOAD_MAX_SECONDS",
                "600",
                "Seconds a whole download from a URL may take.",
                float,
            ),
        ),
    ),
    Group(
        "Spotify and ReccoBeats (live ETL and the predictor's look-up)",
        (
            Setting(
                "SPOTIFY_CLIENT_ID",
                None,
                "Spotify app client id "
                "(https://developer.spotify.com/dashboard); unset = local data only.",
                example="",
            ),
            Setting("SPOTIFY_CLIENT_SECRET", None, "Spotify app client secret.", example=""),
            Setting(
                "SPOTIFY_REDIRECT_URI",
                "http://127.0.0.1:8888/callback",
                "Redirect URI registered for the app, for the authorization-code (PKCE) flow.",
            ),
            Setting(
                "SPOTIFY_WEB_REDIRECT_URI",
                None,
                "The page's login callback as registered in the Spotify dashboard "
                "(default: this server's /auth/callback).",
                example="http://127.0.0.1:8000/auth/callback",
            ),
            Setting(
                "FEATURE_PROVIDERS",
                "spotify,reccobeats",
                "Audio-feature providers, tried in "
                "order (Spotify refuses new apps; ReccoBeats needs no key).",
            ),
            Setting(
                "SPOTIFY_API_BASE",
                "https://api.spotify.com",
                "Where Spotify Web API requests go (changed only to point at a stand-in server).",
            ),
            Setting(
                "SPOTIFY_TOKEN_URL",
                "https://accounts.spotify.com/api/token",
                "Spotify's token endpoint (changed only for a stand-in).",
            ),
            Setting(
                "SPOTIFY_AUTHORIZE_URL",
                "https://accounts.spotify.com/authorize",
                "Spotify's authorization page (changed only for a stand-in).",
            ),
            Setting(
                "RECCOBEATS_API_BASE",
                "https://api.reccobeats.com",
                "Where ReccoBeats requests go (changed only for a stand-in).",
            ),
            Setting("ETL_HTTP_TIMEOUT", "10", "Seconds a live ETL request may take.", float),
            Setting(
                "ETL_HTTP_RETRIES",
                "4",
                "Retries of a live ETL request on 5xx, timeouts and resets.",
                int,
                allow_zero=True,
            ),
            Setting(
                "ETL_MAX_RATE_LIMIT_WAIT",
                "300",
                "Total seconds a live run may wait on 429s.",
                float,
            ),
        ),
    ),
    Group(
        "Serving with gunicorn (Procfile, gunicorn.conf.py)",
        (
            Setting(
                "PLOTIFY_PRODUCTION",
                None,
                "Set by gunicorn.conf.py: the app then refuses a development SECRET_KEY.",
                example="1",
            ),
            Setting("PORT", "8000", "Port the Procfile binds on 0.0.0.0.", int),
            Setting(
                "GUNICORN_BIND",
                "127.0.0.1:8000",
                "Address gunicorn binds when started with the config but no --bind.",
            ),
            Setting(
                "WEB_CONCURRENCY",
                None,
                "Worker processes (default: one per core, at most 4).",
                int,
                example="2",
            ),
            Setting("GUNICORN_THREADS", "4", "Threads per worker.", int),
            Setting(
                "GUNICORN_ACCESS_LOG", None, "Any value: log every request to stdout.", example="1"
            ),
        ),
    ),
)
SETTINGS = {setting.name: setting for group in GROUPS for setting in group.settings}


def from_environment(environ=os.environ) -> dict[str, str | None]:
    """Every setting's raw value: the environment's when set and not empty, else the default."""
    return {name: environ.get(name) or setting.default for name, setting in SETTINGS.items()}


def value(config, name: str):
    """The setting as its kind (int, float or str), None when unset; SettingError when malformed."""
    setting = SETTINGS[name]
    raw = config.get(name)
    if raw in (None, ""):
        raw = setting.default
    if raw is None or setting.kind is str or isinstance(raw, setting.kind):
        return raw
    try:
        number = setting.kind(raw)
    except (TypeError, ValueError):
        kind = "a whole number" if setting.kind is int else "a number"
        raise SettingError(f"{name}={raw!r} is not {kind}") from None
    if number < 0 or (number == 0 and not setting.allow_zero):
        raise SettingError(
            f"{name}={raw!r} must be {'0 or more' if setting.allow_zero else 'positive'}"
        )
    return number


def env_example() -> str:
    """The text of .env.example: every setting, its doc, and its default or an example."""
    lines = [
        "# Copy to .env and fill in what you need; every variable is optional.",
        "# Made from web/settings.py (`python -m web.settings > .env.example`).",
    ]
    for group in GROUPS:
        lines += ["", f"# -- {group.title}"]
        for setting in group.settings:
            shown = setting.example if setting.example is not None else setting.default
            lines.append(f"# {setting.doc}")
            lines.append(f"{'' if setting.active else '# '}{setting.name}={shown}")
    return "\n".join(lines) + "\n"


def live_settings(config, instance_path: str, **overrides):
    """The live ETL's settings from the app config (or any mapping of setting names)."""
    from etl.clients import LiveSettings

    values = dict(
        client_id=value(config, "SPOTIFY_CLIENT_ID"),
        client_secret=value(config, "SPOTIFY_CLIENT_SECRET"),
        redirect_uri=value(config, "SPOTIFY_REDIRECT_URI"),
        instance_path=instance_path,
        api_base=value(config, "SPOTIFY_API_BASE"),
        token_url=value(config, "SPOTIFY_TOKEN_URL"),
        authorize_url=value(config, "SPOTIFY_AUTHORIZE_URL"),
        reccobeats_base=value(config, "RECCOBEATS_API_BASE"),
        providers=value(config, "FEATURE_PROVIDERS"),
        timeout=value(config, "ETL_HTTP_TIMEOUT"),
        retries=value(config, "ETL_HTTP_RETRIES"),
        max_wait=value(config, "ETL_MAX_RATE_LIMIT_WAIT"),
    )
    values.update(overrides)
    return LiveSettings(**values)


if __name__ == "__main__":
    print(env_example(), end="")
