"""Benchmark: the web workers' numpy forward pass against Keras on the whole test split of models/.

Rebuilds the bundle's split from the real dataset (the same de-duplication, split kind and seed as
training), encodes the test rows with the saved encoder, and compares the predictor's
probabilities (ml/bundle.py, no TensorFlow) with the saved Keras model's, with every feature and
with popularity absent. Records the largest absolute difference (goal ≤ 1e-5) and the share of
rows whose top genre differs, beside the time each side takes for the whole split.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from bench.common import DATASET_CSV, ROOT, record


def _training_sources(dataset: str):
    """The app's store (when it holds the dataset), then the real file."""
    import store
    from app import create_app

    app = create_app()
    with app.app_context():
        target = store.get_store()
        if any(d["name"] == dataset for d in target.list_datasets()):
            yield target
    yield DATASET_CSV


def main() -> None:
    models = os.environ.get("MODELS_DIR") or os.path.join(ROOT, "models")
    if not os.path.isfile(os.path.join(models, "meta.json")):
        sys.exit("bench_ml_parity needs a trained genre model bundle in models/: run `make models`")
    from ml.bundle import MODEL_FILE, PARITY_TOLERANCE
    from ml.data import load_labelled_tracks
    from ml.predictor import GenrePredictor
    from ml.split import make_split
    from ml.train import predict_proba, prepare

    predictor = GenrePredictor.load(models)
    split_meta = predictor.meta["split"]
    # `make models` trains on the store's copy of the dataset, `ml train --csv` on the file: the
    # split is rebuilt from whichever gives the bundle's own row counts.
    sizes = []
    for source in _training_sources(predictor.meta["dataset"]):
        tracks, _, _, usable = prepare(load_labelled_tracks(source, predictor.meta["dataset"]))
        rows = make_split(tracks, split_meta["kind"], seed=split_meta["seed"]).test
        test = tracks.iloc[rows]
        sizes.append(len(test))
        if len(test) == predictor.meta["rows"]["test"]:
            break
    else:
        sys.exit(
            f"the test split has {' or '.join(map(str, sizes))} rows, the bundle says "
            f"{predictor.meta['rows']['test']}: models/ was trained on other data"
        )
    import keras

    model = keras.models.load_model(os.path.join(models, MODEL_FILE), compile=False)
    results = {"test_rows": len(test), "tolerance": PARITY_TOLERANCE}
    # Each track's artist context from the dataset's other tracks, in batch as the catalogue's
    # rankings read it, and one track at a time as a web request's one-row pass does.
    pool, encoder = usable["pool"], predictor.encoder
    context = pool.context(encoder)[rows] if encoder.uses_context else None

    def one_track(track, row):
        if not encoder.uses_context:
            return encoder.encode_track(track)[0]
        return encoder.encode_track(track, pool.track_context(encoder, track, leave_out=row)[0])[0]

    for mode, frame in (
        ("with_popularity", test),
        ("without_popularity", test.assign(popularity=np.nan)),
    ):
        started = time.perf_counter()
        ours = predictor.predict_proba(frame, context)
        numpy_seconds = time.perf_counter() - started
        encoded = encoder.transform(frame, context)
        started = time.perf_counter()
        theirs = predict_proba(model, encoded)
        keras_seconds = time.perf_counter() - started
        # The web path: one track at a time, from its dict, through the one-row rewrites.
        one_by_one = np.vstack(
            [
                predictor.network(one_track(track, row))
                for track, row in zip(frame.to_dict("records"), rows.tolist(), strict=True)
            ]
        )
        results[mode] = {
            "max_abs_diff": float(np.max(np.abs(ours - theirs))),
            "top1_disagreements": int(np.sum(ours.argmax(axis=1) != theirs.argmax(axis=1))),
            "one_track_max_abs_diff": float(np.max(np.abs(one_by_one - theirs))),
            "one_track_top1_disagreements": int(
                np.sum(one_by_one.argmax(axis=1) != theirs.argmax(axis=1))
            ),
            "numpy_seconds_with_encoding": round(numpy_seconds, 3),
            "keras_seconds": round(keras_seconds, 3),
        }
    worst = max(
        results[m][key]
        for m in ("with_popularity", "without_popularity")
        for key in ("max_abs_diff", "one_track_max_abs_diff")
    )
    results["within_tolerance"] = worst <= PARITY_TOLERANCE
    record(
        "ml_parity",
        results,
        [
            ("test rows (whole split of the trained bundle)", f"{len(test):,}"),
            *(
                (
                    f"{mode}: largest numpy − Keras probability difference (goal ≤ 1e-5) / "
                    "top-1 disagreements",
                    f"{results[mode]['max_abs_diff']:.1e} / {results[mode]['top1_disagreements']}",
                )
                for mode in ("with_popularity", "without_popularity")
            ),
            *(
                (
                    f"{mode}, one track at a time as the web workers predict: largest "
                    "difference / top-1 disagreements",
                    f"{results[mode]['one_track_max_abs_diff']:.1e} / "
                    f"{results[mode]['one_track_top1_disagreements']}",
                )
                for mode in ("with_popularity", "without_popularity")
            ),
            (
                "numpy (with encoding) ÷ Keras seconds, with popularity",
                f"{results['with_popularity']['numpy_seconds_with_encoding']:.2f} s ÷ "
                f"{results['with_popularity']['keras_seconds']:.2f} s",
            ),
        ],
    )
    if not results["within_tolerance"]:
        sys.exit(f"bench_ml_parity: numpy and Keras differ by {worst:.1e}")


if __name__ == "__main__":
    main()
