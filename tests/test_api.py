"""The JSON API on real data: the Plotify playlist and the 114k catalogue in the embedded store."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from etl.shapes import DEMO_DATASET
from ml.features import ARTIST_TRACKS
from tests.support import (
    DATASET_TRACKS,
    DEMO_STORE_TRACKS,
    PLAYLIST_TRACKS,
    PLOTIFY_PLAYLIST_ID,
    is_error_shape,
    make_app,
)

GEN_HOSHINO_COMEDY = "5SuOikwiRyPMVoIQDJUgSV"  # first row of the 114k dataset (acoustic)
BEE_GEES = "2cX2coZS1PYBfPs8wgbdWE"  # first track of the Plotify playlist, has recommendations


def assert_error(response, status: int):
    assert response.status_code == status, response.data[:300]
    body = response.get_json()
    assert is_error_shape(body), body
    assert b"Traceback" not in response.data


def test_playlists_list_people_with_colours(client):
    [playlist] = client.get("/api/playlists").get_json()["playlists"]
    assert playlist["id"] == PLOTIFY_PLAYLIST_ID and playlist["track_count"] == PLAYLIST_TRACKS
    people = playlist["people"]
    assert [p["track_count"] for p in people] == [55, 36, 30, 28, 6, 3]
    assert len({p["color"] for p in people}) == 6
    assert "Matt Kukulski" in {p["display_name"] for p in people}


def test_playlist_tracks_are_columns_with_people(client):
    body = client.get(f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}").get_json()
    columns = body["columns"]
    assert body["count"] == PLAYLIST_TRACKS and all(
        len(v) == PLAYLIST_TRACKS for v in columns.values()
    )
    assert set(columns["added_by"]) == {p["id"] for p in body["people"]}
    assert "energy" in body["features"] and "valence" in body["features"]
    first = columns["id"].index(BEE_GEES)
    assert columns["energy"][first] == 0.703 and columns["added_by"][first] == "1221063701"


def test_catalogue_payload_is_gzipped_and_cached(client):
    response = client.get("/api/tracks", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.data))
    from ml.taxonomy import load_taxonomy

    genres = set(body["columns"]["genre"]) - {None}
    # Tracks under several genres show one of them, so a few genres may never be the one shown.
    assert (
        body["count"] == DEMO_STORE_TRACKS
        and 100 < len(genres)
        and genres <= set(load_taxonomy().family_of)
    )
    etag = response.headers["ETag"]
    again = client.get("/api/tracks", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/api/tracks")
    assert (
        "Content-Encoding" not in plain.headers
        and json.loads(plain.data)["count"] == DEMO_STORE_TRACKS
    )


def test_catalogue_ids_come_row_for_row_in_their_own_document(client):
    response = client.get("/api/tracks", headers={"Accept-Encoding": "gzip"})
    # Without the ids the scatter's document fits the lean-serving goal of 3 MB gzipped.
    assert len(response.data) <= 3_000_000
    body = json.loads(gzip.decompress(response.data))
    assert "id" not in body["columns"] and body["ids"]["deferred"] is True
    version = body["ids"]["version"]
    ids = client.get(f"/api/tracks?part=ids&version={version}").get_json()
    assert ids["count"] == body["count"] == len(ids["ids"]) == len(set(ids["ids"]))
    # Row i of the ids is row i of the columns: check a few against the track's own record.
    for row in (0, body["count"] // 2, body["count"] - 1):
        track = client.get(f"/api/tracks/{ids['ids'][row]}").get_json()["track"]
        assert track["name"] == body["columns"]["name"][row]
        assert track["energy"] == pytest.approx(body["columns"]["energy"][row], abs=5e-4)
    stale = client.get("/api/tracks?part=ids&version=0")
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    assert_error(client.get("/api/tracks?part=names"), 400)


def test_etag_changes_when_the_store_changes(writable_app):
    app, client = writable_app, writable_app.test_client()
    etag = client.get(f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}").headers["ETag"]
    with app.app_context():
        from store import get_store

        get_store().upsert_people({"kukulski.2": "Matt K."})
    response = client.get(
        f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}", headers={"If-None-Match": etag}
    )
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert "Matt K." in {p["display_name"] for p in response.get_json()["people"]}


def test_dataset_tracks(client):
    body = client.get(f"/api/tracks?dataset={DEMO_DATASET}").get_json()
    assert body["count"] == DATASET_TRACKS
    assert_error(client.get("/api/tracks?dataset=nope"), 404)


@pytest.mark.parametrize(
    "query, status",
    [
        ("playlist=nope", 404),
        ("playlist=a&dataset=b", 400),
        ("playlist=" + "x" * 500, 400),
        ("playlist=%01abc", 400),
        ("playlist=a&playlist=b", 400),
        ('playlist={"$ne":null}', 404),
    ],
)
def test_tracks_errors(client, query, status):
    assert_error(client.get(f"/api/tracks?{query}"), status)


def test_track_details_and_errors(client):
    track = client.get(f"/api/tracks/{GEN_HOSHINO_COMEDY}").get_json()["track"]
    assert track["name"] == "Comedy" and track["genre"] == "acoustic"
    assert {"genre": "acoustic", "origin": f"dataset:{DEMO_DATASET}"} in track["genres"]
    assert_error(client.get("/api/tracks/not-an-id"), 400)
    assert_error(client.get("/api/tracks/0000000000000000000000"), 404)


def test_stored_recommendations(client):
    body = client.get(f"/api/tracks/{BEE_GEES}/recommendations?limit=5").get_json()
    assert body["kind"] == "stored" and len(body["recommendations"]) == 5
    assert body["recommendations"][0]["id"] == "65GbQI9VDTs7vo6MJL2iJA"  # Leon Bridges, rank 1
    assert {r["source"] for r in body["recommendations"]} == {"file"}
    assert body["total"] > 5


def test_similar_when_nothing_stored(client):
    body = client.get(f"/api/tracks/{GEN_HOSHINO_COMEDY}/recommendations?limit=5").get_json()
    assert body["kind"] == "similar" and len(body["recommendations"]) == 5
    assert all(r["source"] == "similar by audio features" for r in body["recommendations"])
    distances = [r["distance"] for r in body["recommendations"]]
    assert distances == sorted(distances) and GEN_HOSHINO_COMEDY not in {
        r["id"] for r in body["recommendations"]
    }


def test_kept_neighbours_of_catalogue_tracks_are_the_trees_answers(app):
    """A catalogue track's similar tracks read from its kept row match a walk of the tree."""
    import numpy as np

    from store import get_store

    with app.app_context():
        catalogue = app.extensions["catalogue"].get(get_store(), app.config["MODELS_DIR"])
    rows = np.random.default_rng(0).choice(catalogue.indexed_rows, 400, replace=False)
    for row in rows.tolist():
        track = catalogue.record(row)
        kept = catalogue.nearest(track, k=5, exclude={track["id"]}, row=row)
        walked = catalogue.nearest(track, k=5, exclude={track["id"]})
        assert [t["id"] for t in kept] == [t["id"] for t in walked]
        distances = [t["distance"] for t in kept], [t["distance"] for t in walked]
        assert np.allclose(*distances, atol=2e-4)
    # More than the kept neighbours, or a row the index lacks: the tree answers as before.
    assert len(catalogue.nearest(track, k=20, exclude={track["id"]}, row=row)) == 20
    unindexed = next(r for r in range(len(catalogue)) if r not in set(catalogue.indexed_rows))
    assert catalogue.nearest(catalogue.record(unindexed), row=unindexed) == []


