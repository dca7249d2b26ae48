"""The recommender: a workspace's catalog and interactions with its fitted methods, cached while the data
stays the same, serving requests for a user, for an item and for a text, each item with a reason."""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator

import numpy as np

from engine.errors import RecommendError
from engine.recommend.data import Catalog, Dataset
from engine.recommend.methods import METHODS
from engine.recommend.requests import (
    Filters,
    Recommendation,
    Recommendations,
    check_k,
    cjk_share,
    filters_given,
    parse_request,
)

__all__ = ["Recommender", "item_vectors", "load_dataset", "recommender", "tuned_weights"]


class Recommender:
    """A workspace's data and fitted methods, kept while the data stays the same (`rec_data_version`)."""

    def __init__(self, ws, dataset: Dataset | None = None) -> None:
        self.ws = ws
        self.version = ws.store.rec_data_version() if ws is not None else (0, 0)
        self.dataset = dataset if dataset is not None else load_dataset(ws)
        self.catalog: Catalog = self.dataset.catalog
        self._vectors: np.ndarray | None = None
        self._methods: dict = {}
        self._lock = threading.RLock()
        self._bought = None
        self._category_aliases: dict[str, str] | None = None
        self._terms: tuple[list[set[str]], dict[str, float]] | None = None

    # -- fitted parts ----------------------------------------------------------------------------
    def vectors(self) -> np.ndarray:
        """Gives the encoder's vector of every item, cached on disk by the catalog's content."""
        with self._lock:
            if self._vectors is None:
                self._vectors = item_vectors(self.ws, self.catalog)
            return self._vectors

    def method(self, name: str, cancelled: Callable[[], bool] = lambda: False):
        """Gives a fitted method (fitting it on all interactions on first use)."""
        from engine.recommend.evaluate import build_methods
        from engine.recommend.hybrid import Hybrid

        if name not in METHODS:
            raise RecommendError(f"unknown method '{name}'; choose one of {', '.join(METHODS)}")
        with self._lock:
            if name not in self._methods:
                if name == "hybrid":
                    weights = tuned_weights(self.ws)
                    parts = {n: self.method(n, cancelled) for n in weights if n in METHODS}
                    method = Hybrid(parts, weights)
                else:
                    vectors = self.vectors() if name == "content" else None
                    method = build_methods(vectors, (name,))[name]
                method.fit(self.dataset.data, self.catalog, cancelled)
                self._methods[name] = method
            return self._methods[name]

    def fit(self, names: tuple[str, ...] = METHODS, cancelled: Callable[[], bool] = lambda: False
            ) -> Iterator[tuple[str, float]]:
        """Fits the named methods, yielding (name, seconds) as each is ready."""
        from engine.recommend.collaborative import Cancelled

        for name in names:
            if cancelled():
                return
            start = time.perf_counter()
            try:
                self.method(name, cancelled)
            except Cancelled:
                return
            yield name, time.perf_counter() - start

    def _allowed(self, filters: Filters) -> np.ndarray:
        # an item only the interactions know (it left the catalog) is not suggested: it cannot be bought,
        # accepted or dismissed; a store imported without a catalog has only such items, and suggests them
        in_catalog = self.catalog.in_catalog
        ok = in_catalog.copy() if in_catalog.any() else np.ones(len(self.catalog), bool)
        if filters.category:
            wanted = filters.category.lower()
            known = {str(c).lower() for c in self.catalog.categories if c is not None}
            if wanted not in known:
                raise RecommendError(f"unknown category '{filters.category}'; the catalog has: "
                                     f"{', '.join(sorted({str(c) for c in self.catalog.categories if c}))}")
            ok &= np.array([c is not None and str(c).lower() == wanted for c in self.catalog.categories])
        prices = self.catalog.prices
        if filters.price_min is not None:
            ok &= prices >= filters.price_min
        if filters.price_max is not None:
            ok &= prices <= filters.price_max
        return ok

    def _rank(self, scores: np.ndarray, allowed: np.ndarray, k: int, exclude: np.ndarray | None = None
              ) -> list[int]:
        popular = self.method("popular")
        scores = np.where(allowed, scores + popular.pop_norm * 1e-6, -np.inf)
        if exclude is not None and len(exclude):
            scores[exclude] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]

    def _items(self, ranked: list[int], scores: np.ndarray, reasons: list[str]) -> list[Recommendation]:
        c = self.catalog
        return [Recommendation(r + 1, str(c.ids[i]), str(c.titles[i]), c.categories[i],
                               None if np.isnan(c.prices[i]) else float(c.prices[i]), float(scores[i]), reason)
                for r, (i, reason) in enumerate(zip(ranked, reasons))]

    # -- requests ---------------------------------------------------------------------------------
    def for_user(self, user_id: str, method: str = "hybrid", k: int = 10, filters: Filters | None = None
                 ) -> Recommendations:
        """Gives the user's top k with reasons; a user with no history gets popular items, and is told so."""
        started = time.perf_counter()
        check_k(k)
        filters = filters or Filters()
        allowed = self._allowed(filters)
        u = self.dataset.user_index.get(user_id)
        note = ""
        answered = self._answered(user_id)
        if u is None:
            note, method = f"new user '{user_id}' — popular items", "popular"
            popular = self.method("popular")
            scores = popular.pop_norm
            ranked = self._rank(scores, allowed, k, answered)
            reasons = popular.explain(-1, ranked)
        else:
            chosen = self.method(method)
            scores = chosen.scores(np.array([u]))[0]
            exclude = self._bought_items(u) if filters.exclude_bought else None
            if len(answered):
                exclude = answered if exclude is None else np.concatenate([exclude, answered])
            ranked = self._rank(scores, allowed, k, exclude)
            reasons = chosen.explain(u, ranked)
            reasons = [r if scores[i] > 0 or method in ("content", "als") else "popular (no closer match)"
                       for i, r in zip(ranked, reasons)]
        return Recommendations(self._items(ranked, scores, reasons), method, note,
                               (time.perf_counter() - started) * 1000, filters)

    def _answered(self, user_id: str) -> np.ndarray:
        """Gives the indexes of the items the user accepted or dismissed: never suggested to them again
        (read per request, so a dismissal counts at once, without a refit)."""
        if self.ws is None:
            return np.zeros(0, np.int64)
        from engine.recommend.feedback import answered

        index = self.catalog.index
        return np.array([index[i] for i in answered(self.ws, user_id) if i in index], np.int64)

    def _bought_items(self, u: int) -> np.ndarray:
        data = self.dataset.data
        lo, hi = data.indptr[u], data.indptr[u + 1]
        return data.item[lo:hi][data.bought[lo:hi]]

    def similar(self, item_id: str, method: str = "hybrid", k: int = 10, filters: Filters | None = None
                ) -> Recommendations:
        """Gives items like this one; a new item (no interactions) is matched by its description."""
        started = time.perf_counter()
        check_k(k)
        filters = filters or Filters(exclude_bought=False)
        i = self.catalog.index.get(item_id)
        if i is None:
            raise RecommendError(f"unknown item '{item_id}'; `quarry recommend --query TEXT` searches the catalog")
        allowed = self._allowed(filters)
        note = ""
        interacted = self.method("popular").buyers[i] > 0
        if not interacted and method != "content":
            note, method = f"new item '{item_id}' — no interactions yet, similar by description", "content"
        chosen = self.method(method)
        scores = chosen.similar(i)
        ranked = self._rank(scores, allowed, k, np.array([i]))
        return Recommendations(self._items(ranked, scores, chosen.explain_similar(i, ranked)), method, note,
                               (time.perf_counter() - started) * 1000, filters)

    def category_aliases(self) -> dict[str, str]:
        """Gives lower-cased category names and their aliases (attributes' category_zh) -> category."""
        if self._category_aliases is None:
            aliases = {str(c).lower(): str(c) for c in self.catalog.categories if c is not None}
            if self.ws is not None:
                aliases.update({alias.lower(): name for alias, name in self.ws.store.rec_category_aliases()})
            self._category_aliases = aliases
        return self._category_aliases

    def item_terms(self) -> tuple[list[set[str]], dict[str, float]]:
        """Gives each item's content terms and each term's rarity (idf; "" holds an unseen term's)."""
        from collections import Counter

        from engine.documents.terms import content_terms

        with self._lock:
            if self._terms is None:
                terms = [content_terms(self.catalog.text_of(i)) for i in range(len(self.catalog))]
                df = Counter(t for item in terms for t in item)
                n = len(terms)
                idf = {t: float(np.log((n + 1) / (c + 1))) for t, c in df.items()}
                idf[""] = float(np.log(n + 1))
                self._terms = (terms, idf)
            return self._terms

    def query(self, text: str, k: int = 10, filters: Filters | None = None) -> Recommendations:
        """Gives catalog items matching a request; price and category phrases in it become filters unless
        `filters` gives them."""
        from engine.documents.terms import content_terms

        started = time.perf_counter()
        check_k(k)
        if not text.strip():
            raise RecommendError("empty request; describe what you want, e.g. 'a quiet chair under 200'")
        rest, parsed = parse_request(text, self.category_aliases())
        given = filters or Filters(exclude_bought=False)
        filters = Filters(given.category or parsed.category,
                          given.price_min if given.price_min is not None else parsed.price_min,
                          given.price_max if given.price_max is not None else parsed.price_max, False)
        allowed = self._allowed(filters)
        content = self.method("content")
        query_vector = self.ws.encoder().encode([rest or text])[0]
        sims, found = content.search(query_vector, len(self.catalog))  # FAISS, exact inner product
        semantic = np.zeros(len(self.catalog), np.float32)
        semantic[found] = sims
        terms, idf = self.item_terms()
        wanted = content_terms(rest or text)
        lexical = np.zeros(len(self.catalog), np.float32)
        matched: dict[int, list[str]] = {}
        total = sum(idf.get(t, idf[""]) for t in wanted)
        if wanted and total > 0:
            for i in np.flatnonzero(allowed):
                common = wanted & terms[i]
                if common:
                    lexical[i] = sum(idf.get(t, idf[""]) for t in common) / total
                    matched[int(i)] = sorted(common, key=lambda t: -idf.get(t, 0.0))
        # The encoder reads English; for Chinese its cosine means little, so the words carry the request.
        cjk = cjk_share(rest or text)
        scores = (1.0 - 0.7 * cjk) * semantic + (0.5 + 2.0 * cjk) * lexical
        ranked = self._rank(scores, allowed, k)
        reasons = []
        for i in ranked:
            words = matched.get(i)
            base = f"matches {', '.join(words[:4])}" if words else f"close in meaning ({semantic[i]:.2f})"
            reasons.append(base + (f"; {filters.describe()}" if filters.describe() else ""))
        note = f"filters from the request: {filters.describe()}" if (parsed.describe() and not filters_given(given)) \
            else ""
        return Recommendations(self._items(ranked, scores, reasons), "query", note,
                               (time.perf_counter() - started) * 1000, filters)


