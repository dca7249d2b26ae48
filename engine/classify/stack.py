"""A stack of the embedding and lexical heads: their probabilities averaged (meaning and wording together)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.classify.base import Examples, Method
from engine.classify.embedding import EmbeddingHead
from engine.classify.lexical import LexicalHead
from engine.classify.vectors import Embedder


class Stack(Method):
    name = "stack"

    def __init__(self, embed: Embedder) -> None:
        super().__init__()
        self.parts: list[Method] = [EmbeddingHead(embed), LexicalHead()]

    def fit(self, data: Examples) -> Stack:
        self.labels = list(data.labels)
        for part in self.parts:
            part.fit(data)
        return self

    def scores(self, inputs: Sequence[str]) -> np.ndarray:
        return np.mean([part.scores(inputs) for part in self.parts], axis=0)
