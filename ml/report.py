"""Evaluation report: Keras vs baselines on both splits, with and without popularity, as markdown + PNGs."""
from __future__ import annotations

import json
import os
import time

import click

from ml import features as F
from ml.evaluate import (family_matrix, fine_and_family_scores, full_proba, gradient_boosting_baseline,
                         majority_baseline, plot_confusion)
from ml.split import SEED, make_split
from ml.taxonomy import load_taxonomy
from ml.train import MODES, TrainConfig, library_versions, prepare, train_model


def evaluate_all(frame, splits=("artist", "track"), config: TrainConfig | None = None,
                 out_dir: str | None = None, echo=click.echo, baselines: bool = True) -> dict:
    """Every split: Keras, HistGradientBoosting and majority class on identical rows, ± popularity.

    The Keras network is trained once per split and scored with popularity present and marked
    absent (what the predictor does for a track without it). The gradient-boosting baseline gets
    its best shot at each: one model trained with popularity, another trained without it. Each
    model sees the test rows once, after early stopping on the same validation rows.
    Confusion matrices of the Keras model are drawn for the artist-grouped split when out_dir is given.
    """
    config = config or TrainConfig()
    taxonomy = load_taxonomy()
    tracks, dedupe_report, label_encoder = prepare(frame, echo)
    classes = list(label_encoder.classes_)
    n_classes = len(classes)
    y = label_encoder.transform(tracks["label"].astype(str))
    results = {"dedupe": dedupe_report.as_dict(), "config": config.__dict__ | {"hidden": list(config.hidden)},
               "taxonomy_version": taxonomy.version, "library_versions": library_versions(), "runs": []}
    for kind in splits:
        split = make_split(tracks, kind, seed=SEED)
        echo(f"== {kind}-grouped split {split.sizes()}: keras")
        keras_result = train_model(tracks, split, y, n_classes, F.MODEL_FEATURES, config, echo)
        for mode in MODES:
            run = {"split": kind, "variant": mode, "sizes": split.sizes(), "models": {}}
            keras_scores = fine_and_family_scores(y[split.test], keras_result["test_proba"][mode], classes, taxonomy)
            keras_scores.update(fit_seconds=round(keras_result["seconds"], 1),
                                epochs=len(keras_result["history"]["loss"]), prior_tau=keras_result["prior_tau"])
            run["models"]["keras"] = keras_scores
            if baselines:
                run["models"]["majority"] = fine_and_family_scores(
                    y[split.test], majority_baseline(y[split.train], len(split.test), n_classes), classes, taxonomy)
                features = F.MODEL_FEATURES if mode == "with_popularity" else F.without(F.MODEL_FEATURES,
                                                                                          F.OPTIONAL_FEATURES)
                echo(f"-- {kind}, {mode}: HistGradientBoosting on {len(features)} features")
                raw = F.raw_matrix(tracks, features)
                hgb, seconds = gradient_boosting_baseline(raw[split.train], y[split.train], raw[split.val], y[split.val])
                run["models"]["hist_gradient_boosting"] = fine_and_family_scores(
                    y[split.test], full_proba(hgb, raw[split.test], n_classes), classes, taxonomy)
                run["models"]["hist_gradient_boosting"].update(fit_seconds=round(seconds, 1), iterations=int(hgb.n_iter_))
            for model_name, scores in run["models"].items():
                echo(f"   {mode:<19} {model_name:<23} top-1 {scores['fine']['top1']:.3f}  top-5 {scores['fine']['top5']:.3f}"
                     f"  macro-F1 {scores['fine']['macro_f1']:.3f}  | family top-1 {scores['family']['top1']:.3f}")
            if out_dir and kind == "artist":
                _confusion_plots(y[split.test], keras_result["test_proba"][mode], classes, taxonomy, out_dir, mode)
            results["runs"].append(run)
    return results


