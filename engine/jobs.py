"""Long work as jobs: an id, a kind, progress (done/total/rate/eta), cancel, and resume after a crash.

A kind of job is a work function registered under a name: a generator that takes the workspace and a
`Job`, yields `Progress` (from `job.progress(...)`) and may `return` a result. Work functions commit as
they go, so resuming is rerunning with the stored params and skipping what is already committed.

    @jobs.register("classify_batch", unit="rows")
    def classify_batch(ws, job):
        for i, batch in enumerate(batches(job.params)):
            if job.cancelled():
                return None
            ...commit the batch...
            yield job.progress(i + 1, total)

    run = jobs.start(ws, "classify_batch", {"label_set": 3})
    for progress in run: ...        # or: result = run.wait()

The `jobs` table records every job; its status is running, done, failed or cancelled. A QuarryError marks
the job failed with its message and is re-raised; any other exception marks it failed as a bug and is
re-raised; a consumer that stops iterating (or the process being interrupted) marks it cancelled. A job
left "running" by a process that died is listed by `unfinished()` and taken up again by `resume()`.

Work that commits nothing until its end (an evaluation) keeps its finished parts with `job.checkpoint(state)`;
a resumed run finds them in `job.saved` and skips them. Work that is one transaction (an import) restarts
cleanly: a cancel interrupts it and nothing of it is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

from engine.errors import QuarryError
from engine.store.jobs import JobRecord

__all__ = ["Job", "JobRecord", "JobRun", "Progress", "Step", "drain", "register", "resume", "start", "unfinished"]

SAVE_EVERY_S = 1.0  # progress rows are written at most this often (and always at the end)


@dataclass
class Progress:
    """What fronts render about a running job."""

    job_id: int
    kind: str
    done: int
    total: int | None
    unit: str  # "files", "rows", "prompts"
    rate: float  # units per second in this run
    eta_s: float | None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    failed: int = 0
    data: dict = field(default_factory=dict)  # kind-specific detail (ingest: the file, chunks/s)

    def fraction(self) -> float | None:
        """Gives done/total in 0..1, or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass
class Step:
    """Progress of a generator that also runs outside a job (an evaluation called from a bench or a test):
    a job relays it as Progress (`job.relay`), anything else may read it or `drain` the generator."""

    done: int
    total: int | None
    message: str = ""


