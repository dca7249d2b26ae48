"""Recommendation at scale: leave-last-out evaluation of every method on a generated log, fit times, one-user
latency from precomputed structures, and how fit time grows from 200k to 2M events.

The log has the structure of a shop's: items in categories with Zipf popularity, users who favour a few
categories, and sequences (an item is often followed by its "next" item of the same category).

    python bench/recommend.py                       # 200k and 2M events (100,000 users × 20,000 items)
    python bench/recommend.py --sizes 200000        # one size only
    python bench/recommend.py --max-users 20000     # score a sample of test users (say so in the report)

Prints a table and writes bench/results/recommend.json."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "recommend.json"
WORDS = ("quiet compact sturdy light premium budget foldable ergonomic durable slim warm bright soft smart "
         "classic modern portable wireless").split()
KINDS = ("desk chair lamp shelf phone case charger cable laptop mouse keyboard monitor kettle mug pan "
         "tent stove boots jacket bag pen notebook speaker camera watch").split()


def generate(folder: Path, users: int, items: int, events: int, seed: int = 1) -> tuple[Path, Path]:
    """Writes catalog.parquet and interactions.parquet with the structure described above."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_cat = max(10, items // 100)
    category = rng.integers(0, n_cat, items)
    kind = rng.integers(0, len(KINDS), items)
    adjective = rng.integers(0, len(WORDS), items)
    price = np.round(rng.lognormal(3.5, 1.0, items), 2)
    titles = [f"{WORDS[a]} {KINDS[k]} {i}" for i, (a, k) in enumerate(zip(adjective, kind))]
    texts = [f"A {WORDS[a]} {KINDS[k]} from range {c}." for a, k, c in zip(adjective, kind, category)]
    item_ids = np.array([f"i{i:06d}" for i in range(items)])
    pq.write_table(pa.table({"item_id": item_ids, "title": titles, "text": texts,
                             "category": [f"cat{c:03d}" for c in category], "price": price}),
                   folder / "catalog.parquet")
    # popularity: Zipf over items within each category; each item's "next" item is in its category
    members = [np.flatnonzero(category == c) for c in range(n_cat)]
    pop = 1.0 / np.arange(1, items + 1) ** 0.9
    rng.shuffle(pop)
    nxt = np.empty(items, np.int64)
    for m in members:
        nxt[m] = np.roll(rng.permutation(m), 1) if len(m) > 1 else m
    # users: activity long-tailed, 2 favourite categories
    activity = rng.lognormal(0, 1.0, users)
    per_user = np.maximum(2, np.round(activity / activity.sum() * events)).astype(np.int64)
    user = np.repeat(np.arange(users), per_user)[:events]
    n = len(user)
    favourite = rng.integers(0, n_cat, (users, 2))
    cats = favourite[user, rng.integers(0, 2, n)]
    cats = np.where(rng.random(n) < 0.15, rng.integers(0, n_cat, n), cats)
    item = np.empty(n, np.int64)
    for c in range(n_cat):  # sample each category's draws at once
        rows = np.flatnonzero(cats == c)
        if len(rows) and len(members[c]):
            weights = pop[members[c]] / pop[members[c]].sum()
            item[rows] = rng.choice(members[c], size=len(rows), p=weights)
    user = np.sort(user)  # already grouped; within a user, rows are in time order
    follow = (np.r_[False, user[1:] == user[:-1]]) & (rng.random(n) < 0.45)
    item[follow] = nxt[item[np.flatnonzero(follow) - 1]]  # sequences: the next item of what came before
    ts = rng.uniform(0, 180 * 86400, n)
    ts = ts[np.lexsort((ts, user))]  # increasing within each user's block
    times = np.datetime64("2026-05-01T00:00:00") + ts.astype(np.int64).astype("timedelta64[s]")
    event = np.where(rng.random(n) < 0.3, "purchase", "view")
    pq.write_table(pa.table({"user_id": np.char.add("u", user.astype(str)), "item_id": item_ids[item],
                             "event": event, "timestamp": times}), folder / "interactions.parquet")
    return folder / "catalog.parquet", folder / "interactions.parquet"


