"""Engine jobs in the TUI, in the one worker pattern (tui/workers.py).

`run_job_worker(widget, start_fn)` starts a job in a thread worker and posts `JobProgressed`, then exactly
one of `JobFinished` or `JobFailed`, to the widget (they bubble to its pane, and a JobFailed on to the
app's toast). Whatever happens in the worker, that last message is posted, so a pane's busy state always
clears. Most panes use it through the
`JobProgress` widget (tui/widgets/job_progress.py), which also draws the bar and owns the busy state:

    self.query_one(JobProgress).start(lambda cancel: jobs.start(ws, "ingest", params, cancel), "Reading …")
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable

from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from tui.messages import JobFailed, JobFinished, JobProgressed

StartFn = Callable[..., object]  # () -> JobRun, or (cancel: threading.Event) -> JobRun


class JobHandle:
    """A job started from the TUI: cancel it, and see its run once it has started."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.run = None  # engine.jobs.JobRun, once start_fn gave it
        self.worker: Worker | None = None
        self.cancel_event = threading.Event()
        self.ended = False

    def cancel(self) -> None:
        """Asks the job to stop at its next check; what it committed stays."""
        self.cancel_event.set()
        if self.run is not None:
            self.run.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


def _call_start(start_fn: StartFn, cancel: threading.Event):
    try:
        takes_cancel = len(inspect.signature(start_fn).parameters) >= 1
    except (TypeError, ValueError):
        takes_cancel = False
    return start_fn(cancel) if takes_cancel else start_fn()


def run_job_worker(widget: Widget, start_fn: StartFn, kind: str = "job",
                   group: str | None = None) -> JobHandle:
    """Runs `start_fn()`'s job in a thread worker, posting its progress and its end to `widget`."""
    from engine import log

    handle = JobHandle(kind)

    def work() -> None:
        worker = get_current_worker()
        try:
            run = _call_start(start_fn, handle.cancel_event)
            handle.run = run
            handle.kind = run.kind
            if handle.cancelled:
                run.cancel()
            for progress in run:
                if worker.is_cancelled:  # the app is closing: stop at the next check
                    run.cancel()
                widget.post_message(JobProgressed(progress))
            handle.ended = True
            widget.post_message(JobFinished(run))
        except Exception as exc:  # a QuarryError is one line; a bug's traceback goes to the log
            handle.ended = True
            line, bug = log.report(exc, f"job {handle.kind}")
            widget.post_message(JobFailed(handle.kind, line, _job_id(handle), bug=bug))
        finally:
            if not handle.ended:  # BaseException (the worker torn down): the busy state still clears
                handle.ended = True
                widget.post_message(JobFailed(handle.kind, "stopped", _job_id(handle)))

    handle.worker = widget.run_worker(work, name=f"job:{kind}", group=group or f"job-{kind}",
                                      thread=True, exit_on_error=False)
    return handle


def _job_id(handle: JobHandle) -> int | None:
    return handle.run.id if handle.run is not None else None
