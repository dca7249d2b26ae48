"""Leave-last-out evaluation by time: each user's last step is the test, the one before it validation
(for tuning the hybrid's weights). HR@k, NDCG@k, MAP@k, catalog coverage and novelty per method."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from engine import cpus
from engine.errors import RecommendError
from engine.jobs import Step
from engine.recommend.base import Method
from engine.recommend.data import Dataset, Interactions
from engine.recommend.hybrid import DEFAULT_WEIGHTS, Hybrid, add_scaled, scaled

# Users scored at once: a batch's score matrices (users × items, one per method) stay in the CPU's cache.
# Measured on 20,000 items, scaling and top-10 of 512 users took 1,392 ms as one 512-row batch and 167 ms
# as 64-row batches (bench/recommend.py).
BATCH = 64
PROGRESS_EVERY = 2048  # users between progress steps
TUNE_USERS = 2000
GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass
class MethodScore:
    method: str
    hr: float
    ndcg: float
    map: float
    coverage: float
    novelty: float
    fit_s: float
    users: int
    fit_cpu_s: float = 0.0  # CPU seconds of the process (all threads): wall time lies on a busy machine


@dataclass
class EvalResult:
    """One evaluation run: a row per method, the hybrid's tuned weights and what was measured on."""

    rows: list[MethodScore]
    weights: dict[str, float]
    users: int
    events: int
    items: int
    k: int
    seconds: float
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """Gives the run in one line: its size and the best method by HR@k."""
        best = max(self.rows, key=lambda r: r.hr) if self.rows else None
        return (f"run {self.run_id}: {self.users:,} users, {self.events:,} interactions"
                + (f"; best {best.method} HR@{self.k} {best.hr:.3f}" if best else ""))


def build_methods(vectors: np.ndarray | None, names: tuple[str, ...] | None = None) -> dict[str, Method]:
    """Gives fresh instances of the methods (content only when item vectors are given)."""
    from engine.recommend.collaborative import ALS, CoOccurrence
    from engine.recommend.content import Content
    from engine.recommend.popularity import Popular, PopularInCategory
    from engine.recommend.sequence import Sequence

    methods: dict[str, Method] = {"popular": Popular(), "popular_category": PopularInCategory()}
    if vectors is not None:
        methods["content"] = Content(vectors)
    methods.update(als=ALS(), cooccur=CoOccurrence(), sequence=Sequence())
    if names:
        methods = {n: m for n, m in methods.items() if n in names}
    return methods


def fit_all(methods: dict[str, Method], data: Interactions, catalog, cancelled: Callable[[], bool]
            ) -> Iterator[tuple[str, float, float]]:
    """Fits each method, yielding (name, wall seconds, CPU seconds) as each finishes."""
    from engine.recommend.collaborative import Cancelled

    for name, method in methods.items():
        if cancelled():
            return
        start, cpu = time.perf_counter(), time.process_time()
        try:
            method.fit(data, catalog, cancelled)
        except Cancelled:
            return
        yield name, time.perf_counter() - start, time.process_time() - cpu


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Gives the indexes of each row's k best scores, best first."""
    n = scores.shape[1]
    k = min(k, n)
    part = np.argpartition(scores, n - k, axis=1)[:, n - k:]  # no negated copy of the whole matrix
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def _mask_bought(scores: np.ndarray, bought: sparse.csr_matrix, users: np.ndarray) -> np.ndarray:
    rows = bought[users].tocoo()
    scores[rows.row, rows.col] = -np.inf
    return scores


def _tiebreak(pop: np.ndarray) -> np.ndarray:
    """Gives a tiny popularity term: items a method has no evidence for fall back to the popular ones."""
    top = pop.max(initial=0.0)
    return (pop / top * 1e-6 if top > 0 else pop).astype(np.float32)


