"""Benchmark: affinity propagation on all distinct tracks; dense vs landmark AP on a 10k sample."""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import time

from bench.common import save_results


def _case(kind: str, sample: int | None, queue) -> None:
    """Run one clustering in a fresh process so its peak RSS is its own (data loading included)."""

    from ml import cluster as C
    from ml import features as F
    from ml.cluster_summary import genre_purity
    from ml.data import collapse_labels, default_dataset_csv, load_labelled_tracks

    tracks = collapse_labels(load_labelled_tracks(default_dataset_csv()))
    if sample:
        tracks = tracks.sample(sample, random_state=0).reset_index(drop=True)
    started = time.perf_counter()
    points, _ = F.minmax_matrix(tracks)
    result = C.affinity_propagation(points, method=kind)
    seconds = time.perf_counter() - started
    queue.put(
        {
            "method": result.method,
            "n_tracks": len(tracks),
            "n_clusters": result.n_clusters,
            "iterations": result.n_iter,
            "seconds": round(seconds, 2),
            "preference": round(result.preference, 3),
            "genre_purity": round(genre_purity(result.labels, tracks["label"]), 4),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 3),
            "details": result.details,
            "labels": result.labels.tolist(),
            "ids": tracks["id"].tolist(),
        }
    )


def run_case(kind: str, sample: int | None) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_case, args=(kind, sample, queue))
    process.start()
    result = queue.get()
    process.join()
    print(
        f"{kind:>8} n={result['n_tracks']:>6}: "
        f"{result['n_clusters']} clusters in {result['seconds']}s, "
        f"peak RSS {result['peak_rss_gb']} GB, purity {result['genre_purity']}",
        flush=True,
    )
    return result


def main() -> dict:
    from sklearn.metrics import adjusted_rand_score

    dense = run_case("dense", 10_000)
    landmark = run_case("landmark", 10_000)
    assert dense["ids"] == landmark["ids"], "both variants must see the same sample"
    full = run_case("auto", None)
    comparison = {
        "sample": 10_000,
        "dense": {k: v for k, v in dense.items() if k not in ("labels", "ids")},
        "landmark": {k: v for k, v in landmark.items() if k not in ("labels", "ids")},
        "adjusted_rand_index": round(adjusted_rand_score(dense["labels"], landmark["labels"]), 4),
        "purity_gap": round(landmark["genre_purity"] - dense["genre_purity"], 4),
        "landmark_time_ratio": round(landmark["seconds"] / dense["seconds"], 3),
        "landmark_memory_ratio": round(landmark["peak_rss_gb"] / dense["peak_rss_gb"], 3),
    }
    catalogue = {k: v for k, v in full.items() if k not in ("labels", "ids")}
    catalogue["time_ratio_vs_dense_10k"] = round(full["seconds"] / dense["seconds"], 3)
    results = {
        "benchmark": "ml_cluster",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "goals": {"catalogue_seconds": 120, "catalogue_peak_rss_gb": 4.0, "purity_gap_abs": 0.03},
        "catalogue": catalogue,
        "comparison_10k": comparison,
        "met": {
            "catalogue_time": catalogue["seconds"] <= 120,
            "catalogue_memory": catalogue["peak_rss_gb"] <= 4.0,
            "purity_within_0.03": abs(comparison["purity_gap"]) <= 0.03,
        },
    }
    save_results("ml_cluster", results, render(results))
    return results


def render(r: dict) -> str:
    c, d, lm, full = (
        r["comparison_10k"],
        r["comparison_10k"]["dense"],
        r["comparison_10k"]["landmark"],
        r["catalogue"],
    )
    return "\n".join(
        [
            f"# Affinity propagation benchmark ({r['date']}, {r['machine']['cpus']} CPUs)",
            "",
            "| run | tracks | clusters | seconds | peak RSS GB | genre purity |",
            "|---|---|---|---|---|---|",
            f"| dense AP (10k sample) | {d['n_tracks']:,} | {d['n_clusters']} | {d['seconds']} | "
            f"{d['peak_rss_gb']} | {d['genre_purity']} |",
            f"| landmark AP (same sample) | {lm['n_tracks']:,} | {lm['n_clusters']} | "
            f"{lm['seconds']} | {lm['peak_rss_gb']} | {lm['genre_purity']} |",
            f"| landmark AP (all distinct tracks) | {full['n_tracks']:,} | {full['n_clusters']} | "
            f"{full['seconds']} | {full['peak_rss_gb']} | {full['genre_purity']} |",
            "",
            f"- ARI dense vs landmark (10k): {c['adjusted_rand_index']}; "
            f"purity gap {c['purity_gap']:+} (goal within ±0.03)",
            f"- landmark/dense on 10k: time × {c['landmark_time_ratio']}, "
            f"memory × {c['landmark_memory_ratio']}",
            f"- whole catalogue / dense 10k time: × {full['time_ratio_vs_dense_10k']} "
            f"(goal ≤ 120 s: {full['seconds']} s; ≤ 4 GB: {full['peak_rss_gb']} GB)",
            "",
        ]
    )


if __name__ == "__main__":
    main()
