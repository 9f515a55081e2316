"""The genre model bundle, loaded once per process and retried only now and then when missing."""
from __future__ import annotations

import threading
import time

RETRY_EVERY = 30.0  # seconds; a model trained while the app runs is picked up this soon


class ModelHolder:
    """Holds the loaded predictor, or the reason it could not be loaded."""

    def __init__(self, models_dir: str):
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._predictor = None
        self._error: str | None = None
        self._tried = -RETRY_EVERY

    def get(self):
        """The predictor, or raise ModelMissing with how to train it."""
        if self._predictor is not None:
            return self._predictor
        with self._lock:
            if self._predictor is None and time.monotonic() - self._tried >= RETRY_EVERY:
                self._tried = time.monotonic()
                self._load()
        if self._predictor is None:
            raise ModelMissing(self._error or "the genre model is not loaded")
        return self._predictor

    def _load(self) -> None:
        from ml.predictor import GenrePredictor, ModelUnavailable

        try:
            self._predictor = GenrePredictor.load(self.models_dir)
            self._error = None
        except ModelUnavailable as exc:
            self._error = (f"{exc} Train it with `flask --app app ml train` "
                           "(or `make run`, which trains what is missing).")

    def status(self) -> dict:
        """For /healthz: loaded or not, and why not (never loads the model itself)."""
        if self._predictor is not None:
            return {"status": "ok", "trained": self._predictor.meta.get("created")}
        return {"status": "not loaded" if self._error is None else "unavailable",
                "message": self._error}


class ModelMissing(RuntimeError):
    """Prediction is impossible until the model is trained or repaired."""
