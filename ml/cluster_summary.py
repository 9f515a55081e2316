"""What each cluster holds (size, exemplar, genres, mean features) and the picture of them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml import features as F
from ml.taxonomy import load_taxonomy

if TYPE_CHECKING:  # ml.cluster imports this module to summarise what it computed
    from ml.cluster import Clustering


def genre_purity(labels: np.ndarray, genres) -> float:
    """Share of tracks carrying their cluster's most common genre."""
    frame = pd.DataFrame({"cluster": labels, "genre": list(genres)})
    top = frame.groupby("cluster")["genre"].agg(lambda s: s.value_counts().iloc[0])
    return float(top.sum() / len(frame))


def summarise(
    tracks: pd.DataFrame, result: Clustering, features=F.SEED_CLUSTER_FEATURES, top_n: int = 5
) -> dict:
    """Per cluster: size, exemplar track, genre and family composition, mean raw features."""
    taxonomy = load_taxonomy()
    label_lists = (
        tracks["all_labels"] if "all_labels" in tracks else tracks["label"].map(lambda g: [g])
    )
    clusters = []
    for number, exemplar in enumerate(result.exemplars):
        members = np.flatnonzero(result.labels == number)
        genres, families = Counter(), Counter()
        for labels in label_lists.iloc[members]:
            # A track filed under several genres counts once in total, split between them.
            for genre in labels:
                genres[genre] += 1 / len(labels)
                families[taxonomy.family(genre)] += 1 / len(labels)
        row = tracks.iloc[exemplar]
        clusters.append(
            {
                "cluster": number,
                "size": int(len(members)),
                "exemplar": {
                    "id": row["id"],
                    "name": _text(row.get("name")),
                    "artists": _text(row.get("artists")),
                    "label": _text(row.get("label")),
                },
                "top_genres": [
                    {"genre": g, "share": round(c / len(members), 4)}
                    for g, c in genres.most_common(top_n)
                ],
                "top_families": [
                    {"family": f, "share": round(c / len(members), 4)}
                    for f, c in families.most_common(3)
                ],
                "mean_features": {f: _round(tracks[f].iloc[members].mean()) for f in features},
            }
        )
    clusters.sort(key=lambda c: -c["size"])
    return {
        "method": result.method,
        "preference": round(result.preference, 3),
        "preference_per_10k": round(result.preference * 10_000 / len(tracks), 3),
        "n_tracks": int(len(tracks)),
        "n_clusters": result.n_clusters,
        "iterations": result.n_iter,
        "seconds": round(result.seconds, 2),
        "features": list(features),
        "genre_purity": round(genre_purity(result.labels, tracks["label"]), 4),
        "taxonomy_version": taxonomy.version,
        "details": result.details,
        "clusters": clusters,
    }


def _text(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _round(value):
    return None if pd.isna(value) else round(float(value), 4)


def plot_clusters(
    points: np.ndarray,
    result: Clustering,
    summary: dict,
    path: str,
    sample: int = 6000,
    seed: int = 0,
) -> None:
    """Two panels: a PCA map of a track sample coloured by cluster; each cluster's mean features."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    shown = rng.choice(len(points), size=min(sample, len(points)), replace=False)
    pca = PCA(n_components=2, random_state=seed).fit(points)
    xy, centres = pca.transform(points[shown]), pca.transform(points[result.exemplars])
    fig, (left, right) = plt.subplots(1, 2, figsize=(16, 7), gridspec_kw={"width_ratios": [1.1, 1]})
    cmap = plt.get_cmap("tab20", max(result.n_clusters, 1))
    left.scatter(
        xy[:, 0], xy[:, 1], c=result.labels[shown], cmap=cmap, s=4, alpha=0.5, linewidths=0
    )
    left.scatter(
        centres[:, 0],
        centres[:, 1],
        c=np.arange(result.n_clusters),
        cmap=cmap,
        s=160,
        marker="*",
        edgecolors="black",
        linewidths=0.8,
    )
    left.set_title(
        f"{summary['n_clusters']} clusters of {summary['n_tracks']:,} tracks "
        f"({summary['method']} AP, preference {summary['preference_per_10k']}/10k)"
    )
    left.set_xlabel("PC 1")
    left.set_ylabel("PC 2")

    clusters = sorted(summary["clusters"], key=lambda c: c["cluster"])
    features = summary["features"]
    scaled_means = np.array(
        [
            [points[result.labels == c["cluster"], j].mean() for j in range(len(features))]
            for c in clusters
        ]
    )
    image = right.imshow(scaled_means, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    right.set_xticks(range(len(features)), features, rotation=45, ha="right")
    right.set_yticks(
        range(len(clusters)),
        [f"{c['cluster']}: {c['top_genres'][0]['genre']} ({c['size']})" for c in clusters],
    )
    right.set_title("Mean MinMax-scaled features per cluster (top genre, size)")
    fig.colorbar(image, ax=right, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
