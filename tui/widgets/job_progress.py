"""JobProgress: the one progress widget for every job — a bar, a status line, "esc cancels" — and the
busy state of the pane that holds it (one job at a time per widget)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from tui.jobs import JobHandle, StartFn, run_job_worker
from tui.messages import JobFailed, JobFinished, JobProgressed


def status_line(progress, cancel_hint: str = "esc cancels") -> Text:
    """Gives the status line of a job's progress, document text shown literally."""
    total = f"/{progress.total}" if progress.total is not None else ""
    parts = [f"{progress.done}{total} {progress.unit}"]
    if progress.failed:
        parts.append(f"{progress.failed} failed")
    if progress.message:
        parts.append(progress.message)
    line = Text(" · ".join(parts))
    if cancel_hint:
        line.append(f" ({cancel_hint})", style="dim")
    return line


class JobProgress(Horizontal):
    """A bar and a status line shown while a job runs; hidden otherwise."""

    DEFAULT_CSS = """
    JobProgress { height: 1; padding: 0 1; display: none; }
    JobProgress.-busy { display: block; }
    JobProgress > .job-status { width: 1fr; padding-left: 1; }
    """

    def __init__(self, cancel_hint: str = "esc cancels", **kwargs) -> None:
        super().__init__(**kwargs)
        self.cancel_hint = cancel_hint
        self.handle: JobHandle | None = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(classes="job-bar", show_eta=True)
        yield Static("", classes="job-status", markup=False)

    @property
    def busy(self) -> bool:
        return self.handle is not None

    def start(self, start_fn: StartFn, label: str = "", kind: str = "job") -> JobHandle | None:
        """Starts a job unless one is running here (then gives None); shows the bar until it ends."""
        if self.handle is not None:
            return None
        self.add_class("-busy")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(".job-status", Static).update(Text(label or f"Starting {kind} …"))
        self.handle = run_job_worker(self, start_fn, kind=kind)
        return self.handle

    def cancel(self, note: str = "Cancelling after the current step …") -> bool:
        """Asks the running job to stop; gives whether there was one."""
        if self.handle is None:
            return False
        self.handle.cancel()
        self.query_one(".job-status", Static).update(Text(note))
        return True

    @on(JobProgressed)
    def _progressed(self, message: JobProgressed) -> None:
        if self.handle is None:
            return
        progress = message.progress
        bar = self.query_one(ProgressBar)
        bar.update(total=progress.total, progress=progress.done)
        if not self.handle.cancelled:
            self.query_one(".job-status", Static).update(status_line(progress, self.cancel_hint))
        for warning in progress.warnings:
            self.notify(warning, severity="warning", timeout=6, markup=False)

    @on(JobFinished)
    def _finished(self, message: JobFinished) -> None:
        self._clear()

    @on(JobFailed)
    def _failed(self, message: JobFailed) -> None:
        self._clear()  # the message bubbles on: the app shows the error (tui/workers.py)

    def _clear(self) -> None:
        self.handle = None
        self.remove_class("-busy")
