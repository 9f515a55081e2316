"""Column-oriented scatter-plot track payloads, cached per data version, gzipped, with ETags."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pandas as pd

from api.catalogue import FEATURES_FOR_PLOT, Catalogue

TEXT_COLUMNS = ("id", "name", "artists", "genre", "family")
# Decimals kept per numeric column: three decimals on a 0–1 feature is one pixel on a 1000-pixel
# axis; more only inflates the catalogue payload (goal ≤ 4 MB gzipped).
DECIMALS = {
    "loudness": 2,
    "tempo": 1,
    "popularity": 0,
    "key": 0,
    "mode": 0,
    "time_signature": 0,
    "duration_ms": -3,
}
DEFAULT_DECIMALS = 3


def _column(series: pd.Series, decimals: int | None = None) -> list:
    """A column as a JSON list with null for missing values, numbers rounded to decimals."""
    if series.dtype.kind in "fiu":
        values = np.round(
            series.to_numpy(dtype=float), DEFAULT_DECIMALS if decimals is None else decimals
        )
        missing = np.isnan(values)
        whole = decimals is not None and decimals <= 0
        out = np.where(missing, 0, values).astype(np.int64 if whole else float).tolist()
        if missing.any():
            for index in np.flatnonzero(missing):
                out[index] = None
        return out
    return [
        None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in series.tolist()
    ]


def tracks_document(
    catalogue: Catalogue,
    ids: list[str],
    extra: pd.DataFrame | None,
    source: dict,
    keep_order: bool = True,
) -> dict:
    """The tracks of ids as parallel arrays; extra adds per-track columns (added_by …).

    Without keep_order the rows are sorted by genre, artist and title: the plot does not care,
    and neighbouring repeats make the gzipped catalogue a third smaller.
    """
    rows = [catalogue.row_of[t] for t in ids if t in catalogue.row_of]
    frame = catalogue.frame.iloc[rows]
    if not keep_order:
        frame = frame.sort_values(["genre", "artists", "name"], na_position="last", kind="stable")
    columns = {name: _column(frame[name]) for name in TEXT_COLUMNS}
    if keep_order:
        columns["album"] = _column(frame["album"])
    clusters = frame["cluster"]
    columns["cluster"] = [None if c is None or c != c else int(c) for c in clusters]
    present = [f for f in FEATURES_FOR_PLOT if frame[f].notna().any()]
    for name in FEATURES_FOR_PLOT:
        columns[name] = _column(frame[name], DECIMALS.get(name))
    if extra is not None:
        kept = extra.set_index("id").loc[frame["id"]]
        for name in kept.columns:
            columns[name] = _column(kept[name].astype(object).where(kept[name].notna(), None))
    return {"count": len(rows), "source": source, "features": present, "columns": columns}


def defer_ids(document: dict, version: str) -> dict:
    """The ids of a sorted (dataset or catalogue) document, taken out of it into their own.

    Random 22-character ids do not compress (1.6 of the catalogue's 4.5 MB gzipped), and the
    plot needs them only to open a track, so the scatter's document leaves them out and names
    the version whose ids document gives them, row for row; playlists keep theirs inline.
    """
    ids = document["columns"]["id"]
    if document["source"].get("kind") != "playlist":
        del document["columns"]["id"]
        document["ids"] = {"deferred": True, "version": version}
    return {"count": len(ids), "version": version, "ids": ids}


def encoded(document: dict) -> tuple[str, bytes]:
    """(etag, gzip bytes) of a document.

    Only the gzipped form is kept (a few MB for the catalogue, where the JSON is 20 MB): every
    browser asks for gzip, and a client that does not is answered by decompressing it.
    """
    body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return hashlib.sha256(body).hexdigest()[:32], gzip.compress(body, compresslevel=6, mtime=0)
