"""Progress on long CLI work: import phases, downloads of unknown size, checkpoints of live runs."""

from __future__ import annotations

import time

from etl.runs.playlist import PlaylistCheckpoint
from tests.standin.fixtures import live_store  # noqa: F401 - pytest fixture
from tests.support import PLAYLIST_CSV
from tests.test_hostile_inputs import HEADER, ROW, HostileServer


def test_import_shows_its_read_validate_and_write_phases(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["etl", "import", PLAYLIST_CSV])
    assert result.exit_code == 0, result.output
    phases = [line.split()[0] for line in result.stderr.splitlines() if line.strip()]
    assert phases == ["Reading", "Validating", "Writing"]
    assert "100%" in result.stderr.splitlines()[-1]  # the last phase ends complete
    assert "Detected shape: plotify-playlist" in result.stdout  # the report stays on stdout


def test_a_download_of_unknown_size_shows_bytes_and_speed_not_a_full_bar(empty_app):
    body = (HEADER + ROW * 200).encode()

    def without_length(handler, stop):
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the size is unknown until the end
        for start in range(0, len(body), len(body) // 4 + 1):  # slowly enough to have a speed
            handler.wfile.write(body[start : start + len(body) // 4 + 1])
            handler.wfile.flush()
            time.sleep(0.3)
        handler.close_connection = True

    with HostileServer(without_length) as server:
        result = empty_app.test_cli_runner().invoke(
            args=["etl", "import", f"{server.url}/tracks.csv"]
        )
    assert result.exit_code == 0, result.output
    download = next(line for line in result.stderr.splitlines() if "Downloading" in line)
    assert "/? kB" in download and "/s" in download  # bytes so far of an unknown total, speed
    assert "0/0" not in download


def test_a_checkpoint_from_another_version_loads_what_it_can(live_store):  # noqa: F811
    live_store.set_state("etl:playlist:x", {"offset": 50, "track_ids": ["a"], "retired": 1})
    checkpoint = PlaylistCheckpoint.load(live_store, "etl:playlist:x")
    assert checkpoint.offset == 50 and checkpoint.track_ids == ["a"]
    assert checkpoint.items_done is False and checkpoint.skipped["duplicates"] == 0
    assert PlaylistCheckpoint.load(live_store, "etl:playlist:none") is None
