"""Zero-shot: each text's embedding against each label's name and description (and its examples' centroid)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.classify.base import Examples, Method, softmax
from engine.classify.vectors import Embedder

SHARPNESS = 20.0  # cosine gaps are small; scaled so a clear winner gets most of the probability


class ZeroShot(Method):
    name = "zero-shot"
    needs_examples = False

    def __init__(self, embed: Embedder) -> None:
        super().__init__()
        self.embed = embed
        self.centroids: np.ndarray | None = None

    def fit(self, data: Examples) -> ZeroShot:
        self.labels = list(data.labels)
        prompts = [f"{label}: {data.descriptions.get(label) or label}" for label in self.labels]
        anchors = self.embed(prompts)
        if data.texts:
            vectors = self.embed(data.texts)
            y = np.array(data.y)
            for i, label in enumerate(self.labels):
                mine = vectors[y == label]
                if len(mine):
                    anchors[i] = 0.25 * anchors[i] + 0.75 * mine.mean(0)
        self.centroids = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
        return self

    def scores(self, inputs: Sequence[str]) -> np.ndarray:
        return softmax(self.embed(list(inputs)) @ self.centroids.T * SHARPNESS)
