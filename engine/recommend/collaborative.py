"""Collaborative filtering: implicit-feedback ALS (the `implicit` package) and item–item co-occurrence."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from engine import cpus
from engine.errors import QuarryError
from engine.recommend.base import Method, dense, strongest_source, top_n_rows
from engine.recommend.data import Catalog, Interactions


class Cancelled(QuarryError):
    """A fit stopped because its job was cancelled."""


class ALS(Method):
    """Implicit-feedback matrix factorisation; a user's score for an item is the dot of their factors."""

    name = "als"
    label = "ALS"

    def __init__(self, factors: int = 64, iterations: int = 12, regularization: float = 0.05,
                 alpha: float = 2.0, threads: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.alpha = alpha
        self.threads = threads

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        super().fit(data, catalog, cancelled)
        user_items = data.user_items()
        user_items.data = np.log1p(user_items.data).astype(np.float32)

        def check(*_args) -> None:
            if cancelled():
                raise Cancelled("fit cancelled")

        with threadpool_limits(1, "blas"):  # implicit's own threads do the work; BLAS threads only contend
            model = AlternatingLeastSquares(factors=self.factors, iterations=self.iterations,
                                            regularization=self.regularization, alpha=self.alpha,
                                            num_threads=self.threads or _threads(user_items.nnz), random_state=7)
            model.fit(user_items, show_progress=False, callback=check)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        norms = np.linalg.norm(self.item_factors, axis=1, keepdims=True)
        self.item_unit = self.item_factors / np.clip(norms, 1e-9, None)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T

    def similar(self, item: int) -> np.ndarray:
        out = self.item_unit @ self.item_unit[item]
        out[item] = 0.0
        return out

    def explain(self, user: int, items: list[int]) -> list[str]:
        history = self.data.history(user)[-30:]
        if len(history) == 0:
            return ["liked by people with similar taste"] * len(items)
        sims = self.item_unit[items] @ self.item_unit[history].T
        sims[np.asarray(items)[:, None] == history[None, :]] = -np.inf  # never "because of itself"
        return [f"people who liked {self.title(int(history[int(np.argmax(row))]))} also liked it"
                if np.isfinite(row.max()) else "liked by people with similar taste" for row in sims]

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        return [f"liked by the same people as {self.title(item)}"] * len(items)


def _threads(nnz: int) -> int:
    """Gives ALS's threads: one for small data (threads only contend), up to two cores beyond."""
    return 1 if nnz < 500_000 else max(1, min(2, cpus.usable()))


class CoOccurrence(Method):
    """Item–item: how often two items are bought by the same people (cosine of their user sets)."""

    name = "cooccur"
    label = "Co-occurrence"

    def __init__(self, neighbours: int = 100, last: int = 30, decay: float = 0.95) -> None:
        self.neighbours = neighbours
        self.last = last
        self.decay = decay

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        super().fit(data, catalog, cancelled)
        x = data.user_items(binary=True)
        counts = np.asarray(x.sum(0)).ravel()
        co = (x.T @ x).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        if cancelled():
            raise Cancelled("fit cancelled")
        norm = 1.0 / np.sqrt(np.clip(counts, 1, None)).astype(np.float32)
        co = sparse.diags(norm) @ co @ sparse.diags(norm)
        self.neighbours_matrix = top_n_rows(co.tocsr(), self.neighbours)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return dense(self.data.recent(users, self.last, self.decay) @ self.neighbours_matrix)

    def similar(self, item: int) -> np.ndarray:
        return dense(self.neighbours_matrix[item]).ravel()

    def explain(self, user: int, items: list[int]) -> list[str]:
        history = self.data.history(user)[-self.last:][::-1]
        weights = self.decay ** np.arange(len(history), dtype=np.float32)
        out = []
        for i in items:
            source, _ = strongest_source(history, weights, self.neighbours_matrix, i)
            out.append(f"people who bought {self.title(source)} also bought it" if source >= 0
                       else "popular (nothing in your history points here)")
        return out

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        return [f"people who bought {self.title(item)} also bought it"] * len(items)
