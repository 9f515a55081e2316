"""Every ML command on labelled datasets the importer accepts: a feature absent, or too few rows."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from ml.data import DEFAULT_DATASET
from ml.features import MODEL_FEATURES
from tests.support import DATASET_CSV

# Six genres of the real file, 500 rows each: enough artists per genre for a grouped split,
# small enough for the real CLI with few epochs.
GENRES = ["black-metal", "classical", "country", "hip-hop", "salsa", "sleep"]
QUICK = ["--max-epochs", "5"]


@pytest.fixture(scope="module")
def real_slice():
    table = pd.read_csv(DATASET_CSV, index_col=0)
    return table[table["track_genre"].isin(GENRES)].groupby("track_genre").head(500)


def write_variant(table, path, drop=()):
    """A copy of (part of) the real file without some columns, in its original layout."""
    table.drop(columns=list(drop)).to_csv(path)
    return str(path)


def run(runner, *args):
    result = runner.invoke(args=list(args))
    # A clean stop is a ClickException (exit 1, message) and never another exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args[:2]} raised {result.exception!r}\n{result.output}"
    )
    return result


def import_into(runner, path):
    result = run(runner, "etl", "import", path)
    assert result.exit_code == 0, result.output


def tidytuesday_variant(table, path):
    """The real rows laid out as TidyTuesday's spotify_songs.csv (no time_signature or explicit)."""
    songs = table.rename(
        columns={
            "artists": "track_artist",
            "popularity": "track_popularity",
            "album_name": "track_album_name",
            "track_genre": "playlist_genre",
        }
    )
    songs = songs.assign(
        playlist_subgenre=songs["playlist_genre"],
        track_artist=songs["track_artist"].str.split(";").str[0],
    )
    songs.drop(columns=["time_signature", "explicit"]).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "absent",
    [["time_signature"], ["popularity"], ["explicit", "time_signature"]],
    ids=["no-time-signature", "no-popularity", "tidytuesday-shape"],
)
def test_every_ml_command_works_when_a_feature_is_absent(empty_app, real_slice, tmp_path, absent):
    runner = empty_app.test_cli_runner()
    if len(absent) == 1:
        dataset = DEFAULT_DATASET
        import_into(runner, write_variant(real_slice, tmp_path / "dataset.csv", drop=absent))
    else:
        dataset = "tidytuesday-spotify-songs"
        import_into(runner, tidytuesday_variant(real_slice, tmp_path / "spotify_songs.csv"))
    models = str(tmp_path / "models")
    common = ["--dataset", dataset, "--models-dir", models]

    trained = run(runner, "ml", "train", *common, *QUICK)
    assert trained.exit_code == 0, trained.output
    meta = json.loads(open(os.path.join(models, "meta.json")).read())
    assert sorted(meta["absent_features"]) == absent
    assert not set(absent) & set(meta["features"])
    assert len(meta["features"]) == len(MODEL_FEATURES) - len(absent)
    assert meta["labels"] == sorted(GENRES)
    assert meta["optional_features"] == ([] if absent == ["popularity"] else ["popularity"])
    assert meta["test_metrics"]["with_popularity"]["fine"]["top1"] > 2 / len(GENRES)

    reported = run(runner, "ml", "report", *common, "--split", "artist", *QUICK)
    assert reported.exit_code == 0, reported.output
    report = json.loads(open(os.path.join(models, "report", "report.json")).read())
    assert sorted(report["absent_features"]) == absent
    markdown = open(os.path.join(models, "report", "report.md")).read()
    assert f"left out: {', '.join(report['absent_features'])}" in markdown
    for run_ in report["runs"]:
        assert set(run_["models"]) == {"keras", "majority", "hist_gradient_boosting", "lightgbm"}
        majority = run_["models"]["majority"]["fine"]["top1"]
        for name in ("keras", "hist_gradient_boosting", "lightgbm"):
            assert run_["models"][name]["fine"]["top1"] > majority + 0.2, name

    clustered = run(runner, "ml", "cluster", *common, "--sample", "500")
    assert clustered.exit_code == 0, clustered.output
    assert json.loads(open(os.path.join(models, "clusters.json")).read())["n_tracks"] == 500

    demo = run(runner, "ml", "label-demo", "--dataset", dataset, "--sample", "400")
    assert demo.exit_code == 0, demo.output
    assert "neighbour fallback matched" in demo.output


