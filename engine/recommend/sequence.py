"""Sequence-aware: ordered co-visitation. What other people did *next* after the items this user touched
last, the most recent weighted most. When the question is "what comes next", this wins."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from engine.recommend.base import Method, dense, strongest_source, top_n_rows
from engine.recommend.data import Catalog, Interactions


class Sequence(Method):
    """Counts item pairs (a, b) where b followed a within `window` steps (closer steps count more), turns
    them into "after a, people went to b" shares, and scores from the user's last `last` items."""

    name = "sequence"
    label = "Sequence"

    def __init__(self, window: int = 3, neighbours: int = 100, last: int = 5, decay: float = 0.5) -> None:
        self.window = window
        self.neighbours = neighbours
        self.last = last
        self.decay = decay

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        super().fit(data, catalog, cancelled)
        src, dst, val = [], [], []
        for gap in range(1, self.window + 1):
            same_user = data.user[gap:] == data.user[:-gap]
            different = data.item[gap:] != data.item[:-gap]
            keep = same_user & different
            src.append(data.item[:-gap][keep])
            dst.append(data.item[gap:][keep])
            val.append(np.full(int(keep.sum()), 1.0 / gap, np.float32))
        n = data.n_items
        follows = sparse.csr_matrix((np.concatenate(val), (np.concatenate(src), np.concatenate(dst))),
                                    shape=(n, n), dtype=np.float32)
        follows.sum_duplicates()
        out = np.asarray(follows.sum(1)).ravel()
        follows = sparse.diags(1.0 / np.clip(out, 1e-9, None).astype(np.float32)) @ follows
        self.next_matrix = top_n_rows(follows.tocsr(), self.neighbours)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return dense(self.data.recent(users, self.last, self.decay) @ self.next_matrix)

    def similar(self, item: int) -> np.ndarray:
        return dense(self.next_matrix[item]).ravel()

    def explain(self, user: int, items: list[int]) -> list[str]:
        history = self.data.history(user)[-self.last:][::-1]
        weights = self.decay ** np.arange(len(history), dtype=np.float32)
        out = []
        for i in items:
            source, _ = strongest_source(history, weights, self.next_matrix, i)
            out.append(f"often bought after {self.title(source)}" if source >= 0
                       else "popular (nothing in your history points here)")
        return out

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        share = dense(self.next_matrix[item]).ravel()
        return [f"next for {share[i]:.0%} of people after {self.title(item)}" for i in items]
