"""Hostile input on all API parameters and file/URL import: clear 4xx/CLI errors, bounded memory."""

from __future__ import annotations

import csv
import http.server
import io
import os
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import pytest

from api.openapi import SPEC
from etl.shapes import DEMO_DATASET
from tests.support import ROOT, is_error_shape

GEN_HOSHINO_COMEDY = "5SuOikwiRyPMVoIQDJUgSV"  # in the catalogue, no stored recommendations
BEE_GEES = "2cX2coZS1PYBfPs8wgbdWE"  # in the catalogue, with stored recommendations


def raw(text: str) -> str:
    """A value percent-encoded exactly as a browser would send it."""
    return quote(text, safe="")


# (label, value as it appears in the URL, already percent-encoded). Strings where the app expects
# strings, numbers where it expects numbers, and everything that is neither.
HOSTILE_VALUES = [
    ("mongo $ne object", raw('{"$ne": null}')),
    ("mongo $where", raw("$where: function() { return true }")),
    ("mongo $gt operator", raw("$gt")),
    ("mongo $regex", raw('{"$regex": ".*"}')),
    ("json object", raw('{"a": {"b": [1, 2, {"c": null}]}}')),
    ("json array", raw('["5SuOikwiRyPMVoIQDJUgSV", "2cX2coZS1PYBfPs8wgbdWE"]')),
    ("sql quote", raw("' OR '1'='1' --")),
    ("10k characters", "a" * 10_000),
    ("10k multibyte", raw("é" * 10_000)),
    ("NUL", "abc%00def"),
    ("control characters", "%01%02%1B%5B2J%07%7F"),
    ("newline and CR", "abc%0D%0AX-Injected:%201"),
    ("C1 control", raw("abc\u0085def")),
    ("invalid UTF-8", "%FF%FE%FD"),
    ("overlong UTF-8", "%C0%AF"),
    ("lone surrogate", "%ED%A0%80"),
    ("path traversal", raw("../../etc/passwd")),
    ("encoded traversal", raw("..%2F..%2Fetc%2Fpasswd")),
    ("RTL override", raw("\u202egnp.exe")),
    ("zero-width", raw("\u200b\u200c\u200d\ufeff")),
    ("private use", raw("\ue000\uf8ff")),
    ("unassigned", raw("\U000e0fff")),
    ("emoji", raw("🎵" * 3)),
    ("huge integer", "9" * 40),
    ("negative", "-1"),
    ("negative zero", "-0"),
    ("NaN", "NaN"),
    ("infinity", "inf"),
    ("float", "1.5"),
    ("exponent", "1e3"),
    ("hex", "0x10"),
    ("underscore digits", "1_0"),
    ("non-ASCII digits", raw("١٢")),
    ("padded number", raw(" 5 ")),
    ("empty", ""),
    ("blank", "%20%20%20"),
    ("percent sign", "%25"),
    ("ampersand smuggling", raw("x&playlist=y")),
]


def operations() -> list[tuple[str, dict]]:
    """(path template, operation) for every documented operation."""
    return [(path, item["get"]) for path, item in SPEC["paths"].items() if "get" in item]


def query_parameters() -> list[tuple[str, str]]:
    return [
        (path, p["name"])
        for path, op in operations()
        for p in op.get("parameters", [])
        if p["in"] == "query"
    ]


def path_templates() -> list[str]:
    return [
        path
        for path, op in operations()
        if any(p["in"] == "path" for p in op.get("parameters", []))
    ]


# Besides the value under test, what each operation needs to reach the code that reads it:
# predict refuses a query with no artist, track or track_id before reading top_k.
COMPANIONS = {
    ("/api/predict", "top_k"): "artist=gen%20hoshino&track=comedy",
    ("/api/search", "limit"): "q=queen",
}


def assert_clear_error(response, statuses=(400, 404)) -> dict:
    """A JSON error in the API's shape, with one of the given statuses and no traceback."""
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert is_error_shape(body), body
    assert b"Traceback" not in response.data and b'File "' not in response.data
    return body


TEXT_SEARCH = {"artist", "track", "q"}


