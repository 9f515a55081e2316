"""Reading a data file safely: only a bounded, regular CSV or Parquet file is read, as text."""

from __future__ import annotations

import codecs
import csv
import os
import stat
import unicodedata

import pandas as pd

# A header line longer than this is not a CSV of tracks (binary, or one giant line).
MAX_HEADER_BYTES = 64 * 1024
# Real rows are under 2 kB; a longer line is broken or hostile, and pandas would hold all of it.
MAX_LINE_BYTES = 1024 * 1024
SCAN_BLOCK = 1 << 20
# Files are read whole, so their size bounds the import's memory: the 114k catalogue's 20 MB of
# CSV peaks at 293 MB over the app's start (about 15x). 128 MiB is 4x the largest recognised
# public file (SpotifyFeatures.csv, 32 MB) and keeps an import near 2 GB. The app passes its
# IMPORT_MAX_BYTES setting (web/settings.py, 128 MiB by default); None here means no limit.


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written (reason in the message)."""


def printable(text: str, limit: int = 60) -> str:
    """Text from a file made safe for a terminal: control characters escaped, length bounded."""
    shown = "".join(
        ch if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"} else ascii(ch)[1:-1]
        for ch in text[:limit]
    )
    return shown + ("…" if len(text) > limit else "")


def check_regular_file(path: str, max_bytes: int | None = None) -> int:
    """The size of path when it is a regular, readable file of acceptable size; else ImportFailed.

    Judged from stat alone: opening a FIFO would block and /dev/zero or /dev/urandom never end.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such file") from None
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImportFailed(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ImportFailed(f"{path}: not a regular file (a device, pipe or socket)")
    if not os.access(path, os.R_OK):
        raise ImportFailed(f"{path}: permission denied")
    if max_bytes is not None and info.st_size > max_bytes:
        raise ImportFailed(
            f"{path}: {info.st_size} bytes, over the {max_bytes}-byte import "
            "limit (IMPORT_MAX_BYTES)"
        )
    if info.st_size == 0:
        raise ImportFailed(f"{path}: the file is empty")
    return info.st_size


def read_headers(path: str, max_bytes: int | None = None) -> list[str]:
    """The column names of a CSV or Parquet file; raises ImportFailed if unreadable."""
    check_regular_file(path, max_bytes)
    if is_parquet(path):
        try:
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for bad files
            raise ImportFailed(f"{path}: not a readable Parquet file ({exc})") from None
        if len(set(names)) != len(names):
            raise ImportFailed(f"{path}: the Parquet file repeats column names")
        return names
    try:
        with open(path, "rb") as handle:
            head = handle.readline(MAX_HEADER_BYTES + 1)
        if len(head) > MAX_HEADER_BYTES:
            raise ImportFailed(
                f"{path}: the first line is over {MAX_HEADER_BYTES} bytes; not a CSV of tracks"
            )
        if b"\x00" in head:
            raise ImportFailed(f"{path}: binary content, not a CSV file")
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(f"{path}: not UTF-8 text") from None
    try:
        row = next(csv.reader([text]), [])
    except csv.Error as exc:  # e.g. a NUL or a stray quote in the header line
        raise ImportFailed(f"{path}: the header line is not CSV ({exc})") from None
    if len(row) < 2:
        raise ImportFailed(f"{path}: no comma-separated header line found")
    return [h.strip() for h in row]


def scan_csv(path: str) -> None:
    """Refuse a CSV with binary content, invalid UTF-8 or an over-long line, in bounded memory.

    Reads the file in 1 MB blocks before pandas sees it: pandas would otherwise hold a whole
    giant line (or the whole of a binary file) in memory before failing.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, line_bytes = 1, 0
    with open(path, "rb") as handle:
        while block := handle.read(SCAN_BLOCK):
            nul = block.find(b"\x00")
            if nul >= 0:
                at = line + block.count(b"\n", 0, nul)
                raise ImportFailed(
                    f"{path}: binary content (a NUL byte on line {at}), not a CSV file"
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                at = line + block.count(b"\n", 0, max(exc.start, 0))
                raise ImportFailed(f"{path}: not UTF-8 text (line {at})") from None
            start = 0
            while (newline := block.find(b"\n", start)) >= 0:
                line_bytes += newline - start
                if line_bytes > MAX_LINE_BYTES:
                    break
                line, line_bytes, start = line + 1, 0, newline + 1
            else:
                line_bytes += len(block) - start
            if line_bytes > MAX_LINE_BYTES:
                raise ImportFailed(
                    f"{path}: line {line} is over {MAX_LINE_BYTES} bytes; not a CSV of tracks"
                )
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(f"{path}: not UTF-8 text (it ends inside a character)") from None


def is_parquet(path: str) -> bool:
    """True for a Parquet file (its magic number), judged from the first four bytes."""
    with open(path, "rb") as handle:
        return handle.read(4) == b"PAR1"


def read_table(path: str) -> pd.DataFrame:
    """The whole file as a table of strings (Parquet's text columns as strings too)."""
    try:
        if is_parquet(path):
            frame = pd.read_parquet(path)
            # Nested or binary Parquet columns arrive as Python dicts, lists or bytes: as text
            # they can only fail validation, never reach a store query as an object.
            return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
        scan_csv(path)
        # Strings everywhere: ids must not become numbers and each feature is parsed (and
        # range-checked) by validate_frame.
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except (
        ValueError,
        TypeError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        OSError,
        MemoryError,
    ) as exc:
        raise ImportFailed(f"{path}: cannot be parsed ({printable(str(exc), 300)})") from None
