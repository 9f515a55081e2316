"""The JSON API behind the page: playlists, tracks, recommendations, genre prediction, clusters."""

from __future__ import annotations

import functools

from flask import Blueprint

from api import errors
from api.catalogue import CatalogueCache
from api.model import ModelHolder
from api.rankings import rank_with_model

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app) -> None:
    """Register the blueprint, /healthz, the JSON error handlers and the per-process caches."""
    from api import actions, routes  # noqa: F401  (attach the routes to bp)

    models = ModelHolder(app.config["MODELS_DIR"])
    app.extensions["model"] = models
    app.extensions["catalogue"] = CatalogueCache(
        prepare=routes.prepare_catalogue,
        finish=functools.partial(rank_with_model, models=models),
    )
    errors.register(app)
    app.register_blueprint(bp)
    app.add_url_rule("/healthz", "healthz", routes.healthz)


def warm_up(app) -> None:
    """Build the per-process caches now rather than on the first requests (gunicorn workers).

    Failures are logged, not raised: a missing model or an empty store must not stop the server.
    """
    import store
    from api.catalogue import release_free_memory
    from api.model import ModelMissing
    from store.base import StoreUnavailable

    with app.test_request_context("/api/tracks", headers={"Accept-Encoding": "gzip"}):
        try:
            app.full_dispatch_request()
            from api.rankings import rank_catalogue
            from api.routes import catalogue_now, search_index

            search_index()  # the search index: seconds to build, so before the first request
            datasets = [d["name"] for d in store.get_store().list_datasets()]
            playlists = [p["id"] for p in store.get_store().list_playlists()]
            try:
                rank_catalogue(catalogue_now(), app.extensions["model"].get())
            except ModelMissing as exc:
                app.logger.warning("warm-up: %s", exc)
        except StoreUnavailable as exc:
            app.logger.warning("warm-up: store unavailable: %s", exc)
            datasets, playlists = [], []
    # A labelled dataset's tracks document also takes seconds to build (4 s for the demo's, 14 s on
    # a busy machine), and every worker thread asking for it meanwhile waits: under load that held
    # a whole worker past its clients' timeouts (bench/bench_soak.py). A few are built here; the
    # tracks cache keeps sixteen documents. So are a few playlists' (the page opens on one): they
    # are the only documents read through pandas, which would otherwise page pandas and pyarrow
    # into every worker on its first playlist request (20 MB of each worker's RSS, measured).
    documents = [{"dataset": name} for name in datasets[:4]]
    documents += [{"playlist": playlist} for playlist in playlists[:4]]
    for query in documents:
        with app.test_request_context(
            "/api/tracks", query_string=query, headers={"Accept-Encoding": "gzip"}
        ):
            try:
                app.full_dispatch_request()
            except StoreUnavailable as exc:
                app.logger.warning("warm-up: store unavailable: %s", exc)
    release_free_memory()