def one_row_pass(predictor, catalogue, row, features, top_k=5):
    """The predictor's one-row answer for a catalogue track, with its artist context."""
    context, _ = catalogue.artist_pool.track_context(
        predictor.encoder, catalogue.record(row), leave_out=row
    )
    return predictor.predict(features, top_k=top_k, context=context)


def test_catalogue_rankings_answer_as_the_one_row_pass(app, client):
    """A catalogue track's predict read from the batch rankings is the one-row pass's answer."""
    import numpy as np

    from api.rankings import rank_catalogue, rankings_for
    from api.routes import MODEL_INPUTS
    from store import get_store

    with app.app_context():
        catalogue = app.extensions["catalogue"].get(get_store(), app.config["MODELS_DIR"])
        predictor = app.extensions["model"].get()
    rank_catalogue(catalogue, predictor)
    rankings = rankings_for(catalogue, predictor)
    assert len(rankings) == len(catalogue)
    # The one-row pass and the batch pass round float32 differently; four decimals hide that
    # except near a rounding boundary.
    moved = 0
    for row in np.random.default_rng(1).choice(len(catalogue), 600, replace=False).tolist():
        record = catalogue.record(row)
        track = {f: record[f] for f in MODEL_INPUTS if record.get(f) is not None}
        track[ARTIST_TRACKS] = catalogue.artist_pool.others_of(record, leave_out=row)
        kept = rankings.answer(row, track, top_k=5)
        computed = one_row_pass(predictor, catalogue, row, track, top_k=5)
        assert kept["genres"][0]["genre"] == computed["genres"][0]["genre"]
        assert (kept["absent"], kept["imputed"]) == (computed["absent"], computed["imputed"])
        pairs = list(
            zip(kept["genres"] + kept["families"], computed["genres"] + computed["families"])
        )
        assert len(pairs) == 10
        assert all(abs(a["probability"] - b["probability"]) < 1.5e-4 for a, b in pairs)
        moved += kept != computed
    assert moved < 60
    # Deeper than the kept places: the one-row pass answers (and the route agrees with it).
    assert rankings.answer(row, track, top_k=6) is None
    body = client.get(f"/api/predict?track_id={record['id']}&top_k=8").get_json()
    assert body["prediction"] == one_row_pass(predictor, catalogue, row, body["features"], top_k=8)
    # The catalogue knows whether a track is explicit, so the model is told rather than guessing.
    assert "explicit" in body["features"] and "explicit" not in body["prediction"]["imputed"]


