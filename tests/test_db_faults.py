"""Database failures: the app starts, /healthz names it, the API answers 503, ETL writes nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from store import open_store
from store.base import FAILURE_MESSAGES, StoreUnavailable
from tests.support import DATASET_CSV, PLAYLIST_CSV, PLOTIFY_PLAYLIST_ID, ROOT, make_app

BEE_GEES = "2cX2coZS1PYBfPs8wgbdWE"  # first track of the Plotify playlist
NOWHERE = "mongodb://127.0.0.1:1/plotify?serverSelectionTimeoutMS=300"
# Every route that reads the store; each must answer 503 JSON when it cannot.
STORE_ROUTES = (
    "/api/playlists",
    "/api/datasets",
    "/api/tracks",
    f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}",
    f"/api/tracks/{BEE_GEES}",
    f"/api/tracks/{BEE_GEES}/recommendations",
)


# -- helpers -------------------------------------------------------------------------------------
def file_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def assert_store_error(response, leaks=()):
    assert response.status_code == 503, response.data[:300]
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["message"]
    assert b"Traceback" not in response.data
    for secret in leaks:
        assert secret not in response.get_data(as_text=True)


def assert_healthz(client, reason: str, leaks=()):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["store"]["status"] == "unavailable" and body["store"]["reason"] == reason
    assert body["store"]["message"]
    for secret in leaks:
        assert secret not in response.get_data(as_text=True)
    return body


def assert_refused(result, words: str):
    """A CLI run that stopped with one line naming the problem, exit code 1, no traceback."""
    output = result.output if hasattr(result, "output") else result.stdout + result.stderr
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code == 1, output
    assert "Traceback" not in output
    assert "Nothing was written" in output and words in output.lower(), output


@pytest.fixture(scope="module")
def playlist_db(tmp_path_factory) -> str:
    """A small embedded store: the real Plotify playlist (158 tracks) and its people."""
    from etl.demo import plotify_people
    from etl.files import import_file

    path = str(tmp_path_factory.mktemp("faults") / "playlist.sqlite3")
    target = open_store(path)
    import_file(
        target,
        PLAYLIST_CSV,
        playlist_id=PLOTIFY_PLAYLIST_ID,
        playlist_name="Data Analysis Jamz",
        people=plotify_people(),
    )
    target._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target.close()
    return path


@pytest.fixture
def db_copy(playlist_db, tmp_path) -> str:
    path = str(tmp_path / "plotify.sqlite3")
    shutil.copyfile(playlist_db, path)
    return path


def flask_env(database: str, instance: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "DATABASE")}
    env.update(
        DATABASE=database,
        INSTANCE_PATH=instance,
        SECRET_KEY="test",
        HOME=instance,
        MODELS_DIR=instance,
        TF_CPP_MIN_LOG_LEVEL="3",
        **extra,
    )
    return env


# Asks the app (built from the environment, as `flask` and gunicorn do) for some paths.
PROBE = """
import json, sys
from app import create_app
client = create_app({"TESTING": True}).test_client()
answers = {}
for path in sys.argv[1:]:
    response = client.get(path)
    answers[path] = [response.status_code, response.get_json(silent=True)]