def drain(steps: Generator[Step, None, object]) -> object:
    """Runs a generator of Steps to its end outside a job; gives its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


WorkFn = Callable[..., Iterator[Progress]]


@dataclass
class Kind:
    name: str
    fn: WorkFn
    unit: str
    reads_only: bool = False  # runs on a read-only workspace, unrecorded (an evaluation that shows its report)


_KINDS: dict[str, Kind] = {}
_LIVE: set[tuple[str, int]] = set()  # (database path, job id) of jobs running in this process
_LIVE_LOCK = threading.Lock()


class JobError(QuarryError):
    """A job that cannot be started or resumed as asked."""


def register(name: str, unit: str = "items", reads_only: bool = False) -> Callable[[WorkFn], WorkFn]:
    """Registers a work function as a kind of job; gives the function unchanged. `reads_only`: its work
    needs no writes, so on a read-only workspace it runs without a job row (no resume) and stores nothing."""

    def wrap(fn: WorkFn) -> WorkFn:
        _KINDS[name] = Kind(name, fn, unit, reads_only)
        return fn

    return wrap


# Where each kind of job is defined: kind() imports the module on demand, so a job stored by one process
# resumes in another. Moving a module means editing this map; a test imports every kind through it.
KIND_MODULES: dict[str, str] = {
    "ingest": "engine.documents.ingest",
    "classify_batch": "engine.classify.batch",
    "compare_batch": "engine.compare.batch",
    "classify_eval": "engine.classify.evaluate",
    "recommend_fit": "engine.recommend.jobs",
    "recommend_eval": "engine.recommend.jobs",
    "recommend_import": "engine.recommend.jobs",
    "answers_eval": "engine.documents.evaluate",
}


def kind(name: str) -> Kind:
    """Gives a registered kind, importing the module that defines it (KIND_MODULES) on demand."""
    if name not in _KINDS and name in KIND_MODULES:
        importlib.import_module(KIND_MODULES[name])
    if name not in _KINDS:
        raise JobError(f"unknown job kind '{name}'; known: {', '.join(sorted(KIND_MODULES))}")
    return _KINDS[name]


class Job:
    """What a work function is handed: its id, kind and params, a cancel check and a progress recorder."""

    def __init__(self, store, record_id: int, kind: Kind, params: dict,
                 cancel: threading.Event, saved: object = None, stop_with: threading.Event | None = None) -> None:
        self.id = record_id
        self.kind = kind.name
        self.unit = kind.unit
        self.params = params
        self._store = store
        self._cancel = cancel
        self._stop_with = stop_with  # the client session's event: a job it started stops when the client goes
        self._started = time.perf_counter()
        self._first_done: int | None = None
        self._saved_at: float | None = None  # perf_counter counts from boot: 0.0 would not mean 'long ago'
        self.last: Progress | None = None
        self.saved = saved  # what `checkpoint` stored before a crash or cancel (None on a fresh start)

    @property
    def recorded(self) -> bool:
        """Whether the job has a row (a job on a read-only workspace has none)."""
        return not self._store.read_only

    def cancelled(self) -> bool:
        return self._cancel.is_set() or (self._stop_with is not None and self._stop_with.is_set())

    def checkpoint(self, state: object) -> None:
        """Stores what the work function finished so far (JSON-able) for a resume to skip; it stays in the
        job's row until the job ends with a result. For work that commits nowhere else (evaluations)."""
        self.saved = state
        if self.recorded:
            self._store.save_job_checkpoint(self.id, {"checkpoint": _jsonable(state)})

    def relay(self, steps: Generator[Step, None, object]) -> Generator[Progress, None, object]:
        """Yields a Step generator's steps as this job's Progress; gives the generator's return value."""
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                return stop.value
            yield self.progress(step.done, step.total, step.message)

    def progress(self, done: int, total: int | None = None, message: str = "", warnings=(),
                 failed: int = 0, data: dict | None = None) -> Progress:
        """Records done/total in DuckDB (at most once a second) and gives the Progress to yield."""
        now = time.perf_counter()
        if self._first_done is None:
            self._first_done = done
            self._started = now
        elapsed = now - self._started
        rate = (done - self._first_done) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if total is not None and rate > 0 else None
        self.last = Progress(self.id, self.kind, done, total, self.unit, rate, eta, message,
                             list(warnings), failed, dict(data or {}))
        due = self._saved_at is None or now - self._saved_at >= SAVE_EVERY_S
        if due and self.recorded and self._store.update_job_progress(self.id, done, total, message, wait=False):
            self._saved_at = now
        return self.last


