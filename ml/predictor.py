"""Loads and validates the genre bundle (numpy, no TensorFlow); ranks genres and families."""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
import pandas as pd

from ml.bundle import (
    LABEL_ENCODER_FILE,
    MODEL_FILE,
    PARITY_TOLERANCE,
    PROBE_ROWS,
    SCALER_FILE,
    ModelUnavailable,
    load_file,
    probe_inputs,
    read_meta,
    read_network,
)
from ml.features import ARTIST_TRACKS

__all__ = ["GenrePredictor", "ModelUnavailable", "Rankings"]

# Probabilities are answered to four decimals, so a ranking keeps them as integers of 1e-4.
UNITS = 10_000
# Rank places kept per track by rank_all: a predict shows five genres and five families by default.
KEPT_RANKS = 5
# Rows per batch pass in rank_all: its activations stay a few MB.
RANK_BATCH_ROWS = 2048


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _number(value):
    """A feature value as float, None when absent or not numeric (e.g. '' from a form)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _joblib_load(path: str):
    import joblib

    return joblib.load(path)


class GenrePredictor:
    """A validated bundle: encoder, network and label set. Build with GenrePredictor.load(dir)."""

    def __init__(self, meta: dict, encoder, network, label_encoder, models_dir: str):
        self.meta = meta
        self.encoder = encoder
        self.network = network
        self.labels = list(label_encoder.classes_)
        self.models_dir = models_dir
        self.family_of = meta["families"]
        self.families = sorted(set(self.family_of.values()))
        column = {f: i for i, f in enumerate(self.families)}
        self.family_matrix = np.zeros((len(self.labels), len(self.families)), dtype=np.float32)
        for row, genre in enumerate(self.labels):
            self.family_matrix[row, column[self.family_of[genre]]] = 1.0

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def load(cls, models_dir: str) -> GenrePredictor:
        """Load and validate the bundle, or raise ModelUnavailable saying what is wrong.

        Reads model.keras with h5py (ml.bundle), never through Keras: TensorFlow alone would
        cost a web worker 670 MB and 5 s. Messages name bundle files, never the folder, because
        the API shows them.
        """
        meta = read_meta(models_dir)
        encoder = load_file(models_dir, meta, SCALER_FILE, _joblib_load)
        label_encoder = load_file(models_dir, meta, LABEL_ENCODER_FILE, _joblib_load)
        if [str(c) for c in getattr(label_encoder, "classes_", [])] != meta["labels"]:
            raise ModelUnavailable(
                f"the label set of {LABEL_ENCODER_FILE} differs from meta.json "
                "(files from different trainings)"
            )
        if list(getattr(encoder, "features", [])) != meta["features"]:
            raise ModelUnavailable(
                f"the feature order of {SCALER_FILE} "
                f"{list(getattr(encoder, 'features', []))} differs from "
                f"meta.json {meta['features']} (files from different trainings)"
            )

        network = load_file(models_dir, meta, MODEL_FILE, read_network)
        n_inputs, n_outputs = network.n_inputs, network.n_outputs
        if n_inputs != encoder.n_outputs or n_inputs != meta["encoded_width"]:
            raise ModelUnavailable(
                f"{MODEL_FILE} expects {n_inputs} inputs, {SCALER_FILE} gives "
                f"{encoder.n_outputs} and meta.json says {meta['encoded_width']}"
            )
        if n_outputs != len(meta["labels"]):
            raise ModelUnavailable(
                f"{MODEL_FILE} has {n_outputs} outputs for "
                f"{len(meta['labels'])} labels in meta.json (other label set)"
            )
        # Before the parity check, so that it checks the pass that serves.
        network.fold_rising_runs(encoder.rising_runs())
        # Keras's own outputs for fixed inputs, recorded at training: the numpy pass must match.
        try:
            expected = np.asarray(meta["numpy_parity"]["probe_proba"], dtype=np.float32)
        except (TypeError, ValueError):
            expected = None
        if (
            expected is None
            or expected.shape != (PROBE_ROWS, n_outputs)
            or not np.allclose(
                network(probe_inputs(n_inputs)), expected, atol=PARITY_TOLERANCE, rtol=0
            )
        ):
            raise ModelUnavailable(
                "numpy forward pass disagrees with the Keras model's outputs recorded in meta.json"
            )
        return cls(meta, encoder, network, label_encoder, models_dir)

    # -- predicting ---------------------------------------------------------------------------
    def predict_proba(self, frame: pd.DataFrame, context=None) -> np.ndarray:
        """Fine-genre probabilities per row, columns in self.labels order; context: the rows'
        artist context (ArtistPool.context), none known without it."""
        return self.network(self.encoder.transform(frame, context))

    def _ranked(self, proba: np.ndarray, absent: list, top_k: int) -> dict:
        genres, genre_units = _top(proba, top_k)
        families, family_units = _top(proba @ self.family_matrix, top_k)
        return self.answer(genres, genre_units, families, family_units, absent)

    def answer(self, genres, genre_units, families, family_units, absent: list) -> dict:
        """The ranked answer from columns and probabilities in units of 1e-4, best first."""
        optional = self.encoder.maskable
        return {
            "genres": [
                {
                    "genre": self.labels[i],
                    "family": self.family_of[self.labels[i]],
                    "probability": units / UNITS,
                }
                for i, units in zip(genres.tolist(), genre_units.tolist())
            ],
            "families": [
                {"family": self.families[i], "probability": units / UNITS}
                for i, units in zip(families.tolist(), family_units.tolist())
            ],
            "absent": [f for f in absent if f in optional],
            "imputed": [f for f in absent if f not in optional],
        }

    def absent_features(self, track: dict) -> list[str]:
        """The model features a track (dict) lacks, in the model's order."""
        return [f for f in self.encoder.features if not _present(_number(track.get(f)))]

    def rank_all(self, pool, depth: int = KEPT_RANKS) -> Rankings:
        """Every track's top genres and families (depth places each) in a pool of tracks
        (ml.context.ArtistPool, each track's artist context read from the others), from batch
        passes.

        About 37 µs a track with the artist context (3.1 s for 83.5k), where the one-row pass of
        a web request costs about 300 µs of its CPU: a distinct catalogue track's predict took
        670 µs in process, 360 with its row read from these rankings.
        """
        frame = pool.frame
        if ARTIST_TRACKS in self.encoder.features:
            frame = frame.assign(**{ARTIST_TRACKS: pool.others()})
        sums = pool.sums(self.encoder) if self.encoder.uses_context else None
        depth = min(depth, len(self.labels))
        genres = np.empty((len(frame), depth), np.min_scalar_type(len(self.labels)))
        families = np.empty((len(frame), min(depth, len(self.families))), np.uint8)
        genre_units = np.empty(genres.shape, np.uint16)
        family_units = np.empty(families.shape, np.uint16)
        for start in range(0, len(frame), RANK_BATCH_ROWS):
            rows = slice(start, start + RANK_BATCH_ROWS)
            # The context is the last columns; the track's own come first, and its context is
            # taken out of its artist's sums from them.
            x = self.encoder.transform(frame.iloc[rows])
            if sums is not None:
                x[:, x.shape[1] - sums.shape[1] - 1 :] = pool.context(
                    self.encoder, rows, sums, encoded=x
                )
            proba = self.network(x)
            genres[rows], genre_units[rows] = _top(proba, genres.shape[1])
            families[rows], family_units[rows] = _top(proba @ self.family_matrix, families.shape[1])
        return Rankings(self, genres, genre_units, families, family_units)

    def predict(self, features, top_k: int = 5, context=None):
        """Ranked genres and families for one track (dict) or each DataFrame row (list of results).

        context: the artist context of the track or rows (ArtistPool.track_context / context);
        without it the network is told no other track of the artist is known.

        An absent popularity is shown to the network as absent (it was trained that way) and listed
        under "absent"; any other absent feature takes its training median or most frequent value
        and is listed under "imputed".
        """
        if isinstance(features, dict):
            # One track skips pandas entirely: the encoder reads the dict directly. BLAS runs on one
            # thread: waking a pool for a single row costs more than the multiplication (measured
            # behind a Flask route: p50 1.1 ms → 0.9 ms on 2 busy cores).
            encoded, absent = self.encoder.encode_track(features, context)
            with _single_thread_blas():
                proba = self.network(encoded)[0]
            return self._ranked(proba, absent, top_k)
        frame = features.reset_index(drop=True)
        proba = self.predict_proba(frame, context)
        results = []
        for row, values in enumerate(proba):
            absent = [
                f
                for f in self.encoder.features
                if f not in frame or not _present(_number(frame.at[row, f]))
            ]
            results.append(self._ranked(values, absent, top_k))
        return results


