"""The one worker pattern and progress widget: progress shows, and the busy state clears whatever the job
does — finish, QuarryError, a bug, a PermissionError before it starts, a cancel."""

import threading

from textual import on
from textual.app import App, ComposeResult
from textual.widgets import ProgressBar, Static

from engine import jobs
from engine.errors import QuarryError
from engine.workspace import Workspace
from tests.tui.helpers import toasts, wait_for
from tui import workers
from tui.messages import JobFailed, JobFinished, JobProgressed, WorkFailed
from tui.widgets.job_progress import JobProgress

gate = threading.Event()


@jobs.register("teststeps", unit="steps")
def steps(ws, job):
    n = job.params["n"]
    for i in range(1, n + 1):
        if job.cancelled():
            return "cancelled"
        if job.params.get("wait_at") == i:
            gate.wait(10)
        if job.params.get("fail") == i:
            raise QuarryError("step 2: a broken input; fix it and resume")
        if job.params.get("bug") == i:
            raise KeyError("oops")
        yield job.progress(i, n, f"step {i} of <b>[bold]{n}[/]")
    return f"counted {n}"


class JobsApp(App):
    def __init__(self, ws) -> None:
        super().__init__()
        self.ws = ws
        self.events: list = []

    def compose(self) -> ComposeResult:
        yield JobProgress(id="progress")

    @on(JobProgressed)
    @on(JobFinished)
    @on(JobFailed)
    def record(self, message) -> None:
        self.events.append(message)

    @on(WorkFailed)
    def toast(self, message: WorkFailed) -> None:  # what QuarryApp does with every failure
        workers.toast(self, message)

    def start(self, **params):
        return self.query_one(JobProgress).start(lambda cancel: jobs.start(self.ws, "teststeps", params, cancel),
                                                 "Starting …", kind="teststeps")


def _ends(app):
    return [e for e in app.events if not isinstance(e, JobProgressed)]


async def test_progress_shows_and_the_busy_state_clears(tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        app = JobsApp(ws)
        async with app.run_test(size=(100, 10)) as pilot:
            gate.clear()
            widget = app.query_one(JobProgress)
            app.start(n=3, wait_at=2)
            await wait_for(pilot, lambda: any(isinstance(e, JobProgressed) for e in app.events))
            assert widget.busy and widget.display and app.start(n=1) is None  # one job at a time
            status = str(widget.query_one(".job-status", Static).render())
            assert "1/3 steps" in status and "<b>[bold]3[/]" in status and "esc cancels" in status
            gate.set()
            await wait_for(pilot, lambda: _ends(app))
            [end] = _ends(app)
            assert isinstance(end, JobFinished) and end.result == "counted 3" and not end.cancelled
            assert not widget.busy and not widget.has_class("-busy")
            assert widget.query_one(ProgressBar).progress == 3
            assert ws.store.job(end.job_id).status == "done"


async def test_a_quarry_error_a_bug_and_a_failed_start_are_toasts_and_clear(tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        app = JobsApp(ws)
        async with app.run_test(size=(100, 10)) as pilot:
            widget = app.query_one(JobProgress)
            for params in ({"n": 3, "fail": 2}, {"n": 3, "bug": 1}):
                app.events.clear()
                app.start(**params)
                await wait_for(pilot, lambda: _ends(app))
                assert isinstance(_ends(app)[0], JobFailed) and not widget.busy

            def denied(cancel):
                raise PermissionError(13, "Permission denied", "/root/secret")

            app.events.clear()
            widget.start(denied, kind="ingest")
            await wait_for(pilot, lambda: _ends(app))
            assert not widget.busy and _ends(app)[0].bug
            app.start(n=1)  # the pane takes the next job
            await wait_for(pilot, lambda: isinstance(_ends(app)[-1], JobFinished))
            messages = toasts(app)  # every toast, kept (a slow machine outlives a toast's timeout)
            assert "step 2: a broken input; fix it and resume" in messages
            assert any(m.startswith("Bug (please report): KeyError") and "quarry.log" in m for m in messages)
            assert any("PermissionError" in m and "/root/secret" in m for m in messages)
            assert [r.status for r in ws.store.jobs()] == ["done", "failed", "failed"]


async def test_cancel_stops_the_job_and_clears(tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        app = JobsApp(ws)
        async with app.run_test(size=(100, 10)) as pilot:
            gate.clear()
            widget = app.query_one(JobProgress)
            app.start(n=5, wait_at=2)
            await wait_for(pilot, lambda: any(isinstance(e, JobProgressed) for e in app.events))
            assert widget.cancel()
            gate.set()
            await wait_for(pilot, lambda: _ends(app))
            [end] = _ends(app)
            assert isinstance(end, JobFinished) and end.cancelled and not widget.busy
            assert ws.store.job(end.job_id).status == "cancelled"