def tune_weights(hybrid: Hybrid, users: np.ndarray, targets: np.ndarray, bought: sparse.csr_matrix,
                 tiebreak: np.ndarray, k: int, cancelled: Callable[[], bool], candidates: int = 100
                 ) -> tuple[dict[str, float], float]:
    """Gives the blend weights with the best NDCG@k on the validation users (coordinate ascent on a grid).

    Each user's ranking is scored on the union of every method's top `candidates` items and the target:
    an item in no method's top 100 cannot reach a top 10 of their blend worth tuning for."""
    names = list(hybrid.weights)
    values = {n: [] for n in names}
    excluded, base = [], []
    for lo in range(0, len(users), BATCH):
        batch, target = users[lo:lo + BATCH], targets[lo:lo + BATCH]
        parts = {n: scaled(hybrid.components[n].scores(batch)) for n in names}
        c = min(candidates, len(tiebreak) - 1)
        tops = [np.argpartition(-parts[n], c, axis=1)[:, :c] for n in names]
        cand = np.concatenate([*tops, target[:, None]], axis=1)
        order = np.argsort(cand[:, :-1], axis=1, kind="stable")
        ordered = np.take_along_axis(cand[:, :-1], order, 1)
        dup = np.zeros(cand.shape, bool)
        repeat = np.zeros(ordered.shape, bool)
        repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        np.put_along_axis(dup[:, :-1], order, repeat, 1)
        dup[:, :-1] |= cand[:, :-1] == target[:, None]  # the target is counted once, in the last column
        banned = np.asarray(bought[batch].toarray() > 0)
        excluded.append(dup | np.take_along_axis(banned, cand, 1))
        base.append(tiebreak[cand])
        for n in names:
            values[n].append(np.take_along_axis(parts[n], cand, 1))
    values = {n: np.concatenate(v) for n, v in values.items()}
    excluded_all = np.concatenate(excluded)
    base_all = np.concatenate(base)

    def ndcg(weights: dict[str, float]) -> float:
        combined = base_all.copy()
        for n, w in weights.items():
            if w:
                combined += w * values[n]
        combined[excluded_all] = -np.inf
        target = combined[:, -1]
        rank = (combined > target[:, None]).sum(1)
        gains = np.where((rank < k) & np.isfinite(target), 1.0 / np.log2(rank + 2), 0.0)
        return float(gains.mean())

    weights = {n: 1.0 for n in names}
    best = ndcg(weights)
    for _ in range(2):
        for n in names:
            if cancelled():
                return weights, best
            for value in GRID:
                trial = dict(weights, **{n: value})
                score = ndcg(trial)
                if score > best + 1e-9:
                    best, weights = score, trial
    return weights, best


@dataclass
class Scored:
    """Per method: each test user's NDCG gain and AP@k, the items any top k held, the summed novelty."""

    gains: dict[str, np.ndarray]
    precision: dict[str, np.ndarray]
    seen: dict[str, np.ndarray]
    novelty: dict[str, float]


