"""Audio-feature providers in configured order, falling through when one is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from etl.calls import Restricted
from store.records import AUDIO_FEATURES, InvalidRecord, normalize_track

PROVIDER_NAMES = ("spotify", "reccobeats")


def feature_record(track_id: str, features: dict, source: str) -> dict | None:
    """A canonical record with the features a provider gave and which provider gave them."""
    raw = {"id": track_id, "features_source": source}
    for field in AUDIO_FEATURES:
        if features.get(field) is not None:  # absent stays absent (ReccoBeats: time_signature)
            raw[field] = features[field]
    if len(raw) == 2:
        return None
    try:
        return normalize_track(raw)
    except InvalidRecord:
        return None


class SpotifyFeatures:
    """Spotify /audio-features: 100 ids a call, null for tracks it does not know."""

    name = "spotify"
    label = "Spotify"
    endpoint = "/audio-features"

    def __init__(self, api):
        self.api = api
        self.batch_size = 100

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        found = {}
        for features in self.api.audio_features(track_ids):
            # null is Spotify's answer for a track it does not know: the next provider may.
            if isinstance(features, dict) and features.get("id") in track_ids:
                found[features["id"]] = features
        return found


class ReccoBeatsFeatures:
    """ReccoBeats /v1/audio-features: 40 ids a call, unknown tracks absent, no time_signature."""

    name = "reccobeats"
    label = "ReccoBeats"
    endpoint = "/v1/audio-features"

    def __init__(self, api):
        self.api = api
        self.batch_size = 40

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        return self.api.audio_features(track_ids)


class FeatureChain:
    """Fetch features through providers in order.

    A provider that answers 403/404 (a restricted app) is dropped for the rest of the run, with
    one message; tracks a provider does not know are offered to the next one.
    """

    def __init__(self, providers: list, say: Callable[[str], None]):
        self.providers = list(providers)
        self.say = say

    def fetch(
        self,
        track_ids: Iterable[str],
        write: Callable[[list[dict]], None],
        progress: Callable[[int], None] = lambda n: None,
    ) -> tuple[dict[str, int], list[str]]:
        """Fetch features for track_ids, handing each batch's records to write as it arrives.

        Returns ({provider name: tracks it gave}, ids no provider knew). progress(n) is called
        with the number of tracks settled after each call (the unknown ones at the end).
        """
        pending = list(dict.fromkeys(track_ids))
        counts = {p.name: 0 for p in self.providers}
        level = 0
        # Each level is one provider; ids it does not know move down to the next level.
        while pending and level < len(self.providers):
            provider = self.providers[level]
            leftovers: list[str] = []
            refused = False
            for start in range(0, len(pending), provider.batch_size):
                batch = pending[start : start + provider.batch_size]
                try:
                    found = provider.fetch(batch)
                except Restricted as exc:
                    self.say(
                        f"{provider.label} refused {provider.endpoint} (HTTP {exc.status}); "
                        f"{self._fallback(level)} for the rest of this run."
                    )
                    self.providers.pop(level)
                    leftovers.extend(pending[start:])
                    refused = True
                    break
                records = [
                    r
                    for r in (
                        feature_record(t, found[t], provider.name) for t in batch if t in found
                    )
                    if r
                ]
                if records:
                    write(records)
                counts[provider.name] += len(records)
                given = {r["id"] for r in records}
                leftovers.extend(t for t in batch if t not in given)
                progress(len(given))
            if not refused:
                level += 1
            pending = leftovers
        progress(len(pending))
        return counts, pending

    def _fallback(self, level: int) -> str:
        rest = self.providers[level + 1 :]
        return f"using {rest[0].label}" if rest else "no other feature provider is left"


def build_chain(
    order: str | Iterable[str], spotify_api, reccobeats_api, say: Callable[[str], None]
) -> FeatureChain:
    """The providers named in order (e.g. "spotify,reccobeats") that this run can use."""
    names = [n.strip().lower() for n in (order.split(",") if isinstance(order, str) else order)]
    unknown = [n for n in names if n and n not in PROVIDER_NAMES]
    if unknown:
        raise ValueError(
            f"unknown feature provider(s) {', '.join(unknown)}; "
            f"choose from {', '.join(PROVIDER_NAMES)}"
        )
    providers = []
    for name in dict.fromkeys(n for n in names if n):
        if name == "spotify" and spotify_api is not None:
            providers.append(SpotifyFeatures(spotify_api))
        elif name == "reccobeats" and reccobeats_api is not None:
            providers.append(ReccoBeatsFeatures(reccobeats_api))
    return FeatureChain(providers, say)