def test_a_retrained_model_is_served_while_its_rankings_are_made(app, trained_models_dir):
    """Rankings by another predictor are never read; the new one's are made in the background."""
    import time

    from api.rankings import rank_catalogue, rankings_for
    from ml.predictor import GenrePredictor
    from store import get_store

    with app.app_context():
        catalogue = app.extensions["catalogue"].get(get_store(), app.config["MODELS_DIR"])
    rank_catalogue(catalogue, app.extensions["model"].get())
    retrained = GenrePredictor.load(trained_models_dir)
    assert rankings_for(catalogue, retrained) is None
    deadline = time.monotonic() + 60
    while rankings_for(catalogue, retrained) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rankings_for(catalogue, retrained).made_by(retrained)
    served = app.extensions["model"].get()
    assert not catalogue.rankings.made_by(served)
    rank_catalogue(catalogue, served)  # as the other tests expect it


def test_a_catalogue_rebuilt_for_new_tracks_is_ranked_after_it_serves(
    catalogue_db, trained_models_dir, tmp_path
):
    """New tracks are served first and ranked after, in the background; then predict reads them."""
    import shutil

    from store import get_store

    database = str(tmp_path / "plotify.sqlite3")
    shutil.copyfile(catalogue_db, database)
    app = make_app(database, MODELS_DIR=trained_models_dir)
    client, cache = app.test_client(), app.extensions["catalogue"]
    assert client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}").status_code == 200
    old, new_id = cache._catalogue, "4uLU6hMCjMI75M1A2tKUQZ"
    with app.app_context():
        record = dict(get_store().get_tracks([GEN_HOSHINO_COMEDY])[GEN_HOSHINO_COMEDY], id=new_id)
        get_store().upsert_tracks([{**record, "energy": 0.05, "acousticness": 0.97}])
    client.get("/api/tracks/" + new_id)  # notices the new data version: the rebuild starts
    predictor = app.extensions["model"].get()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        cache._catalogue is old or getattr(cache._catalogue, "rankings", None) is None
    ):
        time.sleep(0.2)
    rankings = cache._catalogue.rankings
    assert rankings.made_by(predictor) and len(rankings) == len(old) + 1
    body = client.get(f"/api/predict?track_id={new_id}").get_json()
    assert body["features"]["energy"] == 0.05
    catalogue = cache._catalogue
    computed = one_row_pass(predictor, catalogue, catalogue.row_of[new_id], body["features"])
    served, direct = body["prediction"]["genres"][0], computed["genres"][0]
    assert served["genre"] == direct["genre"]
    assert abs(served["probability"] - direct["probability"]) < 2e-4
    app.extensions["store"].close()


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=1000"])
def test_recommendation_errors(client, query):
    assert_error(client.get(f"/api/tracks/{BEE_GEES}/recommendations?{query}"), 400)


