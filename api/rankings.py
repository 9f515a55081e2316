"""The genre model's rankings of every catalogue track, made in batch and kept on the catalogue."""

from __future__ import annotations

import logging
import os
import threading
import weakref

from api.model import ModelMissing

_starting = threading.Lock()  # guards catalogue.ranking_by
_ranking = threading.Lock()  # one ranking at a time: each is seconds of batch passes


def rank_catalogue(catalogue, predictor) -> None:
    """Rank every track of a catalogue now, unless this predictor already has (warm-up, and a
    catalogue rebuilt in the background); waits for a ranking under way.

    A distinct catalogue track's predict then reads its row: the one-row pass and the ranking
    around it were a third of the request's CPU (seconds of batch passes for 92.5k tracks, 2.8 MB).
    """
    with _ranking:
        rankings = getattr(catalogue, "rankings", None)
        if rankings is not None and rankings.made_by(predictor):
            return  # a worker forked from a master that ranked it, or a ranking just finished
        catalogue.rankings = predictor.rank_all(catalogue.artist_pool)


def rankings_for(catalogue, predictor):
    """The catalogue's rankings by this predictor, or None while they are made in the background.

    Requests meanwhile run the one-row pass, so a catalogue served before it was ranked (the
    development server's first) or a model retrained while serving never holds a request up.
    """
    rankings = getattr(catalogue, "rankings", None)
    if rankings is not None and rankings.made_by(predictor):
        return rankings
    with _starting:
        started = getattr(catalogue, "ranking_by", None)
        if started is None or started() is not predictor:
            # Weak, as in Rankings: a retrained model's predecessor is not kept alive by it.
            catalogue.ranking_by = weakref.ref(predictor)
            threading.Thread(
                target=_rank_in_background,
                args=(catalogue, predictor),
                name="catalogue-ranking",
                daemon=True,
            ).start()
    return None


def catalogue_prediction(
    predictor, catalogue, row: int | None, features: dict, track: dict, top_k: int
) -> dict:
    """predictor.predict of a track's features (the track: a dict with its artists, the
    catalogue's row or None), read from the catalogue's rankings when they are made.

    Otherwise the one-row pass, with the artist context of the catalogue's other tracks.
    """
    if row is not None:
        rankings = rankings_for(catalogue, predictor)
        answer = None if rankings is None else rankings.answer(row, features, top_k)
        if answer is not None:
            return answer
    context = None
    if predictor.encoder.uses_context:
        context, _ = catalogue.artist_pool.track_context(predictor.encoder, track, leave_out=row)
    return predictor.predict(features, top_k=top_k, context=context)


def rank_with_model(catalogue, models) -> None:
    """Rank a catalogue rebuilt in the background with the genre model of models (the
    ModelHolder); until then its predicts run the one-row pass."""
    try:
        rank_catalogue(catalogue, models.get())
    except ModelMissing:  # predict answers 503 until a model is trained
        pass


def _rank_in_background(catalogue, predictor) -> None:
    try:
        rank_catalogue(catalogue, predictor)
    except Exception:  # the one-row pass keeps answering
        logging.getLogger(__name__).exception("ranking the catalogue failed")


def _after_fork_in_child() -> None:
    # A ranking thread of the parent does not exist in a forked child: its locks start free.
    global _starting, _ranking
    _starting, _ranking = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
