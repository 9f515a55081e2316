"""Plotify's Flask application factory: configuration, the store, blueprints and CLI groups."""

from __future__ import annotations

import os

from dotenv import load_dotenv
from flask import Flask, render_template, send_from_directory

import api
import store
from web import csrf, login, security, settings


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; test_config overrides the environment."""
    # gunicorn does not read .env by itself, so the factory does (existing variables win).
    load_dotenv(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"))
    # Every setting, from the environment or its default (web/settings.py lists them all).
    config = {**settings.from_environment(), **(test_config or {})}
    # INSTANCE_PATH moves the database, downloads and token caches (tests use a temp folder).
    instance_path = config["INSTANCE_PATH"]
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
    )
    app.config.update(config)
    app.config["DATABASE"] = app.config["DATABASE"] or os.path.join(
        app.instance_path, "plotify.sqlite3"
    )
    app.config["MODELS_DIR"] = app.config["MODELS_DIR"] or os.path.join(app.root_path, "models")
    try:
        os.makedirs(app.instance_path, exist_ok=True)
    except OSError as exc:
        # The app still starts: the store reports the same problem on /healthz and as 503s.
        app.logger.warning("cannot create the instance folder: %s", exc)

    # "//" inside an API path is a mistyped id, not a redirect target: answer it with a JSON 404.
    app.url_map.merge_slashes = False
    security.init_app(app)
    csrf.init_app(app)
    store.init_app(app)
    api.init_app(app)
    login.init_app(app)
    if app.debug:  # development: recompile static/scss whenever a stylesheet is requested
        from web.assets import install_sass_middleware

        install_sass_middleware(app)

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/report/<path:name>")
    def report(name):
        # The evaluation report (markdown and its PNGs) written by `flask ml report`;
        # send_from_directory refuses paths that leave the folder.
        return send_from_directory(
            os.path.join(app.config["MODELS_DIR"], "report"),
            name,
            mimetype="text/plain" if name.endswith(".md") else None,
        )

    from etl.cli import etl_cli
    from ml.cli import ml_cli

    app.cli.add_command(etl_cli)
    app.cli.add_command(ml_cli)
    return app
