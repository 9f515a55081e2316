"""Feature selection and encoding: which track columns feed the models, and how they are scaled."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

# Continuous columns: skewed (instrumentalness, speechiness, duration) or bounded, so they are
# encoded by their position among training quantiles rather than by raw value.
CONTINUOUS = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
    "duration_ms",
    "popularity",
)
# Categorical columns and the values they can take; anything else counts as absent.
CATEGORICAL = {
    "key": tuple(range(12)),
    "mode": (0, 1),
    "time_signature": (0, 1, 3, 4, 5),
    "explicit": (0, 1),
}
ALL_FEATURES = (*CONTINUOUS, *CATEGORICAL)

# The seed's eight MinMax-scaled features, used for affinity propagation as in the original app.
SEED_CLUSTER_FEATURES = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
)

# Features the genre model uses, decided on artist-grouped validation rows by ml.select (recorded
# in bench/results/ml_features.*): a drop-one ablation with a small proxy network found every
# feature helping except liveness, mode and explicit (each within ±0.001), but the real model
# without those three lost 0.7 points of validation top-1 (0.3445 → 0.3370), so all candidates
# stay.
# How many other tracks of its artist the pool holds (ml.context.ArtistPool).
ARTIST_TRACKS = "artist_tracks"
# Then how many other tracks its artist has; with it the network reads the artist context
# (ml.context), which is not a column of the track but the mean of those tracks' encoded rows.
MODEL_FEATURES = (*ALL_FEATURES, ARTIST_TRACKS)
# Many current sources (ReccoBeats, exports) carry no popularity. Rather than impute a value that
# would drive the prediction, the encoder marks it absent (an all-zero block plus an "absent"
# column) and training shows the network a share of rows with it masked, so one model serves both.
OPTIONAL_FEATURES = ("popularity",)
# The plan's arrays that hold values rather than positions.
FLOATS = ("lower", "span")


def without(features, dropped) -> tuple[str, ...]:
    """features minus the dropped ones, order kept."""
    dropped = set(dropped)
    return tuple(f for f in features if f not in dropped)


def present_features(frame, features) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(features with at least one value in frame, features with none), order kept.

    A source may lack a column altogether (TidyTuesday has no time_signature or explicit,
    ReccoBeats' file analysis no key or mode); such a feature carries nothing to learn and would
    break the tree baselines' binning, so every ML command leaves it out for that dataset.
    """
    present = tuple(f for f in features if not np.isnan(_column(frame, f)).all())
    return present, without(features, present)


