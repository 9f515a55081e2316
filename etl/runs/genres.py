"""The genre-dataset run: Spotify recommendations seeded by genre, labelled by that genre."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.calls import ApiError, Restricted
from etl.demo import CATALOGUE
from etl.runs.base import Checkpoint, LiveEtlError, RunContext, RunReport
from etl.spotify import safe_track_record

GENRE_DATASET = "spotify-genre-seeds"


class GenreSeedingRefused(LiveEtlError):
    """Spotify will not seed recommendations by genre for this app."""


@dataclass
class GenresCheckpoint(Checkpoint):
    """The genres chosen when the run began, those done, and tracks no provider knew."""

    genres: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    no_features: list[str] = field(default_factory=list)
    per_genre: int = 100


def build_genre_dataset(
    ctx: RunContext, genre_count: int, per_genre: int, genres=(), dataset: str = GENRE_DATASET
) -> RunReport:
    """The seed app's builder: recommendations per genre seed, labelled by that genre."""
    started = ctx.start()
    api = ctx.spotify
    store = ctx.store
    key = f"etl:genres:{dataset}"
    state = GenresCheckpoint.load(store, key)
    if state is not None and genres and list(genres) != state.genres:
        state = None
    if state is None:
        chosen = list(dict.fromkeys(genres))
        if not chosen:
            try:
                chosen = api.genre_seeds()[:genre_count]
            except Restricted as exc:
                raise _refusal(exc) from None
        state = GenresCheckpoint(genres=chosen, per_genre=per_genre)
    else:
        ctx.console.say(
            f"Resuming: {len(state.done)} of {len(state.genres)} genres already stored."
        )

    def save():
        state.save(store, key)

    save()
    store.upsert_dataset(
        {
            "name": dataset,
            "label_set": "seed_genre",
            "source": "spotify-recommendations",
            "description": f"Spotify recommendations seeded by genre (up to "
            f"{state.per_genre} per genre); label = the seed genre",
        }
    )
    todo = [g for g in state.genres if g not in state.done]
    with ctx.console.progress(len(todo), "Genres") as bar:
        for genre in todo:
            try:
                tracks = api.recommendations(seed_genres=[genre], limit=state.per_genre)
            except Restricted as exc:
                raise _refusal(exc) from None
            records = list({r["id"]: r for r in map(safe_track_record, tracks) if r}.values())
            store.upsert_tracks(records)
            store.upsert_dataset_tracks(dataset, [(r["id"], genre) for r in records])
            store.upsert_track_genres([(r["id"], genre, f"seed:{dataset}") for r in records])
            state.done.append(genre)
            save()
            bar.advance(1)
    track_ids = list(dict.fromkeys(store.read_tracks_frame(dataset=dataset)["id"]))
    features = ctx.fill_features(track_ids, state.no_features, save)
    store.delete_state(key)
    report = RunReport(f"Genre dataset '{dataset}'")
    report.lines.append(
        f"Genres: {len(state.genres)}; {len(track_ids)} distinct tracks "
        "labelled with their seed genre."
    )
    report.lines.append(ctx.features_line(features))
    report.counts = {"genres": len(state.genres), "tracks": len(track_ids), "features": features}
    return ctx.finish(report, started)


def _refusal(exc: ApiError) -> GenreSeedingRefused:
    return GenreSeedingRefused(
        f"Spotify refuses genre seeding for this app ({exc.endpoint} answered HTTP "
        f"{exc.status}; /recommendations is closed to apps created after 27 Nov 2024), and "
        "ReccoBeats has no genre seeds. The public 114-genre dataset was built the same way "
        "(1,000 tracks per genre from Spotify recommendations); import it instead:\n"
        f"  flask --app app etl import {CATALOGUE.url}"
    )
