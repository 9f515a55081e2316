"""CSV export: Exportify's header, playlist order, adders, ids, the round trip through import."""

from __future__ import annotations

import csv
import io

import pytest

from api.export import HEADER
from etl.shapes import EXPORTIFY, detect_shape
from store import open_store
from store.records import AUDIO_FEATURES
from tests.support import (
    PLAYLIST_CSV,
    PLAYLIST_PEOPLE,
    PLAYLIST_TRACKS,
    PLOTIFY_PLAYLIST_ID,
    csrf_headers,
)

BEE_GEES = "2cX2coZS1PYBfPs8wgbdWE"  # first track of the seed playlist
GEN_HOSHINO_COMEDY = "5SuOikwiRyPMVoIQDJUgSV"  # in the catalogue, not in the playlist
UNKNOWN = "0000000000000000000000"
# What a track keeps through export and import (features_source names the file, so it differs).
KEPT_FIELDS = ("name", "artists", "album", "release_date", "duration_ms", "popularity", "explicit")


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_playlist_export_is_exportify_in_playlist_order(app, client):
    response = client.get(f"/api/export.csv?playlist={PLOTIFY_PLAYLIST_ID}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="Data Analysis Jamz.csv"'
    )
    assert response.headers["X-Plotify-Skipped"] == "0"
    text = response.get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header) == HEADER and detect_shape(header) is EXPORTIFY
    rows = rows_of(response)
    target = app.extensions["store"]
    members = target.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert len(rows) == PLAYLIST_TRACKS == len(members)
    assert [r["Track URI"] for r in rows] == [f"spotify:track:{t}" for t in members["id"]]
    assert [r["Added By"] for r in rows] == [f"spotify:user:{p}" for p in members["added_by"]]
    assert len({r["Added By"] for r in rows}) == PLAYLIST_PEOPLE
    first = rows[0]
    assert (
        first["Track Name"].startswith("More Than A Woman")
        and first["Artist Name(s)"] == "Bee Gees"
    )
    assert float(first["Energy"]) == 0.703 and float(first["Tempo"]) == 106.164


@pytest.mark.parametrize("store_kind", ["seed playlist alone", "demo store"])
def test_round_trip_through_etl_import_gives_back_tracks_features_and_adders(
    request, store_kind, tmp_path
):
    """Export the seed playlist, import the file into an empty store with `flask etl import`.

    Alone, the playlist lacks key, mode and valence; in the demo store the catalogue gives some
    tracks all their features: both must come back as they were.
    """
    from tests.support import make_app

    app = request.getfixturevalue("seed_app" if store_kind == "seed playlist alone" else "app")
    client = app.test_client()

    exported = tmp_path / "Data Analysis Jamz.csv"
    exported.write_bytes(client.get(f"/api/export.csv?playlist={PLOTIFY_PLAYLIST_ID}").data)
    empty = make_app(str(tmp_path / "empty.sqlite3"))
    result = empty.test_cli_runner().invoke(args=["etl", "import", str(exported)])
    assert result.exit_code == 0, result.output
    assert "exportify" in result.output.lower()
    empty.extensions["store"].close()

    source = app.extensions["store"]
    copy = open_store(str(tmp_path / "empty.sqlite3"))
    try:
        (playlist,) = copy.list_playlists()
        assert playlist["track_count"] == PLAYLIST_TRACKS
        before = source.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
        after = copy.read_tracks_frame(playlist=playlist["id"])
        assert list(after["id"]) == list(before["id"])  # same tracks, same order
        assert list(after["added_by"]) == list(before["added_by"])  # same adders
        assert sorted(p["id"] for p in playlist["people"]) == sorted(set(before["added_by"]))
        assert len(playlist["people"]) == PLAYLIST_PEOPLE
        old, new = source.get_tracks(before["id"]), copy.get_tracks(after["id"])
        compared = 0
        for track_id in before["id"]:
            for field in (*AUDIO_FEATURES, *KEPT_FIELDS):
                assert new[track_id].get(field) == old[track_id].get(field), (track_id, field)
                compared += old[track_id].get(field) is not None
        # Most of the 158 × 19 values are present (the seed has no key, mode, valence, explicit).
        assert compared > PLAYLIST_TRACKS * 14
    finally:
        copy.close()


