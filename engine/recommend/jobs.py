"""Recommend's jobs: `recommend_import` (files into the workspace), `recommend_fit` (every method fitted so
requests are served from memory) and `recommend_eval` (leave-last-out, on the workspace's data or on files
read into a scratch workspace, stored as a run in the workspace either way)."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from pathlib import Path

from engine import jobs
from engine.recommend.importing import import_params, import_steps
from engine.recommend.methods import METHODS
from engine.recommend.serving import item_vectors, load_dataset, recommender
from engine.store.recommendations import ImportReport, Mapping

__all__ = ["eval_params", "start_eval"]


@jobs.register("recommend_import", unit="%")
def import_job(ws, job):
    """Imports a catalog and/or interactions (params: items, interactions, mapping, append); gives the reports.

    Each file is one transaction: a cancel rolls back the one being read; a resume skips those committed."""
    reports = [ImportReport(**r) for r in (job.saved or {}).get("reports", [])]
    kept = len(reports)
    steps = import_steps(ws, job, job.params, reports)
    while True:
        try:
            progress = next(steps)
        except StopIteration as stop:
            return reports if stop.value else None
        if len(reports) > kept:  # a file just committed: a resume skips it
            kept = len(reports)
            job.checkpoint({"reports": [dataclasses.asdict(r) for r in reports]})
        yield progress


@jobs.register("recommend_fit", unit="methods")
def fit_job(ws, job):
    """Fits the methods on all interactions (params: methods) so requests are served from memory."""
    names = tuple(job.params.get("methods") or METHODS)
    rec = recommender(ws)
    yield job.progress(0, len(names), "loading interactions")
    times = {}
    for done, (name, seconds) in enumerate(rec.fit(names, job.cancelled), start=1):
        times[name] = round(seconds, 3)
        yield job.progress(done, len(names), f"fitted {name} in {seconds:.1f} s")
    return times


def eval_params(k: int = 10, max_users: int | None = None, content: bool = True, interactions: str | None = None,
                items: str | None = None, mapping: Mapping | None = None) -> dict:
    """Gives the params of an evaluation: of the workspace's data, or of files when `interactions` is given."""
    from engine.errors import RecommendError

    params: dict = {"k": k, "max_users": max_users, "content": content}
    if items and not interactions:
        raise RecommendError("--items needs --interactions (or import them first)")
    if interactions:
        params["files"] = import_params(interactions, items, mapping)
        params["source"] = Path(interactions).name
    return params


def start_eval(ws, params: dict, cancel: threading.Event | None = None) -> jobs.JobRun:
    """Starts the evaluation job (params from `eval_params`); its result is an `EvalResult` with `run_id`."""
    return jobs.start(ws, "recommend_eval", params, cancel)


@jobs.register("recommend_eval", unit="steps", reads_only=True)
def eval_job(ws, job):
    """Evaluates every method leave-last-out and stores the run (params: k, max_users, weights, content, and
    files: read into a scratch workspace so the workspace's own data stays as it is)."""
    files = job.params.get("files")
    if not files:
        return (yield from _evaluate(ws, ws, job, ws.store.rec_version()))
    from engine.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="quarry-eval-") as scratch, Workspace(Path(scratch)) as tmp:
        tmp.store.set_state("encoder", ws.encoder_id)
        imported: list[ImportReport] = []
        steps = import_steps(tmp, job, files, imported, scale=None)
        while True:
            try:
                yield next(steps)
            except StopIteration as stop:
                if not stop.value:
                    return None
                break
        # rec_version None: weights tuned on other data are never the workspace's hybrid weights
        return (yield from _evaluate(tmp, ws, job, None))


def _evaluate(data_ws, store_ws, job, rec_version: int | None):
    from engine.recommend.evaluate import evaluate

    params = job.params
    dataset = load_dataset(data_ws)
    vectors = item_vectors(data_ws, dataset.catalog) if params.get("content", True) else None
    steps = evaluate(dataset, vectors, k=int(params.get("k", 10)), weights=params.get("weights"),
                     max_users=params.get("max_users"), cancelled=job.cancelled)
    result = yield from job.relay(steps)
    if result is None or store_ws.store.read_only:  # a read-only workspace shows the figures, storing none
        return result
    result.run_id = store_ws.store.rec_save_run(
        params.get("source", "workspace"), result.users, result.events,
        {"k": result.k, "weights": result.weights, "max_users": params.get("max_users"),
         "rec_version": rec_version},
        {"rows": [r.__dict__ for r in result.rows], "seconds": result.seconds, "items": result.items,
         "notes": result.notes})
    return result

