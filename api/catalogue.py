"""An in-memory index of the stored tracks: genres, families, clusters, neighbours."""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import logging
import os
import sys
import threading
import weakref

import numpy as np
import pandas as pd

from ml.context import ArtistPool
from ml.features import SEED_CLUSTER_FEATURES
from store.records import AUDIO_FEATURES

# Features that place a track for "similar by audio features": the seed's eight, the same ones
# the clusters use, which every source carries (key, mode and time signature say little about
# likeness).
SIMILARITY_FEATURES = SEED_CLUSTER_FEATURES
# Neighbours kept for every catalogue track: a predict shows five similar tracks and skips the
# track itself.
NEIGHBOURS_KEPT = 6


class Answers:
    """A small least-recently-used map of encoded answers, safe across a worker's threads."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._items: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self._building = [threading.Lock() for _ in range(8)]

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_build(self, key, build):
        """The value of key, built by one thread at a time: the others asking meanwhile wait for it.

        Without this, the first requests for a large document after a (re)start each build it at
        once (the dataset tracks payload: seconds of CPU and a few hundred MB apiece), which under
        load took longer than clients wait. The locks are striped by key, so unknown keys (an
        unknown playlist is a 404, never stored) cannot make them grow.
        """
        value = self.get(key)
        if value is None:
            with self._building[hash(key) % len(self._building)]:
                value = self.get(key)
                if value is None:
                    value = build()
                    self.put(key, value)
        return value


class _NumberColumn:
    """A numeric column read like a list: plain int/float values, None where missing."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray):
        self.values = values

    def __getitem__(self, row: int):
        value = self.values.item(row)
        return None if value != value else value

    def __len__(self) -> int:
        return len(self.values)


