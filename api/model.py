"""The genre model bundle: loaded once per process and reloaded when retrained.

Retried now and then when missing.
"""

from __future__ import annotations

import logging
import os
import threading
import time

RETRY_EVERY = 30.0  # seconds; a model trained while the app runs is picked up this soon


class ModelMissing(RuntimeError):
    """Prediction is impossible until the model is trained or repaired."""


class ModelHolder:
    """Holds the loaded predictor, or the reason it could not be loaded."""

    def __init__(self, models_dir: str):
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._predictor = None
        self._loaded_stamp = None
        self._error: str | None = None
        self._tried = -RETRY_EVERY

    def _stamp(self):
        # meta.json is written last by training, so its mtime says which bundle is on disk.
        try:
            return os.stat(os.path.join(self.models_dir, "meta.json")).st_mtime_ns
        except OSError:
            return None

    def get(self):
        """The predictor, or raise ModelMissing with how to train it."""
        predictor = self._predictor
        if predictor is not None and self._stamp() == self._loaded_stamp:
            return predictor
        with self._lock:
            retrained = self._predictor is not None and self._stamp() != self._loaded_stamp
            due = time.monotonic() - self._tried >= RETRY_EVERY
            if retrained or (self._predictor is None and due):
                self._tried = time.monotonic()
                self._load()
        if self._predictor is None:
            raise ModelMissing(self._error or "the genre model is not loaded")
        return self._predictor

    def _load(self) -> None:
        from ml.predictor import GenrePredictor, ModelUnavailable

        stamp = self._stamp()
        try:
            self._predictor = GenrePredictor.load(self.models_dir)
            self._loaded_stamp, self._error = stamp, None
            return
        except ModelUnavailable as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - load() converts what it expects; anything else is still a refusal
            reason = f"the model bundle cannot be read ({type(exc).__name__})"
        # The folder is logged, not shown: the reason reaches API clients.
        logging.getLogger(__name__).warning(
            "genre model in %s refused: %s", self.models_dir, reason
        )
        self._predictor, self._loaded_stamp = None, None
        self._error = (
            f"The genre model is unavailable: {reason}. Train it with "
            "`flask --app app ml train` (or `make run`, which trains what is missing)."
        )

    def status(self) -> dict:
        """For /healthz: loaded or not, and why not (never loads the model itself)."""
        if self._predictor is not None:
            return {"status": "ok", "trained": self._predictor.meta.get("created")}
        return {
            "status": "not loaded" if self._error is None else "unavailable",
            "message": self._error,
        }
