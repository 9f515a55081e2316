"""The JSON API behind the page: playlists, tracks, recommendations, genre prediction, clusters."""
from __future__ import annotations

from flask import Blueprint

from api import errors
from api.catalogue import CatalogueCache
from api.model import ModelHolder
from api.payloads import PayloadCache

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app) -> None:
    """Register the blueprint, /healthz, the JSON error handlers and the per-process caches."""
    from api import routes  # noqa: F401  (attaches the routes to bp)

    app.extensions["catalogue"] = CatalogueCache()
    app.extensions["payloads"] = PayloadCache()
    app.extensions["model"] = ModelHolder(app.config["MODELS_DIR"])
    errors.register(app)
    app.register_blueprint(bp)
    app.add_url_rule("/healthz", "healthz", routes.healthz)