class Catalogue:
    """Every stored track with its primary genre, family and cluster, plus a neighbour index."""

    def __init__(self, frame: pd.DataFrame, labels: dict[str, str], family_of, clusters: dict):
        # scipy's tree (scikit-learn brings scipy) answers a single query without input checks.
        from scipy.spatial import cKDTree

        self.frame = frame.reset_index(drop=True)
        self.version = None  # the store's data version it was read at (set by CatalogueCache)
        # Predict answers (2–4 kB each): enough for the questions people repeat (a track
        # predicted after searching it), where 2,048 grew every worker by 7 MB under varied load.
        self.answers = Answers(size=1024)
        self.payloads = Answers(size=16)  # encoded /api/tracks documents and their ids
        ids = self.frame["id"]
        self.row_of = {track_id: row for row, track_id in enumerate(ids)}
        self.frame["genre"] = [labels.get(t) for t in ids]
        self.frame["family"] = [family_of(g) if g else None for g in self.frame["genre"]]
        self.frame["cluster"] = [clusters.get(t) for t in ids]
        # Columns read one value at a time: microseconds per track, where pandas rows cost a
        # hundred times more, and the predictor reads a dozen tracks per request. Text columns
        # are lists of str, each distinct value one object (artists, genres and sources repeat),
        # shared with the frame, which holds them as object columns instead of a second copy;
        # numbers stay numpy arrays (a list of float objects would take four times the memory).
        self.columns = {}
        for name in self.frame.columns:
            series = self.frame[name]
            if series.dtype.kind in "fiub":
                self.columns[name] = _NumberColumn(series.to_numpy())
                continue
            distinct: dict = {}
            values = [
                None
                if v is None or (isinstance(v, float) and v != v)
                else distinct.setdefault(v, v)
                for v in series.tolist()
            ]
            self.frame[name] = pd.Series(values, dtype=object)
            self.columns[name] = values
        self.popularity = self.frame["popularity"].fillna(0).to_numpy()
        # The genre model reads each track's artist context from the whole catalogue.
        self.artist_pool = ArtistPool(self.frame)
        # Min-max scaling over the catalogue, as for clustering; rows lacking a feature are left
        # out of the neighbour index rather than guessed.
        values = self.frame[list(SIMILARITY_FEATURES)].to_numpy(dtype=float)
        complete = ~np.isnan(values).any(axis=1)
        if complete.any():
            self.low = values[complete].min(axis=0)
            span = values[complete].max(axis=0) - self.low
        else:  # an empty store: nothing to scale, no neighbours
            self.low, span = np.zeros(len(SIMILARITY_FEATURES)), np.ones(len(SIMILARITY_FEATURES))
        self.span = np.where(span > 0, span, 1.0)
        self.indexed_rows = np.flatnonzero(complete)
        self.tree = cKDTree(self.scale(values[complete])) if complete.any() else None
        # Every indexed track's nearest neighbours, found in one batch query (1.5 s of one core
        # for 92k tracks, halved on two; 2.2 MB): a predict of a catalogue track reads its row
        # instead of walking the tree, whose nodes a busy worker's cache no longer holds (100 µs a
        # request, a fifth of a distinct-track predict). Positions index indexed_rows.
        self.neighbours = None
        if self.tree is not None:
            kept = min(NEIGHBOURS_KEPT, len(self.indexed_rows))
            _, positions = self.tree.query(self.tree.data, k=kept, workers=-1)
            self.neighbours = np.asarray(positions, dtype=np.int32).reshape(-1, kept)

    def __len__(self) -> int:
        return len(self.frame)

    def scale(self, values: np.ndarray) -> np.ndarray:
        return (values - self.low) / self.span

    def record(self, row: int) -> dict:
        """One track as JSON-ready dict (None where absent)."""
        return {name: column[row] for name, column in self.columns.items()}

    def brief(self, row: int) -> dict:
        columns = self.columns
        return {name: columns[name][row] for name in ("id", "name", "artists", "genre", "family")}

    def vector(self, features: dict) -> np.ndarray | None:
        values = [features.get(f) for f in SIMILARITY_FEATURES]
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
            return None
        return self.scale(np.asarray(values, dtype=float))

    def nearest(
        self,
        features: dict,
        k: int = 5,
        exclude: set[str] = frozenset(),
        row: int | None = None,
    ) -> list[dict]:
        """The k catalogue tracks closest in scaled audio features (excluding some ids).

        row says the features are those of that catalogue row: its kept neighbours answer when
        they are enough.
        """
        if self.tree is None:
            return []
        # Each excluded id is one row at most, so k of the k + len(exclude) nearest remain (and
        # every extra neighbour asked for makes the tree search more leaves).
        wanted = min(k + len(exclude), len(self.indexed_rows))
        position = self._position(row)
        if position is not None and wanted <= self.neighbours.shape[1]:
            rows = self.neighbours[position, :wanted]
            offsets = self.tree.data[rows] - self.tree.data[position]
            distances = np.sqrt(np.add.reduce(offsets * offsets, axis=1))
        else:
            point = self.vector(features)
            if point is None:
                return []
            distances, rows = self.tree.query(point, k=wanted)
        found = []
        ids = self.columns["id"]
        rows = self.indexed_rows[np.atleast_1d(rows)].tolist()
        for distance, row in zip(np.atleast_1d(distances).tolist(), rows):
            if ids[row] in exclude:
                continue
            found.append({**self.brief(row), "distance": round(distance, 4)})
            if len(found) == k:
                break
        return found

    def _position(self, row: int | None) -> int | None:
        """Where a catalogue row is in the neighbour index (None: not indexed, or no row)."""
        if row is None or self.neighbours is None:
            return None
        position = int(self.indexed_rows.searchsorted(row))
        if position < len(self.indexed_rows) and self.indexed_rows[position] == row:
            return position
        return None


def build_catalogue(track_store, models_dir: str) -> Catalogue:
    """Read the store (and the saved cluster assignments) into a Catalogue."""
    from ml.taxonomy import load_taxonomy

    frame = track_store.read_tracks_frame()
    labels: dict[str, str] = {}
    for dataset in track_store.list_datasets():
        # A track under several genres shows the first in alphabetical order, consistently.
        for track_id, label in track_store.dataset_labels(dataset["name"]):
            labels.setdefault(track_id, label)
    taxonomy = load_taxonomy()
    clusters: dict[str, int] = {}
    assignments = os.path.join(models_dir, "cluster_assignments.csv")
    if os.path.isfile(assignments):
        saved = pd.read_csv(assignments, dtype={"id": str})
        clusters = dict(zip(saved["id"], saved["cluster"].astype(int)))
    return Catalogue(frame, labels, taxonomy.family, clusters)