def load_dataset(ws) -> Dataset:
    """Gives the workspace's catalog and interactions as arrays; no interactions is an error saying how."""
    if ws.store.rec_counts().events == 0:
        raise RecommendError("no interactions in this workspace; run `quarry recommend import --interactions "
                             "FILE --items FILE` (or `quarry recommend import --demo`)")
    catalog = Catalog.from_columns(ws.store.rec_catalog())
    return Dataset.from_columns(catalog, ws.store.rec_sequences())


def item_vectors(ws, catalog: Catalog) -> np.ndarray:
    """Gives an encoder vector per item (title, category, text), cached under indexes/recommend/."""
    encoder_id = ws.encoder_id if ws is not None else "minilm-l6"
    texts = [catalog.text_of(i) for i in range(len(catalog))]
    digest = hashlib.sha256("\x1f".join([encoder_id, *texts]).encode()).hexdigest()[:16]
    folder = ws.indexes_dir / "recommend" if ws is not None else None
    path = folder / f"items-{digest}.npy" if folder else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = ws.encoder().encode(texts, batch_size=64)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("items-*.npy"):
            old.unlink()
        np.save(path, vectors)
    return vectors


def tuned_weights(ws) -> dict[str, float]:
    """Gives the hybrid weights of the latest evaluation run, else the defaults."""
    from engine.recommend.hybrid import DEFAULT_WEIGHTS

    if ws is not None:
        for run in ws.store.rec_runs(limit=1):
            weights = run.params.get("weights")
            if weights and run.params.get("rec_version") == ws.store.rec_version():
                return weights
    return dict(DEFAULT_WEIGHTS)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def recommender(ws) -> Recommender:
    """Gives the workspace's recommender, rebuilt when its data changed since it was built."""
    with _CACHE_LOCK:
        found = _CACHE.get(ws)
        if found is None or found.version != ws.store.rec_data_version():
            found = Recommender(ws)
            _CACHE[ws] = found
        return found
