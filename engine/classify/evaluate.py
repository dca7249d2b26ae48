"""Evaluation on labelled data: accuracy, macro-F1, per-label precision/recall, the confusion matrix, texts/s
and a learning curve (10, 50, all examples per label), per method side by side; stored as runs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.classify.auto import choose, macro_f1
from engine.classify.base import ClassifyError, Examples, Method, check_labels, one_thread
from engine.classify.heads import builder, embedder

CURVE = (10, 50, None)  # examples per label; None = all
ENCODER_METHODS = ("zero-shot", "embedding", "stack")  # the methods that read the encoder's vectors
LLM_TEST_LIMIT = 300    # the LLM reads each text: evaluate it on at most this many test rows


@dataclass
class MethodReport:
    method: str
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    confusion: list[list[int]]
    texts_per_s: float
    fit_s: float
    n_test: int
    chosen: str = ""
    cv: list[float] = field(default_factory=list)   # auto: [mean macro-F1, spread]
    curve: list[dict] = field(default_factory=list)  # [{per_label, n_train, accuracy, macro_f1}]
    note: str = ""


@dataclass
class EvalReport:
    labels: list[str]
    n_train: int
    n_test: int
    source: str
    methods: list[MethodReport]
    run_id: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def best(self) -> MethodReport:
        return max(self.methods, key=lambda m: m.macro_f1)


def split(data: Examples, test_fraction: float = 0.25, seed: int = 0) -> tuple[Examples, Examples]:
    """Gives (train, test): a stratified held-out split; every label keeps at least one training example."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.y):
        by_label.setdefault(label, []).append(i)
    train, test = [], []
    for idx in by_label.values():
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction)) if len(idx) > 1 else 0
        n_test = min(n_test, len(idx) - 1)
        test += idx[:n_test]
        train += idx[n_test:]
    if not test:
        raise ClassifyError("too few examples to hold some out for testing; add examples (two or more per label)")
    return data.subset(sorted(train)), data.subset(sorted(test))


def per_label_subset(data: Examples, k: int, seed: int = 0) -> Examples:
    """Gives at most k examples of each label (a fixed random pick)."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.y):
        by_label.setdefault(label, []).append(i)
    keep = []
    for idx in by_label.values():
        keep += rng.sample(idx, min(k, len(idx)))
    return data.subset(sorted(keep))


def score(method: str, truth: Sequence[str], predicted: Sequence[str], labels: list[str],
          seconds: float, fit_s: float) -> MethodReport:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_label = {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, label in enumerate(labels)}
    return MethodReport(method, float(accuracy_score(truth, predicted)), macro_f1(truth, predicted, labels),
                        per_label, confusion_matrix(truth, predicted, labels=labels).tolist(),
                        len(truth) / max(seconds, 1e-9), fit_s, len(truth))


def _run(model: Method, test: Examples) -> tuple[list[str], float]:
    started = time.perf_counter()
    probs = model.scores(test.inputs)
    return [model.labels[i] for i in probs.argmax(1)], time.perf_counter() - started


def evaluate(ws, train: Examples, test: Examples, methods: Sequence[str], source: str,
             llm_model: str | None = None, curve: Sequence[int | None] = CURVE,
             progress: Callable[[str], None] | None = None, label_set: str | None = None,
             store: bool = True) -> EvalReport:
    """Fits each method on `train`, scores it on `test`; auto picks by CV on `train` alone."""
    with one_thread():
        return _evaluate(ws, train, test, methods, source, llm_model, curve, progress, label_set, store)


def _evaluate(ws, train: Examples, test: Examples, methods: Sequence[str], source: str,
              llm_model: str | None, curve: Sequence[int | None], progress: Callable[[str], None] | None,
              label_set: str | None, store: bool) -> EvalReport:
    unknown = sorted(set(test.y) - set(train.labels))
    if unknown:
        raise ClassifyError(f"the test data has labels the training data does not know: {', '.join(unknown[:5])};"
                            " add examples of them to the training data or drop those rows")
    if not len(test):
        raise ClassifyError("the test data has no rows")
    build = builder(ws, llm_model)
    labels = train.labels
    reports = []
    encode_s = None  # seconds to encode the test texts, measured by the first method that needs them
    for name in methods:
        if progress:
            progress(f"evaluating {name}")
        subject = test
        note = ""
        if name == "llm" and len(test) > LLM_TEST_LIMIT:
            subject = per_label_subset(test, max(1, LLM_TEST_LIMIT // len(labels)))
            note = f"LLM scored on {len(subject)} of {len(test)} test rows"
        if name in ("embedding", "lexical", "stack", "tabular", "auto"):
            check_labels(train, name if name != "auto" else "auto")
        started = time.perf_counter()
        choice = None
        if name == "auto":
            choice = choose(train, build)
            model = build(choice.method).fit(train)
        else:
            model = build(name).fit(train)
        fit_s = time.perf_counter() - started
        if name == "llm":
            model.warm()
        encodes = (choice.method if choice else name) in ENCODER_METHODS and not subject.tabular and ws is not None
        if encodes and encode_s is None:
            # texts/s counts the encoding, as for a user's new texts: the test texts are encoded once, timed,
            # and that time is added to every method that reads their vectors
            embedder(ws).forget(subject.texts)
            encode_started = time.perf_counter()
            embedder(ws)(subject.texts)
            encode_s = time.perf_counter() - encode_started
        predicted, seconds = _run(model, subject)
        if encodes:
            seconds += encode_s
        report = score(name, subject.y, predicted, labels, seconds, fit_s)
        report.note = note or (choice.note if choice else "")
        if choice:
            report.chosen = choice.method
            report.cv = [choice.score, choice.spread] if choice.score is not None else []
        if name != "llm":
            report.curve = _curve(build, name, train, test, labels, curve)
        reports.append(report)
    result = EvalReport(labels, len(train), len(test), source, reports)
    if store:
        result.run_id = ws.store.add_classify_run("eval", label_set, source, ",".join(methods), result.to_dict())
    return result


def _curve(build, name: str, train: Examples, test: Examples, labels: list[str],
           sizes: Sequence[int | None]) -> list[dict]:
    points = []
    biggest = max(train.counts().values()) if len(train) else 0
    for k in sizes:
        if k is not None and k >= biggest:
            continue
        subset = train if k is None else per_label_subset(train, k)
        try:
            picked = choose(subset, build).method if name == "auto" else name
            model = build(picked).fit(subset)
        except ClassifyError:
            continue
        predicted, _ = _run(model, test)
        truth = test.y
        points.append({"per_label": k or "all", "n_train": len(subset),
                       "accuracy": float(np.mean([a == b for a, b in zip(truth, predicted)])),
                       "macro_f1": macro_f1(truth, predicted, labels)})
    return points
