"""Auto: stratified k-fold cross-validation on the label set's examples picks the method with the best
macro-F1 (or the stack of the embedding and lexical heads), and says which, with its score and spread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.classify.base import ClassifyError, Examples, Method

TEXT_CANDIDATES = ("zero-shot", "embedding", "lexical", "stack")
TABULAR_CANDIDATES = ("tabular",)


@dataclass
class Choice:
    """What auto picked and why."""

    method: str
    score: float | None = None       # mean macro-F1 over the folds
    spread: float | None = None      # standard deviation of macro-F1 over the folds
    folds: int = 0
    scores: dict[str, list[float]] = field(default_factory=dict)  # method -> [mean, std]
    note: str = ""

    def line(self) -> str:
        if self.score is None:
            return f"auto chose {self.method}: {self.note}"
        return (f"auto chose {self.method}: macro-F1 {self.score:.3f} ± {self.spread:.3f} "
                f"({self.folds}-fold CV)" + (f"; {self.note}" if self.note else ""))

    def to_dict(self) -> dict:
        return {"method": self.method, "cv_macro_f1": self.score, "cv_spread": self.spread, "folds": self.folds,
                "candidates": self.scores, "note": self.note}


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    present = [label for label in labels if label in set(y_true) or label in set(y_pred)]
    return float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def choose(data: Examples, build: Callable[[str], Method], candidates: Sequence[str] | None = None,
           folds: int = 5) -> Choice:
    """Gives the method auto picks for these examples (not yet fitted on all of them)."""
    counts = data.counts()
    if not len(data) and data.tabular:
        raise ClassifyError("the label set has no example rows; import some with `quarry labels import`")
    if not len(data):
        return Choice("zero-shot", note="the label set has no examples, so zero-shot on the label names "
                                         "and descriptions")
    if data.tabular:
        return _cross_validate(data, build, candidates or TABULAR_CANDIDATES, folds)
    least = min(counts.values())
    if least == 0:
        missing = [label for label, n in counts.items() if n == 0]
        return Choice("zero-shot", note=f"no examples for {', '.join(missing[:3])}, so zero-shot "
                                         "(labels without examples use their names)")
    if least < 2:
        return Choice("zero-shot", note="one example for some labels: too few to cross-validate; "
                                         "nearest label centroid")
    return _cross_validate(data, build, candidates or TEXT_CANDIDATES, folds)


def _cross_validate(data: Examples, build: Callable[[str], Method], candidates: Sequence[str],
                    folds: int) -> Choice:
    from sklearn.model_selection import StratifiedKFold

    least = min(data.counts().values())
    k = max(2, min(folds, least))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    y = np.array(data.y)
    results: dict[str, list[float]] = {name: [] for name in candidates}
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train, test = data.subset(train_idx), data.subset(test_idx)
        truth = [data.y[i] for i in test_idx]
        probs: dict[str, np.ndarray] = {}
        for name in candidates:
            if name == "stack" and "embedding" in probs and "lexical" in probs:
                p = (probs["embedding"] + probs["lexical"]) / 2
            else:
                p = build(name).fit(train).scores(test.inputs)
            probs[name] = p
            results[name].append(macro_f1(truth, [data.labels[i] for i in p.argmax(1)], data.labels))
    summary = {name: [float(np.mean(v)), float(np.std(v))] for name, v in results.items()}
    best = max(summary, key=lambda name: (summary[name][0], -candidates.index(name)))
    return Choice(best, summary[best][0], summary[best][1], k, summary)
