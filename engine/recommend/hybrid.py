"""Hybrid: a weighted blend of the other methods' scores, each scaled to its best item per user. Weights
are the user's, or tuned on the validation split by `evaluate`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.recommend.base import Method
from engine.recommend.data import Catalog, Interactions

DEFAULT_WEIGHTS = {"popular": 0.25, "content": 0.5, "als": 1.0, "cooccur": 1.0, "sequence": 2.0}


def scaled(scores: np.ndarray) -> np.ndarray:
    """Gives scores clipped at 0 and divided by each row's best, so methods on different scales add up."""
    s = np.clip(scores, 0.0, None)
    top = s.max(axis=1, keepdims=True)
    return s / np.where(top > 0, top, 1.0)


def add_scaled(out: np.ndarray, scores: np.ndarray, weight: float,
               scratch: np.ndarray | None = None) -> np.ndarray:
    """Adds weight × scaled(scores) to `out` in place, through `scratch` (reused across calls when given),
    and gives the scratch: the evaluation blends a batch of users × every item this way without the
    temporaries of scaled() and blend()."""
    scratch = np.maximum(scores, 0.0, out=scratch, dtype=np.float32)
    best = scratch.max(axis=1)
    scratch *= (weight / np.where(best > 0, best, 1.0)).astype(np.float32)[:, None]
    out += scratch
    return scratch


def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Gives the weighted sum of already-scaled score matrices."""
    out = None
    for name, w in weights.items():
        if w and name in parts:
            out = parts[name] * w if out is None else out + parts[name] * w
    return out


class Hybrid(Method):
    name = "hybrid"
    label = "Hybrid"

    def __init__(self, components: dict[str, Method], weights: dict[str, float] | None = None) -> None:
        self.components = components
        self.weights = {k: v for k, v in (weights or DEFAULT_WEIGHTS).items() if k in components}

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        super().fit(data, catalog, cancelled)  # components are fitted by their owner

    def parts(self, users: np.ndarray) -> dict[str, np.ndarray]:
        return {name: scaled(self.components[name].scores(users)) for name, w in self.weights.items() if w}

    def scores(self, users: np.ndarray) -> np.ndarray:
        return blend(self.parts(users), self.weights)

    def similar(self, item: int) -> np.ndarray:
        parts = {n: scaled(self.components[n].similar(item)[None, :]) for n, w in self.weights.items() if w}
        return blend(parts, self.weights)[0]

    def explain(self, user: int, items: list[int]) -> list[str]:
        parts = self.parts(np.array([user]))
        return self._explain(parts, items, lambda name, i: self.components[name].explain(user, [i])[0])

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        parts = {n: scaled(self.components[n].similar(item)[None, :]) for n, w in self.weights.items() if w}
        return self._explain(parts, items, lambda name, i: self.components[name].explain_similar(item, [i])[0])

    def _explain(self, parts: dict[str, np.ndarray], items: list[int], reason) -> list[str]:
        out = []
        for i in items:
            name = max(parts, key=lambda n: parts[n][0, i] * self.weights[n])
            out.append(reason(name, i))
        return out
