"""File import on the real data: shapes, idempotence, bad input, kills, URLs, the demo command."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from etl.files import ImportFailed, import_file
from etl.shapes import DEMO_DATASET
from store import open_store
from tests.support import (
    DATASET_CSV,
    DATASET_GENRES,
    DATASET_TRACKS,
    DEMO_STORE_TRACKS,
    PLAYLIST_CSV,
    PLAYLIST_TRACKS,
    PLOTIFY_PLAYLIST_ID,
    RECOMMENDATIONS,
    RECOMMENDATIONS_CSV,
    ROOT,
    SHARED_DATA,
)


def content_digest(target) -> str:
    """A hash of everything an import writes, independent of write order."""
    digest = hashlib.sha256()
    frame = target.read_tracks_frame()
    digest.update(pd.util.hash_pandas_object(frame.fillna(-1), index=False).values.tobytes())
    for dataset in target.list_datasets():
        rows = target.read_tracks_frame(dataset=dataset["name"])
        digest.update(str(sorted(zip(rows["id"], rows["label"]))).encode())
    genres = target.get_track_genres(frame["id"])
    digest.update(str(sorted(genres.items())).encode())
    digest.update(str(target.list_playlists()).encode())
    return digest.hexdigest()


@pytest.fixture
def fresh_store(tmp_path):
    target = open_store(str(tmp_path / "import.sqlite3"))
    yield target
    target.close()


@pytest.fixture(scope="module")
def dataset_frame() -> pd.DataFrame:
    return pd.read_csv(DATASET_CSV, index_col=0, dtype={"track_id": str})


def test_114k_dataset_import(catalogue_db):
    loaded = open_store(catalogue_db)
    counts = loaded.counts()
    # 89,741 distinct ids less the one broken row; the playlist and recommendations add their own.
    assert loaded.read_tracks_frame(dataset=DEMO_DATASET)["id"].nunique() == DATASET_TRACKS
    [dataset] = loaded.list_datasets()
    assert dataset["label_count"] == DATASET_GENRES and dataset["track_count"] == DATASET_TRACKS
    assert (
        counts["recommendations"] == RECOMMENDATIONS
        and counts["playlist_tracks"] == PLAYLIST_TRACKS
    )
    # The last file imported into the catalogue, imported again, changes nothing.
    assert import_file(loaded, RECOMMENDATIONS_CSV).total_changed == 0


def test_plotify_playlist_lands_with_people(catalogue_db):
    loaded = open_store(catalogue_db)
    [playlist] = loaded.list_playlists()
    assert playlist["id"] == PLOTIFY_PLAYLIST_ID and playlist["name"] == "Data Analysis Jamz"
    from etl.demo import plotify_people

    names = {p["display_name"]: p["track_count"] for p in playlist["people"]}
    added_by = pd.read_csv(PLAYLIST_CSV, dtype={"user_id": str})["user_id"].value_counts()
    assert names == {plotify_people()[who]: n for who, n in added_by.items()}
    assert sorted(names.values(), reverse=True) == [55, 36, 30, 28, 6, 3]
    frame = loaded.read_tracks_frame(playlist=PLOTIFY_PLAYLIST_ID)
    assert len(frame) == PLAYLIST_TRACKS and frame["energy"].notna().all()
    assert frame["valence"].notna().sum() > 0  # filled in from the 114k dataset where shared


def test_recommendations_link_seeds(catalogue_db):
    loaded = open_store(catalogue_db)
    recs = pd.read_csv(RECOMMENDATIONS_CSV, index_col=0)
    seed = recs["Original Playlist Track ID"].iloc[0]
    stored = loaded.get_recommendations(seed)
    expected = recs.loc[recs["Original Playlist Track ID"] == seed, "Recommended Track ID"]
    assert [r["track_id"] for r in sorted(stored, key=lambda r: r["rank"])] == list(expected)
    assert {r["source"] for r in stored} == {"file"}
    assert len(loaded.recommendation_seed_ids()) == recs["Original Playlist Track ID"].nunique()


def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_tidytuesday_shape(dataset_frame, fresh_store, tmp_path):
    rows = dataset_frame.head(300).rename(
        columns={
            "track_name": "track_name",
            "artists": "track_artist",
            "popularity": "track_popularity",
            "album_name": "track_album_name",
            "track_genre": "playlist_genre",
        }
    )
    rows["playlist_subgenre"] = "sub-" + rows["playlist_genre"]
    rows = rows.drop(columns=["time_signature", "explicit"])
    report = import_file(fresh_store, _write(rows, tmp_path / "spotify_songs.csv"))
    assert report.shape == "tidytuesday-spotify-songs" and report.kind == "dataset"
    assert fresh_store.counts()["tracks"] == rows["track_id"].nunique()
    genres = fresh_store.get_track_genres([rows["track_id"].iloc[0]])[rows["track_id"].iloc[0]]
    assert {g["genre"] for g in genres} == {"acoustic", "sub-acoustic"}


def test_ultimate_shape_converts_letters(dataset_frame, fresh_store, tmp_path):
    rows = dataset_frame.head(50).rename(columns={"track_genre": "genre", "artists": "artist_name"})
    letters = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    rows["key"] = [letters[k] for k in rows["key"]]
    rows["mode"] = rows["mode"].map({1: "Major", 0: "Minor"})
    rows["time_signature"] = rows["time_signature"].astype(str) + "/4"
    report = import_file(fresh_store, _write(rows, tmp_path / "SpotifyFeatures.csv"))
    assert report.shape == "ultimate-spotify-tracks-db"
    stored = fresh_store.read_tracks_frame().set_index("id")
    original = dataset_frame.head(50).drop_duplicates("track_id").set_index("track_id")
    assert (stored.loc[original.index, "key"] == original["key"]).all()
    assert (stored.loc[original.index, "mode"] == original["mode"]).all()


def test_exportify_shape_becomes_playlist(dataset_frame, fresh_store, tmp_path):
    rows = dataset_frame.head(40)
    export = pd.DataFrame(
        {
            "Track URI": "spotify:track:" + rows["track_id"],
            "Track Name": rows["track_name"],
            "Album Name": rows["album_name"],
            "Artist Name(s)": rows["artists"].str.replace(";", ","),
            "Duration (ms)": rows["duration_ms"],
            "Popularity": rows["popularity"],
            "Added By": ["spotify:user:alice", "spotify:user:bob"] * 20,
            "Added At": "2024-01-01T00:00:00Z",
            "Genres": "indie folk,chamber pop",
            **{
                f.replace("_", " ").title(): rows[f]
                for f in (
                    "danceability",
                    "energy",
                    "key",
                    "loudness",
                    "mode",
                    "speechiness",
                    "acousticness",
                    "instrumentalness",
                    "liveness",
                    "valence",
                    "tempo",
                    "time_signature",
                )
            },
        }
    )
    export.loc[3, "Track URI"] = "spotify:local:Someone:Something::200"
    report = import_file(
        fresh_store, _write(export, tmp_path / "my_playlist.csv"), people={"alice": "Alice"}
    )
    assert report.shape == "exportify" and report.rows_skipped == 1
    [playlist] = fresh_store.list_playlists()
    assert playlist["name"] == "my_playlist" and playlist["track_count"] == 39
    assert {p["id"]: p["display_name"] for p in playlist["people"]} == {
        "alice": "Alice",
        "bob": None,
    }
    genres = fresh_store.get_track_genres([rows["track_id"].iloc[0]])
    assert {g["origin"] for g in genres[rows["track_id"].iloc[0]]} == {"artist"}


def test_parquet_import(fresh_store, tmp_path):
    frame = pd.read_csv(PLAYLIST_CSV, index_col=0)
    path = tmp_path / "user_song_info.parquet"
    frame.to_parquet(path)
    report = import_file(fresh_store, str(path))
    assert (
        report.shape == "plotify-playlist"
        and fresh_store.counts()["playlist_tracks"] == PLAYLIST_TRACKS
    )


def test_explicit_mapping(dataset_frame, fresh_store, tmp_path):
    rows = dataset_frame.head(20)[["track_id", "track_name", "energy", "valence", "track_genre"]]
    rows.columns = ["ID", "Title", "Energy", "Valence", "Style"]
    path = _write(rows, tmp_path / "mine.csv")
    with pytest.raises(ImportFailed, match="unknown file shape"):
        import_file(fresh_store, path)
    report = import_file(
        fresh_store,
        path,
        mapping={"id": "ID", "name": "Title", "energy": "Energy", "valence": "Valence"},
        label="Style",
    )
    assert report.kind == "dataset" and fresh_store.counts()["dataset_tracks"] == 20


def test_bad_rows_are_skipped_and_counted(dataset_frame, fresh_store, tmp_path):
    rows = dataset_frame.head(100).copy()
    rows.loc[rows.index[10], "energy"] = 1.7
    rows.loc[rows.index[20], "danceability"] = None
    rows.loc[rows.index[30], "track_id"] = "not-an-id"
    report = import_file(fresh_store, _write(rows, tmp_path / "dataset.csv"))
    assert report.rows_skipped == 3
    assert [line for line, _ in report.skipped_examples] == [12, 22, 32]
    assert (
        "energy 1.7" in report.skipped_examples[0][1] or "energy" in report.skipped_examples[0][1]
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00zip\n", "binary"),
        (b"a;b;c\n1;2;3\n", "no comma-separated header"),
        (b"x" * 70000 + b"\n", "first line is over"),
        (b"track,artist\nfoo,bar\n", "unknown file shape"),
    ],
)
def test_unreadable_files_fail_before_writing(fresh_store, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message):
        import_file(fresh_store, str(path))
    assert fresh_store.is_empty()


def test_killed_import_rerun_matches_clean_import(tmp_path):
    """kill -9 a real import midway, re-run it: same content as an uninterrupted import."""
    env = dict(os.environ, DATABASE=str(tmp_path / "killed.sqlite3"), MONGODB_URI="")
    command = [sys.executable, "-m", "flask", "--app", "app", "etl", "import", DATASET_CSV]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    killed_store = open_store(env["DATABASE"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if killed_store.counts()["tracks"] >= 20000:
                break
        except Exception:  # noqa: BLE001 - the schema may not exist yet
            pass
        time.sleep(0.05)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = killed_store.counts()["tracks"]
    assert 0 < partial < DATASET_TRACKS
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    clean_store = open_store(str(tmp_path / "clean.sqlite3"))
    first = import_file(clean_store, DATASET_CSV)
    assert first.rows_read == 114000 and first.rows_skipped == 1
    # Row index 65900 is line 65902: the header is line 1.
    assert first.skipped_examples == [(65902, "duration_ms is not positive")]
    assert content_digest(killed_store) == content_digest(clean_store)
    assert import_file(clean_store, DATASET_CSV).total_changed == 0


@pytest.fixture
def data_server():
    """A local HTTP server publishing ../shared/data, standing in for the files' public homes."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=SHARED_DATA)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_from_url(writable_app, data_server):
    app = writable_app
    result = app.test_cli_runner().invoke(
        args=[
            "etl",
            "import",
            f"{data_server}/seed-plotify/user_song_info.csv",
            "--playlist-id",
            "url-playlist",
            "--person",
            "kukulski.2=Matt",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Detected shape: plotify-playlist" in result.output
    downloaded = os.path.join(app.instance_path, "downloads", "user_song_info.csv")
    assert os.path.isfile(downloaded)
    with app.app_context():
        from store import get_store

        assert get_store().get_people(["kukulski.2"]) == {"kukulski.2": "Matt"}


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x.csv", "http://127.0.0.1:9/nothing.csv"]
)
def test_bad_urls_fail_clearly(runner, url):
    result = runner.invoke(args=["etl", "import", url])
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output


def test_demo_command_loads_empty_store_once(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["etl", "demo", "--data-dir", SHARED_DATA])
    assert result.exit_code == 0, result.output
    assert result.output.count("Detected shape") == 3
    again = runner.invoke(args=["etl", "demo", "--data-dir", SHARED_DATA])
    assert f"already holds {DEMO_STORE_TRACKS} tracks" in again.output


def test_demo_command_names_missing_files(empty_app, tmp_path):
    result = empty_app.test_cli_runner().invoke(args=["etl", "demo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "DEMO_DATA_DIR must hold" in result.output