def score_users(methods: dict[str, Method], hybrid: Hybrid, train: Interactions, test_users: np.ndarray,
                test_items: np.ndarray, k: int, cancelled: Callable[[], bool] = lambda: False,
                threads: int | None = None) -> Iterator[str]:
    """Ranks k items per test user with every fitted method and the hybrid, yielding progress lines;
    returns a `Scored` (None when cancelled). `threads` default to two where there are two cores."""
    tiebreak = _tiebreak(methods["popular"].pop)
    bought = train.bought_matrix()
    counts = train.item_counts()
    information = -np.log2(np.clip(counts, 1, None) / max(train.n_users, 1))
    names = [*methods, "hybrid"]
    scored = Scored({n: np.zeros(len(test_users)) for n in names}, {n: np.zeros(len(test_users)) for n in names},
                    {n: np.zeros(train.n_items, bool) for n in names}, {n: 0.0 for n in names})

    weights = {n: w for n, w in hybrid.weights.items() if w}

    def score(lo: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Gives each method's top k and the test item's rank in it (-1: missed) for one batch of users.

        One method's score matrix at a time, changed in place and blended into the hybrid's as it goes:
        a batch keeps three users × items matrices in memory, not sixteen."""
        batch, targets = test_users[lo:lo + BATCH], test_items[lo:lo + BATCH]
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}

        def rank(name: str, scores: np.ndarray) -> None:
            scores += tiebreak
            top = top_k(_mask_bought(scores, bought, batch), k)
            hit = top == targets[:, None]
            out[name] = top, np.where(hit.any(1), hit.argmax(1), -1)

        blended = np.zeros((len(batch), len(tiebreak)), np.float32)
        scratch = None
        for name, method in methods.items():
            scores = method.scores(batch)
            if name in weights:  # the hybrid's part
                scratch = add_scaled(blended, scores, weights[name], scratch)
            rank(name, scores)
        rank("hybrid", blended)
        return out

    def drain(pending: deque, keep: int) -> Iterator[str]:
        """Takes finished batches in order until `keep` are left, adding them up."""
        while len(pending) > keep:
            at, future = pending.popleft()
            for n, (top, rank) in future.result().items():
                found = rank >= 0
                scored.gains[n][at:at + BATCH][found] = 1.0 / np.log2(rank[found] + 2)
                scored.precision[n][at:at + BATCH][found] = 1.0 / (rank[found] + 1)  # AP@k, one relevant
                scored.seen[n][top.ravel()] = True
                scored.novelty[n] += float(information[top].sum())
            done = min(at + BATCH, len(test_users))
            if done % PROGRESS_EVERY == 0 or done == len(test_users):
                yield f"scored {done:,} of {len(test_users):,} test users"

    # numpy's partitions, BLAS and scipy's sparse products release the GIL: batches on a thread per core
    # (each with one BLAS thread) use every core, where one thread left the second idle most of the time
    workers = threads or max(1, min(8, cpus.usable()))
    with ThreadPoolExecutor(workers) as pool, threadpool_limits(1 if workers > 1 else None, "blas"):
        pending: deque = deque()
        for lo in range(0, len(test_users), BATCH):
            if cancelled():
                for _, future in pending:
                    future.cancel()
                return None
            pending.append((lo, pool.submit(score, lo)))
            yield from drain(pending, 2 * workers)
        yield from drain(pending, 0)
    return scored


def time_notes(ts: np.ndarray, now: float | None = None) -> list[str]:
    """Gives a note for interactions dated before 1970 or in the future: leave-last-out orders by time, so
    the user is told how they were treated (kept as stamped: a future one is its user's test step)."""
    now = time.time() if now is None else now
    notes = []
    early, future = int((ts < 0).sum()), int((ts > now).sum())
    if early:
        notes.append(f"{early} interactions dated before 1970 were kept in time order as stamped (first in"
                     " their users' histories)")
    if future:
        notes.append(f"{future} interactions dated in the future were kept in time order as stamped: they are"
                     " their users' last steps, so leave-last-out tests on them")
    return notes


def evaluate(dataset: Dataset, vectors: np.ndarray | None, k: int = 10, weights: dict[str, float] | None = None,
             max_users: int | None = None, cancelled: Callable[[], bool] = lambda: False,
             seed: int = 7, threads: int | None = None) -> Iterator[Step]:
    """Runs the evaluation, yielding progress; returns an `EvalResult` (the generator's return value).

    `threads` score the test users (default: two where there are two cores or more)."""
    if k < 1:
        raise RecommendError(f"k = {k}: give a positive number of items to recommend (e.g. --k 10)")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    catalog = dataset.catalog
    total_steps = 4
    notes: list[str] = time_notes(dataset.data.ts)

    # 1. validation: fit on all but the last two steps, tune the hybrid on the step before the last.
    train, val_users, val_items = dataset.split(2)
    if len(val_users) == 0 and weights is None:
        notes.append("too few users with 4+ steps to tune the hybrid; default weights used")
    tuned = dict(weights) if weights else None
    if tuned is None and len(val_users):
        yield Step(0, total_steps, f"fitting on {len(train):,} events for validation")
        methods = build_methods(vectors)
        for name, _, _ in fit_all(methods, train, catalog, cancelled):
            yield Step(0, total_steps, f"validation: fitted {name}")
        if cancelled():
            return None
        components = {n: m for n, m in methods.items() if n in DEFAULT_WEIGHTS}
        hybrid = Hybrid(components, {n: 1.0 for n in components})
        pick = rng.permutation(len(val_users))[:TUNE_USERS]
        yield Step(1, total_steps, f"tuning hybrid weights on {len(pick):,} validation users")
        tuned, _ = tune_weights(hybrid, val_users[pick], val_items[pick], train.bought_matrix(),
                                _tiebreak(methods["popular"].pop), k, cancelled)
    tuned = tuned or {n: w for n, w in DEFAULT_WEIGHTS.items() if vectors is not None or n != "content"}

    # 2. test: refit on everything but the last step.
    train, test_users, test_items = dataset.split(1)
    if len(test_users) == 0:
        raise RecommendError("no user has 3 or more interactions; leave-last-out needs a history, a validation "
                             "step and a test step per user: import more interactions")
    if max_users and len(test_users) > max_users:
        pick = np.sort(rng.permutation(len(test_users))[:max_users])
        test_users, test_items = test_users[pick], test_items[pick]
    yield Step(2, total_steps, f"fitting on {len(train):,} events for the test")
    methods = build_methods(vectors)
    fit_s: dict[str, float] = {}
    fit_cpu: dict[str, float] = {}
    for name, seconds, cpu in fit_all(methods, train, catalog, cancelled):
        fit_s[name], fit_cpu[name] = seconds, cpu
        yield Step(2, total_steps, f"test: fitted {name} in {seconds:.1f} s")
    if cancelled():
        return None
    hybrid = Hybrid({n: m for n, m in methods.items() if n in DEFAULT_WEIGHTS}, tuned)
    fit_s["hybrid"] = sum(fit_s.get(n, 0.0) for n, w in hybrid.weights.items() if w)
    fit_cpu["hybrid"] = sum(fit_cpu.get(n, 0.0) for n, w in hybrid.weights.items() if w)
    scoring = score_users(methods, hybrid, train, test_users, test_items, k, cancelled, threads)
    while True:
        try:
            yield Step(3, total_steps, next(scoring))
        except StopIteration as stop:
            scored = stop.value
            break
    if scored is None:
        return None
    gains, precision, seen, novelty = scored.gains, scored.precision, scored.seen, scored.novelty
    names = list(gains)
    n_users = len(test_users)
    n_catalog = int(catalog.in_catalog.sum()) or train.n_items
    rows = [MethodScore(n, float((gains[n] > 0).mean()), float(gains[n].mean()), float(precision[n].mean()),
                        float(seen[n].sum() / n_catalog), novelty[n] / (n_users * k), fit_s.get(n, 0.0), n_users,
                        fit_cpu.get(n, 0.0))
            for n in names]
    yield Step(4, total_steps, "done")
    return EvalResult(rows, tuned, n_users, len(dataset.data), len(catalog), k,
                      time.perf_counter() - started, notes=notes)
