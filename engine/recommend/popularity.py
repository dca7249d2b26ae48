"""Popularity: overall and per category, time-decayed. The baseline every other method must beat."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.recommend.base import Method
from engine.recommend.data import DAY, Catalog, Interactions


class Popular(Method):
    """Items ranked by their time-decayed interaction weight (half-life `half_life_days`)."""

    name = "popular"
    label = "Popular"

    def __init__(self, half_life_days: float = 30.0) -> None:
        self.half_life_days = half_life_days

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        super().fit(data, catalog, cancelled)
        now = data.ts.max() if len(data) else 0.0
        decay = np.exp2(-(now - data.ts) / (self.half_life_days * DAY)).astype(np.float32)
        self.pop = np.bincount(data.item, weights=data.weight * decay, minlength=data.n_items).astype(np.float32)
        top = self.pop.max(initial=0.0)
        self.pop_norm = self.pop / top if top > 0 else self.pop
        self.buyers = data.item_counts()
        self.category_codes, self.category_names = _codes(catalog.categories)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.pop_norm, (len(users), len(self.pop_norm))).copy()

    def similar(self, item: int) -> np.ndarray:
        """Popular items of the same category."""
        same = self.category_codes == self.category_codes[item]
        return np.where(same, self.pop_norm, self.pop_norm * 1e-3).astype(np.float32)

    def explain(self, user: int, items: list[int]) -> list[str]:
        return [f"popular now: {self.buyers[i]} people chose it" for i in items]

    def explain_similar(self, item: int, items: list[int]) -> list[str]:
        category = self.catalog.categories[item] or "its category"
        return [f"popular in {category}" for _ in items]


class PopularInCategory(Popular):
    """Popular items weighted by the user's share of interactions in each category."""

    name = "popular_category"
    label = "Popular in category"

    def fit(self, data: Interactions, catalog: Catalog, cancelled: Callable[[], bool] = lambda: False) -> None:
        super().fit(data, catalog, cancelled)
        n_cat = len(self.category_names)
        codes = self.category_codes[data.item]
        flat = data.user.astype(np.int64) * n_cat + codes
        share = np.bincount(flat, minlength=data.n_users * n_cat).reshape(data.n_users, n_cat).astype(np.float32)
        totals = share.sum(1, keepdims=True)
        self.share = share / np.clip(totals, 1, None)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return (0.05 + self.share[users][:, self.category_codes]) * self.pop_norm

    def explain(self, user: int, items: list[int]) -> list[str]:
        out = []
        for i in items:
            share = self.share[user, self.category_codes[i]]
            name = self.category_names[self.category_codes[i]]
            out.append(f"popular in {name} ({share:.0%} of your activity)" if share > 0
                       else f"popular now: {self.buyers[i]} people chose it")
        return out


def _codes(categories: np.ndarray) -> tuple[np.ndarray, list[str]]:
    names = sorted({str(c) for c in categories if c is not None})
    index = {n: i for i, n in enumerate(names)}
    other = len(names)
    codes = np.array([index.get(str(c), other) if c is not None else other for c in categories], dtype=np.int32)
    return codes, [*names, "uncategorised"]
