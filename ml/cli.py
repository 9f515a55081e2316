"""`flask ml …` commands (train, cluster, report, label-demo) and train_missing for `make run`."""

from __future__ import annotations

import functools
import json
import os

import click
from flask.cli import AppGroup

from ml.bundle import DEFAULT_MODELS_DIR
from ml.data import DEFAULT_DATASET

ml_cli = AppGroup("ml", help="Genre model, clustering and evaluation report.")


def _stops_cleanly(command):
    """Turn a dataset the models cannot use (too small, no features) into a message, not a trace."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from ml.cluster import ConvergenceError
        from ml.data import DatasetUnusable

        try:
            return command(*args, **kwargs)
        except (DatasetUnusable, ConvergenceError) as reason:
            raise click.ClickException(str(reason)) from None

    return wrapper


def _models_dir(value: str | None) -> str:
    """The --models-dir given, else the app's MODELS_DIR (which .env may set)."""
    from flask import current_app

    return value or current_app.config.get("MODELS_DIR") or DEFAULT_MODELS_DIR


def _labelled_frame(csv_path: str | None, dataset: str):
    """Labelled rows from --csv when given, else from the app's store."""
    from ml.data import load_labelled_tracks

    if csv_path:
        return load_labelled_tracks(csv_path, dataset)
    import store

    frame = load_labelled_tracks(store.get_store(), dataset)
    if frame.empty:
        raise click.ClickException(
            f"the store has no labelled tracks for dataset {dataset!r}; "
            "import it first (flask etl …) or pass --csv"
        )
    return frame


_csv_option = click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the labelled dataset from this CSV instead of the store.",
)
_dataset_option = click.option(
    "--dataset",
    default=DEFAULT_DATASET,
    show_default=True,
    help="Labelled dataset name in the store.",
)
_models_option = click.option(
    "--models-dir",
    default=None,
    help="Where the bundle and clusters go (default: the MODELS_DIR setting, models/).",
    type=click.Path(file_okay=False),
)
_epochs_option = click.option(
    "--max-epochs",
    type=click.IntRange(1),
    default=None,
    help="Cap the Keras training epochs (default: ml.train.TrainConfig).",
)


def _config(max_epochs):
    from ml.train import TrainConfig

    return TrainConfig(max_epochs=max_epochs) if max_epochs else TrainConfig()


@ml_cli.command("train")
@_csv_option
@_dataset_option
@_models_option
@_epochs_option
@click.option(
    "--split",
    "split_kind",
    type=click.Choice(["artist", "track"]),
    default="artist",
    show_default=True,
)
@_stops_cleanly
def train_command(csv_path, dataset, models_dir, max_epochs, split_kind):
    """Train the genre bundle (one network; popularity optional) into MODELS_DIR."""
    models_dir = _models_dir(models_dir)
    from ml.train import train_bundle

    # A running app's ModelHolder notices the new meta.json and reloads by itself.
    meta = train_bundle(
        _labelled_frame(csv_path, dataset),
        models_dir,
        config=_config(max_epochs),
        split_kind=split_kind,
        dataset=dataset,
        progress=True,
    )
    click.echo(json.dumps({mode: m["fine"] for mode, m in meta["test_metrics"].items()}, indent=1))


@ml_cli.command("cluster")
@_csv_option
@_dataset_option
@_models_option
@click.option(
    "--preference-per-10k",
    type=float,
    default=None,
    help="AP preference per 10,000 tracks (default: the seed's −37).",
)
@click.option(
    "--clusters",
    "target_clusters",
    type=int,
    default=None,
    help="Search the preference for this many clusters instead.",
)
@click.option(
    "--method", type=click.Choice(["auto", "dense", "landmark"]), default="auto", show_default=True
)
@click.option(
    "--sample", type=int, default=None, help="Cluster a random sample of this many tracks."
)
@_stops_cleanly
def cluster_command(
    csv_path, dataset, models_dir, preference_per_10k, target_clusters, method, sample
):
    """Affinity propagation over every distinct track → clusters.json, assignments, PNG."""
    models_dir = _models_dir(models_dir)
    from ml.cluster import cluster_catalogue
    from ml.data import collapse_labels

    tracks = collapse_labels(_labelled_frame(csv_path, dataset))
    if sample and sample < len(tracks):
        tracks = tracks.sample(sample, random_state=0).reset_index(drop=True)
    click.echo(f"clustering {len(tracks):,} tracks")
    summary = cluster_catalogue(
        tracks, models_dir, preference_per_10k, target_clusters, method, progress=click.echo
    )
    if summary["absent_features"]:
        click.echo(f"absent from this dataset, left out: {', '.join(summary['absent_features'])}")
    click.echo(
        f"{summary['n_clusters']} clusters ({summary['method']}, {summary['seconds']:.0f}s, "
        f"genre purity {summary['genre_purity']:.3f}) → {models_dir}/clusters.json"
    )