print(json.dumps(answers))
"""


def probe(env: dict, paths, preexec=None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *paths],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        preexec_fn=preexec,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def flask_cli(env: dict, *args, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        preexec_fn=preexec,
    )


def without_root_privileges():
    """For a child of a root test run: file permissions apply to it as to anyone else.

    Root ignores file modes through three capabilities; dropping them from the child's bounding
    set before exec takes them away from it (and only from it). Not root: nothing to drop.
    """
    if os.geteuid() != 0:
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    cap_dac_override, cap_dac_read_search, cap_fowner = 1, 2, 3

    def drop():
        for cap in (cap_dac_override, cap_dac_read_search, cap_fowner):
            if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


@pytest.fixture
def restore_modes():
    """Folders made read-only by a test are made writable again so that pytest can clean up."""
    folders = []
    yield folders.append
    for folder in folders:
        os.chmod(folder, 0o755)


# -- corrupt, foreign, missing -------------------------------------------------------------------
@pytest.mark.parametrize(
    "content, reason",
    [
        (b"this is not a database\n" * 200, "corrupt"),
        (None, "schema"),  # a real SQLite file, set up by some other program
    ],
)
def test_foreign_or_damaged_file_is_named_and_left_alone(tmp_path, content, reason):
    path = str(tmp_path / "plotify.sqlite3")
    if content is None:
        with contextlib.closing(sqlite3.connect(path)) as other:
            other.execute("CREATE TABLE tracks (id TEXT PRIMARY KEY, title TEXT)")
            other.commit()
    else:
        with open(path, "wb") as handle:
            handle.write(content)
    before = file_digest(path)
    app = make_app(path, MODELS_DIR=str(tmp_path))
    client = app.test_client()
    body = assert_healthz(client, reason, leaks=(str(tmp_path),))
    assert body["store"]["message"] == FAILURE_MESSAGES[reason]
    for route in STORE_ROUTES:
        assert_store_error(client.get(route), leaks=(str(tmp_path),))
    assert client.get("/").status_code == 200
    result = app.test_cli_runner().invoke(args=["etl", "import", PLAYLIST_CSV])
    assert_refused(result, "damaged" if reason == "corrupt" else "tables do not match")
    assert app.test_cli_runner().invoke(args=["etl", "status"]).exit_code == 1
    assert file_digest(path) == before


def test_truncated_database_answers_503_corrupt(playlist_db, tmp_path):
    path = str(tmp_path / "plotify.sqlite3")
    with open(playlist_db, "rb") as source, open(path, "wb") as target:
        target.write(source.read(os.path.getsize(playlist_db) // 3))
    client = make_app(path, MODELS_DIR=str(tmp_path)).test_client()
    answers = [client.get(route) for route in STORE_ROUTES]
    assert any(a.status_code == 503 for a in answers)
    for answer in answers:
        assert answer.status_code in (200, 404, 503)
        if answer.status_code == 503:
            assert_store_error(answer)
    with pytest.raises(StoreUnavailable) as failure:
        open_store(path).read_tracks_frame()
    assert failure.value.reason == "corrupt"


def test_database_folder_blocked_by_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the database folder should be")
    app = make_app(str(blocker / "db.sqlite3"), MODELS_DIR=str(tmp_path))
    assert_healthz(app.test_client(), "unreachable", leaks=(str(tmp_path),))
    assert_refused(app.test_cli_runner().invoke(args=["etl", "demo"]), "cannot be opened")


# -- locked ----------------------------------------------------------------------------------------
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive":
    # What a maintenance tool or `sqlite3` shell in exclusive mode does: nobody else may read.
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
else:
    conn.execute("BEGIN IMMEDIATE")  # another writer in the middle of a long transaction
conn.execute("UPDATE meta SET data_version = data_version")
print("holding", flush=True)
time.sleep(60)
"""


@contextlib.contextmanager
def lock_held(path: str, kind: str):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, path, kind], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.kill()
        holder.wait()


def data_version(path: str) -> int:
    target = open_store(path)
    try:
        return target.data_version()
    finally:
        target.close()  # an open connection would keep the exclusive lock from being taken


def test_exclusively_locked_database(db_copy, tmp_path):
    app = make_app(db_copy, MODELS_DIR=str(tmp_path), DATABASE_TIMEOUT=0.3)
    client = app.test_client()
    version = data_version(db_copy)
    with lock_held(db_copy, "exclusive"):
        started = time.monotonic()
        assert_healthz(client, "locked", leaks=(str(tmp_path),))
        assert time.monotonic() - started < 5
        for route in STORE_ROUTES:
            assert_store_error(client.get(route))
        assert client.get("/").status_code == 200
        assert_refused(app.test_cli_runner().invoke(args=["etl", "import", PLAYLIST_CSV]), "locked")
    # Once the lock is gone the same app recovers by itself.
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/playlists").status_code == 200
    assert data_version(db_copy) == version


