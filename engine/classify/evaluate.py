"""Evaluation on labelled data: accuracy, macro-F1, per-label precision/recall, the confusion matrix, texts/s
and a learning curve (10, 50, all examples per label), per method side by side; stored as runs.

Both fronts run it as the `classify_eval` job (`start_eval`): progress per method, a cancel between
methods, and a resume that keeps the methods already scored (a checkpoint in the job's row). The data comes
from a label set (a held-out split) or from files (`eval_data`), the methods from `methods.eval_methods`."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine import jobs
from engine.classify.auto import choose, macro_f1
from engine.classify.base import ClassifyError, Examples, Method, check_labels, one_thread
from engine.classify.heads import builder, embedder
from engine.classify.methods import chat_model, eval_methods
from engine.jobs import Step

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

    def line(self) -> str:
        """Gives the run in one line: its data and the best method by macro-F1."""
        best = self.best()
        return (f"run {self.run_id}: {self.source}, {self.n_train} train, {self.n_test} test; best "
                f"{best.method} macro-F1 {best.macro_f1:.3f}")


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
             llm_model: str | None = None, curve: Sequence[int | None] = CURVE, label_set: str | None = None,
             store: bool = True) -> EvalReport:
    """Fits each method on `train`, scores it on `test`; auto picks by CV on `train` alone (outside a job)."""
    return jobs.drain(evaluate_steps(ws, train, test, methods, source, llm_model, curve, label_set, store))


def evaluate_steps(ws, train: Examples, test: Examples, methods: Sequence[str], source: str,
                   llm_model: str | None = None, curve: Sequence[int | None] = CURVE, label_set: str | None = None,
                   store: bool = True, cancelled: Callable[[], bool] = lambda: False,
                   done: list[MethodReport] | None = None) -> Generator[Step, None, EvalReport | None]:
    """Evaluates method by method, yielding a Step before each; gives the report, or None when cancelled.

    `done` holds reports already made (a resumed job's): their methods are skipped, and each new report is
    appended to it as it is made, for the caller to keep."""
    with one_thread():
        return (yield from _evaluate(ws, train, test, methods, source, llm_model, curve, label_set, store,
                                     cancelled, done if done is not None else []))


def _evaluate(ws, train: Examples, test: Examples, methods: Sequence[str], source: str,
              llm_model: str | None, curve: Sequence[int | None], label_set: str | None, store: bool,
              cancelled: Callable[[], bool], done: list[MethodReport]) -> Generator[Step, None, EvalReport | None]:
    unknown = sorted(set(test.y) - set(train.labels))
    if unknown:
        raise ClassifyError(f"the test data has labels the training data does not know: {', '.join(unknown[:5])};"
                            " add examples of them to the training data or drop those rows")
    if not len(test):
        raise ClassifyError("the test data has no rows")
    build = builder(ws, llm_model)
    labels = train.labels
    finished = {r.method: r for r in done}
    encode_s = None  # seconds to encode the test texts, measured by the first method that needs them
    for number, name in enumerate(methods):
        if name in finished:
            continue
        if cancelled():
            return None
        yield Step(number, len(methods), f"evaluating {name}")
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
        if cancelled():  # fitting can take minutes (auto's cross-validation): don't score what is dropped
            return None
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
            yield Step(number, len(methods), f"learning curve of {name}")
            report.curve = _curve(build, name, train, test, labels, curve, cancelled)
            if cancelled():
                return None
        finished[name] = report
        done.append(report)
    yield Step(len(methods), len(methods), "done")
    result = EvalReport(labels, len(train), len(test), source, [finished[m] for m in methods])
    if store:
        result.run_id = ws.store.add_classify_run("eval", label_set, source, ",".join(methods), result.to_dict())
    return result


def _curve(build, name: str, train: Examples, test: Examples, labels: list[str],
           sizes: Sequence[int | None], cancelled: Callable[[], bool] = lambda: False) -> list[dict]:
    points = []
    biggest = max(train.counts().values()) if len(train) else 0
    for k in sizes:
        if cancelled():
            break
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


# -- the data and the job -------------------------------------------------------------------------
@dataclass
class EvalData:
    """What an evaluation reads: training and test examples, where they came from, and their kind."""

    train: Examples
    test: Examples
    source: str
    tabular: bool
    label_set: str | None = None


def eval_data(ws, label_set: str | None = None, train_file: Path | None = None, test_file: Path | None = None,
              text_column: str = "text", label_column: str = "label", test_fraction: float = 0.25) -> EvalData:
    """Gives the examples to evaluate on: a label set's (a held-out split, or all of them against a test
    file), or a training file against a test file. Missing input is an error saying what to give."""
    from engine.classify import sets
    from engine.classify.sources import open_file, read

    def from_file(path: Path, labels: list[str] | None) -> Examples:
        rows = read(ws, open_file(ws, path), [text_column, label_column])
        return sets.from_rows([r[0] for r in rows], [r[1] for r in rows], str(path), labels)

    if label_set:
        found = sets.get(ws, label_set)
        data = sets.examples(ws, found)
        if test_file:
            train, test = data, from_file(Path(test_file), found.labels)
        else:
            train, test = split(data, test_fraction)
        return EvalData(train, test, f"label set {label_set}", found.kind == "tabular", label_set)
    if train_file and test_file:
        train = from_file(Path(train_file), None)
        test = from_file(Path(test_file), train.labels)
        return EvalData(train, test, f"{Path(train_file).name} -> {Path(test_file).name}", False)
    raise ClassifyError("give --label-set S, or --train FILE and --test FILE")


def eval_params(label_set: str | None = None, train_file: Path | None = None, test_file: Path | None = None,
                text_column: str = "text", label_column: str = "label", method: str = "all",
                test_fraction: float = 0.25, llm_model: str | None = None, curve: Sequence[int | None] = CURVE,
                quick: bool = False) -> dict:
    """Gives the params of a `classify_eval` job (what `start_eval` takes)."""
    from engine.classify.methods import METHODS

    if method != "all" and method not in METHODS:
        raise ClassifyError(f"unknown method '{method}'; methods: {', '.join(METHODS)} (or all)")
    if not label_set and not (train_file and test_file):
        raise ClassifyError("give --label-set S, or --train FILE and --test FILE")
    return {"label_set": label_set, "train_file": str(train_file) if train_file else None,
            "test_file": str(test_file) if test_file else None, "text_column": text_column,
            "label_column": label_column, "method": method, "test_fraction": test_fraction,
            "llm_model": llm_model, "curve": list(curve), "quick": quick}


def start_eval(ws, params: dict, cancel: threading.Event | None = None) -> jobs.JobRun:
    """Starts an evaluation job; iterate it for progress. Its result is the `EvalReport` (None if cancelled)."""
    return jobs.start(ws, "classify_eval", params, cancel)


@jobs.register("classify_eval", unit="methods", reads_only=True)
def eval_job(ws, job):
    """Evaluates the params' methods on the params' data and stores the run; a resume skips scored methods."""
    from engine.classify.heads import check_method

    p = job.params
    data = eval_data(ws, p.get("label_set"), p.get("train_file"), p.get("test_file"), p.get("text_column", "text"),
                     p.get("label_column", "label"), float(p.get("test_fraction", 0.25)))
    methods = eval_methods(p.get("method", "all"), data.tabular, bool(p.get("quick")))
    for name in methods:
        check_method(name, data.tabular)
    llm_model = chat_model(p.get("llm_model")) if "llm" in methods else None
    curve = tuple(p["curve"]) if p.get("curve") is not None else CURVE
    done = [MethodReport(**m) for m in (job.saved or {}).get("methods", []) if m.get("method") in methods]
    kept = len(done)
    steps = evaluate_steps(ws, data.train, data.test, methods, data.source, llm_model, curve, data.label_set,
                           job.recorded, job.cancelled, done)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            report = stop.value
            step = None
        if len(done) > kept:  # a method was just scored: a resume keeps it
            kept = len(done)
            job.checkpoint({"methods": [asdict(m) for m in done]})
        if step is None:
            return report
        yield job.progress(step.done, step.total, step.message)