class FeatureEncoder:
    """Turns track columns into the model's input matrix; fit on training rows only.

    Continuous features get a piecewise-linear encoding over `n_bins` training quantiles (one
    column per bin: 0 below it, 1 above it, linear inside), which lets a small MLP bend each
    feature's effect the way a tree would. Categorical features are one-hot. An absent value of a
    maskable feature (popularity) becomes an all-zero block plus an "absent" column set to 1; any
    other absent value is imputed explicitly with the training median (continuous) or most
    frequent value (categorical), and `imputed` reports which.

    With `context`, the rows end with the artist context (ml.context.ArtistPool): the mean of
    the artist's other tracks' encoded columns (each bin column the share of them above its
    edge; popularity left out, so that it cannot reach the model when marked absent) and a
    column set to 1 when there is no other track. On artist-grouped validation rows this took
    the network 3 points of top-1 past the same tracks' mean raw features (ml_tuning.md).
    """

    # Bundles saved before the artist context unpickle without the attribute.
    uses_context = False

    def __init__(
        self,
        features=MODEL_FEATURES,
        n_bins: int = 24,
        maskable=OPTIONAL_FEATURES,
        context: bool = False,
    ):
        self.features = tuple(features)
        self.n_bins = n_bins
        self.maskable = tuple(f for f in maskable if f in self.features)
        self.uses_context = context
        self.edges_: dict[str, np.ndarray] = {}
        self.fill_: dict[str, float] = {}
        self.categories_: dict[str, tuple] = {}
        self.dropped_: list[str] = []

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> FeatureEncoder:
        kept = []
        for name in self.features:
            values = _column(frame, name)
            present = values[~np.isnan(values)]
            if present.size == 0:
                # Absent from the whole training set: nothing to learn from, so leave it out
                # rather than feed the model a constant.
                self.dropped_.append(name)
                continue
            kept.append(name)
            if name in CATEGORICAL:
                allowed = CATEGORICAL[name]
                seen = [v for v in allowed if np.any(present == v)]
                self.categories_[name] = tuple(seen)
                counts = [(np.sum(present == v), v) for v in seen]
                self.fill_[name] = float(max(counts)[1]) if counts else float(allowed[0])
            else:
                quantiles = np.quantile(present, np.linspace(0, 1, self.n_bins + 1))
                self.edges_[name] = np.unique(quantiles)
                self.fill_[name] = float(np.median(present))
        self.features = tuple(kept)
        self.maskable = tuple(f for f in self.maskable if f in self.features)
        return self

    # -- transforming -------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        own = sum(self._width(name) for name in self.features)
        return own + (len(self.context_columns()) + 1 if self.uses_context else 0)

    @property
    def context_features(self) -> tuple[str, ...]:
        """The features whose encoded columns make the artist context."""
        if not self.uses_context:
            return ()
        return without(self.features, (*self.maskable, ARTIST_TRACKS))

    def context_columns(self) -> list[str]:
        """Names of the context's mean columns (one per encoded column of context_features)."""
        return [f"artist:{name}" for name in self.output_names(self.context_features, flags=False)]

    def output_names(self, features=None, flags: bool = True) -> list[str]:
        """Names of the encoded columns (of all features, or of `features`), in order."""
        names = []
        for name in self.features if features is None else features:
            if name in CATEGORICAL:
                names += [f"{name}={v}" for v in self.categories_[name]]
            else:
                names += [f"{name}#bin{i}" for i in range(len(self.edges_[name]) - 1 or 1)]
            if name in self.maskable and flags:
                names.append(f"{name}#absent")
        if features is None and self.uses_context:
            names += [*self.context_columns(), "artist#none"]
        return names

    def _width(self, name: str) -> int:
        if name in CATEGORICAL:
            width = len(self.categories_[name])
        else:
            width = max(len(self.edges_[name]) - 1, 1)
        return width + (1 if name in self.maskable else 0)

    def columns_of(self, name: str) -> slice:
        """The encoded columns of one feature (its absent flag included)."""
        start = 0
        for other in self.features:
            if other == name:
                return slice(start, start + self._width(other))
            start += self._width(other)
        raise KeyError(name)

    def rising_runs(self) -> list[slice]:
        """The piecewise-linear columns of each continuous feature: 1s, a fraction, then 0s."""
        runs = []
        for name in self.features:
            if name not in CATEGORICAL:
                columns = self.columns_of(name)
                runs.append(slice(columns.start, columns.stop - (name in self.maskable)))
        return runs

    def mask(self, encoded: np.ndarray, name: str) -> np.ndarray:
        """A copy of encoded rows with one maskable feature marked absent (as transform would)."""
        masked = encoded.copy()
        columns = self.columns_of(name)
        masked[:, columns] = 0.0
        masked[:, columns.stop - 1] = 1.0
        return masked

    def imputed(self, frame: pd.DataFrame) -> dict[str, int]:
        """How many rows lack each imputed model feature (maskable ones are flagged instead)."""
        return {
            name: int(np.isnan(_column(frame, name)).sum())
            for name in self.features
            if name not in self.maskable and np.isnan(_column(frame, name)).any()
        }

    def context_index(self) -> np.ndarray:
        """Where context_part's columns sit among the track's own encoded columns."""
        blocks = [self.columns_of(name) for name in self.context_features]
        return np.concatenate([np.arange(b.start, b.stop) for b in blocks] or [np.zeros(0, int)])

    def context_part(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded columns of context_features: what an artist's tracks are averaged over."""
        return self._encode(frame, self.context_features)

    def context_block(self, totals: np.ndarray, others) -> np.ndarray:
        """The context columns from each row's sums of context_part over its artist's other
        tracks and how many they are (0: none, which sets the last column)."""
        others = np.asarray(others, dtype=np.float64)
        means = totals / np.maximum(others, 1.0)[:, None]
        return np.hstack([means, (others == 0)[:, None]]).astype(np.float32)

    def no_context(self, n_rows: int) -> np.ndarray:
        """The context block of rows whose artist has no other known track."""
        return self.context_block(np.zeros((n_rows, len(self.context_columns()))), [0] * n_rows)

    def transform(self, frame, context: np.ndarray | None = None) -> np.ndarray:
        """The encoded rows of a DataFrame, or the one row of a dict (a web request's track).

        context: the rows' artist context (ml.context.ArtistPool); none known without it.
        """
        if isinstance(frame, dict):
            return self.encode_track(frame, context)[0]
        own = self._encode(frame, self.features)
        if not self.uses_context:
            return own
        block = self.no_context(len(own)) if context is None else context
        return np.hstack([own, block])

    def _encode(self, frame, features) -> np.ndarray:
        blocks = []
        for name in features:
            values = _column(frame, name)
            absent = np.isnan(values)
            values = np.where(absent, self.fill_[name], values)
            if name in CATEGORICAL:
                cats = np.asarray(self.categories_[name], dtype=np.float64)
                block = (values[:, None] == cats[None, :]).astype(np.float32)
                # A value outside the training vocabulary falls back to the most frequent one.
                unseen = block.sum(axis=1) == 0
                if unseen.any():
                    block[unseen] = (cats == self.fill_[name]).astype(np.float32)
            else:
                block = _piecewise_linear(values, self.edges_[name])
            if name in self.maskable:
                block[absent] = 0.0
                block = np.hstack([block, absent[:, None].astype(np.float32)])
            blocks.append(block)
        if not blocks:
            return np.zeros((len(frame), 0), np.float32)
        return np.hstack(blocks).astype(np.float32)

    def encode_track(self, track: dict, context=None) -> tuple[np.ndarray, list[str]]:
        """transform of one track (a 1-row matrix) and the features it lacks.

        The continuous features take one array operation over all their columns; categorical
        and maskable ones a dictionary look-up or two each: the per-feature loop of transform
        costs 0.3 ms a track, most of a distinct-track predict. Same arithmetic, so the same
        float32 values (tested).
        """
        plan = self.__dict__.get("_one_row_plan") or self._plan_one_row()
        values = np.array([_as_float(track.get(name)) for name in self.features])
        absent = np.isnan(values)
        values = np.where(absent, plan["fill"], values)
        row = np.zeros(plan["width"])
        linear = plan["linear"]
        # np.clip's Python wrapper costs more than the arithmetic on one row.
        scaled = values[linear["feature"]] - linear["lower"]
        scaled /= linear["span"]
        row[linear["columns"]] = np.minimum(np.maximum(scaled, 0.0, out=scaled), 1.0, out=scaled)
        for position, column_of, fallback in plan["categorical"]:
            # A value outside the training vocabulary counts as the most frequent one.
            column = column_of.get(values.item(position), fallback)
            if column is not None:
                row[column] = 1.0
        missing = [self.features[i] for i in absent.nonzero()[0]]
        for position, block, flag in plan["maskable"]:
            if absent[position]:
                row[block] = 0.0
                row[flag] = 1.0
        row = row.astype(np.float32)[None, :]
        if self.uses_context:
            row = np.hstack([row, self.no_context(1) if context is None else context])
        return row, missing

    def _plan_one_row(self) -> dict:
        """Where each encoded column of one row comes from (built once, never pickled)."""
        linear = defaultdict(list)
        categorical, maskable = [], []
        for position, name in enumerate(self.features):
            columns = self.columns_of(name)
            value_columns = range(columns.start, columns.stop - (name in self.maskable))
            if name in CATEGORICAL:
                column_of = {float(v): c for c, v in zip(value_columns, self.categories_[name])}
                categorical.append((position, column_of, column_of.get(float(self.fill_[name]))))
            elif len(self.edges_[name]) >= 2:  # fewer edges: one column that stays 0
                edges = self.edges_[name]
                for column, lower, upper in zip(value_columns, edges[:-1], edges[1:]):
                    linear["columns"].append(column)
                    linear["feature"].append(position)
                    linear["lower"].append(lower)
                    linear["span"].append(upper - lower)
            if name in self.maskable:
                block = slice(value_columns.start, value_columns.stop)
                maskable.append((position, block, columns.stop - 1))
        plan = {
            "linear": {
                key: np.asarray(linear[key], dtype=float if key in FLOATS else np.intp)
                for key in ("columns", "feature", "lower", "span")
            },
            "categorical": categorical,
            "maskable": maskable,
            "width": sum(self._width(name) for name in self.features),
            "fill": np.array([self.fill_[name] for name in self.features]),
        }
        self._one_row_plan = plan
        return plan

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_one_row_plan"}

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).transform(frame)


