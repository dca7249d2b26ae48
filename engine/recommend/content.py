"""Content: item embeddings from the ONNX encoder in a FAISS index; a user is the recency-weighted mean of
the items they touched."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.recommend.base import Method
from engine.recommend.data import Catalog, Interactions


class Content(Method):
    """Items whose descriptions are closest to what the user touched lately (cosine in encoder space)."""

    name = "content"
    label = "Content"

    def __init__(self, vectors: np.ndarray, last: int = 20, decay: float = 0.8) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.last = last
        self.decay = decay

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        import faiss

        super().fit(data, catalog, cancelled)
        self.index = faiss.IndexFlatIP(self.vectors.shape[1])
        self.index.add(self.vectors)

    def profiles(self, users: np.ndarray) -> np.ndarray:
        weights = self.data.recent(users, self.last, self.decay)
        profiles = np.asarray(weights @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(profiles, axis=1, keepdims=True)
        return profiles / np.clip(norms, 1e-9, None)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.profiles(users) @ self.vectors.T

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Gives (scores, item indexes) of the k items nearest a query vector, through the FAISS index."""
        scores, ids = self.index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32),
                                        min(k, self.index.ntotal))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def similar(self, item: int) -> np.ndarray:
        scores, ids = self.search(self.vectors[item], self.index.ntotal)
        out = np.zeros(self.index.ntotal, np.float32)
        out[ids] = scores
        out[item] = 0.0
        return out

    def explain(self, user: int, items: list[int]) -> list[str]:
        history = self.data.history(user)[-self.last:]
        if len(history) == 0:
            return ["close to your request"] * len(items)
        sims = self.vectors[items] @ self.vectors[history].T
        sims[np.asarray(items)[:, None] == history[None, :]] = -np.inf  # never "because of itself"
        out = []
        for row in sims:
            if not np.isfinite(row.max()):
                out.append("close to what you looked at")
                continue
            best = int(history[int(np.argmax(row))])
            out.append(f"similar to {self.title(best)} ({row.max():.2f})")
        return out

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        sims = self.vectors[items] @ self.vectors[item]
        return [f"similar description ({s:.2f})" for s in sims]