def test_the_seed_file_and_the_export_agree_on_features(seed_app):
    """The export's features are the seed file's own (read independently with the csv module)."""
    client = seed_app.test_client()
    with open(PLAYLIST_CSV, encoding="utf-8") as handle:
        seed = {row["id"]: row for row in csv.DictReader(handle)}
    rows = rows_of(client.get(f"/api/export.csv?playlist={PLOTIFY_PLAYLIST_ID}"))
    assert {r["Track URI"].split(":")[-1] for r in rows} == set(seed)
    for row in rows:
        original = seed[row["Track URI"].split(":")[-1]]
        for feature in ("energy", "loudness", "tempo", "speechiness", "acousticness"):
            assert float(row[feature.title()]) == float(original[feature])
        assert row["Added By"] == f"spotify:user:{original['user_id']}"


def test_ids_are_exported_in_the_given_order_and_unknown_ones_counted(client):
    ids = [GEN_HOSHINO_COMEDY, UNKNOWN, BEE_GEES]
    response = client.get(f"/api/export.csv?ids={','.join(ids)}&playlist={PLOTIFY_PLAYLIST_ID}")
    assert response.status_code == 200 and response.headers["X-Plotify-Skipped"] == "1"
    rows = rows_of(response)
    assert [r["Track URI"] for r in rows] == [
        f"spotify:track:{GEN_HOSHINO_COMEDY}",
        f"spotify:track:{BEE_GEES}",
    ]
    # Added By only for the track that is in the playlist.
    assert rows[0]["Added By"] == "" and rows[1]["Added By"] == "spotify:user:1221063701"
    without_playlist = rows_of(client.get(f"/api/export.csv?ids={BEE_GEES}"))
    assert without_playlist[0]["Added By"] == ""


def test_post_takes_long_lists_and_a_filename(app, client):
    ids = list(app.extensions["store"].read_tracks_frame()["id"][:5000])[::-1]
    response = client.post(
        "/api/export.csv",
        json={"ids": ids, "filename": 'my/selection".csv'},
        headers=csrf_headers(client),
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="my_selection.csv"'
    assert [r["Track URI"].split(":")[-1] for r in rows_of(response)] == ids


@pytest.mark.parametrize(
    "query, status, error",
    [
        ("", 400, "bad_request"),
        (f"ids={UNKNOWN}", 400, "unknown_tracks"),
        ("ids=not-an-id", 400, "bad_request"),
        ("ids=,,,", 400, "bad_request"),
        ("playlist=nope", 404, "not_found"),
    ],
)
def test_bad_exports_are_clear_json_errors(client, query, status, error):
    response = client.get(f"/api/export.csv?{query}")
    assert response.status_code == status and response.get_json()["error"] == error


def test_post_refuses_bodies_that_are_not_id_lists(client):
    headers = csrf_headers(client)
    for body in ([BEE_GEES], {"ids": [1, 2]}, {"ids": {"$ne": None}}, {"ids": [BEE_GEES] * 0}):
        response = client.post("/api/export.csv", json=body, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request"
    too_many = {"ids": [f"{i:022d}" for i in range(100_001)]}
    response = client.post("/api/export.csv", json=too_many, headers=headers)
    assert response.status_code == 400 and "100000" in response.get_json()["message"]


def test_exportify_blank_features_are_unknown_but_text_is_still_refused(tmp_path):
    from etl.files import import_file

    path = tmp_path / "blank.csv"
    path.write_text(
        "Track URI,Track Name,Artist Name(s),Added By,Energy,Tempo\n"
        f"spotify:track:{BEE_GEES},More Than A Woman,Bee Gees,spotify:user:someone,,106.164\n"
        f"spotify:track:{GEN_HOSHINO_COMEDY},Comedy,Gen Hoshino,spotify:user:someone,loud,120\n",
        encoding="utf-8",
    )
    target = open_store(str(tmp_path / "blank.sqlite3"))
    try:
        report = import_file(target, str(path))
        assert report.rows_skipped == 1 and "non-numeric energy" in report.skipped_examples[0][1]
        record = target.get_tracks([BEE_GEES])[BEE_GEES]
        assert "energy" not in record and record["tempo"] == 106.164
        assert target.get_tracks([GEN_HOSHINO_COMEDY]) == {}
    finally:
        target.close()
