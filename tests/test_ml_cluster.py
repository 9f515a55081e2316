"""Affinity propagation: dense on small samples, landmark variant, preference search, outputs."""

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from ml import cluster as C
from ml import features as F
from ml.cluster_summary import genre_purity
from ml.data import collapse_labels, default_dataset_csv, load_labelled_tracks

DATASET_CSV = default_dataset_csv()
pytestmark = pytest.mark.skipif(DATASET_CSV is None, reason="shared dataset not present")


@pytest.fixture(scope="module")
def sample():
    tracks = collapse_labels(load_labelled_tracks(DATASET_CSV))
    tracks = tracks.sample(1500, random_state=3).reset_index(drop=True)
    points, _ = F.minmax_matrix(tracks)
    return tracks, points


def test_dense_ap_labels_every_track_with_exemplars_among_them(sample):
    _, points = sample
    result = C.affinity_propagation(points[:600], method="auto")
    assert result.method == "dense"
    assert 3 <= result.n_clusters <= 40
    assert (result.labels >= 0).all()
    # Each exemplar belongs to its own cluster.
    assert np.array_equal(result.labels[result.exemplars], np.arange(result.n_clusters))


def test_non_convergence_fails_clearly(sample):
    _, points = sample
    with pytest.raises(C.ConvergenceError, match="did not converge"):
        C.dense_ap(points[:300], preference=C.scaled_preference(300), max_iter=3, damping=0.5)


def test_more_negative_preference_gives_fewer_clusters(sample):
    _, points = sample
    few = C.dense_ap(points[:600], C.scaled_preference(600, -150))
    many = C.dense_ap(points[:600], C.scaled_preference(600, -10))
    assert few.n_clusters < many.n_clusters


def test_landmark_ap_agrees_with_dense_ap(sample):
    tracks, points = sample
    dense = C.affinity_propagation(points, method="dense")
    landmark = C.affinity_propagation(points, method="landmark", n_landmarks=500)
    assert landmark.method == "landmark"
    assert abs(landmark.n_clusters - dense.n_clusters) <= max(2, dense.n_clusters // 3)
    assert adjusted_rand_score(dense.labels, landmark.labels) > 0.3
    assert (
        abs(
            genre_purity(landmark.labels, tracks["label"])
            - genre_purity(dense.labels, tracks["label"])
        )
        < 0.05
    )


def test_landmark_variant_is_chosen_automatically_above_the_threshold(sample):
    _, points = sample
    result = C.affinity_propagation(points, method="auto", dense_limit=1000, n_landmarks=300)
    assert result.method == "landmark"
    assert len(result.labels) == len(points)


def test_preference_search_reaches_the_target(sample):
    _, points = sample
    result = C.search_preference(points[:500], target_clusters=8, tolerance=1)
    assert abs(result.n_clusters - 8) <= 1


def test_catalogue_outputs_json_assignments_and_png(sample, tmp_path):
    tracks, _ = sample
    summary = C.cluster_catalogue(tracks.iloc[:400].reset_index(drop=True), str(tmp_path))
    written = json.loads((tmp_path / "clusters.json").read_text())
    assert written["n_clusters"] == summary["n_clusters"] == len(written["clusters"])
    assert sum(c["size"] for c in written["clusters"]) == 400
    first = written["clusters"][0]
    assert {"size", "exemplar", "top_genres", "top_families", "mean_features"} <= set(first)
    shares = [g["share"] for g in first["top_genres"]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    assert (tmp_path / "clusters.png").stat().st_size > 10_000
    assert len((tmp_path / "cluster_assignments.csv").read_text().splitlines()) == 401
