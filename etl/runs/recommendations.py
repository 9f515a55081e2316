"""The recommendations run: recommended tracks (with features) for each stored playlist track."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.calls import Restricted
from etl.reccobeats import track_record as reccobeats_track_record
from etl.runs.base import Checkpoint, LiveEtlError, RunContext, RunReport
from etl.spotify import playlist_id_from, safe_track_record


@dataclass
class RecommendationsCheckpoint(Checkpoint):
    """Seeds done so far, tracks no provider knew, and how many seeds each service answered."""

    done: list[str] = field(default_factory=list)
    no_features: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)


def load_recommendations(
    ctx: RunContext, playlist_id: str | None = None, per_seed: int = 20
) -> RunReport:
    """Recommended tracks (with features) for every track of a stored playlist (or all)."""
    started = ctx.start()
    store = ctx.store
    if playlist_id:
        try:
            playlist_id = playlist_id_from(playlist_id)
        except ValueError as exc:
            raise LiveEtlError(str(exc)) from None
        playlists = [playlist_id]
    else:
        playlists = [p["id"] for p in store.list_playlists()]
    seeds = list(
        dict.fromkeys(t for p in playlists for t in store.read_tracks_frame(playlist=p)["id"])
    )
    if not seeds:
        raise LiveEtlError(
            "No playlist tracks in the store: load one first with "
            "`flask --app app etl playlist <url>`."
        )
    key = f"etl:recommendations:{playlist_id or '*'}"
    state = RecommendationsCheckpoint.load(store, key) or RecommendationsCheckpoint()

    def save():
        state.save(store, key)

    done = set(state.done) | store.recommendation_seed_ids()
    todo = [s for s in seeds if s not in done]
    services = _Services(ctx)
    with ctx.console.progress(len(todo), "Recommendations") as bar:
        for seed in todo:
            records, source = services.recommend(seed, per_seed)
            store.upsert_tracks(records)
            store.upsert_recommendations(
                {"seed_track_id": seed, "track_id": r["id"], "source": source, "rank": rank}
                for rank, r in enumerate(records, start=1)
            )
            state.done.append(seed)
            state.sources[source] = state.sources.get(source, 0) + 1
            save()
            bar.advance(1)
    rec_ids = list(
        dict.fromkeys(r["track_id"] for s in seeds for r in store.get_recommendations(s))
    )
    features = ctx.fill_features(rec_ids, state.no_features, save)
    store.delete_state(key)
    report = RunReport("Recommendations")
    by_source = ", ".join(f"{n} from {s}" for s, n in state.sources.items())
    report.lines.append(
        f"Seeds: {len(seeds)} ({len(seeds) - len(todo)} already done"
        + (f"; {by_source}" if by_source else "")
        + f"); "
        f"{len(rec_ids)} recommended tracks linked."
    )
    report.lines.append(ctx.features_line(features))
    report.counts = {
        "seeds": len(seeds),
        "tracks": len(rec_ids),
        "features": features,
        "sources": dict(state.sources),
    }
    return ctx.finish(report, started)


class _Services:
    """Spotify's /recommendations, then ReccoBeats' once Spotify refuses (403/404) for good."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.sources = ["spotify", "reccobeats"]
        self.failures: list[str] = []
        if ctx.clients.spotify_if_configured() is None:
            ctx.console.say("No Spotify credentials: recommendations from ReccoBeats.")
            self.sources.remove("spotify")

    def recommend(self, seed: str, per_seed: int) -> tuple[list[dict], str]:
        clients = self.ctx.clients
        while self.sources:
            source = self.sources[0]
            try:
                if source == "spotify":
                    tracks = clients.spotify.recommendations(seed_tracks=[seed], limit=per_seed)
                    records = [r for r in map(safe_track_record, tracks) if r]
                else:
                    items = clients.reccobeats.recommendations([seed], size=per_seed)
                    records = [r for r in map(reccobeats_track_record, items) if r]
                unique = list({r["id"]: r for r in records if r["id"] != seed}.values())
                return unique, source
            except Restricted as exc:
                if source == "reccobeats" and exc.status == 404:
                    return [], source  # ReccoBeats does not know this seed track
                failure = f"{exc.endpoint} answered HTTP {exc.status}"
            # ServiceFailed (and every other ApiError) propagates: a flaky service stops the run
            # with a resumable message instead of switching the source of the remaining seeds,
            # which would leave the store differing from an undisturbed run for good.
            self.failures.append(failure)
            self.sources.pop(0)
            if self.sources:
                self.ctx.console.say(f"{failure}; using ReccoBeats for the rest of this run.")
        raise LiveEtlError(
            "No recommendation service answered: "
            + "; ".join(self.failures)
            + ". Stored recommendations are kept; run again later."
        )