def test_feature_absent_from_the_whole_dataset_is_dropped_for_the_clusters_too(
    real_slice, tmp_path
):
    from ml.cluster import cluster_catalogue
    from ml.data import collapse_labels, load_labelled_tracks

    path = write_variant(
        real_slice.sample(400, random_state=1), tmp_path / "dataset.csv", drop=["valence"]
    )
    summary = cluster_catalogue(
        collapse_labels(load_labelled_tracks(path)), str(tmp_path), plot=False
    )
    assert summary["absent_features"] == ["valence"] and "valence" not in summary["features"]
    assert sum(c["size"] for c in summary["clusters"]) == summary["n_tracks"]


def test_a_dataset_too_small_to_split_stops_with_a_message(empty_app, real_slice, tmp_path):
    runner = empty_app.test_cli_runner()
    tiny = real_slice.groupby("track_genre").head(5)  # 30 rows, 6 genres
    import_into(runner, write_variant(tiny, tmp_path / "dataset.csv"))
    models = str(tmp_path / "models")
    common = ["--dataset", DEFAULT_DATASET, "--models-dir", models]
    for command in (["train"], ["report", "--split", "artist"]):
        result = run(runner, "ml", *command, *common, *QUICK)
        assert result.exit_code == 1
        assert "too small to split" in result.output
    assert not os.path.exists(os.path.join(models, "meta.json"))
    # Clustering and labelling need no split: on 30 tracks they finish (or would say why not).
    assert run(runner, "ml", "cluster", *common).exit_code == 0
    assert run(runner, "ml", "label-demo", "--dataset", DEFAULT_DATASET).exit_code == 0
    few = run(runner, "ml", "cluster", "--dataset", "no-such-dataset", "--models-dir", models)
    assert few.exit_code == 1 and "no labelled tracks" in few.output


def test_genres_with_too_few_artists_are_left_out_and_recorded(real_slice, tmp_path):
    from ml.data import load_labelled_tracks
    from ml.train import TrainConfig, train_bundle

    frame = load_labelled_tracks(write_variant(real_slice, tmp_path / "dataset.csv"))
    rare_rows = frame[frame["label"] == "salsa"]
    rare_artists = rare_rows["primary_artist"].drop_duplicates().head(3)
    frame = frame[(frame["label"] != "salsa") | frame["primary_artist"].isin(rare_artists)]
    meta = train_bundle(
        frame,
        str(tmp_path / "models"),
        config=TrainConfig(hidden=(32,), max_epochs=2),
        echo=lambda line: None,
    )
    assert meta["dropped_labels"] == ["salsa"] and "salsa" not in meta["labels"]


def test_hist_gradient_boosting_progress_follows_every_round(real_slice, tmp_path):
    from ml import features as F
    from ml.data import load_labelled_tracks
    from ml.evaluate import gradient_boosting_baseline

    four = real_slice[real_slice["track_genre"].isin(GENRES[:4])]
    frame = load_labelled_tracks(write_variant(four, tmp_path / "dataset.csv"))
    raw = F.raw_matrix(frame, ("energy", "acousticness", "tempo", "loudness"))
    y = frame["label"].astype("category").cat.codes.to_numpy()
    order = np.random.default_rng(0).permutation(len(raw))
    train, val = order[:1400], order[1400:2000]

    class Count:
        steps, finished = 0, None

        def advance(self, steps=1, **fields):
            Count.steps += steps

        def finish(self, **fields):
            Count.finished = fields

    model, _ = gradient_boosting_baseline(
        raw[train], y[train], raw[val], y[val], max_iter=400, progress=Count()
    )
    assert model.n_iter_ < 400  # early stopping on the validation rows ended it
    assert Count.steps == model.n_iter_ and Count.finished == {"rounds": model.n_iter_}


def test_a_handful_of_tracks_stops_every_command_with_a_message(empty_app, real_slice, tmp_path):
    """Eight tracks: nothing to split or cluster; each command says so (or finishes), no trace."""
    runner = empty_app.test_cli_runner()
    handful = real_slice.groupby("track_genre").head(2).head(8)
    import_into(runner, write_variant(handful, tmp_path / "dataset.csv", drop=["popularity"]))
    models = str(tmp_path / "models")
    common = ["--dataset", DEFAULT_DATASET, "--models-dir", models]
    for command in (["train"], ["report"], ["train-missing"]):
        result = run(runner, "ml", *command, *common)
        assert result.exit_code == 1 and "too small to split" in result.output, command
    clustered = run(runner, "ml", "cluster", *common)
    assert clustered.exit_code == 1 and "too few to cluster" in clustered.output
    # Labelling falls back on clusters for tracks without tags, so it needs them too.
    demo = run(runner, "ml", "label-demo", "--dataset", DEFAULT_DATASET)
    assert demo.exit_code == 1 and "too few to cluster" in demo.output
    assert not os.path.exists(os.path.join(models, "meta.json"))
    assert not os.path.exists(os.path.join(models, "clusters.json"))