def assert_honest_text_match(match: dict, name: str, value: str, quality: dict) -> None:
    """The predicted track really contains the searched text (compared as the catalogue does),
    or the answer says it is the closest spelling, with a strong score."""
    from urllib.parse import unquote

    from api.folding import fold
    from api.search import STRONG

    if quality["kind"] == "fuzzy":
        assert quality["score"] >= STRONG, quality
        return
    key = fold(unquote(value, errors="replace"))
    field = "artists" if name == "artist" else "name"
    assert key and key in fold(match[field]), (key, match[field])


def concrete(path: str, value: str = BEE_GEES) -> str:
    return path.replace("{track_id}", value).replace("{playlist_id}", value)


@pytest.mark.parametrize("label, value", HOSTILE_VALUES, ids=[v[0] for v in HOSTILE_VALUES])
@pytest.mark.parametrize(
    "path, name", query_parameters(), ids=[f"{p}?{n}" for p, n in query_parameters()]
)
def test_hostile_query_values_are_refused(client, path, name, label, value):
    companions = COMPANIONS.get((path, name))
    query = f"{name}={value}" + (f"&{companions}" if companions else "")
    response = client.get(f"{concrete(path)}?{query}")
    if response.status_code == 200:
        # A hostile value may only be "accepted" as absent (blank means no filter, or the
        # default), or as the free text it is: predict's artist and track are a plain-text
        # search, so "$gt" honestly finds a title containing "gt" ("Full Length Edition").
        if label not in {"empty", "blank"}:
            assert name in TEXT_SEARCH, (label, response.data[:200])
            body = response.get_json()
            if path == "/api/search":
                # Search is fuzzy by design: every result says how it matched and how well.
                assert all(r["match"] and r["source"] for r in body["results"]), body
            else:
                assert_honest_text_match(body["match"], name, value, body["match_quality"])
        return
    body = assert_clear_error(response)
    # The reason names the parameter it refuses (a 404 says what was not found instead).
    assert response.status_code == 404 or name in body["message"] or "give" in body["message"]


@pytest.mark.parametrize("label, value", HOSTILE_VALUES, ids=[v[0] for v in HOSTILE_VALUES])
@pytest.mark.parametrize("path", path_templates())
def test_hostile_path_values_are_refused(client, path, label, value):
    response = client.get(concrete(path, value))
    if response.status_code == 308:
        # "/api/tracks//recommendations": Werkzeug's routing answers 308 towards the URL with
        # the double slash merged, which then refuses with a JSON 404.
        assert label == "empty"
        assert_same_site_redirect(response)
        response = client.get(response.headers["Location"])
    # A value with "/" (decoded) may route nowhere: still a JSON 404.
    assert_clear_error(response, statuses=(400, 404, 405))


def assert_same_site_redirect(response) -> None:
    """A routing redirect (merged slashes) that stays on this site and inside the API."""
    from urllib.parse import urlsplit

    assert response.status_code == 308, response.status_code
    location = urlsplit(response.headers["Location"])
    assert location.netloc in {"", "localhost"} and location.path.startswith("/api/")


@pytest.mark.parametrize(
    "query",
    [
        "playlist[$ne]=x",
        "playlist[]=a&playlist[]=b",
        "dataset[$gt]=",
        "track_id[$regex]=.*",
        "artist[$where]=1",
        "__proto__[admin]=1",
        "constructor[prototype][x]=1",
    ],
)
def test_bracketed_query_keys_are_not_operators(client, query):
    """Flask has no nested query syntax: bracketed keys are unknown names, so they filter
    nothing."""
    tracks = client.get(f"/api/tracks?{query}")
    assert tracks.status_code == 200 and tracks.get_json()["source"] == {"kind": "catalogue"}
    # predict reads only artist, track and track_id: a bracketed key is not one of them.
    assert_clear_error(client.get(f"/api/predict?{query}"), statuses=(400,))


@pytest.mark.parametrize("path", [path for path, _ in operations()])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_json_bodies_are_refused_everywhere(client, path, method):
    """Operator documents sent as JSON get a JSON 405 where no body is taken, never a 5xx; where
    one is (POST /api/export.csv), a request without the page's CSRF token is refused unread."""
    statuses = (403,) if method in SPEC["paths"][path] else (405,)
    for body in ({"$ne": None}, {"playlist": {"$gt": ""}}, [{"$where": "1"}], "x" * 10_000):
        response = getattr(client, method)(concrete(path), json=body)
        assert_clear_error(response, statuses=statuses)
    response = getattr(client, method)(
        concrete(path), data=b"\xff\xfe{not json", content_type="application/json"
    )
    assert_clear_error(response, statuses=statuses)


