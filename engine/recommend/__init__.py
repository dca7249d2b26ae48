"""Recommendations from a workspace's catalog and interactions: for a user, for an item, for a text request.

Where things are: `methods` (the method names), `requests` (Filters, Recommendation(s), parsing a text
request), `serving` (the recommender: fitted methods served from memory, with reasons), `importing` (files into the
workspace), `jobs` (import, fit and evaluation as jobs), `evaluate` (leave-last-out), `data` (arrays), and
one module per method (popularity, content, collaborative, sequence, hybrid) behind `base.Method`.

The names below are re-exported lazily, so `from engine.recommend.methods import METHODS` (a pane, before
its first paint) loads no numpy."""

from __future__ import annotations

import importlib

from engine.recommend.methods import METHODS

_EXPORTS = {
    "Filters": "requests", "Recommendation": "requests", "Recommendations": "requests",
    "filters_given": "requests", "parse_request": "requests",
    "Recommender": "serving", "recommender": "serving", "load_dataset": "serving",
    "item_vectors": "serving", "tuned_weights": "serving",
    "ImportReport": "importing", "Mapping": "importing", "import_data": "importing", "start_import": "importing",
    "demo_files": "importing",
    "eval_params": "jobs", "start_eval": "jobs",
}

__all__ = ["METHODS", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.recommend' has no attribute '{name}'")
    return getattr(importlib.import_module(f"engine.recommend.{module}"), name)