_ITEM_VECTORS: dict[int, np.ndarray] = {}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scoring_threads(dataset, vectors, rounds: int, sample: int) -> dict:
    """Times scoring test users on one thread against two, alternating the sides over `rounds` rounds on
    methods fitted once; gives the per-round seconds and the median and spread of the ratio."""
    from engine.recommend.evaluate import build_methods, fit_all, score_users
    from engine.recommend.hybrid import DEFAULT_WEIGHTS, Hybrid

    train, users, items = dataset.split(1)
    pick = np.sort(np.random.default_rng(5).permutation(len(users))[:sample])
    users, items = users[pick], items[pick]
    methods = build_methods(vectors)
    for _ in fit_all(methods, train, dataset.catalog, lambda: False):
        pass
    hybrid = Hybrid({n: m for n, m in methods.items() if n in DEFAULT_WEIGHTS}, DEFAULT_WEIGHTS)
    times: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for threads in ((1, 2) if r % 2 == 0 else (2, 1)):
            t = time.perf_counter()
            for _ in score_users(methods, hybrid, train, users, items, 10, threads=threads):
                pass
            times[threads].append(time.perf_counter() - t)
    ratios = [a / b for a, b in zip(times[1], times[2])]
    return {"users": len(users), "rounds": rounds, "one_thread_s": times[1], "two_threads_s": times[2],
            "speedup_median": float(np.median(ratios)), "speedup_min": min(ratios), "speedup_max": max(ratios)}


