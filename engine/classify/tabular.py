"""Tabular: gradient-boosted trees on a record's numeric and categorical columns, with the columns that
mattered most for each row as the reason."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.classify.base import ClassifyError, Examples, Method, check_labels
from engine.classify.embedding import align


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


MAX_CATEGORIES = 200


class Tabular(Method):
    name = "tabular"

    def __init__(self) -> None:
        super().__init__()
        self.features: list[str] = []
        self.ignored: list[str] = []
        self.categories: dict[str, dict[str, int]] = {}
        self.baseline: np.ndarray | None = None
        self.model = None
        self.importance: list[tuple[str, float]] = []

    def _matrix(self, records: Sequence[dict]) -> np.ndarray:
        x = np.full((len(records), len(self.features)), np.nan, dtype=np.float64)
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise ClassifyError("the tabular method classifies table rows; give --table/--file with the"
                                    " label set's feature columns, not free text")
            for j, name in enumerate(self.features):
                value = record.get(name)
                if name in self.categories:
                    code = self.categories[name].get(str(value)) if value is not None else None
                    x[i, j] = np.nan if code is None else code
                else:
                    number = _number(value)
                    x[i, j] = np.nan if number is None else number
        return x

    def fit(self, data: Examples) -> Tabular:
        from sklearn.ensemble import HistGradientBoostingClassifier

        check_labels(data, self.name)
        if not data.features:
            raise ClassifyError("the tabular method needs a label set of table rows "
                                "(`quarry labels import NAME --table T --features a,b --label-column L`)")
        self.labels = list(data.labels)
        self.features, self.ignored = [], []
        self.categories = {}
        for name in data.features:
            values = [r.get(name) for r in data.records if r.get(name) is not None]
            if values and any(_number(v) is None for v in values):
                distinct = sorted({str(v) for v in values})
                if len(distinct) > MAX_CATEGORIES or len(distinct) > 0.5 * len(values):
                    self.ignored.append(name)  # an id or free text: no pattern trees can use
                    continue
                self.categories[name] = {v: i for i, v in enumerate(distinct)}
            self.features.append(name)
        if not self.features:
            raise ClassifyError(f"no usable feature columns ({', '.join(self.ignored)} look like ids or text)")
        x = self._matrix(data.records)
        mask = [name in self.categories for name in self.features]
        self.model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, max_leaf_nodes=15,
                                                    categorical_features=mask if any(mask) else None,
                                                    class_weight="balanced", random_state=0)
        self.model.fit(x, data.y)
        self.baseline = np.array([_typical(x[:, j], name in self.categories)
                                  for j, name in enumerate(self.features)])
        sample = x[: min(len(x), 600)]
        drops = self._drops(sample, self.model.predict_proba(sample).argmax(1))
        self.importance = sorted(zip(self.features, drops.mean(0).tolist()), key=lambda p: -p[1])
        return self

    def _drops(self, x: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """Gives, per row and column, how much the chosen class's probability falls when that column is
        replaced by its typical value: the local weight of each column in the decision."""
        base = self.model.predict_proba(x)[np.arange(len(x)), chosen]
        drops = np.zeros((len(x), len(self.features)))
        for j in range(len(self.features)):
            changed = x.copy()
            changed[:, j] = self.baseline[j]
            drops[:, j] = base - self.model.predict_proba(changed)[np.arange(len(x)), chosen]
        return drops

    def scores(self, inputs: Sequence[dict]) -> np.ndarray:
        return align(self.model, self.model.predict_proba(self._matrix(inputs)), self.labels)

    def reasons(self, inputs: Sequence[dict], chosen: np.ndarray) -> list[str]:
        x = self._matrix(inputs)
        classes = list(self.model.classes_)
        local = np.array([classes.index(self.labels[c]) for c in chosen])
        drops = self._drops(x, local)
        out = []
        for i, row in enumerate(drops):
            top = [j for j in np.argsort(-row)[:3] if row[j] > 0.01]
            out.append(", ".join(f"{self.features[j]}={_show(inputs[i].get(self.features[j]))}" for j in top))
        return out


def _typical(column: np.ndarray, categorical: bool) -> float:
    values = column[~np.isnan(column)]
    if not len(values):
        return np.nan
    if categorical:
        uniq, counts = np.unique(values, return_counts=True)
        return float(uniq[counts.argmax()])
    return float(np.median(values))


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