@pytest.mark.parametrize("path", [path for path, _ in operations()])
def test_a_get_body_is_ignored(client, path):
    plain = client.get(concrete(path), headers={"Accept-Encoding": "identity"})
    with_body = client.get(
        concrete(path), json={"$ne": None}, headers={"Accept-Encoding": "identity"}
    )
    assert with_body.status_code == plain.status_code < 500


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Match": "*"},
        {"If-None-Match": '"' + "x" * 10_000 + '"'},
        {"If-None-Match": "\x01\x02"},
        {"Accept-Encoding": "gzip;q=NaN, br;q=-1, *;q=1e309"},
        {"Accept-Encoding": "x" * 10_000},
        {"Content-Type": "application/json; charset=utf-7"},
    ],
)
def test_hostile_headers_do_not_break_the_api(client, headers):
    for path in ("/api/tracks?playlist=0fCFwL8LJE99raQb1g2YvF", "/api/playlists", "/healthz"):
        response = client.get(path, headers=headers)
        assert response.status_code in {200, 304}, (path, headers, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/api/tracks/..%2F..%2Fetc%2Fpasswd",
        "/api/tracks/../../etc/passwd",
        "/api/../etc/passwd",
        "/api/%2e%2e/%2e%2e/etc/passwd",
        "/api/tracks/%00",
        "/api/clusters/..%2F..%2Fapp.py",
        "/api/openapi.json/..",
        "/api/tracks/%2e%2e%2f%2e%2e%2fapp.py/recommendations",
        "/api//tracks",
        "//api/nothing",
        "/api",
        "/api/tracks/%5C..%5C..%5Cetc%5Cpasswd",
    ],
)
def test_path_traversal_in_api_urls(client, path):
    # PATH_INFO set directly: the test client would read "//api/…" as a host name.
    response = client.get("/", environ_overrides={"PATH_INFO": unquote_path(path)})
    if response.status_code == 308:  # merged slashes: the same API, one slash fewer
        assert_same_site_redirect(response)
        return
    assert_clear_error(response, statuses=(400, 404, 405))
    assert b"root:" not in response.data and b"import " not in response.data


def unquote_path(path: str) -> str:
    """PATH_INFO as a WSGI server passes it: percent-decoded, as Latin-1 text of the bytes."""
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


def test_the_table_covers_every_parameter_of_every_operation():
    """Guard: a parameter added to the document is in the hostile-input runs automatically."""
    documented = {
        (path, p["name"], p["in"]) for path, op in operations() for p in op.get("parameters", [])
    }
    covered = {(path, name, "query") for path, name in query_parameters()}
    covered |= {
        (path, p["name"], "path")
        for path in path_templates()
        for p in dict(operations())[path]["parameters"]
        if p["in"] == "path" and p["name"] in ("track_id", "playlist_id")
    }
    assert documented == covered and len(HOSTILE_VALUES) >= 30
    assert {n for _, n in query_parameters()} >= {
        "playlist",
        "dataset",
        "limit",
        "artist",
        "track",
        "track_id",
        "top_k",
    }


# -- file import through the CLI ----------------------------------------------------------------


def run_cli(app, *args):
    result = app.test_cli_runner().invoke(args=["etl", "import", *args])
    assert result.exit_code != 0, result.output
    assert "Error:" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    with app.app_context():
        from store import get_store

        assert get_store().is_empty(), "a refused import wrote something"
    return result.output


HEADER = (
    "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,"
    "tempo,time_signature,track_genre\n"
)
ROW = (
    "5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,0.461,1,-6.746,0,"
    "0.143,0.0322,1.01e-06,0.358,0.715,87.917,4,acoustic\n"
)


def with_cells(**cells) -> str:
    names, values = HEADER.strip().split(","), ROW.strip().split(",")
    for name, value in cells.items():
        values[names.index(name)] = value
    return ",".join(values) + "\n"


