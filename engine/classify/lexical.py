"""Lexical head: logistic regression on character 1-3-gram TF-IDF. Needs no encoder that knows the language."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.classify.base import Examples, Method, check_labels
from engine.classify.embedding import align


class LexicalHead(Method):
    name = "lexical"

    def __init__(self) -> None:
        super().__init__()
        self.vectorizer = None
        self.model = None

    def fit(self, data: Examples) -> LexicalHead:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        check_labels(data, self.name)
        self.labels = list(data.labels)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                          max_features=200_000, dtype=np.float32)
        x = self.vectorizer.fit_transform(data.texts)
        self.model = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced")
        self.model.fit(x, data.y)
        return self

    def scores(self, inputs: Sequence[str]) -> np.ndarray:
        return align(self.model, self.model.predict_proba(self.vectorizer.transform(list(inputs))), self.labels)