class CatalogueCache:
    """One Catalogue per process, replaced when the store's data version changes.

    The first catalogue is built while the first request waits. Later versions are built by one
    background thread while the current catalogue keeps answering, so new data (an import, a
    predict that reached Spotify) never holds requests up: they see it seconds later instead.
    """

    def __init__(self, background: bool = True, prepare=None, finish=None):
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._building = False
        _caches.add(self)
        self.background = background
        # Called on each new catalogue before it is served (the app pre-encodes large payloads).
        self.prepare = prepare
        # Called on the served catalogue once it matches the store, still in the background: work
        # the catalogue can answer without (the app ranks its tracks), so that new tracks are
        # not held back by it, nor is it redone for every version an import passes through.
        self.finish = finish

    def get(self, track_store, models_dir: str) -> Catalogue:
        return self.current(track_store, models_dir)[0]

    def current(self, track_store, models_dir: str) -> tuple[Catalogue, object]:
        """(catalogue to answer from, the store's version now); the two differ while rebuilding."""
        # The version check is one read of a one-row table: cheap enough for every request.
        version = (track_store.data_version(), _mtime(models_dir))
        catalogue = self._catalogue
        if catalogue is not None and catalogue.version == version:
            return catalogue, version
        with self._lock:
            catalogue = self._catalogue
            if catalogue is None or not self.background:
                if catalogue is None or catalogue.version != version:
                    catalogue = self._build(track_store, models_dir, version)
                    self._catalogue = catalogue
                return catalogue, version
            if catalogue.version != version and not self._building:
                self._building = True
                threading.Thread(
                    target=self._rebuild,
                    args=(track_store, models_dir),
                    name="catalogue-rebuild",
                    daemon=True,
                ).start()
            return catalogue, version

    @staticmethod
    def _build(track_store, models_dir: str, version) -> Catalogue:
        catalogue = build_catalogue(track_store, models_dir)
        catalogue.version = version
        return catalogue

    def _rebuild(self, track_store, models_dir: str) -> None:
        # Loops until the catalogue matches the store: an import bumps the version many times.
        finished = None
        try:
            while True:
                version = (track_store.data_version(), _mtime(models_dir))
                current = self._catalogue
                if current is not None and current.version == version:
                    if self.finish is None or (finished is not None and finished() is current):
                        return
                    self.finish(current)
                    finished = weakref.ref(current)  # not kept alive past its replacement
                    continue  # the store may have changed again meanwhile
                del current
                catalogue = self._build(track_store, models_dir, version)
                if self.prepare is not None:
                    self.prepare(catalogue, track_store)
                self._catalogue = catalogue
                del catalogue
                release_free_memory()
        except Exception:  # the old catalogue keeps answering; the next request tries again
            logging.getLogger(__name__).exception("catalogue rebuild failed")
        finally:
            with self._lock:
                self._building = False


_caches: weakref.WeakSet = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # gunicorn workers fork from a master that may have built the catalogue: a rebuild thread
    # running there does not exist in the child, whose caches must be free to start their own.
    for cache in list(_caches):
        cache._lock = threading.Lock()
        cache._building = False


os.register_at_fork(after_in_child=_after_fork_in_child)


def release_free_memory() -> None:
    """Hand memory freed after a build back to the OS (glibc keeps it otherwise: 50 MB a worker).

    pandas reads the store's text through pyarrow, whose own allocator (mimalloc) keeps what it
    freed too: another 47 MB a worker after the demo catalogue is built.
    """
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
    arrow = sys.modules.get("pyarrow")  # only when pandas has loaded it
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def _mtime(models_dir: str) -> float:
    try:
        return os.stat(os.path.join(models_dir, "cluster_assignments.csv")).st_mtime
    except OSError:  # not clustered yet
        return 0.0


FEATURES_FOR_PLOT = (*AUDIO_FEATURES, "popularity", "duration_ms")
