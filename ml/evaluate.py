"""Metrics, baselines and confusion-matrix plots for genre predictions (fine genres, families)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import numpy as np

from ml.taxonomy import Taxonomy


def top_k_accuracy(y_true: np.ndarray, proba: np.ndarray, k: int) -> float:
    """Share of rows whose true class is among the k most probable."""
    k = min(k, proba.shape[1])
    top = np.argpartition(-proba, k - 1, axis=1)[:, :k]
    return float(np.mean((top == y_true[:, None]).any(axis=1)))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    from sklearn.metrics import f1_score

    return float(
        f1_score(y_true, y_pred, labels=np.arange(n_classes), average="macro", zero_division=0)
    )


def scores(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """top-1/3/5 accuracy and macro-F1 of class probabilities."""
    return {
        "top1": round(top_k_accuracy(y_true, proba, 1), 4),
        "top3": round(top_k_accuracy(y_true, proba, 3), 4),
        "top5": round(top_k_accuracy(y_true, proba, 5), 4),
        "macro_f1": round(macro_f1(y_true, proba.argmax(axis=1), proba.shape[1]), 4),
        "n": int(len(y_true)),
    }


def family_matrix(classes, taxonomy: Taxonomy) -> tuple[np.ndarray, list[str]]:
    """A (fine genres × families) 0/1 matrix: fine probabilities @ it = family probabilities."""
    families = sorted({taxonomy.family(g) for g in classes})
    column = {f: i for i, f in enumerate(families)}
    matrix = np.zeros((len(classes), len(families)), dtype=np.float32)
    for row, genre in enumerate(classes):
        matrix[row, column[taxonomy.family(genre)]] = 1.0
    return matrix, families


def fine_and_family_scores(
    y_true: np.ndarray, proba: np.ndarray, classes, taxonomy: Taxonomy
) -> dict:
    """Scores on the fine genres and, by summing probabilities within a family, on the families."""
    matrix, _ = family_matrix(classes, taxonomy)
    family_true = matrix[y_true].argmax(axis=1)
    return {"fine": scores(y_true, proba), "family": scores(family_true, proba @ matrix)}


# -- baselines -------------------------------------------------------------------------------------
def majority_baseline(y_train: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """Class frequencies of the training labels, the same for every row."""
    prior = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    return np.tile(prior / prior.sum(), (n_rows, 1))


def gradient_boosting_baseline(
    x_train, y_train, x_val, y_val, seed: int = 0, max_iter: int = 1000, progress=None
):
    """HistGradientBoosting (lr 0.05, l2 1.0) with early stopping on our validation set.

    The validation rows are the same artist-grouped rows the Keras model stops on, so neither model
    gets a leakier stopping signal than the other. `progress` (an ml.progress bar) follows the
    boosting rounds while the model fits. Returns the fitted model and fit seconds.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        l2_regularization=1.0,
        max_iter=max_iter,
        early_stopping=True,
        validation_fraction=None,
        n_iter_no_change=20,
        random_state=seed,
    )
    started = time.perf_counter()
    with _watch_rounds(model, progress):
        model.fit(x_train, y_train, X_val=x_val, y_val=y_val)
    seconds = time.perf_counter() - started
    if progress:
        progress.finish(rounds=int(model.n_iter_))
    return model, seconds


@contextmanager
def _watch_rounds(model, progress, every: float = 0.5):
    """Advance progress as a HistGradientBoosting model grows, from a watching thread.

    scikit-learn has no per-round callback, and growing the model in warm-start chunks re-predicts
    the training rows through every tree so far at each chunk (several times the fit's cost on the
    114-genre set). The trees grown so far are in the private list `_predictors`; reading its
    length costs nothing, and if scikit-learn ever renames it the bar only fills at the end.
    """
    if progress is None:
        yield
        return
    shown = [0]
    done = threading.Event()

    def sync():
        grown = len(getattr(model, "_predictors", None) or ())
        if grown > shown[0]:
            progress.advance(grown - shown[0])
            shown[0] = grown

    def watch():
        while not done.wait(every):
            sync()

    watcher = threading.Thread(target=watch, name="hgb-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        sync()


# LightGBM settings: leaves and minimum leaf size bound each tree; feature and row subsampling
# plus an L2 penalty keep 114 one-vs-rest tree sequences from fitting artists rather than genres.
# Tuned on the artist-grouped validation rows (issue 14, with popularity; validation top-1):
# learning rate 0.1 and 63 bins 0.325 (44 rounds), learning rate 0.05 and 255 bins 0.333
# (86 rounds, kept), the same with 15 leaves of >= 100 rows 0.329; 63 leaves of >= 30 rows had
# not finished after 25 minutes (too slow for the report). Early stopping waits 30 rounds.
LIGHTGBM_PARAMS = {
    "objective": "multiclass",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "max_bin": 255,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
}
LIGHTGBM_PATIENCE = 30


def lightgbm_baseline(
    x_train,
    y_train,
    x_val,
    y_val,
    n_classes: int,
    seed: int = 0,
    max_rounds: int = 2000,
    progress=None,
):
    """LightGBM multiclass with early stopping on the validation rows (multi-logloss).

    Returns the booster (predicting with its best iteration) and fit seconds.
    """
    import os

    import lightgbm

    params = {
        **LIGHTGBM_PARAMS,
        "num_class": n_classes,
        "seed": seed,
        "num_threads": os.cpu_count() or 1,
    }
    train = lightgbm.Dataset(x_train, y_train)
    val = lightgbm.Dataset(x_val, y_val, reference=train)

    def advance(env):
        if progress:
            progress.advance(1, val_loss=float(env.evaluation_result_list[0][2]))

    started = time.perf_counter()
    booster = lightgbm.train(
        params,
        train,
        max_rounds,
        valid_sets=[val],
        callbacks=[lightgbm.early_stopping(LIGHTGBM_PATIENCE, verbose=False), advance],
    )
    if progress:
        progress.finish(rounds=int(booster.best_iteration))
    return booster, time.perf_counter() - started


def lightgbm_proba(booster, x) -> np.ndarray:
    """Class probabilities of a LightGBM booster at its best (early-stopped) iteration."""
    return booster.predict(x, num_iteration=booster.best_iteration)


def full_proba(model, x, n_classes: int) -> np.ndarray:
    """predict_proba widened to all classes (a class absent from a small training slice gets 0)."""
    proba = np.zeros((len(x), n_classes))
    proba[:, model.classes_] = model.predict_proba(x)
    return proba


# -- plots -----------------------------------------------------------------------------------------
def plot_confusion(y_true: np.ndarray, y_pred: np.ndarray, names, path: str, title: str) -> None:
    """Row-normalised confusion matrix as a PNG (labels shown when there are few enough to read)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=np.arange(len(names))).astype(np.float64)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 7 if len(names) <= 20 else 18
    fig, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(matrix, cmap="magma_r", vmin=0, vmax=max(matrix.max(), 1e-9))
    ticks = np.arange(len(names))
    font = 8 if len(names) <= 20 else 5
    axis.set_xticks(ticks, names, rotation=90, fontsize=font)
    axis.set_yticks(ticks, names, fontsize=font)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    fig.colorbar(image, ax=axis, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