@pytest.mark.parametrize(
    "content, message",
    [
        (HEADER.replace(",", ";") + ROW.replace(",", ";"), "no comma-separated header"),
        (HEADER.replace(",", "\t") + ROW.replace(",", "\t"), "no comma-separated header"),
        (HEADER.replace(",", "|") + ROW.replace(",", "|"), "no comma-separated header"),
        (b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096), "binary"),
        (b"\xff\xd8\xff\xe0JFIF,\x01\x01\n" + bytes(range(1, 256)) * 8, "not UTF-8"),
        (
            (HEADER + ROW).encode() + b"\x00\x01\x02binary tail",
            "binary content (a NUL byte on line 3)",
        ),
        ((HEADER + ROW).encode() + b"caf\xe9,\xff\xfe\n", "not UTF-8 text (line 3)"),
        ((HEADER + ROW).encode("utf-16"), "binary"),
        (HEADER + "x" * (2 * 1024 * 1024) + "\n", "line 2 is over"),
        (HEADER + '"never closed,' + ROW, "cannot be parsed"),
        (HEADER, "no data rows"),
        (b"", "empty"),
        ("\n\n\n", "no comma-separated header"),
        (HEADER + with_cells(duration_ms="inf"), "duration_ms over"),
        (HEADER + with_cells(duration_ms="1e30"), "duration_ms over"),
        (HEADER + with_cells(popularity="9" * 40), "popularity outside"),
        (HEADER + with_cells(track_id='{"$ne": null}'), "not a Spotify track id"),
        (HEADER + with_cells(track_id="../../etc/passwd"), "not a Spotify track id"),
        (HEADER + with_cells(tempo="NaN"), "non-numeric tempo"),
        ("\x1b[2J\x1b]0;pwned\x07,b\n1,2\n", "unknown file shape"),
    ],
)
def test_malformed_files_fail_clearly(empty_app, tmp_path, content, message):
    path = tmp_path / "hostile.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    output = run_cli(empty_app, str(path))
    assert message in output, output
    # Escape sequences from the file are shown escaped, never sent to the terminal.
    assert "\x1b" not in output and "\x07" not in output


def test_hostile_text_in_valid_rows_is_stored_as_text(empty_app, tmp_path):
    """Operators, markup and control characters in a name are data: stored verbatim, served
    escaped."""
    name = '{"$ne": null} <script>alert(1)</script> \u202e\x1b[2J, "quoted"'
    row = io.StringIO()
    values = dict(
        zip(HEADER.strip().split(","), ROW.strip().split(",")),
        track_name=name,
        track_genre="$where",
    )
    csv.writer(row, lineterminator="\n").writerow(values.values())
    path = tmp_path / "dataset.csv"
    path.write_text(HEADER + row.getvalue(), encoding="utf-8")
    result = empty_app.test_cli_runner().invoke(args=["etl", "import", str(path)])
    assert result.exit_code == 0, result.output
    client = empty_app.test_client()
    track = client.get(f"/api/tracks/{GEN_HOSHINO_COMEDY}").get_json()["track"]
    assert track["name"] == name
    assert {"genre": "$where", "origin": f"dataset:{DEMO_DATASET}"} in track["genres"]


@pytest.mark.parametrize(
    "where, message",
    [
        ("directory", "is a directory"),
        ("/dev/zero", "not a regular file"),
        ("/dev/urandom", "not a regular file"),
        ("/dev/null", "not a regular file"),
        ("fifo", "not a regular file"),
        ("traversal to nowhere", "no such file"),
        ("traversal to a directory", "is a directory"),
        ("traversal to a system file", "no comma-separated header"),
    ],
)
def test_special_paths_fail_clearly(empty_app, tmp_path, where, message):
    paths = {
        "directory": str(tmp_path),
        "fifo": str(tmp_path / "pipe.csv"),
        "traversal to nowhere": "../" * 12 + "no/such/dir/tracks.csv",
        "traversal to a directory": "../" * 12 + "etc",
        "traversal to a system file": "../" * 12 + "etc/passwd",
    }
    if where == "fifo":
        os.mkfifo(paths["fifo"])  # opening it would block forever: it must be refused unopened
    started = time.monotonic()
    output = run_cli(empty_app, paths.get(where, where))
    assert message in output and time.monotonic() - started < 10