def _confusion_plots(y_true, proba, classes, taxonomy, out_dir, variant):
    os.makedirs(out_dir, exist_ok=True)
    plot_confusion(y_true, proba.argmax(axis=1), classes, os.path.join(out_dir, f"confusion_fine_{variant}.png"),
                   f"Fine genres, artist-grouped test, {variant.replace('_', ' ')}")
    matrix, families = family_matrix(classes, taxonomy)
    plot_confusion(matrix[y_true].argmax(axis=1), (proba @ matrix).argmax(axis=1), families,
                   os.path.join(out_dir, f"confusion_family_{variant}.png"),
                   f"Families, artist-grouped test, {variant.replace('_', ' ')}")


def render_markdown(results: dict, clusters: dict | None = None) -> str:
    """The report as markdown tables (one per level: fine genres, families)."""
    lines = ["# Plotify genre model: evaluation report", "",
             f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; taxonomy {results['taxonomy_version']}; "
             f"libraries {', '.join(f'{k} {v}' for k, v in results['library_versions'].items())}.", "",
             "Rows: {rows_in:,} labelled → {rows_out:,} distinct recordings ({multi_label_tracks:,} tracks under several "
             "genres keep one label; {duplicate_recordings:,} duplicate recordings dropped).".format(**results["dedupe"]),
             "Splits are 70/10/20 train/validation/test, grouped by primary artist (headline) or by track; "
             "every model early-stops on the same validation rows and sees the test rows once. "
             "Keras is one network per split, scored with popularity and with popularity marked absent; "
             "the gradient-boosting baseline is trained separately with and without popularity.", ""]
    for level, title in (("fine", "Fine genres (114)"), ("family", "Families")):
        lines += [f"## {title}", "", "| split | popularity | model | top-1 | top-3 | top-5 | macro-F1 |",
                  "|---|---|---|---|---|---|---|"]
        for run in results["runs"]:
            pop = "yes" if run["variant"] == "with_popularity" else "no"
            for model, scores in run["models"].items():
                s = scores[level]
                lines.append(f"| {run['split']} | {pop} | {model} | {s['top1']:.3f} | {s['top3']:.3f} | "
                             f"{s['top5']:.3f} | {s['macro_f1']:.3f} |")
        lines.append("")
    lines += ["## Training time", "", "| split | popularity | model | fit seconds |", "|---|---|---|---|"]
    for run in results["runs"]:
        for model, scores in run["models"].items():
            if "fit_seconds" in scores:
                lines.append(f"| {run['split']} | {run['variant']} | {model} | {scores['fit_seconds']} |")
    lines += ["", "## Confusion matrices (Keras, artist-grouped test)", ""]
    for variant in MODES:
        lines += [f"![fine {variant}](confusion_fine_{variant}.png)", f"![family {variant}](confusion_family_{variant}.png)"]
    if clusters:
        lines += ["", "## Affinity propagation clusters", "",
                  f"{clusters['n_clusters']} clusters of {clusters['n_tracks']:,} tracks ({clusters['method']} AP, "
                  f"preference {clusters['preference_per_10k']} per 10k tracks, genre purity {clusters['genre_purity']:.3f}).",
                  "", "| cluster | size | exemplar | top genres |", "|---|---|---|---|"]
        for c in clusters["clusters"]:
            genres = ", ".join(f"{g['genre']} {g['share']:.0%}" for g in c["top_genres"][:3])
            lines.append(f"| {c['cluster']} | {c['size']:,} | {c['exemplar']['name']} — {c['exemplar']['artists']} | {genres} |")
        lines += ["", "![clusters](../clusters.png)"]
    return "\n".join(lines) + "\n"


def write_report(frame, out_dir: str = os.path.join("models", "report"), splits=("artist", "track"),
                 echo=click.echo, clusters_json: str | None = os.path.join("models", "clusters.json")) -> dict:
    """Run evaluate_all and write report.json + report.md (+ confusion PNGs) to out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    started = time.perf_counter()
    results = evaluate_all(frame, splits=splits, out_dir=out_dir, echo=echo)
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
