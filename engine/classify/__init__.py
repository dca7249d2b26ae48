"""Classify: label sets, methods behind one interface (zero-shot, embedding head, lexical head, stack, LLM,
tabular, auto), batches and evaluations as jobs. Heavy libraries load inside the methods that need them.

Where things are: `methods` (the method names), `sets` (label sets and examples), `heads` (methods trained
and saved per label set; classify texts), `batch` (the `classify_batch` job), `evaluate` (the
`classify_eval` job and its figures), `sources` (tables and files read as rows). The names below are
re-exported lazily, so `from engine.classify.methods import METHODS` (a pane) loads no numpy."""

from __future__ import annotations

import importlib

from engine.classify.methods import METHODS

_EXPORTS = {"ClassifyError": "base", "Examples": "base", "Prediction": "base",
            "classify": "heads", "compare": "heads", "trained": "heads"}

__all__ = ["METHODS", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.classify' has no attribute '{name}'")
    return getattr(importlib.import_module(f"engine.classify.{module}"), name)
