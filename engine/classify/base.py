"""The one interface every classification method follows, the data it takes, and input checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ClassifyError, QuarryError  # noqa: F401 -- ClassifyError is imported from here too

MAX_TEXT_CHARS = 100_000  # a 1 MB text is a file, not a record; say so instead of encoding it for minutes


@dataclass
class Prediction:
    """One text's label with the method that gave it."""

    label: str
    confidence: float
    runner_up: str | None
    method: str
    reason: str = ""

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": round(float(self.confidence), 4), "runner_up": self.runner_up,
                "method": self.method, "reason": self.reason}


@dataclass
class Examples:
    """Labelled examples: texts (text sets) or feature dicts (tabular sets), one label each."""

    labels: list[str]                 # the label set's labels, in order
    y: list[str]                      # one label per example
    texts: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)

    @property
    def tabular(self) -> bool:
        return bool(self.features)

    @property
    def inputs(self) -> list:
        return self.records if self.tabular else self.texts

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: Sequence[int]) -> Examples:
        return Examples(self.labels, [self.y[i] for i in index],
                        [self.texts[i] for i in index] if self.texts else [],
                        [self.records[i] for i in index] if self.records else [],
                        self.descriptions, self.features)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.labels, 0)
        for label in self.y:
            out[label] = out.get(label, 0) + 1
        return out


class Method:
    """A classification method: fit on examples, then give label probabilities and predictions.

    `scores(inputs)` gives an (n, len(labels)) array of probabilities in the order of `self.labels`;
    `predict(inputs)` turns them into Predictions. Subclasses set `name` and implement fit and scores."""

    name = "method"
    needs_examples = True

    def __init__(self) -> None:
        self.labels: list[str] = []

    def fit(self, data: Examples) -> Method:
        raise NotImplementedError

    def scores(self, inputs: Sequence) -> np.ndarray:
        raise NotImplementedError

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if "embed" in state:
            state["embed"] = None  # the encoder is the workspace's; reattached when the head is loaded
        return state

    def reasons(self, inputs: Sequence, chosen: np.ndarray) -> list[str]:
        return [""] * len(inputs)

    def predict(self, inputs: Sequence) -> list[Prediction]:
        """Gives one Prediction per input: the top label, its probability and the runner-up."""
        if not len(inputs):
            return []
        probs = self.scores(inputs)
        return predictions_from(probs, self.labels, self.name, self.reasons(inputs, probs.argmax(1)))


def predictions_from(probs: np.ndarray, labels: list[str], method: str, reasons: list[str] | None = None
                     ) -> list[Prediction]:
    order = np.argsort(-probs, axis=1)
    out = []
    for i, row in enumerate(order):
        second = labels[row[1]] if len(row) > 1 else None
        out.append(Prediction(labels[row[0]], float(probs[i, row[0]]), second, method,
                              reasons[i] if reasons else ""))
    return out


def check_labels(data: Examples, method: str) -> None:
    """Raises ClassifyError unless the examples can train a head: two labels or more, each with examples."""
    if len(data.labels) < 2:
        raise ClassifyError(f"the label set has {len(data.labels)} label; a classifier needs at least two"
                            " (add one with `quarry labels create NAME --label A --label B`)")
    missing = [label for label, n in data.counts().items() if n == 0]
    if missing:
        raise ClassifyError(f"method '{method}' needs examples for every label; none for "
                            f"{', '.join(missing[:5])} (import some, or use --method zero-shot)")


def check_texts(texts: Sequence[str]) -> list[str]:
    """Gives the texts as strings; raises ClassifyError naming the first empty or oversized one."""
    out = []
    for i, text in enumerate(texts):
        if text is None or not str(text).strip():
            raise ClassifyError(f"text {i + 1} is empty; give some words to classify")
        text = str(text)
        if len(text) > MAX_TEXT_CHARS:
            raise ClassifyError(f"text {i + 1} has {len(text):,} characters, more than {MAX_TEXT_CHARS:,};"
                                " classify a record or a paragraph, or split the file with `quarry ingest`")
        out.append(text)
    return out


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Runs scikit-learn's BLAS and OpenMP on one thread: measured here, HistGradientBoosting fitting 2,000
    rows took 3 s on one thread and over 5 minutes with its default threads on two cores shared with other
    work (OpenMP threads spin while they wait for each other).

    threadpoolctl limits only the libraries loaded when it is entered, so scikit-learn's OpenMP and BLAS are
    loaded first: in a fresh process (a job started from the CLI) the first fit otherwise ran unlimited,
    measured here at 21 s instead of 0.5 s for 225 rows."""
    import sklearn.utils._openmp_helpers  # noqa: F401  (loads libgomp and OpenBLAS for threadpoolctl to see)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