def test_busy_writer_keeps_reads_but_stops_the_etl(db_copy, tmp_path):
    app = make_app(db_copy, MODELS_DIR=str(tmp_path), DATABASE_TIMEOUT=0.3)
    client = app.test_client()
    with lock_held(db_copy, "writer"):
        # WAL: readers never wait for a writer, so the page keeps working.
        assert client.get("/healthz").get_json()["store"]["status"] == "ok"
        assert client.get(f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}").status_code == 200
        assert_refused(app.test_cli_runner().invoke(args=["etl", "import", PLAYLIST_CSV]), "locked")


# -- read-only -------------------------------------------------------------------------------------
def test_read_only_file_serves_reads_and_refuses_writes(playlist_db, tmp_path):
    database = str(tmp_path / "plotify.sqlite3")
    shutil.copyfile(playlist_db, database)
    os.chmod(database, 0o444)  # the folder stays writable: SQLite may add its -shm file
    before = file_digest(database)
    env = flask_env(database, str(tmp_path))

    answers = probe(
        env,
        ["/healthz", "/api/playlists", f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}"],
        preexec=without_root_privileges(),
    )
    status, health = answers["/healthz"]
    assert status == 200 and health["status"] == "degraded"
    assert (
        health["store"]["status"] == "writes_refused" and health["store"]["reason"] == "read_only"
    )
    assert str(tmp_path) not in json.dumps(health)
    assert answers["/api/playlists"][0] == 200
    assert answers[f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}"][0] == 200

    for command in (["etl", "import", PLAYLIST_CSV], ["etl", "demo", "--force"]):
        assert_refused(flask_cli(env, *command, preexec=without_root_privileges()), "read-only")
    status_run = flask_cli(env, "etl", "status", preexec=without_root_privileges())
    assert status_run.returncode == 0 and "read-only" in status_run.stdout
    assert file_digest(database) == before


def test_read_only_folder_answers_503(playlist_db, tmp_path, restore_modes):
    folder = tmp_path / "data"
    folder.mkdir()
    database = str(folder / "plotify.sqlite3")
    shutil.copyfile(playlist_db, database)
    os.chmod(database, 0o444)
    os.chmod(folder, 0o555)  # not even SQLite's shared-memory file can be created
    restore_modes(folder)
    env = flask_env(database, str(tmp_path))
    answers = probe(env, ["/healthz", "/", *STORE_ROUTES], preexec=without_root_privileges())
    status, health = answers["/healthz"]
    assert status == 503 and health["store"]["reason"] == "read_only"
    assert "read-only" in health["store"]["message"]
    assert answers["/"][0] == 200
    for route in STORE_ROUTES:
        status, body = answers[route]
        assert status == 503 and set(body) == {"error", "message"}
    assert_refused(
        flask_cli(env, "etl", "import", PLAYLIST_CSV, preexec=without_root_privileges()),
        "read-only",
    )


# -- disk full -------------------------------------------------------------------------------------
def file_size_limit(limit: int):
    """A child whose files may not grow beyond limit bytes, as on a full disk (no root, no mount).

    SIGXFSZ is ignored so that the write fails with EFBIG instead of killing the process.
    """

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_refuses_the_import_before_writing(db_copy, tmp_path):
    before = file_digest(db_copy)
    env = flask_env(db_copy, str(tmp_path))
    limit = file_size_limit(os.path.getsize(db_copy) + 512 * 1024)
    for command in (["etl", "import", DATASET_CSV], ["etl", "import", PLAYLIST_CSV]):
        assert_refused(flask_cli(env, *command, preexec=limit), "full")
    status, health = probe(env, ["/healthz"], preexec=limit)["/healthz"]
    assert status == 200 and health["store"]["reason"] == "disk_full"
    assert file_digest(db_copy) == before


# Writes straight through the store, past the up-front check, until the file-size limit stops it.
FILL = """
import json, sys
from store import open_store
from store.base import StoreUnavailable
target = open_store(sys.argv[1])
batch = 0
try:
    while True:
        target.upsert_tracks({"id": f"fill{batch:05d}{n:06d}", "name": "x" * 400,
                              "energy": 0.5} for n in range(1000))
        batch += 1
except StoreUnavailable as exc:
    print(json.dumps({"reason": exc.reason, "message": exc.message, "batches": batch}))
"""