def test_unknown_api_path_and_method_are_json(client):
    assert_error(client.get("/api/nothing-here"), 404)
    assert_error(client.post("/api/playlists"), 405)


def test_healthz_reports_store_and_model(app, client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["store"] == {"status": "ok", "backend": "sqlite"}
    # /healthz never loads the model itself: it reports the bundle once something has used it.
    app.extensions["model"].get()
    model = client.get("/healthz").get_json()["model"]
    assert model["status"] == "ok" and model["trained"]


def test_unreachable_database_answers_503(tmp_path):
    from tests.support import make_app

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    broken = make_app(str(blocker / "db.sqlite3"))
    client = broken.test_client()
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").get_json()["store"]["status"] == "unavailable"
    for path in ("/api/playlists", "/api/tracks", f"/api/tracks/{BEE_GEES}/recommendations"):
        assert_error(client.get(path), 503)


def test_openapi_document_matches_the_routes(app, client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {path for path in spec["paths"]}
    served = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
    }
    assert documented == served
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            # Reads are GETs answering 200; only the acting endpoints take POST (and 201).
            assert method in {"get", "post"} and {"200", "201"} & set(operation["responses"])
            for name, response in operation["responses"].items():
                if (
                    name.startswith(("4", "5"))
                    and name != "503"
                    or path.startswith("/api/")
                    and name.startswith(("4", "5"))
                ):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


def test_openapi_parameters_are_the_ones_routes_read(client):
    """Every documented query parameter is accepted, and an undocumented one changes nothing."""
    spec = client.get("/api/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/predict"]["get"]["parameters"]}
    assert params == {"artist", "track", "track_id", "top_k"}


def test_empty_store_answers_empty_payloads(empty_app):
    client = empty_app.test_client()
    body = client.get("/api/tracks").get_json()
    assert body["count"] == 0 and body["columns"]["name"] == []
    assert client.get("/api/playlists").get_json() == {"playlists": []}
    assert_error(client.get(f"/api/tracks/{BEE_GEES}/recommendations"), 404)


def test_predict_catalogue_hit(client):
    body = client.get("/api/predict?artist=gen%20hoshino&track=COMEDY&top_k=3").get_json()
    assert body["match"]["id"] == GEN_HOSHINO_COMEDY and body["sources"]["track"] == "catalogue"
    genres = body["prediction"]["genres"]
    assert len(genres) == 3 and genres == sorted(genres, key=lambda g: -g["probability"])
    assert 0 < sum(g["probability"] for g in genres) <= 1.0001
    families = body["prediction"]["families"]
    assert families[0]["probability"] >= families[-1]["probability"]
    import pandas as pd

    from tests.support import DATASET_CSV

    rows = pd.read_csv(DATASET_CSV, usecols=["track_id", "track_genre"])
    expected = sorted(rows.loc[rows["track_id"] == GEN_HOSHINO_COMEDY, "track_genre"])
    assert body["actual"]["labels"] == expected and "acoustic" in expected
    assert body["features"]["energy"] == 0.461 and len(body["similar"]) == 5
    assert GEN_HOSHINO_COMEDY not in {s["id"] for s in body["similar"]}


def test_predict_is_accent_insensitive_and_lists_candidates(client):
    by_id = client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}").get_json()
    assert by_id["match"]["id"] == GEN_HOSHINO_COMEDY
    # "Beyoncé" typed without the accent and in capitals still finds her tracks.
    body = client.get("/api/predict?artist=BEYONCE").get_json()
    assert "Beyoncé" in body["match"]["artists"] and body["match_quality"]["kind"] == "exact"
    # Her other tracks come first among the alternatives, each saying how it matched.
    assert [c["match"] for c in body["candidates"][:2]] == ["exact", "exact"]
    assert all("Beyoncé" in c["artists"] for c in body["candidates"][:2])