class JobRun:
    """A started job: iterate it for Progress; then `status`, `result` and `error` say how it ended."""

    def __init__(self, ws, job: Job, gen: Iterator[Progress]) -> None:
        self.ws = ws
        self.job = job
        self.id = job.id
        self.kind = job.kind
        self.status = "running"
        self.result: object = None
        self.error: str | None = None
        self._gen = gen
        self._key = (str(ws.store.path), job.id)
        with _LIVE_LOCK:
            _LIVE.add(self._key)

    def __iter__(self) -> JobRun:
        return self

    def __next__(self) -> Progress:
        if self.status != "running":
            raise StopIteration
        try:
            return next(self._gen)
        except StopIteration as stop:
            self._finish("cancelled" if self.job.cancelled() else "done", result=stop.value)
            raise StopIteration from None
        except QuarryError as exc:
            self._finish("failed", error=str(exc))
            raise
        except (KeyboardInterrupt, SystemExit):
            self._finish("cancelled", error="interrupted")
            raise
        except BaseException as exc:
            self._finish("failed", error=f"bug: {type(exc).__name__}: {exc}")
            raise

    def cancel(self) -> None:
        """Asks the work function to stop at its next cancel check; what it committed stays."""
        self.job._cancel.set()

    @property
    def progress(self) -> Progress | None:
        """Gives the last progress the job reported."""
        return self.job.last

    def wait(self) -> object:
        """Runs the job to its end in this thread; gives its result."""
        for _ in self:
            pass
        return self.result

    def close(self) -> None:
        """Stops a run its consumer abandoned; the job is recorded as cancelled."""
        if self.status == "running":
            self.job._cancel.set()
            try:
                self._gen.close()
            finally:
                self._finish("cancelled", error=None)

    def __del__(self) -> None:
        # A run dropped half way must not stay "running" while the process lives on.
        with contextlib.suppress(Exception):
            self.close()

    def _finish(self, status: str, result: object = None, error: str | None = None) -> None:
        if self.status != "running":
            return
        self.status = status
        self.result = result
        self.error = error
        last = self.job.last
        done = last.done if last else 0
        total = last.total if last else None
        message = error or (last.message if last else "")
        stored = _jsonable(result)
        if stored is None and self.job.saved is not None:  # keep the checkpoint for `quarry jobs resume`
            stored = {"checkpoint": _jsonable(self.job.saved)}
        try:
            if self.job.recorded:
                self.ws.store.finish_job(self.id, status, done, total, message, error, stored)
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(self._key)


def _jsonable(result: object) -> object:
    if result is None:
        return None
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, list | tuple):
        return [_jsonable(item) for item in result]
    if isinstance(result, dict | str | int | float | bool):
        return result
    return str(result)


def start(ws, name: str, params: dict | None = None, cancel: threading.Event | None = None) -> JobRun:
    """Records a new job of a registered kind and gives its run (nothing runs until it is iterated)."""
    found = kind(name)
    params = dict(params or {})
    if ws.store.read_only and found.reads_only:
        job_id = 0  # no row to write: the run still reports progress and honours a cancel
    else:
        job_id = ws.store.create_job(name, params, found.unit, os.getpid())  # read-only: one clear line
    return _run(ws, job_id, found, params, cancel)


def resume(ws, job_id: int, cancel: threading.Event | None = None) -> JobRun:
    """Reruns an unfinished job with its stored params; the work function skips what was committed."""
    record = ws.store.job(job_id)
    if record is None:
        raise JobError(f"no job {job_id} in this workspace; `quarry jobs` lists them")
    if record.status == "done":
        raise JobError(f"job {job_id} ({record.kind}) already finished; nothing to resume")
    if _is_live(ws, job_id):
        raise JobError(f"job {job_id} ({record.kind}) is running now")
    found = kind(record.kind)
    ws.store.restart_job(job_id, os.getpid())
    saved = record.result.get("checkpoint") if isinstance(record.result, dict) else None
    return _run(ws, job_id, found, record.params, cancel, saved)


def unfinished(ws) -> list[JobRecord]:
    """Gives jobs that stopped before their end (a crash, a kill, a cancel), newest first."""
    records = ws.store.jobs(statuses=("running", "cancelled"))
    return [r for r in records if not _is_live(ws, r.id)]


def _is_live(ws, job_id: int) -> bool:
    with _LIVE_LOCK:
        return (str(ws.store.path), job_id) in _LIVE


def _run(ws, job_id: int, found: Kind, params: dict, cancel: threading.Event | None,
         saved: object = None) -> JobRun:
    from engine.serve.session import cancel_event

    # The job's own event (run.cancel sets it) is not the session's: cancelling one job must not cancel
    # the rest of what that client's command is doing, while the client leaving stops them all.
    job = Job(ws.store, job_id, found, params, cancel or threading.Event(), saved, stop_with=cancel_event())
    return JobRun(ws, job, _work(found.fn, ws, job))


def _work(fn: WorkFn, ws, job: Job) -> Iterator[Progress]:
    """Runs a work function lazily; a plain function (no progress) is accepted as well as a generator."""
    out = fn(ws, job)
    if isinstance(out, Iterator):
        return (yield from out)
    return out