def test_disk_filling_up_midway_keeps_whole_batches(db_copy):
    limit = os.path.getsize(db_copy) + 3 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", FILL, db_copy],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        preexec_fn=file_size_limit(limit),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert outcome["reason"] == "disk_full" and outcome["batches"] >= 1
    target = open_store(db_copy)
    assert target._query("PRAGMA integrity_check") == [("ok",)]
    filled = target._query("SELECT COUNT(*) FROM tracks WHERE id LIKE 'fill%'")[0][0]
    assert filled == 1000 * outcome["batches"]  # the failed batch left nothing behind


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    trial = subprocess.run(
        [
            "unshare",
            "--mount",
            "--map-root-user",
            "sh",
            "-c",
            "mount -t tmpfs -o size=1m tmpfs /mnt",
        ],
        capture_output=True,
    )
    return trial.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no private tmpfs mounts here (unshare)")
def test_really_full_tmpfs(playlist_db, tmp_path):
    """The same on a 2 MB tmpfs that really runs out of space (where the machine allows it)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {mount_point} && cp {playlist_db} {mount_point}/p.sqlite3"
        f" && {sys.executable} -m flask --app app etl import {DATASET_CSV};"
        f" echo exit=$?; {sys.executable} -c '{FILL}' {mount_point}/p.sqlite3"
    )
    env = flask_env(f"{mount_point}/p.sqlite3", str(tmp_path))
    done = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert "Nothing was written" in done.stderr and "full" in done.stderr, done.stderr[-2000:]
    assert "exit=1" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1])["reason"] == "disk_full"


# -- MongoDB -------------------------------------------------------------------------------
def test_mongodb_pointing_nowhere(tmp_path):
    app = make_app(str(tmp_path / "unused.sqlite3"), MONGODB_URI=NOWHERE, MODELS_DIR=str(tmp_path))
    client = app.test_client()
    started = time.monotonic()
    body = assert_healthz(client, "unreachable", leaks=("127.0.0.1",))
    assert body["store"]["backend"] == "mongodb"
    # The URI's own serverSelectionTimeoutMS is honoured (the default would be 5 s).
    assert time.monotonic() - started < 3
    for route in STORE_ROUTES:
        assert_store_error(client.get(route), leaks=("127.0.0.1",))
    assert client.get("/").status_code == 200
    runner = app.test_cli_runner()
    for command in (["etl", "import", PLAYLIST_CSV], ["etl", "demo"]):
        assert_refused(runner.invoke(args=command), "cannot be reached")
    assert runner.invoke(args=["etl", "status"]).exit_code == 1


def test_invalid_mongodb_uri(tmp_path):
    app = make_app(
        str(tmp_path / "unused.sqlite3"), MONGODB_URI="mongodb://:@/", MODELS_DIR=str(tmp_path)
    )
    assert_healthz(app.test_client(), "misconfigured")
    assert_refused(
        app.test_cli_runner().invoke(args=["etl", "import", PLAYLIST_CSV]), "not a valid"
    )


def test_mongodb_user_without_write_role_reads_but_cannot_load():
    """Index creation refused (Unauthorized, code 13): reads carry on, writes are refused up
    front."""
    from pymongo.errors import OperationFailure

    from store.mongo import MongoStore

    class ReadOnlyCollection:
        def create_index(self, *args, **kwargs):
            raise OperationFailure("not authorized on plotify to execute command", code=13)

        def find_one(self, *args, **kwargs):
            return {"_id": "data_version", "value": 7}

    class ReadOnlyDatabase:
        def __getattr__(self, name):
            return ReadOnlyCollection()

        def command(self, name):
            return {"ok": 1}

    class ReadOnlyClient:
        def __init__(self, uri, **options):
            self.options = options

        def get_default_database(self, default):
            return ReadOnlyDatabase()

    target = MongoStore("mongodb://reader@db.example/plotify", client_factory=ReadOnlyClient)
    assert target.data_version() == 7
    target.ping()
    assert target.write_problem().reason == "denied"
    with pytest.raises(StoreUnavailable) as failure:
        target.check_writable()
    assert failure.value.reason == "denied" and "example" not in failure.value.message


# -- the app starts whatever the database does ---------------------------------------------
@pytest.mark.parametrize(
    "database, uri, instance",
    [
        ("/proc/plotify/plotify.sqlite3", None, "/proc/plotify-instance"),  # nothing can be created
        ("unused.sqlite3", NOWHERE, None),
    ],
)
def test_the_app_starts_and_serves_the_page(tmp_path, database, uri, instance):
    app = make_app(
        database if database.startswith("/") else str(tmp_path / database),
        MONGODB_URI=uri,
        INSTANCE_PATH=instance or str(tmp_path / "instance"),
        MODELS_DIR=str(tmp_path),
    )
    page = app.test_client().get("/")
    assert page.status_code == 200 and b"plotify" in page.data.lower()


def test_every_reason_has_a_public_message_without_paths():
    for reason, message in FAILURE_MESSAGES.items():
        failure = StoreUnavailable(reason, "/secret/path/plotify.sqlite3: boom")
        assert failure.message == message and "/secret" not in failure.message
        assert "/secret" in str(failure)  # the detail stays available to logs and the CLI
    with pytest.raises(ValueError):
        StoreUnavailable("something else")


# -- corrupt or mismatched model bundles ---------------------------------------------------
@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory) -> str:
    """A real bundle trained quickly on eight genres of the 114k dataset."""
    from ml.data import load_labelled_tracks
    from ml.train import TrainConfig, train_bundle

    frame = load_labelled_tracks(DATASET_CSV)
    genres = [
        "black-metal",
        "classical",
        "country",
        "deep-house",
        "hip-hop",
        "j-pop",
        "salsa",
        "sleep",
    ]
    frame = frame[frame["label"].isin(genres)].reset_index(drop=True)
    directory = str(tmp_path_factory.mktemp("bundle"))
    train_bundle(
        frame,
        directory,
        config=TrainConfig(hidden=(32,), max_epochs=2, patience=1, batch_size=512),
        echo=lambda line: None,
    )
    return directory


def _edit_meta(directory, change):
    path = os.path.join(directory, "meta.json")
    with open(path, encoding="utf-8") as handle:
        meta = json.load(handle)
    change(meta)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)


def _truncate(name):
    def damage(directory):
        path = os.path.join(directory, name)
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)

    return damage


def _swap_features(meta):
    meta["features"][0], meta["features"][1] = meta["features"][1], meta["features"][0]


def _drop_label(meta):
    dropped = meta["labels"].pop()
    meta["families"].pop(dropped)


def _replace_and_rehash(name, content_of):
    """Replace a file and record its new hash, as a careless copy from another training would."""
    from ml.bundle import file_sha256

    def damage(directory):
        path = os.path.join(directory, name)
        content_of(path)
        _edit_meta(
            directory, lambda meta: meta["files_sha256"].__setitem__(name, file_sha256(path))
        )

    return damage


def _junk(path):
    with open(path, "wb") as handle:
        handle.write(b"\x80\x04 not a pickle at all")


def _reordered_scaler(path):
    import joblib

    encoder = joblib.load(path)
    encoder.features = tuple(reversed(encoder.features))
    joblib.dump(encoder, path)


def _keras_config(change):
    """Rewrite config.json inside model.keras (weights untouched), as a foreign model would be."""
    import zipfile

    def rewrite(path):
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        config = json.loads(members["config.json"])
        change(config["config"]["layers"])
        members["config.json"] = json.dumps(config).encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    return rewrite


def _first_dense(layers):
    return next(layer for layer in layers if layer["class_name"] == "Dense")["config"]


BUNDLE_DAMAGE = {
    "truncated model.keras": (_truncate("model.keras"), "model.keras does not match"),
    "truncated scaler.joblib": (_truncate("scaler.joblib"), "scaler.joblib does not match"),
    "truncated label_encoder.joblib": (
        _truncate("label_encoder.joblib"),
        "label_encoder.joblib does not match",
    ),
    "missing model.keras": (
        lambda d: os.remove(os.path.join(d, "model.keras")),
        "model.keras is missing",
    ),
    "truncated meta.json": (_truncate("meta.json"), "meta.json cannot be read"),
    "meta.json with other feature order": (
        lambda d: _edit_meta(d, _swap_features),
        "feature order",
    ),
    "meta.json with another label": (
        lambda d: _edit_meta(d, lambda m: m["labels"].__setitem__(0, "polka")),
        "label set",
    ),
    "meta.json with one label fewer": (lambda d: _edit_meta(d, _drop_label), "label set"),
    "meta.json with an unknown feature": (
        lambda d: _edit_meta(d, lambda m: m["features"].__setitem__(0, "mood")),
        "features this version does not know",
    ),
    "meta.json without its label list": (
        lambda d: _edit_meta(d, lambda m: m.pop("labels")),
        "lacks or garbles labels",
    ),
    "scaler.joblib replaced by junk, hash updated": (
        _replace_and_rehash("scaler.joblib", _junk),
        "scaler.joblib cannot be loaded",
    ),
    "scaler.joblib of other feature order, hash updated": (
        _replace_and_rehash("scaler.joblib", _reordered_scaler),
        "feature order",
    ),
    "meta.json without the Keras parity record": (
        lambda d: _edit_meta(d, lambda m: m.pop("numpy_parity")),
        "lacks or garbles numpy_parity",
    ),
    "model.keras with an activation numpy lacks, hash updated": (
        _replace_and_rehash(
            "model.keras",
            _keras_config(lambda layers: _first_dense(layers).__setitem__("activation", "mish")),
        ),
        "unsupported activation 'mish'",
    ),
    "model.keras with another layer kind, hash updated": (
        _replace_and_rehash(
            "model.keras",
            _keras_config(
                lambda layers: layers.insert(2, {"class_name": "BatchNormalization", "config": {}})
            ),
        ),
        "unsupported layer BatchNormalization",
    ),
    "model.keras whose config disagrees with its weights, hash updated": (
        _replace_and_rehash(
            "model.keras",
            _keras_config(lambda layers: _first_dense(layers).__setitem__("units", 33)),
        ),
        "the config says",
    ),
}


@pytest.mark.parametrize("case", list(BUNDLE_DAMAGE))
def test_damaged_bundle_is_refused_and_only_predict_answers_503(
    case, small_bundle, playlist_db, tmp_path
):
    from ml.predictor import GenrePredictor, ModelUnavailable

    damage, words = BUNDLE_DAMAGE[case]
    bundle = str(tmp_path / "models")
    shutil.copytree(small_bundle, bundle)
    damage(bundle)
    with pytest.raises(ModelUnavailable) as refusal:
        GenrePredictor.load(bundle)
    assert words in str(refusal.value) and bundle not in str(refusal.value)

    client = make_app(playlist_db, MODELS_DIR=bundle).test_client()
    response = client.get(f"/api/predict?track_id={BEE_GEES}")
    assert_store_error(response, leaks=(str(tmp_path),))
    assert response.get_json()["error"] == "model_unavailable"
    assert words in response.get_json()["message"]
    assert "flask --app app ml train" in response.get_json()["message"]
    # Everything that does not need the model carries on.
    assert client.get(f"/api/tracks?playlist={PLOTIFY_PLAYLIST_ID}").status_code == 200
    assert client.get(f"/api/tracks/{BEE_GEES}/recommendations").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["store"]["status"] == "ok"
    assert health.get_json()["model"]["status"] == "unavailable"
    assert words in health.get_json()["model"]["message"]
    assert str(tmp_path) not in health.get_data(as_text=True)


def test_intact_small_bundle_predicts(small_bundle, playlist_db):
    """The damage cases above fail because of the damage: the same bundle intact is served."""
    client = make_app(playlist_db, MODELS_DIR=small_bundle).test_client()
    response = client.get(f"/api/predict?track_id={BEE_GEES}")
    assert response.status_code == 200, response.data[:300]
    assert client.get("/healthz").get_json()["model"]["status"] == "ok"
