"""Affinity propagation over MinMax-scaled audio features, dense or on weighted landmarks."""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml import features as F
from ml.cluster_summary import plot_clusters, summarise

# The seed found preference −37 gave 13 clusters on ~10k tracks. The summed similarity a cluster
# gains grows with the number of tracks, so the preference is stated per 10,000 tracks and
# scaled to the set's size; the same setting then gives a similar cluster count at any size.
SEED_PREFERENCE_PER_10K = -37.0
# Dense AP keeps several n×n float64 matrices; above this size the landmark variant is used.
DENSE_LIMIT = 12_000
DEFAULT_LANDMARKS = 3_000


class ConvergenceError(RuntimeError):
    """Affinity propagation did not converge (scikit-learn would label every point −1)."""


@dataclass
class Clustering:
    """Cluster label per row, exemplar row per cluster, and how it was obtained."""

    labels: np.ndarray
    exemplars: np.ndarray
    method: str
    preference: float
    n_iter: int
    seconds: float
    details: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(len(self.exemplars))


def scaled_preference(n_tracks: int, per_10k: float = SEED_PREFERENCE_PER_10K) -> float:
    """The absolute AP preference for a set of n_tracks given a per-10k-tracks preference."""
    return per_10k * n_tracks / 10_000


def _run_ap(
    similarity: np.ndarray,
    preference: float,
    damping: float,
    max_iter: int,
    convergence_iter: int,
    seed: int,
):
    from sklearn.cluster import AffinityPropagation
    from sklearn.exceptions import ConvergenceWarning

    model = AffinityPropagation(
        affinity="precomputed",
        preference=preference,
        damping=damping,
        max_iter=max_iter,
        convergence_iter=convergence_iter,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model.fit(similarity)
        except ConvergenceWarning as warning:
            raise ConvergenceError(
                f"affinity propagation did not converge in {max_iter} iterations "
                f"(preference {preference:.2f}, damping {damping}): {warning}. "
                "Raise max_iter or damping, or change the preference."
            ) from None
    if len(model.cluster_centers_indices_) == 0 or (model.labels_ < 0).any():
        raise ConvergenceError(
            f"affinity propagation found no exemplars (preference {preference:.2f})"
        )
    return model.labels_, np.asarray(model.cluster_centers_indices_), int(model.n_iter_)


def negative_squared_distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """−‖a_i − b_j‖² for every pair, the seed's similarity."""
    from sklearn.metrics.pairwise import euclidean_distances

    return -euclidean_distances(a, a if b is None else b, squared=True)


def dense_ap(
    points: np.ndarray,
    preference: float,
    damping: float = 0.9,
    max_iter: int = 400,
    convergence_iter: int = 30,
    seed: int = 0,
) -> Clustering:
    """scikit-learn affinity propagation on the full similarity matrix (memory grows as n²)."""
    started = time.perf_counter()
    similarity = negative_squared_distances(points)
    labels, exemplars, n_iter = _run_ap(
        similarity, preference, damping, max_iter, convergence_iter, seed
    )
    return Clustering(labels, exemplars, "dense", preference, n_iter, time.perf_counter() - started)


def landmark_ap(
    points: np.ndarray,
    preference: float,
    n_landmarks: int = DEFAULT_LANDMARKS,
    damping: float = 0.9,
    max_iter: int = 400,
    convergence_iter: int = 30,
    seed: int = 0,
    progress=None,
) -> Clustering:
    """Affinity propagation on k-means landmarks weighted by the tracks they stand for.

    For a landmark i holding w_i tracks around centroid c_i, the tracks' summed squared distance to
    a candidate exemplar e is w_i‖c_i − e‖² plus a constant that does not depend on e. So AP on the
    landmarks with similarity −w_i‖c_i − c_k‖² and the same preference optimises the dense
    objective, restricted to keeping each landmark's tracks together. Exemplars are then snapped to
    the nearest real track and every track joins its nearest exemplar.
    """
    from sklearn.cluster import MiniBatchKMeans

    started = time.perf_counter()
    n_landmarks = min(n_landmarks, len(points))
    kmeans = MiniBatchKMeans(
        n_clusters=n_landmarks,
        batch_size=4096,
        n_init=1,
        max_iter=50,
        random_state=seed,
        reassignment_ratio=0.001,
    )
    cell = kmeans.fit_predict(points)
    weights = np.bincount(cell, minlength=n_landmarks).astype(np.float64)
    occupied = weights > 0
    centroids, weights = kmeans.cluster_centers_[occupied], weights[occupied]
    remap = np.cumsum(occupied) - 1
    cell = remap[cell]
    if progress:
        progress(f"{len(centroids)} landmarks in {time.perf_counter() - started:.1f}s")

    similarity = weights[:, None] * negative_squared_distances(centroids)
    landmark_labels, landmark_exemplars, n_iter = _run_ap(
        similarity, preference, damping, max_iter, convergence_iter, seed
    )
    if progress:
        progress(f"AP on landmarks: {len(landmark_exemplars)} clusters in {n_iter} iterations")

    exemplar_tracks = _nearest_rows(points, centroids[landmark_exemplars])
    labels = _nearest_rows(points[exemplar_tracks], points, chunk=20_000, axis_swap=True)
    details = {
        "landmarks": int(len(centroids)),
        "landmark_assignment_agreement": float(np.mean(labels == landmark_labels[cell])),
    }
    return Clustering(
        labels,
        exemplar_tracks,
        "landmark",
        preference,
        n_iter,
        time.perf_counter() - started,
        details,
    )


def _nearest_rows(
    points: np.ndarray, queries: np.ndarray, chunk: int = 20_000, axis_swap: bool = False
):
    """For each query, the index of its nearest row in points (chunked to bound memory).

    With axis_swap the roles are exchanged: `points` are the few centres, `queries` the many rows,
    and the result gives, per query row, the nearest centre.
    """
    from sklearn.metrics import pairwise_distances_argmin

    if axis_swap:
        return np.concatenate(
            [
                pairwise_distances_argmin(queries[i : i + chunk], points)
                for i in range(0, len(queries), chunk)
            ]
        )
    return np.array([pairwise_distances_argmin(q[None, :], points)[0] for q in queries])


def affinity_propagation(
    points: np.ndarray,
    preference: float | None = None,
    method: str = "auto",
    dense_limit: int = DENSE_LIMIT,
    seed: int = 0,
    progress=None,
    **options,
) -> Clustering:
    """Cluster the rows of points; dense AP up to dense_limit rows, landmark AP above ('auto')."""
    if preference is None:
        preference = scaled_preference(len(points))
    if method == "auto":
        method = "dense" if len(points) <= dense_limit else "landmark"
    if method == "dense":
        return dense_ap(points, preference, seed=seed, **options)
    if method == "landmark":
        return landmark_ap(points, preference, seed=seed, progress=progress, **options)
    raise ValueError(f"unknown method {method!r}; expected auto, dense or landmark")


def search_preference(
    points: np.ndarray,
    target_clusters: int,
    method: str = "auto",
    steps: int = 12,
    tolerance: int = 0,
    progress=None,
    seed: int = 0,
    **options,
) -> Clustering:
    """Bisect the preference (on a log scale) until AP yields target_clusters (± tolerance).

    More negative preferences give fewer clusters. Returns the clustering closest to the target.
    """
    low, high = scaled_preference(len(points), -5000.0), scaled_preference(len(points), -0.5)
    best = None
    for step in range(steps):
        preference = -float(np.sqrt(low * high))
        try:
            result = affinity_propagation(points, preference, method=method, seed=seed, **options)
        except ConvergenceError:
            # A preference AP cannot settle at is treated as too permissive: move towards fewer
            # clusters.
            high = preference
            continue
        if progress:
            progress(
                f"search step {step + 1}: preference {preference:.1f} → "
                f"{result.n_clusters} clusters"
            )
        distance = abs(result.n_clusters - target_clusters)
        if best is None or distance < abs(best.n_clusters - target_clusters):
            best = result
        if abs(result.n_clusters - target_clusters) <= tolerance:
            break
        if result.n_clusters > target_clusters:
            high = preference
        else:
            low = preference
    if best is None:
        raise ConvergenceError(
            f"no preference in the search range converged for {target_clusters} clusters"
        )
    best.details["target_clusters"] = target_clusters
    return best


# -- summaries ------------------------------------------------------------------------------------
# Fewer tracks than this make no meaningful clusters (and no PCA map).
MIN_TRACKS = 10


def cluster_features(tracks: pd.DataFrame) -> tuple[str, ...]:
    """The seed's clustering features this dataset has values for; DatasetUnusable if too few."""
    from ml.data import DatasetUnusable

    features, absent = F.present_features(tracks, F.SEED_CLUSTER_FEATURES)
    if len(features) < 2:
        raise DatasetUnusable(
            f"the dataset has values for {len(features)} of the clustering "
            f"features ({', '.join(F.SEED_CLUSTER_FEATURES)}); 2 are needed"
        )
    if len(tracks) < MIN_TRACKS:
        raise DatasetUnusable(
            f"{len(tracks)} tracks are too few to cluster (at least {MIN_TRACKS} needed)"
        )
    return features


def cluster_catalogue(
    tracks: pd.DataFrame,
    models_dir: str,
    preference_per_10k: float | None = None,
    target_clusters: int | None = None,
    method: str = "auto",
    plot: bool = True,
    progress=None,
    **options,
) -> dict:
    """Cluster one row per track; write clusters.json, cluster_assignments.csv and clusters.png.

    Seed features the dataset lacks entirely are left out (listed as `absent_features`).
    """
    features = cluster_features(tracks)
    points, _ = F.minmax_matrix(tracks, features)
    if target_clusters:
        result = search_preference(
            points, target_clusters, method=method, progress=progress, **options
        )
    else:
        per_10k = SEED_PREFERENCE_PER_10K if preference_per_10k is None else preference_per_10k
        result = affinity_propagation(
            points,
            scaled_preference(len(points), per_10k),
            method=method,
            progress=progress,
            **options,
        )
    summary = summarise(tracks, result, features)
    summary["absent_features"] = list(F.without(F.SEED_CLUSTER_FEATURES, features))
    os.makedirs(models_dir, exist_ok=True)
    with open(os.path.join(models_dir, "clusters.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    pd.DataFrame({"id": tracks["id"].to_numpy(), "cluster": result.labels}).to_csv(
        os.path.join(models_dir, "cluster_assignments.csv"), index=False
    )
    if plot:
        plot_clusters(points, result, summary, os.path.join(models_dir, "clusters.png"))
    return summary