@ml_cli.command("report")
@_csv_option
@_dataset_option
@_models_option
@click.option(
    "--out", "out_dir", default=None, help="Report directory (default MODELS_DIR/report)."
)
@click.option(
    "--split",
    "splits",
    multiple=True,
    type=click.Choice(["artist", "track"]),
    default=("artist", "track"),
    show_default=True,
)
@_epochs_option
@_stops_cleanly
def report_command(csv_path, dataset, models_dir, out_dir, splits, max_epochs):
    """Keras vs majority class, HistGradientBoosting and LightGBM on both splits, ± popularity."""
    models_dir = _models_dir(models_dir)
    from ml.report import write_report

    out_dir = out_dir or os.path.join(models_dir, "report")
    write_report(
        _labelled_frame(csv_path, dataset),
        out_dir,
        splits=splits,
        clusters_json=os.path.join(models_dir, "clusters.json"),
        config=_config(max_epochs),
        progress=True,
    )


@ml_cli.command("label-demo")
@_csv_option
@_dataset_option
@click.option("--sample", type=int, default=5000, show_default=True)
@click.option(
    "--hide",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of tracks whose tags are hidden to exercise the neighbour fallback.",
)
@_stops_cleanly
def label_demo_command(csv_path, dataset, sample, hide):
    """Keyword labelling on the dataset's genre strings (as granular tags), counts per step."""
    import numpy as np

    from ml import features as F
    from ml.cluster import affinity_propagation, cluster_features
    from ml.data import collapse_labels
    from ml.labels import label_tracks, tag_terms

    tracks = collapse_labels(_labelled_frame(csv_path, dataset))
    tracks = tracks.sample(min(sample, len(tracks)), random_state=0).reset_index(drop=True)
    points, _ = F.minmax_matrix(tracks, cluster_features(tracks))
    clusters = affinity_propagation(points, progress=click.echo)
    tags = tracks["all_labels"].copy()
    hidden = np.random.default_rng(0).choice(len(tracks), int(hide * len(tracks)), replace=False)
    tags.iloc[hidden] = [[] for _ in hidden]
    result = label_tracks(tags, clusters.labels, points)
    click.echo(result.report())
    truth = [tag_terms(t) for t in tracks["all_labels"].iloc[hidden]]
    hits = (
        np.mean([label in terms for label, terms in zip(result.labels.iloc[hidden], truth)])
        if len(hidden)
        else 0
    )
    click.echo(f"neighbour fallback matched a hidden tag for {hits:.1%} of {len(hidden)} tracks")


def train_missing(
    source,
    models_dir: str = DEFAULT_MODELS_DIR,
    dataset: str = DEFAULT_DATASET,
    echo=click.echo,
    progress: bool = False,
) -> list[str]:
    """Train the genre bundle and/or cluster the catalogue when their artifacts are missing/invalid.

    `source` is a store or a dataset CSV path. Returns what was (re)built; nothing when all is in
    place.
    """
    from ml.cluster import cluster_catalogue
    from ml.data import collapse_labels, load_labelled_tracks
    from ml.predictor import GenrePredictor, ModelUnavailable
    from ml.train import train_bundle

    built = []
    frame = None
    try:
        GenrePredictor.load(models_dir)
    except ModelUnavailable as reason:
        echo(f"genre model: {reason}; training")
        frame = load_labelled_tracks(source, dataset)
        if frame.empty:
            echo(f"no labelled tracks for {dataset!r}; skipping training")
            return built
        train_bundle(frame, models_dir, echo=echo, dataset=dataset, progress=progress)
        built.append("genre model")
    if not os.path.exists(os.path.join(models_dir, "clusters.json")):
        echo("clusters: missing; clustering the catalogue")
        frame = load_labelled_tracks(source, dataset) if frame is None else frame
        cluster_catalogue(collapse_labels(frame), models_dir, progress=echo)
        built.append("clusters")
    return built


@ml_cli.command("train-missing")
@_csv_option
@_dataset_option
@_models_option
@_stops_cleanly
def train_missing_command(csv_path, dataset, models_dir):
    """Build only the artifacts that are missing (what `make run` calls)."""
    models_dir = _models_dir(models_dir)
    import store

    built = train_missing(csv_path or store.get_store(), models_dir, dataset, progress=True)
    click.echo("built: " + (", ".join(built) if built else "nothing, all artifacts present"))