def test_predict_same_result_as_the_predictor(app, client, trained_models_dir):
    from ml.predictor import GenrePredictor
    from store import get_store

    body = client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}&top_k=5").get_json()
    with app.app_context():
        catalogue = app.extensions["catalogue"].get(get_store(), app.config["MODELS_DIR"])
    row = catalogue.row_of[GEN_HOSHINO_COMEDY]
    # The artist context is the mean of Gen Hoshino's other catalogue tracks' encoded rows.
    assert (
        body["features"][ARTIST_TRACKS]
        == catalogue.artist_pool.others_of(body["match"], leave_out=row)
        > 0
    )
    predictor = GenrePredictor.load(trained_models_dir)
    direct = one_row_pass(predictor, catalogue, row, body["features"], top_k=5)
    assert [g["genre"] for g in body["prediction"]["genres"]] == [
        g["genre"] for g in direct["genres"]
    ]


@pytest.mark.parametrize(
    "query, status",
    [
        ("", 400),
        ("artist=", 400),
        ("artist=%20%20", 400),
        ("track=" + "a" * 201, 400),
        ("artist=abc%00def", 400),
        ("track_id=abc", 400),
        ("top_k=0&artist=x", 400),
        ("top_k=x&artist=x", 400),
        ("artist=qzxqzx%20vlorp&track=zzqqxx%20florb", 404),
        ("track_id=0000000000000000000000", 404),
        ('artist={"$regex":".*"}', 404),
        ("artist=.*&track=.*", 404),
    ],
)
def test_predict_errors(client, query, status):
    assert_error(client.get(f"/api/predict?{query}"), status)


def test_predict_without_model_is_503_and_the_rest_works(catalogue_db, tmp_path):
    from tests.support import PLOTIFY_PLAYLIST_ID as playlist
    from tests.support import make_app

    client = make_app(catalogue_db, MODELS_DIR=str(tmp_path)).test_client()
    response = client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}")
    assert_error(response, 503)
    assert "flask --app app ml train" in response.get_json()["message"]
    assert client.get(f"/api/tracks?playlist={playlist}").status_code == 200
    assert client.get("/healthz").get_json()["model"]["status"] == "unavailable"
    assert_error(client.get("/api/clusters"), 404)


def test_corrupt_model_bundle_is_refused(catalogue_db, trained_models_dir, tmp_path):
    import shutil

    from tests.support import make_app

    broken = tmp_path / "models"
    shutil.copytree(trained_models_dir, broken)
    with open(broken / "model.keras", "r+b") as handle:
        handle.truncate(1000)
    response = (
        make_app(catalogue_db, MODELS_DIR=str(broken))
        .test_client()
        .get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}")
    )
    assert_error(response, 503)
    assert "model.keras" in response.get_json()["message"]


def test_clusters_are_served(client):
    body = client.get("/api/clusters").get_json()
    assert body["clusters"] and sum(c["size"] for c in body["clusters"]) == 3000


def test_predict_searches_spotify_when_not_in_the_catalogue(empty_app, trained_models_dir):
    """An empty local catalogue: the track comes from Spotify, its features from providers."""
    from tests.standin.server import StandIn

    with StandIn() as standin:
        empty_app.config.update(standin.config(), MODELS_DIR=trained_models_dir)
        empty_app.extensions["model"].models_dir = trained_models_dir
        client = empty_app.test_client()
        body = client.get("/api/predict?artist=Bee%20Gees&track=More%20Than%20A%20Woman").get_json()
        assert body["sources"]["track"] == "spotify", body
        found = [body["match"]] + body["candidates"]
        assert BEE_GEES in {t["id"] for t in found} and body["prediction"]["genres"]
        assert "more than a woman" in body["match"]["name"].lower()
        assert body["sources"]["features"] in {"spotify", "reccobeats"}
        assert standin.calls["search"] == 1
        standin.fault("search", status=500)
        assert_error(client.get("/api/predict?artist=Fleetwood%20Mac&track=Dreams"), 502)


