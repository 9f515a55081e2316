"""Bounded downloads of data files over http(s) into instance/, with a progress bar.

Every download is limited three ways, each refusal a DownloadFailed with a clear message:

- scheme: http and https only (file:, ftp:, gopher:, data: … are refused, also after redirects);
- size: DOWNLOAD_MAX_BYTES (default 2 GiB), checked against Content-Length and while receiving;
- time: DOWNLOAD_MAX_SECONDS (default 600) for the whole download, from connecting to the last
  byte, so a server that stalls or trickles a byte at a time is abandoned on schedule (the
  per-read timeout alone would wait forever for a byte every few seconds).

The app passes both limits from its settings (web/settings.py holds their defaults).
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable
from urllib.parse import unquote, urlparse

import requests
import urllib3

TIMEOUT = (10, 60)  # connect, read (seconds between bytes); the total is max_seconds
CHUNK = 1 << 16
# Chunks in flight between the network thread and the writer: bounds memory to about 1 MB.
QUEUE_CHUNKS = 16
SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


class DownloadFailed(Exception):
    """The URL could not be fetched; nothing was kept (reason in the message)."""


def is_url(text: str) -> bool:
    """True for anything that names a scheme (http:, file:, data: …) and is not an existing path.

    Such text goes to download(), which accepts only http(s), so that other schemes are refused
    with a clear message rather than looked up as a missing local file.
    """
    return bool(SCHEME_RE.match(text)) and not os.path.exists(text)


def file_name_for(url: str) -> str:
    """A safe local file name from the URL's last path segment (never a path, never hidden)."""
    segment = unquote(urlparse(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    name = SAFE_NAME_RE.sub("_", segment).lstrip(".")[:120]
    return name or "download.csv"


def download(
    url: str,
    directory: str,
    *,
    max_bytes: int,
    max_seconds: float,
    expected_sha256: str | None = None,
    on_size: Callable[[int | None], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Fetch url into directory and return the file's path.

    Only http and https, at most max_bytes, within max_seconds overall. The file appears under
    its final name only when complete (and, when expected_sha256 is given, verified), so an
    interrupted or refused download never looks like data.
    """
    parsed = urlparse(url)
    if parsed.scheme.lower() not in {"http", "https"} or not parsed.hostname:
        raise DownloadFailed(f"only http(s) URLs can be imported, not {url[:200]!r}")
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, file_name_for(url))
    fetch = _Fetch(url, max_seconds)
    fetch.start()
    digest = hashlib.sha256()
    part = tempfile.NamedTemporaryFile(dir=directory, prefix=".part-", delete=False)
    try:
        with part:
            status, size = fetch.next_item()
            if status != 200:
                raise DownloadFailed(f"{url} answered HTTP {status}")
            if size is not None and size > max_bytes:
                raise DownloadFailed(f"{url} is {size} bytes, over the {max_bytes}-byte limit")
            if on_size:
                on_size(size)
            received = 0
            while (chunk := fetch.next_item()) is not None:
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadFailed(f"{url} sent over {max_bytes} bytes; stopped")
                part.write(chunk)
                digest.update(chunk)
                if progress:
                    progress(len(chunk))
        if expected_sha256 and digest.hexdigest() != expected_sha256:
            raise DownloadFailed(f"{url}: checksum mismatch (got {digest.hexdigest()})")
        os.replace(part.name, target)
    except BaseException:
        fetch.cancel()
        if os.path.exists(part.name):
            os.unlink(part.name)
        raise
    return target


class _Fetch:
    """The network side of a download, in a daemon thread, handing over chunks through a queue.

    The caller waits on the queue with the remaining time as its timeout, so the deadline holds
    whatever the network does (connect, headers, a stalled or trickling body). An abandoned
    thread notices the cancellation at its next chunk, or when its read timeout expires, and
    closes the connection; as a daemon it never keeps the process alive.
    """

    def __init__(self, url: str, max_seconds: float):
        self.url, self.max_seconds = url, max_seconds
        self.deadline = time.monotonic() + max_seconds
        self.items: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="download", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.cancelled.set()

    def next_item(self):
        """The next item: (status, size) first, then bytes chunks, then None at the end."""
        remaining = self.deadline - time.monotonic()
        try:
            kind, value = self.items.get(timeout=max(remaining, 0))
        except queue.Empty:
            self.cancel()
            raise DownloadFailed(
                f"{self.url}: not complete after {self.max_seconds:g} s "
                "(DOWNLOAD_MAX_SECONDS); stopped"
            ) from None
        if kind == "error":
            raise DownloadFailed(f"cannot download {self.url}: {value}")
        return value

    def _put(self, kind: str, value) -> bool:
        while not self.cancelled.is_set():
            try:
                self.items.put((kind, value), timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        # The read timeout never exceeds the total, so even an abandoned thread ends soon after.
        timeout = (min(TIMEOUT[0], self.max_seconds), min(TIMEOUT[1], self.max_seconds))
        try:
            with requests.get(self.url, stream=True, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                size = int(length) if length and length.isdigit() else None
                if (
                    not self._put("head", (response.status_code, size))
                    or response.status_code != 200
                ):
                    return
                # read1 returns what has arrived (one read call at most), so a trickle of bytes
                # still reaches the caller's deadline check rather than filling a 64 kB buffer.
                raw = response.raw
                while not self.cancelled.is_set():
                    chunk = raw.read1(CHUNK, decode_content=True)
                    if not chunk:
                        break
                    if not self._put("data", chunk):
                        return
                self._put("end", None)
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
            ValueError,
        ) as exc:
            # Reading response.raw directly raises urllib3's errors (read timeout, a body cut
            # short of its Content-Length) rather than requests' wrappers.
            self._put("error", exc)
        except Exception as exc:  # noqa: BLE001 - anything else still ends the caller's wait with a message
            self._put("error", f"{type(exc).__name__}: {exc}")


def sha256_of(path: str) -> str:
    """Hex sha256 of a file."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
