"""Which rows should the review queue ask about first? The smallest margin between the top two labels
against random picks and against the margin weighted by how typical a row is of the queue
(engine/classify/review.py `typicality`: its character-bigram TF-IDF vector's cosine with the queue's
mean, over its mean), the information density of Settles & Craven 2008: a row between two labels that is
also like many others moves the boundary for more of them than an odd one. On seeds 0-4 the weighted
margin won with more than two labels and the margin alone with two; the queue now orders that way.

Same protocol as bench/feedback.py's curves (a stratified quarter held out; 10 labelled rows per label;
100 more picked from a 2,000-row pool, the live learner refitted after each; the set's real head scored
at 100), on the shared Chinese reviews' sentiment and product category and the English banking intents
(embedding). Seeds 0-4 are the half a choice is made on and 5-9 the half it is reported on; both are
printed.

Usage: python bench/feedback_order.py [--sets zh-category zh-sentiment en-banking] [--seeds 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys

from common import print_table, write_json
from feedback import CHECKPOINTS, DATA, SETS, START_PER_LABEL, _accuracy, _csv, _encoder

ARMS = ("random", "margin", "density")


def picks(order: str, method: str, embed, labels, start, pool, rng) -> list[int]:
    import numpy as np

    from engine.classify.base import Examples, one_thread
    from engine.classify.learner import Learner
    from engine.classify.review import density_key, margins, typicality

    n = max(CHECKPOINTS)
    if order == "random":
        return rng.sample(range(len(pool)), min(n, len(pool)))
    texts = [t for t, _ in pool]
    typical = typicality(texts) if order == "density" else None
    chosen: list[int] = []
    with one_thread():
        learner = Learner(method, Examples(labels, [y for _, y in start], texts=[t for t, _ in start]), texts, embed)
        left = list(range(len(pool)))
        while left and len(chosen) < n:
            margin = margins(learner.scores(left))
            score = margin if order == "margin" else density_key(margin, typical[left])
            pick = left[int(np.argmin(score))]
            chosen.append(pick)
            left.remove(pick)
            learner.add(pick, pool[pick][1])
    return chosen


def run(name: str, seeds: int) -> dict:
    from engine.classify.base import Examples
    from engine.classify.evaluate import split
    from engine.classify.review import POOL_ROWS

    _, file, column, method = next(s for s in SETS if s[0] == name)
    rows = [r for r in _csv(DATA / file) if r["text"].strip()]
    texts, y = [r["text"] for r in rows], [r[column] for r in rows]
    labels = sorted(set(y))
    embed = _encoder() if method == "embedding" else None
    if embed is not None:
        embed(texts)  # every vector once; the memo serves the refits
    accuracy: dict[str, list[float]] = {a: [] for a in ARMS}
    for seed in range(seeds):
        rng = random.Random(seed)
        train, test = split(Examples(labels, y, texts=texts), 0.25, seed)
        by_label: dict[str, list[int]] = {}
        for i, label in enumerate(train.y):
            by_label.setdefault(label, []).append(i)
        start_idx = [i for label in labels for i in rng.sample(by_label[label], min(START_PER_LABEL,
                                                                                   len(by_label[label])))]
        taken = set(start_idx)
        rest = [i for i in range(len(train.y)) if i not in taken]
        if len(rest) > POOL_ROWS:
            rest = rng.sample(rest, POOL_ROWS)
        pool = [(train.texts[i], train.y[i]) for i in rest]
        start = [(train.texts[i], train.y[i]) for i in start_idx]
        for arm in ARMS:
            added = [pool[i] for i in picks(arm, method, embed, labels, start, pool, random.Random(1000 + seed))]
            accuracy[arm].append(_accuracy(method, embed, labels, [t for t, _ in start + added],
                                           [lab for _, lab in start + added], test.texts, test.y))
        print(f"{name} seed {seed}: " + " ".join(f"{a} {accuracy[a][-1]:.4f}" for a in ARMS), file=sys.stderr)
    out = {"method": method, "labels": len(labels), "accuracy_at_100": accuracy, "halves": {}}
    half = seeds // 2
    for part, span in ((f"choose (seeds 0-{half - 1})", range(half)),
                       (f"report (seeds {half}-{seeds - 1})", range(half, seeds))):
        out["halves"][part] = {
            arm: {"median": round(statistics.median(gaps), 4), "min": round(min(gaps), 4), "max": round(max(gaps), 4)}
            for arm in ("margin", "density")
            for gaps in [[accuracy[arm][s] - accuracy["random"][s] for s in span]]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=["zh-category", "zh-sentiment", "en-banking"])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    results = {name: run(name, args.seeds) for name in args.sets}
    table = [{"set": name, "half": part, **{f"{arm} - random": f"{g['median']:+.4f} ({g['min']:+.4f}..{g['max']:+.4f})"
                                            for arm, g in gaps.items()}}
             for name, r in results.items() for part, gaps in r["halves"].items()]
    print_table("Accuracy at 100 added labels, minus random (median, range over seeds)", table, list(table[0]))
    write_json("feedback_order", {"data": "shared/data: shopping_reviews_zh.csv, banking_intents_en.csv",
                                  "start_per_label": START_PER_LABEL, "added": max(CHECKPOINTS), "sets": results,
                                  "table": table})


if __name__ == "__main__":
    main()