def test_model_report_is_served_without_leaving_its_folder(tmp_path, catalogue_db):
    from tests.support import make_app

    report = tmp_path / "report"
    report.mkdir()
    (report / "report.md").write_text("# Genre model report\n")
    client = make_app(catalogue_db, MODELS_DIR=str(tmp_path)).test_client()
    response = client.get("/report/report.md")
    assert response.status_code == 200 and b"Genre model report" in response.data
    assert client.get("/report/../report/report.md").status_code == 404
    assert client.get("/report/%2e%2e/meta.json").status_code == 404
    assert client.get("/report/missing.png").status_code == 404


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/playlists", "/api/nothing-here"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"


def test_production_refuses_the_development_secret_key(monkeypatch, tmp_path):
    from app import create_app
    from web.security import InsecureConfiguration

    monkeypatch.setenv("PLOTIFY_PRODUCTION", "1")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY"):
        create_app({"DATABASE": str(tmp_path / "x.sqlite3"), "INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    assert create_app({"DATABASE": str(tmp_path / "x.sqlite3"), "INSTANCE_PATH": str(tmp_path)})


def test_a_retrained_bundle_is_picked_up_without_a_restart(
    catalogue_db, trained_models_dir, tmp_path
):
    import os
    import shutil

    from tests.support import make_app

    bundle = tmp_path / "models"
    shutil.copytree(trained_models_dir, bundle)
    client = make_app(catalogue_db, MODELS_DIR=str(bundle)).test_client()
    assert client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}").status_code == 200
    # "Retrain" into a broken bundle: meta.json is rewritten last, so its new mtime is the signal.
    with open(bundle / "model.keras", "r+b") as handle:
        handle.truncate(1000)
    stat = os.stat(bundle / "meta.json")
    os.utime(bundle / "meta.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert_error(client.get(f"/api/predict?track_id={GEN_HOSHINO_COMEDY}&top_k=4"), 503)


def test_payload_cache_builds_each_document_once_under_concurrency():
    """Threads asking for the same uncached document wait for one build, not each build it."""
    import threading
    import time

    from api.catalogue import Answers

    cache, builds, results = Answers(size=4), [], []
    start = threading.Barrier(8)

    def build():
        builds.append(threading.get_ident())
        time.sleep(0.05)  # long enough that every thread arrives while the build runs
        return {"document": len(builds)}

    def ask():
        start.wait()
        results.append(cache.get_or_build(("tracks", "dataset:pop"), build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and results == [{"document": 1}] * 8

    def failing_build():
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        cache.get_or_build("other", failing_build)
    assert cache.get("other") is None  # a failed build leaves nothing cached
    assert cache.get_or_build("other", lambda: "built") == "built"


def test_new_tracks_are_served_after_a_background_rebuild(writable_app):
    """A write never makes requests wait: the old catalogue answers until the new one is in."""
    app, client = writable_app, writable_app.test_client()
    cache = app.extensions["catalogue"]
    count = client.get("/api/tracks").get_json()["count"]
    new_id = "4uLU6hMCjMI75M1A2tKUQZ"  # well formed, absent from the dataset
    with app.app_context():
        from store import get_store

        record = dict(
            get_store().get_tracks([GEN_HOSHINO_COMEDY])[GEN_HOSHINO_COMEDY],
            id=new_id,
            name="Comedy (background rebuild test)",
        )
        get_store().upsert_tracks([record])
    old = cache._catalogue
    # Answered at once from the catalogue already built (the 92k-track rebuild takes seconds).
    assert client.get(f"/api/tracks/{new_id}").status_code == 404
    deadline = time.monotonic() + 120
    while cache._catalogue is old and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache._catalogue is not old
    assert client.get(f"/api/tracks/{new_id}").get_json()["track"]["name"].startswith("Comedy (")
    # The whole-catalogue document was encoded in the background too, with the new track in it.
    assert client.get("/api/tracks").get_json()["count"] == count + 1
