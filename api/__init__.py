"""The JSON API behind the page: playlists, tracks, recommendations, genre prediction, clusters."""
from __future__ import annotations

from flask import Blueprint

from api import errors
from api.catalogue import CatalogueCache
from api.model import ModelHolder

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app) -> None:
    """Register the blueprint, /healthz, the JSON error handlers and the per-process caches."""
    from api import routes  # noqa: F401  (attaches the routes to bp)

    app.extensions["catalogue"] = CatalogueCache()
    app.extensions["model"] = ModelHolder(app.config["MODELS_DIR"])
    errors.register(app)
    app.register_blueprint(bp)
    app.add_url_rule("/healthz", "healthz", routes.healthz)


def warm_up(app) -> None:
    """Build the per-process caches now rather than on the first requests (gunicorn workers).

    Failures are logged, not raised: a missing model or an empty store must not stop the server.
    """
    from api.model import ModelMissing
    from store.base import StoreUnavailable

    with app.test_request_context("/api/tracks", headers={"Accept-Encoding": "gzip"}):
        try:
            app.full_dispatch_request()
        except StoreUnavailable as exc:
            app.logger.warning("warm-up: store unavailable: %s", exc)
        try:
            app.extensions["model"].get()
        except ModelMissing as exc:
            app.logger.warning("warm-up: %s", exc)
