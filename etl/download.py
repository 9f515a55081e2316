"""Bounded downloads of data files over http(s) into instance/, with a progress bar."""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Callable
from urllib.parse import urlparse

import requests

MAX_BYTES = 2 * 1024**3  # 2 GiB: far above any public track file, far below the disk
TIMEOUT = (10, 60)  # connect, read (seconds between bytes)
CHUNK = 1 << 16


class DownloadFailed(Exception):
    """The URL could not be fetched; nothing was kept (reason in the message)."""


def is_url(text: str) -> bool:
    """True for anything that names a scheme, so that non-http schemes are refused, not opened."""
    return "://" in text


def download(url: str, directory: str, *, max_bytes: int = MAX_BYTES,
             expected_sha256: str | None = None,
             on_size: Callable[[int | None], None] | None = None,
             progress: Callable[[int], None] | None = None) -> str:
    """Fetch url into directory and return the file's path.

    Only http and https; the file appears under its final name only when complete (and, when
    expected_sha256 is given, verified), so an interrupted download never looks like data.
    """
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise DownloadFailed(f"only http(s) URLs can be imported, not {url!r}")
    name = os.path.basename(parsed.path) or "download.csv"
    if name in {".", ".."} or "/" in name or "\\" in name:
        raise DownloadFailed(f"cannot derive a file name from {url!r}")
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, name)
    digest = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"{url} answered HTTP {response.status_code}")
            length = response.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else None
            if size is not None and size > max_bytes:
                raise DownloadFailed(f"{url} is {size} bytes, over the {max_bytes}-byte limit")
            if on_size:
                on_size(size)
            received = 0
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".part-", delete=False) as part:
                try:
                    for chunk in response.iter_content(CHUNK):
                        received += len(chunk)
                        if received > max_bytes:
                            raise DownloadFailed(f"{url} sent over {max_bytes} bytes; stopped")
                        part.write(chunk)
                        digest.update(chunk)
                        if progress:
                            progress(len(chunk))
                except BaseException:
                    part.close()
                    os.unlink(part.name)
                    raise
    except requests.RequestException as exc:
        raise DownloadFailed(f"cannot download {url}: {exc}") from None
    if expected_sha256 and digest.hexdigest() != expected_sha256:
        os.unlink(part.name)
        raise DownloadFailed(f"{url}: checksum mismatch (got {digest.hexdigest()})")
    os.replace(part.name, target)
    return target


def sha256_of(path: str) -> str:
    """Hex sha256 of a file."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
