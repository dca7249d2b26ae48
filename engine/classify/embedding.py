"""Embedding head: logistic regression on the encoder's sentence vectors of the examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.classify.base import Examples, Method, check_labels
from engine.classify.vectors import Embedder


class EmbeddingHead(Method):
    name = "embedding"

    def __init__(self, embed: Embedder) -> None:
        super().__init__()
        self.embed = embed
        self.model = None

    def fit(self, data: Examples) -> EmbeddingHead:
        from sklearn.linear_model import LogisticRegression

        check_labels(data, self.name)
        self.labels = list(data.labels)
        self.model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        self.model.fit(self.embed(data.texts), data.y)
        return self

    def scores(self, inputs: Sequence[str]) -> np.ndarray:
        return align(self.model, self.model.predict_proba(self.embed(list(inputs))), self.labels)


def align(model, probs: np.ndarray, labels: list[str]) -> np.ndarray:
    """Gives probabilities in the label set's order (a class the model never saw gets 0)."""
    out = np.zeros((probs.shape[0], len(labels)), dtype=np.float64)
    index = {label: i for i, label in enumerate(labels)}
    for j, cls in enumerate(model.classes_):
        out[:, index[cls]] = probs[:, j]
    return out
