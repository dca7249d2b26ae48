"""Sentence vectors for the embedding methods, computed once per text and reused across methods and folds."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np


class Embedder:
    """Encodes texts with the workspace's ONNX encoder, remembering vectors it has already computed."""

    def __init__(self, encoder, batch_size: int = 64, memo_limit: int = 50_000) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.memo_limit = memo_limit
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # the pane's workers share one Embedder; a clear() must not race a read

    @property
    def model_id(self) -> str:
        return self.encoder.info.model_id

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Gives one unit vector per text (float32)."""
        if not len(texts):
            return np.zeros((0, self.encoder.dimension), np.float32)
        with self._lock:  # what is known is copied out: another thread may clear the memo while we encode
            known = {t: self._memo[t] for t in dict.fromkeys(texts) if t in self._memo}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            known.update(fresh := dict(zip(todo, self.encoder.encode(todo, batch_size=self.batch_size))))
            with self._lock:
                if len(self._memo) + len(fresh) > self.memo_limit:
                    self._memo.clear()
                self._memo.update(fresh)
        return np.stack([known[t] for t in texts])

    def forget(self, texts: Sequence[str]) -> None:
        """Drops these texts' vectors, so that timing a method on them counts their encoding."""
        with self._lock:
            for t in texts:
                self._memo.pop(t, None)
