"""Feedback bench: does the Classify review queue pick better rows to label than chance, and is a queue step
fast enough?

1. Curves. On the shared Chinese reviews (sentiment, and the 9 product categories) and English banking
   intents: a stratified quarter held out for testing; 10 labelled examples per label to start; then 100
   more labels chosen by the queue (the live learner of engine/classify/learner.py, refitted after every
   answer, next row = the queue's order, engine/classify/review.py: smallest margin between its top two
   labels, weighted by typicality with more than two labels) against 100 chosen at random from the same
   pool (and, with more than two labels, against margin alone and lowest confidence). The order was
   chosen on seeds 0-4 (bench/feedback_order.py): report with --first-seed 5. At 0/25/50/100 added labels the
   set's real head (what `quarry classify` would then use) is fitted on the examples and scored on the
   test quarter. Both arms run in each seed (paired); the median over 5 seeds and the spread of the
   queue − random gap are reported.
2. Queue steps. A real workspace with a label set of 1,000 and of 10,000 examples and a 2,000-row pool:
   `review.for_rows` opens the queue, then each answer goes through `Queue.answer` (example + feedback
   stored in DuckDB, refit, re-rank); p50/p95 of the step per method. Goal: p95 ≤ 1 s at 10k.
3. Full refits. The saved heads (lexical, embedding, stack, tabular) fitted from zero at 1k and 10k
   examples: the time the queue's live learner avoids.

Usage: python bench/feedback.py [--seeds 5] [--first-seed 5] [--steps 30] [--skip-curves] [--skip-steps]
                               [--skip-refits]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, p50_p95, print_table, write_json

sys.path.insert(0, str(ROOT))

# ../shared/data beside the checkout (a worktree one level deeper finds it one level up)
DATA = next((p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
            ROOT.parent / "shared" / "data")
CREDIT = ROOT / "demo" / "classify" / "credit-applications.csv"
SETS = [  # (name, file, label column, method)
    ("zh-sentiment", "shopping_reviews_zh.csv", "sentiment", "lexical"),
    ("zh-category", "shopping_reviews_zh.csv", "category", "lexical"),
    ("en-banking", "banking_intents_en.csv", "intent", "embedding"),
]
START_PER_LABEL = 10
CHECKPOINTS = (25, 50, 100)


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4), "values": [round(v, 4) for v in values]}


def _encoder():
    from engine.classify.vectors import Embedder
    from engine.runtime.encoder import Encoder, default_variant

    return Embedder(Encoder("minilm-l6", variant=default_variant("minilm-l6")))


# -- 1. curves ---------------------------------------------------------------------------------------
def _head(method: str, embed):
    from engine.classify.embedding import EmbeddingHead
    from engine.classify.lexical import LexicalHead

    return LexicalHead() if method == "lexical" else EmbeddingHead(embed)


def _accuracy(method, embed, labels, texts, y, test_texts, test_y) -> float:
    from engine.classify.base import Examples, one_thread

    with one_thread():
        head = _head(method, embed).fit(Examples(labels, list(y), texts=list(texts)))
        predicted = [p.label for p in head.predict(test_texts)]
    return sum(p == t for p, t in zip(predicted, test_y)) / len(test_y)


def _arm(order: str, method, embed, labels, start, pool, rng) -> list[int]:
    """Gives the pool indices an arm labels, in order: the queue's picks (its own order, margin alone or
    lowest confidence, refitting after each) or a random draw."""
    import numpy as np

    from engine.classify.base import Examples, one_thread
    from engine.classify.learner import Learner
    from engine.classify.review import least_sure_key, margins, typicality

    n = max(CHECKPOINTS)
    if order == "random":
        return rng.sample(range(len(pool)), min(n, len(pool)))
    pool_texts = [t for t, _ in pool]
    typical = typicality(pool_texts) if order == "queue" else None
    chosen: list[int] = []
    with one_thread():
        learner = Learner(method, Examples(labels, [y for _, y in start], texts=[t for t, _ in start]),
                          pool_texts, embed)
        left = list(range(len(pool)))
        while left and len(chosen) < n:
            probs = learner.scores(left)
            ours = learner.labels
            # the learner's labels are the set's, in order; a column per label
            assert ours[: len(labels)] == labels
            if order == "queue":
                score = least_sure_key(margins(probs), typical[left], len(labels))
            else:
                score = margins(probs) if order == "margin" else probs.max(1)
            pick = left[int(np.argmin(score))]
            chosen.append(pick)
            left.remove(pick)
            learner.add(pick, pool[pick][1])
    return chosen


def curves(seeds: range, only: list[str] | None) -> dict:
    from engine.classify.base import Examples
    from engine.classify.evaluate import split
    from engine.classify.review import POOL_ROWS

    embed = _encoder()
    out = {}
    for name, file, label_column, method in SETS:
        if only and name not in only:
            continue
        rows = [r for r in _csv(DATA / file) if r["text"].strip()]
        texts = [r["text"] for r in rows]
        labels = sorted({r[label_column] for r in rows})
        y = [r[label_column] for r in rows]
        if method != "lexical":
            started = time.perf_counter()
            embed(texts)  # every vector once; the memo serves the folds
            print(f"{name}: encoded {len(texts)} texts in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        arms = ["queue", "random"] + (["margin", "confidence"] if len(labels) > 2 else [])
        acc: dict[str, dict[int, list[float]]] = {a: {c: [] for c in (0, *CHECKPOINTS)} for a in arms}
        pool_sizes = []
        for seed in seeds:
            rng = random.Random(seed)
            train, test = split(Examples(labels, y, texts=texts), 0.25, seed)
            by_label: dict[str, list[int]] = {}
            for i, label in enumerate(train.y):
                by_label.setdefault(label, []).append(i)
            start_idx = [i for label in labels for i in rng.sample(by_label[label], min(START_PER_LABEL,
                                                                                       len(by_label[label])))]
            taken = set(start_idx)
            rest = [i for i in range(len(train.y)) if i not in taken]
            if len(rest) > POOL_ROWS:  # the queue re-ranks at most this many rows (engine/classify/review.py)
                rest = rng.sample(rest, POOL_ROWS)
            pool = [(train.texts[i], train.y[i]) for i in rest]
            start = [(train.texts[i], train.y[i]) for i in start_idx]
            pool_sizes.append(len(pool))
            base = _accuracy(method, embed, labels, [t for t, _ in start], [lab for _, lab in start],
                             test.texts, test.y)
            for arm in (arms if seed % 2 == 0 else arms[::-1]):  # alternate which arm runs first
                started = time.perf_counter()
                picks = _arm(arm, method, embed, labels, start, pool, random.Random(1000 + seed))
                acc[arm][0].append(base)
                for c in CHECKPOINTS:
                    added = [pool[i] for i in picks[:c]]
                    acc[arm][c].append(_accuracy(method, embed, labels, [t for t, _ in start + added],
                                                 [lab for _, lab in start + added], test.texts, test.y))
                print(f"{name} seed {seed} {arm}: " + " ".join(f"{c}:{acc[arm][c][-1]:.3f}" for c in CHECKPOINTS)
                      + f" ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        result = {"method": method, "labels": len(labels), "rows": len(rows), "test_fraction": 0.25,
                  "start_examples": START_PER_LABEL * len(labels), "pool": statistics.median(pool_sizes),
                  "seeds": list(seeds), "accuracy": {a: {str(c): _spread(v) for c, v in acc[a].items()} for a in arms}}
        for other in arms[1:]:
            result[f"gap_queue_minus_{other}"] = {
                str(c): _spread([m - r for m, r in zip(acc["queue"][c], acc[other][c])]) for c in CHECKPOINTS}
        out[name] = result
    return out


# -- 2. queue steps ------------------------------------------------------------------------------------
def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def steps(sizes: list[int], methods: list[str], answers: int) -> list[dict]:
    from engine.classify import review, sets
    from engine.workspace import Workspace

    rows = [(r["text"], r["sentiment"]) for r in _csv(DATA / "shopping_reviews_zh.csv") if r["text"].strip()]
    rng = random.Random(0)
    rng.shuffle(rows)
    pool, rest = rows[:2000], rows[2000:]
    truth = dict(pool)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        pool_file = _write(Path(tmp) / "pool.csv", pool)
        for size in sizes:
            # beyond the set's distinct rows, examples repeat (sampled with replacement): the fit's cost is in
            # the number of rows, not in their being new
            examples = rest[:size] if size <= len(rest) else rest + rng.choices(rest, k=size - len(rest))
            seed_file = _write(Path(tmp) / f"seed{size}.csv", examples)
            # one workspace per size: its encoder's memo serves every method (the stack reuses the embedding
            # queue's vectors); each queue adds its answers to the set, a few dozen beside thousands
            with Workspace(Path(tmp) / f"ws-{size}") as ws:
                sets.import_examples(ws, "zh", "label", file=seed_file, text_column="text")
                for method in methods:
                    started = time.perf_counter()
                    queue = review.for_rows(ws, "zh", "text", file=pool_file, method=method)
                    opened = time.perf_counter() - started
                    times, cpu = [], []
                    for _ in range(answers):
                        started_cpu = time.process_time()
                        step = queue.answer(truth[queue.current.text])
                        cpu.append((time.process_time() - started_cpu) * 1000)
                        times.append(step.seconds * 1000)
                    # CPU time beside wall time: on this shared machine (load 7-20 on 2 cores while it ran) the
                    # wall time of a step is mostly waiting for a core
                    row = {"examples": size, "method": method, "open_s": round(opened, 2), "answers": answers,
                           **p50_p95(times), "max_ms": round(max(times), 1),
                           "cpu_p50_ms": p50_p95(cpu)["p50_ms"], "cpu_p95_ms": p50_p95(cpu)["p95_ms"],
                           "load_avg": round(os.getloadavg()[0], 1)}
                    print(f"steps {size} {method}: open {opened:.1f} s, p50 {row['p50_ms']:.0f} ms,"
                          f" p95 {row['p95_ms']:.0f} ms", file=sys.stderr)
                    out.append(row)
    return out


# -- 3. full refits of the saved heads --------------------------------------------------------------
def refits(sizes: list[int]) -> list[dict]:
    from engine.classify.base import Examples, one_thread
    from engine.classify.embedding import EmbeddingHead
    from engine.classify.lexical import LexicalHead
    from engine.classify.stack import Stack
    from engine.classify.tabular import Tabular

    embed = _encoder()
    rows = [(r["text"], r["sentiment"]) for r in _csv(DATA / "shopping_reviews_zh.csv") if r["text"].strip()]
    credit = _csv(CREDIT)
    features = [c for c in credit[0] if c not in ("outcome", "applicant_id", "id")]
    rng = random.Random(0)
    out = []
    for size in sizes:
        sample = rows[:size] if size <= len(rows) else rows + rng.choices(rows, k=size - len(rows))
        texts, y = [t for t, _ in sample], [lab for _, lab in sample]
        embed(texts)  # vectors first: a refit reuses them (the Embedder's memo), so encoding is not counted
        text_data = Examples(sorted(set(y)), y, texts=texts)
        records = credit if size <= len(credit) else credit + rng.choices(credit, k=size - len(credit))
        records = records[:size]
        tab_data = Examples(sorted({r["outcome"] for r in records}), [r["outcome"] for r in records],
                            records=[{f: r[f] for f in features} for r in records], features=features)
        for name, make, data in (("lexical", LexicalHead, text_data), ("embedding", lambda: EmbeddingHead(embed),
                                 text_data), ("stack", lambda: Stack(embed), text_data),
                                 ("tabular", Tabular, tab_data)):
            with one_thread():
                started = time.perf_counter()
                make().fit(data)
                took = time.perf_counter() - started
            print(f"refit {name} at {size}: {took:.2f} s", file=sys.stderr)
            out.append({"examples": size, "head": name, "full_refit_s": round(took, 2)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=5,
                        help="the curves' first seed (the queue's order was chosen on seeds 0-4)")
    parser.add_argument("--steps", type=int, default=30, help="answers timed per queue")
    parser.add_argument("--sets", nargs="*", help="only these curve sets")
    parser.add_argument("--skip-curves", action="store_true")
    parser.add_argument("--skip-steps", action="store_true")
    parser.add_argument("--skip-refits", action="store_true")
    args = parser.parse_args()
    result: dict = {"start_per_label": START_PER_LABEL, "checkpoints": list(CHECKPOINTS),
                    "order": "margin with two labels, margin weighted by typicality with more"}
    if not args.skip_curves:
        result["curves"] = curves(range(args.first_seed, args.first_seed + args.seeds), args.sets)
        table = []
        for name, r in result["curves"].items():
            for c in CHECKPOINTS:
                row = {"set": name, "method": r["method"], "added": c,
                       "start": r["accuracy"]["queue"]["0"]["median"],
                       "queue": r["accuracy"]["queue"][str(c)]["median"],
                       "random": r["accuracy"]["random"][str(c)]["median"],
                       "gap": r["gap_queue_minus_random"][str(c)]["median"],
                       "gap_min": r["gap_queue_minus_random"][str(c)]["min"],
                       "gap_max": r["gap_queue_minus_random"][str(c)]["max"]}
                if "confidence" in r["accuracy"]:
                    row["margin_only"] = r["accuracy"]["margin"][str(c)]["median"]
                    row["lowest_conf"] = r["accuracy"]["confidence"][str(c)]["median"]
                table.append(row)
        print_table(f"Test accuracy, median of seeds {args.first_seed}-{args.first_seed + args.seeds - 1}: the "
                    "queue's order vs random picks", table,
                    ["set", "method", "added", "start", "queue", "random", "margin_only", "lowest_conf", "gap",
                     "gap_min", "gap_max"])
    if not args.skip_steps:
        result["steps"] = steps([1000, 10_000], ["lexical", "embedding", "stack"], args.steps)
        print_table("Queue step (answer -> stored -> refit -> re-ranked), 2,000-row pool", result["steps"],
                    ["examples", "method", "open_s", "answers", "p50_ms", "p95_ms", "max_ms", "cpu_p50_ms",
                     "cpu_p95_ms", "load_avg"])
    if not args.skip_refits:
        result["refits"] = refits([1000, 10_000])
        print_table("Saved heads fitted from zero", result["refits"], ["examples", "head", "full_refit_s"])
    previous = RESULTS / "feedback.json"
    if previous.exists():  # a run of some parts keeps the others' last figures
        import json

        kept = json.loads(previous.read_text())
        result = {**{k: v for k, v in kept.items() if k in ("curves", "steps", "refits")}, **result}
    write_json("feedback", result)


if __name__ == "__main__":
    main()