def _top(proba: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest columns of each row (or of one row), best first, and their values in 1e-4."""
    order = np.argsort(-proba, axis=-1, kind="stable")[..., :k]
    units = np.rint(np.take_along_axis(proba, order, axis=-1).astype(np.float64) * UNITS)
    return order, units.astype(np.uint16)


class Rankings:
    """Many tracks' top genres and families by one predictor (GenrePredictor.rank_all), compactly.

    About 30 bytes a track: a catalogue of 114k tracks keeps 3.4 MB.
    """

    def __init__(self, predictor: GenrePredictor, genres, genre_units, families, family_units):
        # Weak: rankings outliving a retrained model must not keep the old network in memory.
        self._predictor = weakref.ref(predictor)
        self.genres, self.genre_units = genres, genre_units
        self.families, self.family_units = families, family_units

    def __len__(self) -> int:
        return len(self.genres)

    def made_by(self, predictor) -> bool:
        return self._predictor() is predictor

    def answer(self, row: int, track: dict, top_k: int = KEPT_RANKS) -> dict | None:
        """predict(track, top_k) of the track ranked at row; None when more places are asked for."""
        predictor = self._predictor()
        if predictor is None or top_k > self.genres.shape[1]:
            return None
        return predictor.answer(
            self.genres[row, :top_k],
            self.genre_units[row, :top_k],
            self.families[row, :top_k],
            self.family_units[row, :top_k],
            predictor.absent_features(track),
        )


_blas_controller = None
_blas_single_for_good = False


def _controller():
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller


def serve_with_single_thread_blas() -> None:
    """BLAS on one thread for the rest of this process: a web worker only ever multiplies one row.

    Limiting it per prediction instead costs 0.3 ms a request (threadpoolctl walks every loaded
    library each time), a quarter of a distinct-track predict.
    """
    global _blas_single_for_good
    _controller().limit(limits=1, user_api="blas")
    _blas_single_for_good = True


def _single_thread_blas():
    if _blas_single_for_good:
        return contextlib.nullcontext()
    return _controller().limit(limits=1, user_api="blas")