def test_files_over_the_size_limit_are_refused_unread(empty_app, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(HEADER + ROW * 50)
    empty_app.config["IMPORT_MAX_BYTES"] = "1000"
    assert "over the 1000-byte import limit" in run_cli(empty_app, str(path))


# -- bounded memory on one enormous line --------------------------------------------------------


def current_rss(pid: int) -> int:
    """Resident bytes of a running process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def peak_rss_of(
    command: list[str], env: dict, cwd: str, log, kill_above: int | None = None
) -> tuple[int, int, float]:
    """(exit status, peak RSS in bytes, seconds) of one child process, measured by wait4.

    kill_above stops a child whose memory runs away: a regression must fail the test, not take
    the machine's memory from everyone else (the unfixed import reached 23 GB on 200 MB).
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    while True:
        # wait4 gives this child's own rusage, unlike RUSAGE_CHILDREN, which keeps the maximum
        # of every child this process ever waited for.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if kill_above is not None and current_rss(process.pid) > kill_above:
            process.kill()
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * 1024, time.perf_counter() - started


def write_giant_line(path: str, size: int, prefix: bytes = b"") -> None:
    """A file of prefix then size bytes of one line (no newline), written in 1 MB blocks."""
    block = (b"track_id,energy," * 65536)[: 1 << 20]
    with open(path, "wb") as handle:
        handle.write(prefix)
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])


def import_in_subprocess(
    path: str, tmp_path, log_name: str, kill_above: int | None = None, **extra_env: str
) -> tuple[int, int, float, str]:
    env = dict(
        os.environ,
        DATABASE=str(tmp_path / "giant.sqlite3"),
        MONGODB_URI="",
        INSTANCE_PATH=str(tmp_path / "instance"),
        TF_CPP_MIN_LOG_LEVEL="3",
        **extra_env,
    )
    log_path = tmp_path / log_name
    with open(log_path, "wb") as log:
        status, rss, seconds = peak_rss_of(
            [sys.executable, "-m", "flask", "--app", "app", "etl", "import", path],
            env,
            ROOT,
            log,
            kill_above,
        )
    return status, rss, seconds, log_path.read_text(errors="replace")


GIANT_BYTES = int(os.environ.get("HOSTILE_GIANT_BYTES", str(200 * 1024**2)))
RSS_BUDGET = 300 * 1024**2  # beyond the baseline of an import that fails at once


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory):
    """Peak RSS of the same command refusing a missing file: the cost of starting the app."""
    tmp_path = tmp_path_factory.mktemp("baseline")
    status, rss, _, output = import_in_subprocess(str(tmp_path / "missing.csv"), tmp_path, "log")
    assert status != 0 and "no such file" in output, output
    return rss


@pytest.mark.parametrize(
    "layout, message",
    [
        ("one line", "first line is over"),
        ("header then one line", "line 2 is over"),
        ("default size limit", "import limit (IMPORT_MAX_BYTES)"),
    ],
)
def test_an_enormous_line_fails_in_bounded_memory(tmp_path, baseline_rss, layout, message):
    path = str(tmp_path / "giant.csv")
    write_giant_line(path, GIANT_BYTES, prefix=HEADER.encode() if layout != "one line" else b"")
    # The default size limit refuses such a file unread; raised (as an operator may), the line
    # checks must still refuse it without reading the line into memory.
    limit = {} if layout == "default size limit" else {"IMPORT_MAX_BYTES": str(4 * GIANT_BYTES)}
    try:
        status, rss, seconds, output = import_in_subprocess(
            path, tmp_path, "log", kill_above=baseline_rss + 2 * RSS_BUDGET, **limit
        )
    finally:
        os.unlink(path)
    assert status != 0 and "Traceback" not in output, output
    assert message in output, output
    assert rss - baseline_rss < RSS_BUDGET, (
        f"peak RSS {rss >> 20} MB, baseline {baseline_rss >> 20} MB"
    )


# -- URL import: schemes, size and time limits --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:/etc/passwd",
        "FILE:///etc/passwd",
        "ftp://127.0.0.1/x.csv",
        "gopher://127.0.0.1:70/_x",
        "data:text/csv,track_id%2Cenergy%0A1%2C2",
        "javascript:alert(1)",
        "http://",
        "http:///etc/passwd",
        "dict://127.0.0.1:11211/stat",
    ],
)
def test_only_http_urls_are_fetched(empty_app, url):
    output = run_cli(empty_app, url)
    assert "only http(s) URLs" in output, output


