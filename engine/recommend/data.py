"""Interactions and the catalog as arrays: what every method fits on, and the leave-last-out split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

DAY = 86400.0


@dataclass
class Catalog:
    """Every known item by index: catalog items and ids only seen in interactions."""

    ids: np.ndarray  # object array of item ids, sorted
    titles: np.ndarray
    texts: np.ndarray
    categories: np.ndarray  # object; None when unknown
    prices: np.ndarray  # float64; nan when unknown
    in_catalog: np.ndarray  # bool
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {item: i for i, item in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray]) -> Catalog:
        def obj(name: str) -> np.ndarray:
            values = cols[name]
            if np.ma.isMaskedArray(values):
                values = values.astype(object).filled(None)
            return np.asarray(values, dtype=object)

        prices = cols["price"]
        prices = (prices.astype(np.float64).filled(np.nan) if np.ma.isMaskedArray(prices)
                  else np.asarray(prices, dtype=np.float64))
        return cls(obj("item_id"), obj("title"), obj("text"), obj("category"), prices,
                   np.asarray(cols["in_catalog"], dtype=bool))

    def text_of(self, i: int) -> str:
        parts = [self.titles[i], self.categories[i], self.texts[i]]
        return ". ".join(str(p) for p in parts if p)


@dataclass
class Interactions:
    """Interactions sorted by user then time; `indptr` slices each user's run of rows."""

    n_users: int
    n_items: int
    user: np.ndarray  # int32
    item: np.ndarray  # int32
    ts: np.ndarray  # float64 epoch seconds
    weight: np.ndarray  # float32
    bought: np.ndarray  # bool
    indptr: np.ndarray = field(default=None)  # int64, n_users + 1

    def __post_init__(self) -> None:
        if self.indptr is None:
            counts = np.bincount(self.user, minlength=self.n_users)
            self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.user)

    def subset(self, mask: np.ndarray) -> Interactions:
        return Interactions(self.n_users, self.n_items, self.user[mask], self.item[mask], self.ts[mask],
                            self.weight[mask], self.bought[mask])

    def history(self, u: int) -> np.ndarray:
        """Gives a user's items, oldest first."""
        return self.item[self.indptr[u]:self.indptr[u + 1]]

    def user_items(self, binary: bool = False) -> sparse.csr_matrix:
        """Gives the user × item matrix of summed weights (or 1 where there is any interaction)."""
        values = np.ones(len(self), np.float32) if binary else self.weight
        m = sparse.csr_matrix((values, (self.user, self.item)), shape=(self.n_users, self.n_items),
                              dtype=np.float32)
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def bought_matrix(self) -> sparse.csr_matrix:
        """Gives user × item, 1 where the user bought the item (what "exclude bought" removes)."""
        mask = self.bought
        m = sparse.csr_matrix((np.ones(int(mask.sum()), np.float32), (self.user[mask], self.item[mask])),
                              shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        return m

    def recent(self, users: np.ndarray, last: int, decay: float) -> sparse.csr_matrix:
        """Gives users × items with weight decay**r on each user's r-th most recent item (r = 0 last)."""
        rows, cols, vals = [], [], []
        for row, u in enumerate(users):
            items = self.history(u)[-last:][::-1]
            rows.append(np.full(len(items), row))
            cols.append(items)
            vals.append(decay ** np.arange(len(items), dtype=np.float32))
        if not rows:
            return sparse.csr_matrix((len(users), self.n_items), dtype=np.float32)
        m = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(len(users), self.n_items), dtype=np.float32)
        m.sum_duplicates()
        return m

    def item_counts(self) -> np.ndarray:
        """Gives how many distinct users touched each item."""
        # a sort, not np.unique: numpy 2.4's hash-based unique took 9.9 s on 2M pairs here, a sort 0.06 s
        pairs = np.sort(self.user.astype(np.int64) * self.n_items + self.item)
        first = np.ones(len(pairs), bool)
        first[1:] = pairs[1:] != pairs[:-1]
        return np.bincount((pairs[first] % self.n_items).astype(np.int64), minlength=self.n_items)


@dataclass
class Dataset:
    """A workspace's (or a bench's) interactions with their catalog and the leave-last-out steps."""

    catalog: Catalog
    user_ids: np.ndarray  # object, sorted
    data: Interactions
    step_from_end: np.ndarray  # int64 per row: 1 = the user's last step (feedback steps not counted)
    user_index: dict[str, int] = field(default_factory=dict)
    feedback: np.ndarray | None = None  # bool per row: a step made of accepted suggestions only

    def __post_init__(self) -> None:
        if not self.user_index:
            self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        if self.feedback is None:
            self.feedback = np.zeros(len(self.data), bool)

    @classmethod
    def from_columns(cls, catalog: Catalog, seq: dict[str, np.ndarray]) -> Dataset:
        """Builds arrays from `Store.rec_sequences()` columns (already sorted by user and time)."""
        users, user_codes = np.unique(np.asarray(seq["user_id"], dtype=object), return_inverse=True)
        items = np.asarray(seq["item_id"], dtype=object)
        item_codes = np.fromiter((catalog.index[i] for i in items), dtype=np.int32, count=len(items))
        ts = np.asarray(seq["ts"], dtype=np.float64)
        order = np.lexsort((ts, user_codes))  # the database's string order need not be Python's
        data = Interactions(len(users), len(catalog), user_codes.astype(np.int32)[order], item_codes[order],
                            ts[order], np.asarray(seq["weight"], dtype=np.float32)[order],
                            np.asarray(seq["bought"], dtype=bool)[order])
        feedback = np.asarray(seq["feedback"], dtype=bool)[order] if "feedback" in seq else None
        return cls(catalog, users, data, np.asarray(seq["step_from_end"], dtype=np.int64)[order],
                   feedback=feedback)

    def split(self, holdout: int) -> tuple[Interactions, np.ndarray, np.ndarray]:
        """Gives (train, users, their held-out item): each user with at least holdout + 2 steps keeps its
        `holdout`-th last step out (1 = test, 2 = validation) and everything after it is dropped.

        Feedback steps (accepted suggestions) are never held out and not counted as steps: one before the
        held-out step is trained on, one after it is dropped with the rest of the future."""
        fb = self.feedback
        steps = np.bincount(self.data.user[~fb], minlength=self.data.n_users)
        eligible = steps >= holdout + 2
        row_ok = eligible[self.data.user]
        before = np.where(fb, self.step_from_end >= holdout, self.step_from_end > holdout)
        train_mask = ~row_ok | before
        target_mask = row_ok & ~fb & (self.step_from_end == holdout)
        return self.data.subset(train_mask), self.data.user[target_mask], self.data.item[target_mask]
