"""Evaluation report: Keras vs baselines on both splits, ± popularity, as markdown and PNGs."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict

import click

from ml import features as F
from ml.evaluate import (
    family_matrix,
    fine_and_family_scores,
    full_proba,
    gradient_boosting_baseline,
    lightgbm_baseline,
    lightgbm_proba,
    majority_baseline,
    plot_confusion,
)
from ml.progress import bar
from ml.split import SEED, make_split
from ml.taxonomy import load_taxonomy
from ml.train import MODES, TrainConfig, label_sets, library_versions, prepare, train_model

BASELINE_MAX_ROUNDS = {"hist_gradient_boosting": 1000, "lightgbm": 2000}


def evaluate_all(
    frame,
    splits=("artist", "track"),
    config: TrainConfig | None = None,
    out_dir: str | None = None,
    echo=click.echo,
    baselines: bool = True,
    progress: bool = False,
) -> dict:
    """Every split: Keras, LightGBM, HistGradientBoosting and majority class on identical rows.

    The Keras network is trained once per split and scored with popularity present and marked
    absent (what the predictor does for a track without it). The tree baselines get their best
    shot at each: one model trained with popularity, another trained without it. Every model
    early-stops on the same validation rows and sees the test rows once; all use the features
    this dataset has (absent ones are listed). Confusion matrices of the Keras model are drawn
    for the artist-grouped split when out_dir is given. Raises ml.data.DatasetUnusable before
    any training when the dataset cannot be split.
    """
    import lightgbm

    config = config or TrainConfig()
    taxonomy = load_taxonomy()
    tracks, dedupe_report, label_encoder, usable = prepare(frame, echo)
    classes = list(label_encoder.classes_)
    n_classes = len(classes)
    y = label_encoder.transform(tracks["label"].astype(str))
    versions = {**library_versions(), "lightgbm": lightgbm.__version__}
    results = {
        "dedupe": dedupe_report.as_dict(),
        "config": config.__dict__ | {"hidden": list(config.hidden)},
        "n_classes": n_classes,
        "features": list(usable["features"]),
        "absent_features": list(usable["absent_features"]),
        "dropped_labels": usable["dropped_labels"],
        "taxonomy_version": taxonomy.version,
        "library_versions": versions,
        "runs": [],
    }
    sets = label_sets(tracks, label_encoder)
    splits_made = {kind: make_split(tracks, kind, seed=SEED) for kind in splits}
    for kind, split in splits_made.items():
        echo(f"== {kind}-grouped split {split.sizes()}: keras")
        split_config = config.for_split(kind)
        keras_result = train_model(
            tracks,
            split,
            y,
            n_classes,
            usable["features"],
            split_config,
            echo,
            progress,
            sets,
            usable["pool"],
        )
        # The trees read the artist context as the mean raw features of the other tracks.
        features = (*keras_result["encoder"].features, *usable["artist_means"])
        for mode in MODES:
            run = {"split": kind, "variant": mode, "sizes": split.sizes(), "models": {}}
            run["keras_config"] = {
                k: list(v) if isinstance(v, tuple) else v for k, v in asdict(split_config).items()
            }
            keras_scores = fine_and_family_scores(
                y[split.test], keras_result["test_proba"][mode], classes, taxonomy
            )
            keras_scores.update(
                fit_seconds=round(keras_result["seconds"], 1),
                epochs=len(keras_result["history"]["loss"]),
                prior_tau=keras_result["prior_tau"],
            )
            run["models"]["keras"] = keras_scores
            if baselines:
                run["models"].update(
                    _baselines(
                        tracks, split, y, classes, taxonomy, kind, mode, features, echo, progress
                    )
                )
            for model_name, scores in run["models"].items():
                fine, family = scores["fine"], scores["family"]
                echo(
                    f"   {mode:<19} {model_name:<23} top-1 {fine['top1']:.3f}  "
                    f"top-5 {fine['top5']:.3f}  macro-F1 {fine['macro_f1']:.3f}  "
                    f"| family top-1 {family['top1']:.3f}"
                )
            if out_dir and kind == "artist":
                _confusion_plots(
                    y[split.test],
                    keras_result["test_proba"][mode],
                    classes,
                    taxonomy,
                    out_dir,
                    mode,
                )
            results["runs"].append(run)
    return results


def _baselines(tracks, split, y, classes, taxonomy, kind, mode, features, echo, progress) -> dict:
    """Majority class, HistGradientBoosting and LightGBM on one split and popularity variant.

    The trees use the Keras model's features (those with training values), popularity dropped
    for the without-popularity variant.
    """
    n_classes = len(classes)
    if mode != "with_popularity":
        features = F.without(features, F.OPTIONAL_FEATURES)
    raw = F.raw_matrix(tracks, features)
    data = (raw[split.train], y[split.train], raw[split.val], y[split.val])
    models = {
        "majority": fine_and_family_scores(
            y[split.test],
            majority_baseline(y[split.train], len(split.test), n_classes),
            classes,
            taxonomy,
        )
    }
    for name, rounds in BASELINE_MAX_ROUNDS.items():
        echo(f"-- {kind}, {mode}: {name} on {len(features)} features")
        with bar(f"{name} rounds", rounds, enabled=progress) as rounds_bar:
            if name == "lightgbm":
                model, seconds = lightgbm_baseline(
                    *data, n_classes, max_rounds=rounds, progress=rounds_bar
                )
                proba, iterations = lightgbm_proba(model, raw[split.test]), model.best_iteration
            else:
                model, seconds = gradient_boosting_baseline(
                    *data, max_iter=rounds, progress=rounds_bar
                )
                proba, iterations = full_proba(model, raw[split.test], n_classes), model.n_iter_
        models[name] = fine_and_family_scores(y[split.test], proba, classes, taxonomy)
        models[name].update(fit_seconds=round(seconds, 1), iterations=int(iterations))
    return models


def _confusion_plots(y_true, proba, classes, taxonomy, out_dir, variant):
    os.makedirs(out_dir, exist_ok=True)
    plot_confusion(
        y_true,
        proba.argmax(axis=1),
        classes,
        os.path.join(out_dir, f"confusion_fine_{variant}.png"),
        f"Fine genres, artist-grouped test, {variant.replace('_', ' ')}",
    )
    matrix, families = family_matrix(classes, taxonomy)
    plot_confusion(
        matrix[y_true].argmax(axis=1),
        (proba @ matrix).argmax(axis=1),
        families,
        os.path.join(out_dir, f"confusion_family_{variant}.png"),
        f"Families, artist-grouped test, {variant.replace('_', ' ')}",
    )


def render_markdown(results: dict, clusters: dict | None = None) -> str:
    """The report as markdown tables (one per level: fine genres, families)."""
    versions = ", ".join(f"{k} {v}" for k, v in results["library_versions"].items())
    absent = results.get("absent_features") or []
    lines = [
        "# Plotify genre model: evaluation report",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; taxonomy "
        f"{results['taxonomy_version']}; libraries {versions}.",
        "",
        "Rows: {rows_in:,} labelled → {rows_out:,} distinct recordings "
        "({multi_label_tracks:,} tracks under several genres keep one label; "
        "{duplicate_recordings:,} duplicate recordings dropped).".format(**results["dedupe"]),
        f"Features ({len(results.get('features', []))}): "
        f"{', '.join(results.get('features', []))}; absent from this dataset and left out: "
        f"{', '.join(absent) if absent else 'none'}.",
        "Splits are 70/10/20 train/validation/test, grouped by primary artist (headline) or "
        "by track; every model early-stops on the same validation rows and sees the test rows "
        "once. Keras is one network per split, scored with popularity and with popularity "
        "marked absent; the tree baselines (HistGradientBoosting, LightGBM) are trained "
        "separately with and without popularity.",
        "",
    ]
    if results.get("dropped_labels"):
        lines[-1:-1] = [
            f"Genres with too few artists to split, left out: "
            f"{', '.join(results['dropped_labels'])}."
        ]
    n_classes = results.get("n_classes", "")
    for level, title in (("fine", f"Fine genres ({n_classes})"), ("family", "Families")):
        lines += [
            f"## {title}",
            "",
            "| split | popularity | model | top-1 | top-3 | top-5 | macro-F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in results["runs"]:
            pop = "yes" if run["variant"] == "with_popularity" else "no"
            for model, scores in run["models"].items():
                s = scores[level]
                lines.append(
                    f"| {run['split']} | {pop} | {model} | {s['top1']:.3f} | "
                    f"{s['top3']:.3f} | {s['top5']:.3f} | {s['macro_f1']:.3f} |"
                )
        lines.append("")
    lines += [
        "## Training time",
        "",
        "| split | popularity | model | fit seconds | rounds |",
        "|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        for model, scores in run["models"].items():
            if "fit_seconds" in scores:
                rounds = scores.get("iterations", scores.get("epochs", ""))
                lines.append(
                    f"| {run['split']} | {run['variant']} | {model} | "
                    f"{scores['fit_seconds']} | {rounds} |"
                )
    lines += ["", "## Confusion matrices (Keras, artist-grouped test)", ""]
    for variant in MODES:
        lines += [
            f"![fine {variant}](confusion_fine_{variant}.png)",
            f"![family {variant}](confusion_family_{variant}.png)",
        ]
    if clusters:
        lines += [
            "",
            "## Affinity propagation clusters",
            "",
            f"{clusters['n_clusters']} clusters of {clusters['n_tracks']:,} tracks "
            f"({clusters['method']} AP, preference {clusters['preference_per_10k']} per 10k "
            f"tracks, genre purity {clusters['genre_purity']:.3f}).",
            "",
            "| cluster | size | exemplar | top genres |",
            "|---|---|---|---|",
        ]
        for c in clusters["clusters"]:
            genres = ", ".join(f"{g['genre']} {g['share']:.0%}" for g in c["top_genres"][:3])
            exemplar = f"{c['exemplar']['name']} — {c['exemplar']['artists']}"
            lines.append(f"| {c['cluster']} | {c['size']:,} | {exemplar} | {genres} |")
        lines += ["", "![clusters](../clusters.png)"]
    return "\n".join(lines) + "\n"


def write_report(
    frame,
    out_dir: str = os.path.join("models", "report"),
    splits=("artist", "track"),
    echo=click.echo,
    clusters_json: str | None = os.path.join("models", "clusters.json"),
    config: TrainConfig | None = None,
    progress: bool = False,
) -> dict:
    """Run evaluate_all and write report.json + report.md (+ confusion PNGs) to out_dir."""
    started = time.perf_counter()
    results = evaluate_all(
        frame, splits=splits, config=config, out_dir=out_dir, echo=echo, progress=progress
    )
    os.makedirs(out_dir, exist_ok=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    clusters = None
    if clusters_json and os.path.exists(clusters_json):
        with open(clusters_json, encoding="utf-8") as handle:
            clusters = json.load(handle)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as handle:
        handle.write(render_markdown(results, clusters))
    echo(f"report written to {out_dir} in {results['seconds']:.0f}s")
    return results