class HostileServer:
    """A local HTTP server whose every answer is chosen by the test: stall, trickle, flood,
    redirect."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                try:
                    outer.behaviour(self, outer.stop)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def stall_after_headers(handler, stop):
    handler.send_response(200)
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    handler.wfile.flush()
    stop.wait(30)


def stall_before_headers(handler, stop):
    stop.wait(30)


def trickle(handler, stop):
    # One byte every 0.2 s: never idle long enough for a per-read timeout to fire.
    handler.send_response(200)
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    while not stop.wait(0.2):
        handler.wfile.write(b"a")
        handler.wfile.flush()


def trickle_headers(handler, stop):
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.2):
        handler.wfile.write(b"X-Slow: 1\r\n")
        handler.wfile.flush()


def flood_without_length(handler, stop):
    handler.send_response(200)
    handler.end_headers()
    block = b"x" * 65536
    while not stop.is_set():
        handler.wfile.write(block)


def announce_too_much(handler, stop):
    handler.send_response(200)
    handler.send_header("Content-Length", str(10 * 1024**3))
    handler.end_headers()


def redirect_to_file(handler, stop):
    handler.send_response(302)
    handler.send_header("Location", "file:///etc/passwd")
    handler.end_headers()


def not_found(handler, stop):
    handler.send_response(404)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@pytest.fixture
def limited_app(empty_app):
    """The empty app with small download limits: 2 s in all, 1 MB."""
    empty_app.config.update(DOWNLOAD_MAX_SECONDS="2", DOWNLOAD_MAX_BYTES=str(1024**2))
    return empty_app


@pytest.mark.parametrize(
    "behaviour, message",
    [
        (stall_after_headers, "not complete after 2 s"),
        (stall_before_headers, "not complete after 2 s"),
        (trickle, "not complete after 2 s"),
        (trickle_headers, "not complete after 2 s"),
        (flood_without_length, "sent over 1048576 bytes"),
        (announce_too_much, "over the 1048576-byte limit"),
        (redirect_to_file, "cannot download"),
        (not_found, "answered HTTP 404"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_url_imports_are_bounded_in_size_and_time(limited_app, behaviour, message):
    with HostileServer(behaviour) as server:
        started = time.monotonic()
        output = run_cli(limited_app, f"{server.url}/tracks.csv")
        elapsed = time.monotonic() - started
    assert message in output, output
    assert elapsed < 6, f"took {elapsed:.1f} s with a 2 s limit"
    downloads = os.path.join(limited_app.instance_path, "downloads")
    assert not os.path.isdir(downloads) or os.listdir(downloads) == [], "a partial file was kept"


def test_download_file_names_cannot_leave_the_folder(tmp_path):
    from etl.download import download

    def serve_csv(handler, stop):
        body = (HEADER + ROW).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    folder = tmp_path / "downloads"
    with HostileServer(serve_csv) as server:
        for path in (
            "/..%2F..%2Fescaped.csv",
            "/a/..%5C..%5Cescaped.csv",
            "/%2e%2e",
            "/.hidden.csv",
            "/%00x.csv",
        ):
            saved = download(server.url + path, str(folder), max_bytes=1024**2, max_seconds=10)
            assert os.path.dirname(saved) == str(folder), saved
            assert not os.path.basename(saved).startswith(".")
    assert not (tmp_path / "escaped.csv").exists()


def test_download_time_limit_is_configurable_from_the_environment(tmp_path, monkeypatch):
    from etl.download import DownloadFailed, download
    from web.settings import SettingError, from_environment, value

    monkeypatch.setenv("DOWNLOAD_MAX_SECONDS", "1")
    limit = value(from_environment(), "DOWNLOAD_MAX_SECONDS")
    with HostileServer(trickle) as server:
        started = time.monotonic()
        with pytest.raises(DownloadFailed, match="not complete after 1 s"):
            download(server.url + "/slow.csv", str(tmp_path), max_bytes=1024**2, max_seconds=limit)
        assert time.monotonic() - started < 3
    monkeypatch.setenv("DOWNLOAD_MAX_SECONDS", "ten")
    with pytest.raises(SettingError, match="DOWNLOAD_MAX_SECONDS='ten' is not a number"):
        value(from_environment(), "DOWNLOAD_MAX_SECONDS")