def _piecewise_linear(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    if len(edges) < 2:
        return np.zeros((len(values), 1), np.float32)
    lower, upper = edges[:-1], edges[1:]
    block = (values[:, None] - lower[None, :]) / (upper - lower)[None, :]
    return np.clip(block, 0.0, 1.0).astype(np.float32)


def _column(frame, name: str) -> np.ndarray:
    if isinstance(frame, dict):
        return np.array([_as_float(frame.get(name))], dtype=np.float64)
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _as_float(value) -> float:
    """One feature value as float, NaN when absent or not a number."""
    try:
        return np.nan if value is None else float(value)
    except (TypeError, ValueError):
        return np.nan


def raw_matrix(frame: pd.DataFrame, features) -> np.ndarray:
    """The features as plain float columns with NaN where absent (for tree baselines)."""
    return np.column_stack([_column(frame, name) for name in features]).astype(np.float64)


def minmax_matrix(frame: pd.DataFrame, features=SEED_CLUSTER_FEATURES):
    """The seed's MinMax scaling for clustering: each feature to [0, 1], absent → its median."""
    from sklearn.preprocessing import MinMaxScaler

    raw = raw_matrix(frame, features)
    medians = np.nanmedian(raw, axis=0)
    raw = np.where(np.isnan(raw), medians[None, :], raw)
    scaler = MinMaxScaler()
    return scaler.fit_transform(raw), scaler
