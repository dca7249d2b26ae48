"""Importing a catalog and interactions (CSV, Parquet or a DuckDB table, through a column mapping) as the
`recommend_import` job: a bar while DuckDB reads millions of rows, a cancel that stops it mid-statement and
keeps nothing of the step it stopped, and a resume that skips the step already committed (the catalog)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

from engine import jobs
from engine.errors import RecommendError
from engine.store.polled import Interrupted, polled
from engine.store.recommendations import ImportReport, Mapping

__all__ = ["ImportReport", "Mapping", "demo_files", "import_data", "import_params", "import_steps",
           "start_import"]


def import_params(interactions: str | None = None, items: str | None = None, mapping: Mapping | None = None,
                  append: bool = False) -> dict:
    """Gives the job params of an import; nothing to import is an error saying what to give."""
    if not interactions and not items:
        raise RecommendError("nothing to import; give --items FILE and/or --interactions FILE")
    return {"interactions": str(interactions) if interactions else None, "items": str(items) if items else None,
            "mapping": dataclasses.asdict(mapping or Mapping()), "append": append}


def start_import(ws, interactions: str | None = None, items: str | None = None, mapping: Mapping | None = None,
                 append: bool = False, cancel: threading.Event | None = None) -> jobs.JobRun:
    """Starts the import job (catalog first, so the interactions' check sees it); iterate it for progress.
    Its result is the list of `ImportReport`s, one per file."""
    return jobs.start(ws, "recommend_import", import_params(interactions, items, mapping, append), cancel)


def import_data(ws, interactions: str | None = None, items: str | None = None, mapping: Mapping | None = None,
                append: bool = False) -> list[ImportReport]:
    """Imports a catalog and/or interactions into the workspace as a job run to its end; gives its reports."""
    return start_import(ws, interactions, items, mapping, append).wait() or []


def demo_files() -> tuple[str, str]:
    """Gives the demo store's (catalog, interactions) files."""
    from engine import locations

    folder = locations.SOURCE_ROOT / "demo" / "store"
    return str(folder / "catalog.csv"), str(folder / "interactions.csv.gz")


def import_steps(ws, job, params: dict, done: list[ImportReport], scale: int | None = 100
                 ) -> Iterator[jobs.Progress]:
    """Imports the params' files into `ws` that `done` has no report for, yielding the job's progress (0 to
    `scale` over the steps; None: messages only, for a job that counts other steps) and appending each
    step's report to `done` as it commits; gives False when a cancel stopped it (the step it stopped
    rolled back), True when every step is in."""
    mapping = Mapping(**(params.get("mapping") or {}))
    append = bool(params.get("append"))
    steps = [(kind, params[kind]) for kind in ("items", "interactions") if params.get(kind)]
    finished = {r.kind for r in done}
    for n, (kind, source) in enumerate(steps):
        base, span = (scale or 0) * n / len(steps), (scale or 0) / len(steps)
        if kind in finished:
            continue
        method = ws.store.rec_import_items if kind == "items" else ws.store.rec_import_interactions
        label = Path(source).name
        what = "catalog" if kind == "items" else "interactions"
        reading = polled(ws.store, lambda m=method, s=source: m(s, mapping, append=append), job.cancelled)
        at = int(base)
        yield job.progress(at, scale, f"{what}: reading {label}")
        try:
            while True:
                percent = next(reading)
                if percent is not None:
                    at = max(at, int(base + span * percent / 100))
                yield job.progress(at, scale, f"{what}: {label}"
                                   + (f" {percent:.0f}%" if percent is not None else " (reading)"))
        except StopIteration as stop:
            report = stop.value
        except Interrupted:
            return False
        done.append(report)
        yield job.progress(int(base + span), scale, report.line())
    return True
