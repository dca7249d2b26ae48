"""The one interface every method implements, and the helpers they share."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from engine.recommend.data import Catalog, Interactions


class Method:
    """A recommendation method: fit on interactions, then score items for users or for an item.

    `scores` gives a dense float32 row per user (higher is better; 0 means no evidence); `similar` one row
    for an item. Both are served from what `fit` precomputed, never from a fresh scan of the log."""

    name = "method"
    label = "Method"

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        self.data = data
        self.catalog = catalog

    def scores(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def similar(self, item: int) -> np.ndarray:
        raise NotImplementedError

    def explain(self, user: int, items: list[int]) -> list[str]:
        """Gives a one-line reason for each recommended item."""
        return [self.label.lower()] * len(items)

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        return [f"similar to {self.title(item)}"] * len(items)

    def title(self, i: int) -> str:
        return str(self.catalog.titles[i])


def top_n_rows(m: sparse.csr_matrix, n: int) -> sparse.csr_matrix:
    """Gives the matrix with only the n largest values of each row kept (the precomputed neighbours)."""
    m = m.tocsr()
    m.sort_indices()
    counts = np.diff(m.indptr)
    if counts.max(initial=0) <= n:
        return m
    keep = np.ones(m.nnz, dtype=bool)
    for row in np.flatnonzero(counts > n):
        lo, hi = m.indptr[row], m.indptr[row + 1]
        part = m.data[lo:hi]
        drop = np.argpartition(-part, n)[n:]
        keep[lo + drop] = False
    rows = np.repeat(np.arange(m.shape[0]), counts)[keep]
    out = sparse.csr_matrix((m.data[keep], (rows, m.indices[keep])), shape=m.shape, dtype=np.float32)
    return out


def dense(m) -> np.ndarray:
    return np.asarray(m.todense() if sparse.issparse(m) else m, dtype=np.float32)


def strongest_source(history: np.ndarray, weights: np.ndarray, neighbours: sparse.csr_matrix,
                     item: int) -> tuple[int, float]:
    """Gives the history item that contributes most to `item` through `neighbours`, and its share."""
    column = dense(neighbours[history][:, [item]]).ravel() * weights
    if column.size == 0 or column.max() <= 0:
        return -1, 0.0
    best = int(np.argmax(column))
    return int(history[best]), float(column[best])