def run_size(users: int, items: int, events: int, max_users: int | None, latency_users: int,
             content: bool = True, thread_rounds: int = 0) -> dict:
    from engine import recommend as rec
    from engine.recommend.evaluate import evaluate
    from engine.workspace import Workspace

    out: dict = {"users": users, "items": items, "events_asked": events}
    with tempfile.TemporaryDirectory(prefix="quarry-bench-rec-") as scratch:
        folder = Path(scratch)
        t = time.perf_counter()
        catalog, log = generate(folder, users, items, events)
        out["generate_s"] = time.perf_counter() - t
        with Workspace(folder / "ws") as ws:
            t = time.perf_counter()
            reports = rec.import_data(ws, str(log), str(catalog))
            out["import_s"] = time.perf_counter() - t
            out["events"] = reports[1].rows
            t = time.perf_counter()
            dataset = rec.load_dataset(ws)
            out["load_s"] = time.perf_counter() - t
            out["steps"] = len(dataset.data)
            t = time.perf_counter()
            vectors = None
            if content:  # the same seed gives every size the same catalog: its vectors are encoded once
                vectors = _ITEM_VECTORS.get(items)
                out["item_vectors"] = "reused from the smaller size" if vectors is not None else "encoded"
                if vectors is None:
                    vectors = _ITEM_VECTORS[items] = rec.item_vectors(ws, dataset.catalog)
            out["encode_items_s"] = time.perf_counter() - t
            t, cpu = time.perf_counter(), time.process_time()
            steps = evaluate(dataset, vectors, k=10, max_users=max_users)
            while True:
                try:
                    step = next(steps)
                    print(f"  [{time.perf_counter() - t:6.1f} s] {step.message}", file=sys.stderr)
                except StopIteration as stop:
                    result = stop.value
                    break
            out["eval_s"] = time.perf_counter() - t
            out["eval_cpu_s"] = time.process_time() - cpu
            out["load_avg_1m"] = os.getloadavg()[0]
            out["eval_users"] = result.users
            out["weights"] = result.weights
            out["rows"] = [r.__dict__ for r in result.rows]
            out["peak_mb_after_eval"] = peak_mb()
            if thread_rounds:
                out["scoring_threads"] = threads = scoring_threads(dataset, vectors, thread_rounds, 2048)
                print(f"scoring {threads['users']:,} users, 2 threads vs 1 over {thread_rounds} alternating rounds: "
                      f"{threads['speedup_median']:.2f}x (spread {threads['speedup_min']:.2f}-"
                      f"{threads['speedup_max']:.2f}); 1 thread median {np.median(threads['one_thread_s']):.1f} s",
                      file=sys.stderr, flush=True)
            # one-user latency, served from structures fitted on all interactions
            engine = rec.Recommender(ws, dataset)
            engine._vectors = vectors
            methods = tuple(m for m in rec.METHODS if content or m not in ("content", "hybrid"))
            fit = {}
            for name, seconds in engine.fit(methods):
                fit[name] = seconds
            out["serve_fit_s"] = fit
            rng = np.random.default_rng(3)
            sample = rng.choice(dataset.user_ids, size=min(latency_users, len(dataset.user_ids)), replace=False)
            latency = {}
            for method in methods:
                times, cpu_times = [], []
                for user in sample:
                    t, c = time.perf_counter(), time.thread_time()
                    engine.for_user(str(user), method, 10)
                    times.append((time.perf_counter() - t) * 1000)
                    cpu_times.append((time.thread_time() - c) * 1000)
                latency[method] = {"p50_ms": float(np.percentile(times, 50)),
                                   "p95_ms": float(np.percentile(times, 95)),
                                   "p50_cpu_ms": float(np.percentile(cpu_times, 50))}
            out["latency"] = latency
            out["peak_mb"] = peak_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 2_000_000],
                        help="event counts; users scale with events (100,000 users at 2M), 20,000 items")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--max-users", type=int, default=None)
    parser.add_argument("--latency-users", type=int, default=200)
    parser.add_argument("--no-content", action="store_true", help="leave out the content method (no encoder)")
    parser.add_argument("--thread-rounds", type=int, default=5,
                        help="rounds of scoring on one thread against two, at the first size (0: skip)")
    args = parser.parse_args()
    runs = []
    for events in args.sizes:
        users = max(1000, events // 20)
        print(f"== {events:,} events, {users:,} users, {args.items:,} items", file=sys.stderr)
        run = run_size(users, args.items, events, args.max_users, args.latency_users, not args.no_content,
                       args.thread_rounds if not runs else 0)
        runs.append(run)
        print(f"{run['events']:,} events ({run['steps']:,} steps after merging repeats), eval on "
              f"{run['eval_users']:,} users in {run['eval_s']:.0f} s wall, {run['eval_cpu_s']:.0f} s CPU "
              f"(load {run['load_avg_1m']:.0f} on {os.cpu_count()} cores); import {run['import_s']:.1f} s, "
              f"encode items {run['encode_items_s']:.1f} s; peak {run['peak_mb']:.0f} MB")
        print(f"{'method':18} {'HR@10':>7} {'NDCG@10':>8} {'MAP@10':>7} {'cover':>6} {'novel':>6} {'fit s':>7} "
              f"{'fit cpu':>7} {'p50 ms':>7} {'p95 ms':>7} {'p50 cpu':>7}")
        for r in run["rows"]:
            lat = run["latency"].get(r["method"], {})
            print(f"{r['method']:18} {r['hr']:7.3f} {r['ndcg']:8.3f} {r['map']:7.3f} {r['coverage']:6.2f} "
                  f"{r['novelty']:6.2f} {r['fit_s']:7.1f} {r['fit_cpu_s']:7.1f} {lat.get('p50_ms', 0):7.1f} "
                  f"{lat.get('p95_ms', 0):7.1f} {lat.get('p50_cpu_ms', 0):7.1f}")
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        growth = {}
        for a, b in zip(small["rows"], large["rows"]):
            if a["fit_cpu_s"] > 0:
                growth[a["method"]] = b["fit_cpu_s"] / a["fit_cpu_s"]
        ratio = large["events"] / small["events"]
        print(f"fit CPU time growth for {ratio:.0f}x events: "
              + ", ".join(f"{m} {g:.1f}x" for m, g in growth.items()))
    else:
        growth = {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": runs, "fit_growth": growth, "cpus": os.cpu_count(),
                                   "threads": os.environ.get("OMP_NUM_THREADS")}, indent=2, default=str))
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
