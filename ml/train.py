"""Trains the Keras genre model (one ensemble, popularity optional); saves the bundle to models/."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import click
import numpy as np
import pandas as pd

from ml import features as F
from ml.bundle import (
    BUNDLE_VERSION,
    LABEL_ENCODER_FILE,
    META_FILE,
    MODEL_FILE,  # noqa: F401
    PARITY_TOLERANCE,
    SCALER_FILE,
    file_sha256,
    probe_inputs,
    read_network,
)
from ml.context import ARTIST_MEANS, ArtistPool
from ml.data import DEFAULT_DATASET, DatasetUnusable, dedupe_tracks, frame_fingerprint
from ml.evaluate import fine_and_family_scores
from ml.model import adjust_for_prior, fit_genre_model, predict_proba, soft_targets
from ml.split import SEED, check_splittable, make_split, rare_labels
from ml.taxonomy import load_taxonomy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# One network serves tracks with and without popularity; the two modes are scored separately.
MODES = ("with_popularity", "without_popularity")


@dataclass
class TrainConfig:
    """Hyper-parameters chosen on the artist-grouped validation set (see models/README.md)."""

    # Branches of the ensemble (averaged inside the one saved model) and each branch's layers.
    members: int = 2
    hidden: tuple = (768, 384)
    dropout: float = 0.4
    n_bins: int = 24
    label_smoothing: float = 0.1
    # Share of a multi-genre track's target spread over all its genres (ml.model.soft_targets).
    soft_label_share: float = 0.5
    batch_size: int = 512
    learning_rate: float = 3e-3
    max_epochs: int = 18
    patience: int = 5
    # Share of training rows added a second time with popularity marked absent.
    mask_share: float = 0.3
    seed: int = 0

    def for_split(self, kind: str) -> TrainConfig:
        """These settings as chosen for a split kind on its own validation rows."""
        defaults = TrainConfig()
        chosen = SPLIT_SETTINGS.get(kind, {})
        # Only where the caller kept the default: a setting asked for is never overridden.
        return replace(
            self, **{k: v for k, v in chosen.items() if getattr(self, k) == getattr(defaults, k)}
        )


# With the artist context the track-grouped split (an artist's tracks on both sides) wants less
# regularisation: wider layers, lighter dropout and smoothing (validation, ml_tuning.md).
SPLIT_SETTINGS = {"track": {"hidden": (1024, 512), "dropout": 0.2, "label_smoothing": 0.05}}


def prepare(frame, echo=None, candidates=F.MODEL_FEATURES):
    """De-duplicate labelled rows, keep what can be learned, fit the label encoder.

    Genres with too few artists to split are left out, and so are candidate features with no
    value anywhere in the dataset. Raises DatasetUnusable (before any training) when what remains
    cannot make a fair split. Returns (tracks, dedupe report, label encoder, usable: dict with
    `features`, `absent_features`, `dropped_labels`, the tree baselines' extra `artist_means`
    and the tracks' ArtistPool `pool`).
    """
    from sklearn.preprocessing import LabelEncoder

    tracks, report = dedupe_tracks(frame)
    if echo:
        echo(
            f"{report.rows_in:,} labelled rows → {report.rows_out:,} distinct recordings "
            f"({report.label_rows_collapsed:,} extra labels of {report.multi_label_tracks:,} "
            f"multi-label tracks, {report.duplicate_recordings:,} duplicate recordings dropped)"
        )
    rare = rare_labels(tracks) if len(tracks) else []
    if rare:
        tracks = tracks[~tracks["label"].astype(str).isin(rare)].reset_index(drop=True)
        if echo:
            echo(
                f"{len(rare)} genre(s) with too few artists to split left out: "
                f"{', '.join(rare[:10])}{' …' if len(rare) > 10 else ''}"
            )
    check_splittable(tracks)
    # The artist context reads other tracks' features, never their labels; and an artist's
    # tracks are on one side of the artist-grouped split, so its validation and test rows see
    # only each other.
    pool = ArtistPool(tracks)
    tracks = pd.concat([pool.frame, pool.raw_means()], axis=1)
    tracks[F.ARTIST_TRACKS] = pool.others()
    features, absent = F.present_features(tracks, candidates)
    if not features:
        raise DatasetUnusable(
            f"the dataset has no value for any model feature ({', '.join(candidates)})"
        )
    if absent and echo:
        echo(f"absent from this dataset, left out: {', '.join(absent)}")
    encoder = LabelEncoder().fit(tracks["label"].astype(str))
    usable = {
        "features": features,
        "absent_features": absent,
        "dropped_labels": rare,
        "artist_means": F.present_features(tracks, ARTIST_MEANS)[0],
        "pool": pool,
    }
    return tracks, report, encoder, usable


def augment_with_masked(encoder, x, y, share: float, seed: int):
    """Append copies of a random share of rows with each maskable feature marked absent."""
    if share <= 0 or not encoder.maskable:
        return x, y
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(len(x)) < share)
    extra = x[chosen]
    for name in encoder.maskable:
        extra = encoder.mask(extra, name)
    return np.vstack([x, extra]), np.concatenate([y, y[chosen]])


def without_optional(encoder, x):
    """Encoded rows as they look when every optional feature (popularity) is absent."""
    for name in encoder.maskable:
        x = encoder.mask(x, name)
    return x


def label_sets(tracks, label_encoder) -> list[list[int]]:
    """Per row, the encoded indices of every genre the track is filed under (its label first)."""
    known = {label: i for i, label in enumerate(label_encoder.classes_)}
    sets = []
    for label, labels in zip(tracks["label"].astype(str), _all_labels(tracks), strict=True):
        others = [known[g] for g in labels if g in known and g != label]
        sets.append([known[label], *others])
    return sets


def _all_labels(tracks):
    if "all_labels" in tracks:
        return [labels if isinstance(labels, list) else [] for labels in tracks["all_labels"]]
    return [[] for _ in range(len(tracks))]


def train_model(
    tracks,
    split,
    y,
    n_classes: int,
    features,
    config: TrainConfig,
    echo=None,
    progress: bool = False,
    sets=None,
    pool=None,
) -> dict:
    """Fit the feature encoder and the network on one split; score once on the test rows.

    `sets` (label_sets) are every row's genres, for the soft targets of multi-genre tracks.
    `pool` (prepare's ArtistPool of the tracks) gives each row its artist context.
    Returns the encoder, the model, its history and fit time, and test probabilities with every
    feature present and with the optional ones (popularity) absent.
    """
    context = pool is not None and bool((pool.codes >= 0).any())
    encoder = F.FeatureEncoder(features, n_bins=config.n_bins, context=context)
    encoder.fit(tracks.iloc[split.train])
    x = encoder.transform(tracks, pool.context(encoder) if context else None)
    train_sets = [sets[i] for i in split.train] if sets is not None else None
    targets = soft_targets(y[split.train], train_sets, n_classes, config.soft_label_share)
    x_train, t_train = augment_with_masked(
        encoder, x[split.train], targets, config.mask_share, config.seed
    )
    model, history, seconds = fit_genre_model(
        x_train, t_train, x[split.val], y[split.val], n_classes, config, progress
    )
    tau = adjust_for_prior(model, y[split.train], x[split.val], y[split.val], n_classes)
    if echo:
        echo(
            f"  {config.members} networks averaged, {len(history['loss'])} epochs, best "
            f"validation top-1 {max(history['val_top1']):.3f} (epoch {history['best_epoch']}, "
            f"restored); prior correction tau={tau} (chosen on validation)"
        )
    x_test = x[split.test]
    return {
        "x_val": x[split.val],
        "encoder": encoder,
        "model": model,
        "history": history,
        "seconds": seconds,
        "prior_tau": tau,
        "test_proba": {
            "with_popularity": predict_proba(model, x_test),
            "without_popularity": predict_proba(model, without_optional(encoder, x_test)),
        },
    }


def library_versions() -> dict:
    import keras
    import pandas
    import sklearn
    import tensorflow

    return {
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pandas.__version__,
    }


def numpy_parity(model, model_path: str, x_val: np.ndarray) -> dict:
    """How closely the saved file, read as the web workers read it (numpy), reproduces Keras.

    Compared on the validation rows and on the fixed probe rows, whose Keras outputs are kept so
    that every load can re-check the numpy pass without Keras. A difference above
    PARITY_TOLERANCE stops training: the workers would serve other answers than the model's.
    """
    network = read_network(model_path)
    difference = 0.0
    if len(x_val):
        difference = float(np.max(np.abs(network(x_val) - predict_proba(model, x_val))))
    if not difference <= PARITY_TOLERANCE:
        raise RuntimeError(
            f"the numpy forward pass differs from Keras by {difference:.2e} on the "
            f"validation rows (tolerance {PARITY_TOLERANCE:.0e}); "
            "bundle not written"
        )
    probe = probe_inputs(network.n_inputs)
    return {
        "rows": "validation",
        "n_rows": int(len(x_val)),
        "max_abs_diff": difference,
        "tolerance": PARITY_TOLERANCE,
        "probe_proba": np.asarray(model(probe, training=False), dtype=np.float64).tolist(),
    }


def train_bundle(
    frame,
    models_dir: str = "models",
    config: TrainConfig | None = None,
    split_kind: str = "artist",
    echo=click.echo,
    dataset: str = DEFAULT_DATASET,
    progress: bool = False,
) -> dict:
    """Train the genre network on one split, score it on the test rows once, write the bundle.

    Raises ml.data.DatasetUnusable, before any training, when the dataset cannot be split.
    """
    import joblib

    config = config or TrainConfig()
    started = time.perf_counter()
    taxonomy = load_taxonomy()
    tracks, dedupe_report, label_encoder, usable = prepare(frame, echo)
    classes = list(label_encoder.classes_)
    y = label_encoder.transform(tracks["label"].astype(str))
    split = make_split(tracks, split_kind, seed=SEED)
    echo(f"{split_kind}-grouped split: {split.sizes()}")
    echo(
        f"training on {len(usable['features'])} features, popularity masked on "
        f"{config.mask_share:.0%} extra rows"
    )
    sets = label_sets(tracks, label_encoder)
    config = config.for_split(split_kind)
    result = train_model(
        tracks,
        split,
        y,
        len(classes),
        usable["features"],
        config,
        echo,
        progress,
        sets,
        usable["pool"],
    )
    metrics = {}
    for mode in MODES:
        metrics[mode] = fine_and_family_scores(
            y[split.test], result["test_proba"][mode], classes, taxonomy
        )
        fine, family = metrics[mode]["fine"], metrics[mode]["family"]
        echo(
            f"  {mode}: test top-1 {fine['top1']:.3f}  top-5 {fine['top5']:.3f}  "
            f"macro-F1 {fine['macro_f1']:.3f}  family top-1 {family['top1']:.3f}"
        )

    os.makedirs(models_dir, exist_ok=True)
    encoder = result["encoder"]
    paths = {
        name: os.path.join(models_dir, name)
        for name in (MODEL_FILE, SCALER_FILE, LABEL_ENCODER_FILE)
    }
    result["model"].save(paths[MODEL_FILE])
    joblib.dump(encoder, paths[SCALER_FILE])
    joblib.dump(label_encoder, paths[LABEL_ENCODER_FILE])
    parity = numpy_parity(result["model"], paths[MODEL_FILE], result["x_val"])
    echo(
        f"numpy forward pass vs Keras on {parity['n_rows']:,} validation rows: "
        f"largest difference {parity['max_abs_diff']:.1e}"
    )
    meta = {
        "bundle_version": BUNDLE_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset,
        "training_data_sha256": frame_fingerprint(tracks),
        "rows": {
            "labelled": dedupe_report.rows_in,
            "distinct_recordings": dedupe_report.rows_out,
            **split.sizes(),
        },
        "dedupe": dedupe_report.as_dict(),
        "split": {"kind": split_kind, "seed": SEED, "test_size": 0.2, "val_size": 0.1},
        "features": list(encoder.features),
        "optional_features": list(encoder.maskable),
        # Absent from the whole dataset, then (rarely) from its training rows only.
        "absent_features": list(usable["absent_features"]),
        "dropped_features": [*usable["absent_features"], *encoder.dropped_],
        "dropped_labels": usable["dropped_labels"],
        "encoded_width": encoder.n_outputs,
        # The network's last inputs are the artist context (ml.context), read from the pool of
        # tracks it serves: the catalogue.
        "artist_context": encoder.uses_context,
        "labels": classes,
        "taxonomy_version": taxonomy.version,
        "families": {g: taxonomy.family(g) for g in classes},
        "epochs": len(result["history"]["loss"]),
        "best_epoch": result["history"]["best_epoch"],
        "best_val_top1": round(float(max(result["history"]["val_top1"])), 4),
        "prior_tau": result["prior_tau"],
        "train_seconds": round(result["seconds"], 1),
        "test_metrics": metrics,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()},
        "library_versions": library_versions(),
        "numpy_parity": parity,
        "files_sha256": {name: file_sha256(path) for name, path in paths.items()},
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    # meta.json is written last: its presence marks a complete bundle.
    with open(os.path.join(models_dir, META_FILE), "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=1)
    echo(f"bundle written to {models_dir} in {meta['total_seconds']:.0f}s")
    return meta
