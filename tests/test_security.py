"""No secret in the repo or its history, ignored credential files, logs free of credentials."""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess

import pytest

from etl.runs import load_playlist
from tests.standin.fixtures import live_store, make_etl, standin  # noqa: F401
from tests.standin.server import CLIENT_ID, CLIENT_SECRET
from tests.support import PLOTIFY_PLAYLIST_ID, ROOT
from web.security import install_log_redaction, redact

# What leaked credentials look like. Each is specific enough that a hit is worth a person's look.
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"<>]+:([^\s@'\"/<>]+)@"),
    "bearer token": re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]{20,}=*)"),
    # A credential-named setting given a literal value (a Spotify client secret is 32 hex digits).
    "credential assignment": re.compile(
        r"(?i)\b\w*(?:secret|token|password|passwd|api_?key)\w*[\"']?\s*[:=]\s*[\"']([^\s\"'$<>{}()]{12,})[\"']"
    ),
    "hex secret": re.compile(r"(?i)\b\w*(?:secret|token|key)\w*\s*=\s*([0-9a-f]{32,})\b"),
}
# Values that are deliberately fake: the stand-in's own credentials and documented placeholders.
FAKE_VALUE = re.compile(
    r"(?i)standin|example|change-me|placeholder|your[-_]|dummy|redacted|"
    r"not-a-real|not-the|test|xxxx|\*\*\*|^password$"
)
# A generated credential mixes letters and digits; setting names, URLs and file names are not one.
CREDENTIAL_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[^/]+$")


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of every likely credential in text, fake values excepted."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if kind == "credential assignment" and not CREDENTIAL_LIKE.match(value):
                continue
            if not FAKE_VALUE.search(value):
                found.append((kind, match.group(0)[:80]))
    return found


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, errors="replace", check=True
    ).stdout


@pytest.fixture(scope="module")
def repository():
    if not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.skip("not a git checkout: nothing to scan")
    return ROOT


def test_scanner_finds_planted_secrets():
    # Built at run time, so that the repository itself never holds them.
    planted = [
        "AKIA" + "Q7" * 8,
        "gh" + "p_" + "a1" * 18,
        "mongodb://plotify:" + "s3cr" + "3tPass@db:27017",
        "SPOTIFY_CLIENT_SECRET = '" + "9f" * 16 + "'",
        "Authorization: Bearer " + "tok3n" * 6,
        "-----BEGIN " + "RSA PRIVATE KEY-----",
    ]
    assert [len(find_secrets(text)) >= 1 for text in planted] == [True] * len(planted)
    assert (
        find_secrets("SPOTIFY_CLIENT_SECRET=\nMONGODB_URI=mongodb://localhost:27017/plotify") == []
    )


def test_no_secret_in_tracked_files(repository):
    hits = []
    for path in git("ls-files", "-z").split("\0"):
        if not path or not os.path.isfile(os.path.join(repository, path)):
            continue
        with open(os.path.join(repository, path), "rb") as handle:
            data = handle.read()
        if b"\0" in data[:8192]:
            continue  # binary: images
        hits += [(path, kind, text) for kind, text in find_secrets(data.decode("utf-8", "replace"))]
    assert hits == []


def test_no_secret_in_history(repository):
    # Every version of every file ever committed, and every commit message.
    history = git("log", "--all", "-p", "--no-color", "--no-ext-diff")
    assert history, "git log printed nothing"
    assert find_secrets(history) == []


def test_credential_files_are_ignored_and_untracked(repository):
    candidates = [
        ".env",
        "instance/plotify.sqlite3",
        "instance/spotify-user-token.json",
        "instance/spotify-app-token.json",
        ".cache",
        ".cache-someone",
        "Pipfile.lock",
    ]
    ignored = git("check-ignore", "--no-index", *candidates).split()
    assert sorted(ignored) == sorted(candidates)
    tracked = set(git("ls-files").split())
    assert ".env.example" in tracked
    assert not tracked & {".env", "Pipfile.lock"}
    assert not [path for path in tracked if path.startswith("instance/")]


@pytest.mark.parametrize(
    "line, secret",
    [
        ("Headers: {'Authorization': 'Bearer " + "b7" * 16 + "'}", "b7" * 16),
        (
            "Headers: {'Authorization': 'Basic "
            + base64.b64encode(b"id:" + b"s" * 32).decode()
            + "'}",
            base64.b64encode(b"id:" + b"s" * 32).decode(),
        ),
        (
            "Body: {'grant_type': 'refresh_token', 'refresh_token': 'AQD" + "r" * 40 + "'}",
            "AQD" + "r" * 40,
        ),
        ('{"access_token": "BQC' + "a" * 40 + '", "expires_in": 3600}', "BQC" + "a" * 40),
        ("GET /callback?code=AQB" + "c" * 30 + "&state=xyz", "AQB" + "c" * 30),
        ("connecting to mongodb://plotify:" + "pw" * 6 + "@127.0.0.1:27017/plotify", "pw" * 6),
        ("client_secret=" + "e" * 32, "e" * 32),
    ],
)
def test_redact_removes_credentials(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_redact_keeps_ordinary_lines():
    for line in (
        "status code: 404",
        "Basic authentication failed",
        "fetched 158 tracks in 2.3 s",
        "GET /api/predict?artist=Gen%20Hoshino&track=Comedy",
    ):
        assert redact(line) == line


def test_debug_logs_of_a_live_run_hold_no_credentials(standin, live_store, tmp_path, caplog):
    """spotipy logs every request's headers at DEBUG: with the redaction on, no token gets
    through."""
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    load_playlist(make_etl(standin, live_store, tmp_path), PLOTIFY_PLAYLIST_ID)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    # The run did log its requests with their headers, so the check below has something to bite on.
    assert re.search(r"Sending GET to \S+/v1/playlists/", logged)
    assert "Bearer [redacted]" in logged and "Basic [redacted]" in logged
    assert standin.tokens, "the stand-in issued no token"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for secret in (*standin.tokens, CLIENT_SECRET, basic):
        assert secret not in logged
    # Persisted caches too: the app token sits in the instance folder, owner-only.
    caches = [name for name in os.listdir(tmp_path) if name.endswith("token.json")]
    assert caches and all(os.stat(tmp_path / name).st_mode & 0o777 == 0o600 for name in caches)
