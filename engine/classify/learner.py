"""The model a review queue refits after every answer: the queue's method (lexical, embedding, stack,
zero-shot) on features computed once per queue, its logistic regression warm-started from the last fit.

Why not the saved head: refitting `LexicalHead` from scratch takes 6 s at 1,000 Chinese reviews and 31 s
at 8,000 on this 2-core machine (TF-IDF refit plus lbfgs to convergence), far from a step under a second.
Here the TF-IDF vocabulary is fitted once on the examples and the queued texts (every text the queue
will see), sentence vectors come from the encoder's memo, and each answer adds one row and resumes lbfgs
from the previous weights for at most `STEP_ITERATIONS` iterations: one new example moves the optimum a
little, so a few steps track it. The saved head is retrained in full, as before, the next time the set
classifies (its examples changed, so its fingerprint did)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.classify.base import Examples, softmax

STEP_ITERATIONS = 30  # lbfgs iterations per answer, from the previous weights
MIN_DF = 2
LR_METHODS = ("lexical", "embedding", "stack")
LIVE_METHODS = (*LR_METHODS, "zero-shot")


class _Part:
    """One linear head (lexical or embedding features) over the examples and the queued texts."""

    def __init__(self, kind: str, c: float, example_x, pool_x) -> None:
        self.kind = kind
        self.c = c
        self.example_x = example_x  # grows by one row per answer
        self.pool_x = pool_x        # fixed: the queued texts' features
        self.model = None
        self.classes: tuple[str, ...] = ()

    def add(self, row_x) -> None:
        import scipy.sparse as sp

        if sp.issparse(self.example_x):
            self.example_x = sp.vstack([self.example_x, row_x], format="csr")
        else:
            self.example_x = np.vstack([self.example_x, row_x])

    def drop_last(self) -> None:
        self.example_x = self.example_x[:-1]

    def fit(self, y: Sequence[str]) -> None:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        classes = tuple(sorted(set(y)))
        warm = self.model is not None and classes == self.classes
        if not warm:  # a first fit, or a label seen for the first time: from zero, to convergence
            self.model = LogisticRegression(C=self.c, max_iter=2000, class_weight="balanced")
        else:
            self.model.set_params(warm_start=True, max_iter=STEP_ITERATIONS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a bounded step stops before the tolerance
            self.model.fit(self.example_x, list(y))
        self.classes = classes

    def scores(self, index: Sequence[int], labels: list[str]) -> np.ndarray:
        probs = self.model.predict_proba(self.pool_x[list(index)])
        out = np.zeros((len(index), len(labels)))
        where = {label: i for i, label in enumerate(labels)}
        for j, cls in enumerate(self.model.classes_):
            if cls in where:
                out[:, where[cls]] = probs[:, j]
        return out


class Learner:
    """Fits the method on the examples and scores the queued texts; `add` and `remove_last` follow the
    queue's answers and undos, each followed by a refit."""

    def __init__(self, method: str, data: Examples, pool: Sequence[str], embed=None) -> None:
        if method not in LIVE_METHODS:
            raise ValueError(f"no live form of method {method!r}")
        self.method = method
        self.labels = list(data.labels)
        self.descriptions = dict(data.descriptions)
        self.texts = list(data.texts)
        self.y = list(data.y)
        self.pool = list(pool)
        self.embed = embed
        self.parts: list[_Part] = []
        # zero-shot's inputs: the vectors of the pool and of the examples, and the labels' anchors (for a
        # method that reads vectors, made here; for lexical, on demand while fewer than two labels have examples)
        self._pool_vectors = None
        self._example_vectors = None
        if method in ("lexical", "stack"):
            from sklearn.feature_extraction.text import TfidfVectorizer

            # the same features as LexicalHead, its vocabulary fixed for the queue's life
            # n-grams in a single text are left out (min_df=2): they cannot link an answer to another row,
            # and they were most of the weights lbfgs carried (2,200 Chinese reviews, 9 labels: 144k n-grams,
            # 31k kept; a step went from 0.56 s to 0.08 s)
            self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                              min_df=MIN_DF if len(self.texts) + len(self.pool) > 50 else 1,
                                              max_features=200_000, dtype=np.float32)
            matrix = self.vectorizer.fit_transform(self.texts + self.pool)
            self.parts.append(_Part("lexical", 20.0, matrix[: len(self.texts)], matrix[len(self.texts):]))
        if method in ("embedding", "stack", "zero-shot"):
            vectors = embed(self.texts + self.pool) if self.texts or self.pool else np.zeros((0, 1))
            self._pool_vectors = vectors[len(self.texts):]
            # embedding and stack rank by zero-shot too until two labels have examples (a new or one-label set)
            self._example_vectors = vectors[: len(self.texts)]
            self._anchors = embed([f"{label}: {self.descriptions.get(label) or label}" for label in self.labels])
            if method != "zero-shot":
                self.parts.append(_Part("embedding", 10.0, self._example_vectors, self._pool_vectors))
        self.fit()

    @property
    def uses_examples(self) -> bool:
        """Tells whether the linear heads run: they need two labels with examples; until then zero-shot."""
        return self.method != "zero-shot" and len(set(self.y)) >= 2

    def fit(self) -> None:
        if self.uses_examples:
            for part in self.parts:
                part.fit(self.y)

    def add(self, pool_index: int, label: str) -> None:
        """Adds a queued text, answered, as an example (its features are already known) and refits."""
        if label not in self.labels:
            self.labels.append(label)
        self.texts.append(self.pool[pool_index])
        self.y.append(label)
        for part in self.parts:
            part.add(part.pool_x[pool_index:pool_index + 1])
        if self._example_vectors is not None:
            self._example_vectors = np.vstack([self._example_vectors, self._pool_vectors[pool_index:pool_index + 1]])
        self.fit()

    def remove_last(self) -> None:
        """Takes the last added example back out (an undo) and refits."""
        self.texts.pop()
        self.y.pop()
        for part in self.parts:
            part.drop_last()
        if self._example_vectors is not None:
            self._example_vectors = self._example_vectors[:-1]
        self.fit()

    def drop_label(self, label: str) -> None:
        """Forgets a label no example has any more (a +name answer undone), so it is not ranked."""
        if label not in self.labels or label in self.y:
            return
        i = self.labels.index(label)
        self.labels.pop(i)
        if self._pool_vectors is not None and i < len(self._anchors):
            self._anchors = np.delete(np.asarray(self._anchors), i, axis=0)
        self.fit()

    def scores(self, index: Sequence[int]) -> np.ndarray:
        """Gives (len(index), len(labels)) label probabilities of queued texts, in the labels' order."""
        if not len(index):
            return np.zeros((0, len(self.labels)))
        if self.uses_examples:
            return np.mean([part.scores(index, self.labels) for part in self.parts], axis=0)
        return self._zero_shot(index)

    def _zero_shot(self, index: Sequence[int]) -> np.ndarray:
        """Label names and descriptions against the texts, pulled toward each label's examples (as ZeroShot)."""
        from engine.classify.zero_shot import SHARPNESS

        if self._pool_vectors is None:  # the lexical method with fewer than two labelled: vectors on demand
            self._pool_vectors = self.embed(self.pool)
            self._example_vectors = self.embed(self.texts) if self.texts else np.zeros((0, self._pool_vectors.shape[1]))
            self._anchors = self.embed([f"{label}: {self.descriptions.get(label) or label}" for label in self.labels])
        anchors = self._anchor_rows()
        y = np.array(self.y)
        for i, label in enumerate(self.labels):
            mine = self._example_vectors[y == label] if len(y) else []
            if len(mine):
                anchors[i] = 0.25 * anchors[i] + 0.75 * mine.mean(0)
        anchors = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
        return softmax(self._pool_vectors[list(index)] @ anchors.T * SHARPNESS)

    def _anchor_rows(self) -> np.ndarray:
        if len(self._anchors) < len(self.labels):  # a label added during the queue
            extra = self.embed([f"{label}: {label}" for label in self.labels[len(self._anchors):]])
            self._anchors = np.vstack([self._anchors, extra])
        return np.array(self._anchors, dtype=np.float64)
