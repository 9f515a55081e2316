"""The web app's on-demand Spotify look-up: tracks by search or id, stored with their features."""

from __future__ import annotations

import logging

from etl.calls import RequestRejected, Restricted
from etl.clients import Clients, LiveSettings
from etl.spotify import safe_track_record

log = logging.getLogger(__name__)


class TrackLookup:
    """Finds tracks on Spotify for the predictor.

    One search call, at most one feature call per provider.

    Unlike a run it has no checkpoint, console or report: it reads the store once to learn which
    hits already have features, asks the providers for the others, and writes the hits once.
    """

    def __init__(self, store, settings: LiveSettings):
        self.store = store
        self.clients = Clients(settings)
        # Raises ValueError for an unknown provider name: a misconfigured server.
        self.chain = self.clients.feature_chain(log.info)

    def search(self, query: str, limit: int = 10) -> list[dict]:
        """Search Spotify, store the hits with their audio features, return their records."""
        hits = self.clients.spotify.search_tracks(query, limit)
        return self._stored_with_features([r for r in map(safe_track_record, hits) if r])

    def by_id(self, track_id: str) -> list[dict]:
        """One track by id (stored with its audio features); [] when Spotify does not know it."""
        try:
            record = safe_track_record(self.clients.spotify.track(track_id))
        except (Restricted, RequestRejected):  # 404 for an unknown id
            return []
        return self._stored_with_features([record] if record else [])

    def _stored_with_features(self, hits: list[dict]) -> list[dict]:
        hits = list({h["id"]: h for h in hits}.values())
        stored = self.store.get_tracks([h["id"] for h in hits])
        # The store merges non-null values into what it holds; the records here do the same, so
        # what is returned is what a read after the write would give.
        merged = {
            h["id"]: {**stored.get(h["id"], {}), **{k: v for k, v in h.items() if v is not None}}
            for h in hits
        }
        need = [t for t, record in merged.items() if not record.get("features_source")]
        if need and self.chain.providers:

            def take(records):
                for features in records:
                    merged[features["id"]].update(
                        {k: v for k, v in features.items() if v is not None}
                    )

            self.chain.fetch(need, take)
        self.store.upsert_tracks(list(merged.values()))
        return list(merged.values())
