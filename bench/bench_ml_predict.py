"""Benchmark: one-track predictor latency, bare and behind a Flask route, vs a trivial route.

The trivial route is measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timings(call, repeats: int = 2000) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1e3, 4),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1e3, 4),
    }


def main(models_dir: str = os.path.join(ROOT, "models")) -> dict:
    import pandas as pd

    from api.model import ModelHolder
    from ml.data import default_dataset_csv

    started = time.perf_counter()
    predictor = ModelHolder(models_dir).get()
    load_seconds = time.perf_counter() - started
    row = pd.read_csv(default_dataset_csv(), nrows=1, index_col=0).iloc[0]
    track = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    no_popularity = {k: v for k, v in track.items() if k != "popularity"}
    # A stand-in for the web API (the real routes live in app.py): the same JSON body posted to a
    # route that only echoes it and to one that predicts, through Flask's test client.
    from flask import Flask, jsonify, request

    app = Flask("bench")
    app.add_url_rule(
        "/trivial", "trivial", lambda: jsonify(ok=bool(request.get_json())), methods=["POST"]
    )
    app.add_url_rule(
        "/predict",
        "predict",
        lambda: jsonify(predictor.predict(request.get_json())),
        methods=["POST"],
    )
    client = app.test_client()
    trivial = timings(lambda: client.post("/trivial", json=track))
    routed = timings(lambda: client.post("/predict", json=track))
    with_pop = timings(lambda: predictor.predict(track))
    without_pop = timings(lambda: predictor.predict(no_popularity))
    results = {
        "benchmark": "ml_predict",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": round(os.getloadavg()[0], 2),
        "bundle_load_seconds": round(load_seconds, 2),
        "trivial_route": summary(trivial),
        "predict_route": summary(routed),
        "predict_with_popularity": summary(with_pop),
        "predict_without_popularity": summary(without_pop),
    }
    results["route_p50_ratio_predict_over_trivial"] = round(
        results["predict_route"]["p50_ms"] / results["trivial_route"]["p50_ms"], 2
    )
    out = os.path.join(ROOT, "bench", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "ml_predict.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
