"""Classify: label sets, methods behind one interface (zero-shot, embedding head, lexical head, stack, LLM,
tabular, auto), batches as jobs, and evaluation. Heavy libraries load inside the methods that need them."""

from __future__ import annotations

from engine.classify import batch  # noqa: F401  (registers the "classify_batch" job)
from engine.classify.base import ClassifyError, Examples, Prediction
from engine.classify.heads import METHODS, classify, compare, trained

__all__ = ["METHODS", "ClassifyError", "Examples", "Prediction", "classify", "compare", "trained"]
