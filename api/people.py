"""Compare the people of a shared playlist: each one's feature profile and how alike they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

# The features a profile is made of. Key is a pitch class (a name, not an amount) and the time
# signature nearly always 4, so neither has a meaningful mean or distance; mode (major = 1) does,
# its mean being the share of major-key tracks.
PROFILE_FEATURES = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "mode",
    "speechiness",
    "tempo",
    "valence",
    "duration_ms",
)
# Not already on a 0–1 scale: rescaled from the playlist's lowest to its highest value.
RESCALED = ("loudness", "tempo", "duration_ms")


def normalised(tracks: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The features on a 0–1 scale: 0–1 features as they are, the others min–max over the
    playlist (a feature every track shares becomes 0.5)."""
    scaled = tracks[features].astype(float).copy()
    for feature in RESCALED:
        if feature not in scaled:
            continue
        low, high = scaled[feature].min(), scaled[feature].max()
        span = high - low
        scaled[feature] = (scaled[feature] - low) / span if span > 0 else 0.5
    return scaled


def _rounded(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def profile(values: pd.DataFrame, features: list[str]) -> dict:
    """Mean, standard deviation, quartiles, min and max of every feature (None without values)."""
    out = {"mean": {}, "std": {}, "quartiles": {}, "min": {}, "max": {}}
    for feature in features:
        column = values[feature].dropna().to_numpy()
        if not len(column):
            for key in out:
                out[key][feature] = None
            continue
        q1, median, q3 = np.quantile(column, [0.25, 0.5, 0.75])
        out["mean"][feature] = _rounded(column.mean())
        # Population spread (ddof=0): a person with one track has spread 0, not undefined.
        out["std"][feature] = _rounded(column.std())
        out["quartiles"][feature] = [_rounded(q1), _rounded(median), _rounded(q3)]
        out["min"][feature] = _rounded(column.min())
        out["max"][feature] = _rounded(column.max())
    return out


def distance(a: pd.DataFrame, b: pd.DataFrame, features: list[str]) -> tuple[float | None, dict]:
    """Mean over features of the 1-D Wasserstein distance between two people's values, and the
    per-feature distances (features one of them has no value for are left out)."""
    per_feature = {}
    for feature in features:
        left, right = a[feature].dropna().to_numpy(), b[feature].dropna().to_numpy()
        if len(left) and len(right):
            per_feature[feature] = float(wasserstein_distance(left, right))
    if not per_feature:
        return None, {}
    return float(np.mean(list(per_feature.values()))), per_feature


METHOD = (
    "Each pair's distance is the mean, over the {n} features, of the earth mover's (1-D "
    "Wasserstein) distance between the two people's distributions of that feature, on a 0–1 "
    "scale (loudness, tempo and duration rescaled from the playlist's lowest to its highest "
    "value): the average amount one person's values must shift to match the other's, so 0 is "
    "identical and 1 as far apart as the scale allows."
)


def compare_people(tracks: pd.DataFrame, people: list[dict]) -> dict:
    """Profiles of the people (in the given order) who added tracks, their distance matrix and
    the most alike pair.

    tracks holds one row per playlist track with the features and added_by.
    """
    features = [f for f in PROFILE_FEATURES if f in tracks and tracks[f].notna().any()]
    scaled = normalised(tracks, features)
    scaled["added_by"] = tracks["added_by"].to_numpy()
    groups = {person: rows for person, rows in scaled.groupby("added_by", sort=False)}
    present = [p for p in people if p["id"] in groups]
    profiles = [
        {
            "id": p["id"],
            "display_name": p["display_name"],
            "color": p["color"],
            "count": len(groups[p["id"]]),
            **profile(groups[p["id"]], features),
        }
        for p in present
    ]
    size = len(present)
    matrix: list[list[float | None]] = [[0.0] * size for _ in range(size)]
    best = None
    for i in range(size):
        for j in range(i + 1, size):
            value, per_feature = distance(
                groups[present[i]["id"]], groups[present[j]["id"]], features
            )
            matrix[i][j] = matrix[j][i] = _rounded(value)
            if value is not None and (best is None or value < best[0]):
                best = (value, i, j, per_feature)
    return {
        "features": features,
        "people": profiles,
        "distances": {
            "method": METHOD.format(n=len(features)),
            "matrix": matrix,
            "most_alike": _most_alike(best, present),
        },
    }


def _most_alike(best, present: list[dict]) -> dict | None:
    if best is None:
        return None
    value, i, j, per_feature = best
    a, b = present[i], present[j]
    closest = min(per_feature, key=per_feature.get)
    furthest = max(per_feature, key=per_feature.get)
    label = {f: f.replace("_ms", "").replace("_", " ") for f in per_feature}
    return {
        "people": [a["id"], b["id"]],
        "distance": _rounded(value),
        "sentence": (
            f"{a['display_name']} and {b['display_name']} are most alike: their tracks' "
            f"features differ by {value:.3f} on average on a 0–1 scale, closest in "
            f"{label[closest]} and furthest apart in {label[furthest]}."
        ),
    }
