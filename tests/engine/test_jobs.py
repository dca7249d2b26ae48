"""The job runner: progress, outcomes, cancel, and resume after a kill -9 from what was committed.

The test kinds commit their progress through the store's own state rows, like a real work function
commits its rows: resuming skips what is already there."""

import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from engine import jobs
from engine.errors import QuarryError
from engine.workspace import Workspace
from tests.conftest import REPO, quarry_env


def _key(job) -> str:
    return f"test-job-{job.params['name']}"


@jobs.register("testcount", unit="steps")
def count(ws, job):
    """Counts to params['n'], committing each step; sleeps params['sleep'] seconds between steps."""
    total = job.params["n"]
    done = int(ws.store.get_state(_key(job), "0"))
    ran = 0
    yield job.progress(done, total, "starting")
    while done < total:
        if job.cancelled():
            return {"ran": ran, "done": done}
        time.sleep(job.params.get("sleep", 0))
        if job.params.get("fail_at") == done:
            raise QuarryError(f"step {done}: the input is broken; fix it and resume")
        if job.params.get("bug_at") == done:
            raise ZeroDivisionError("division by zero")
        done += 1
        ran += 1
        ws.store.set_state(_key(job), str(done))
        yield job.progress(done, total, f"step {done}", warnings=["odd step"] if done == 3 else ())
    return {"ran": ran, "done": done}


@pytest.fixture
def ws(tmp_path):
    with Workspace(tmp_path / "ws") as workspace:
        yield workspace


def test_a_job_reports_progress_and_records_its_result(ws):
    run = jobs.start(ws, "testcount", {"name": "a", "n": 5})
    seen = list(run)
    assert [p.done for p in seen] == [0, 1, 2, 3, 4, 5]
    assert all(p.total == 5 and p.unit == "steps" and p.job_id == run.id for p in seen)
    assert seen[3].warnings == ["odd step"] and seen[-1].fraction() == 1.0
    assert seen[-1].rate > 0 and seen[-1].eta_s == 0
    assert run.status == "done" and run.result == {"ran": 5, "done": 5}
    record = ws.store.job(run.id)
    assert (record.status, record.done, record.total, record.result) == ("done", 5, 5, {"ran": 5, "done": 5})
    assert record.finished_at is not None and jobs.unfinished(ws) == []


def test_a_quarry_error_marks_the_job_failed_and_is_raised(ws):
    run = jobs.start(ws, "testcount", {"name": "b", "n": 5, "fail_at": 2})
    with pytest.raises(QuarryError, match="step 2: the input is broken"):
        run.wait()
    record = ws.store.job(run.id)
    assert record.status == "failed" and record.error == "step 2: the input is broken; fix it and resume"
    assert record.done == 2


def test_a_bug_marks_the_job_failed_and_is_raised(ws):
    run = jobs.start(ws, "testcount", {"name": "c", "n": 5, "bug_at": 1})
    with pytest.raises(ZeroDivisionError):
        run.wait()
    assert ws.store.job(run.id).status == "failed"
    assert ws.store.job(run.id).error == "bug: ZeroDivisionError: division by zero"


def test_cancel_stops_at_the_next_check_and_keeps_what_was_committed(ws):
    cancel = threading.Event()
    run = jobs.start(ws, "testcount", {"name": "d", "n": 50}, cancel=cancel)
    for progress in run:
        if progress.done == 4:
            cancel.set()
    assert run.status == "cancelled" and ws.store.job(run.id).status == "cancelled"
    assert ws.store.get_state("test-job-d") == "4"
    resumed = jobs.resume(ws, run.id)
    assert resumed.id == run.id and resumed.wait() == {"ran": 46, "done": 50}
    record = ws.store.job(run.id)
    assert record.status == "done" and record.runs == 2


def test_an_abandoned_run_is_not_left_running(ws):
    run = jobs.start(ws, "testcount", {"name": "e", "n": 10})
    for progress in run:
        if progress.done == 2:
            break
    job_id = run.id
    del run
    assert ws.store.job(job_id).status == "cancelled"


def test_unknown_kind_and_done_job_are_clear_errors(ws):
    with pytest.raises(QuarryError, match="unknown job kind 'nope'"):
        jobs.start(ws, "nope")
    run = jobs.start(ws, "testcount", {"name": "f", "n": 1})
    run.wait()
    with pytest.raises(QuarryError, match="already finished"):
        jobs.resume(ws, run.id)
    with pytest.raises(QuarryError, match="no job 999"):
        jobs.resume(ws, 999)


def test_a_killed_job_resumes_from_what_it_committed(tmp_path):
    root = tmp_path / "ws"
    script = textwrap.dedent(f"""
        import sys
        from engine import jobs
        from engine.workspace import Workspace
        import tests.engine.test_jobs  # registers testcount

        ws = Workspace({str(root)!r})
        for p in jobs.start(ws, "testcount", {{"name": "k", "n": 20, "sleep": 0.05}}):
            print(p.done, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=quarry_env(), cwd=REPO)
    for line in proc.stdout:
        if int(line) >= 4:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Workspace(root) as ws:
        committed = int(ws.store.get_state("test-job-k"))
        [stopped] = jobs.unfinished(ws)
        assert stopped.kind == "testcount" and stopped.status == "running" and 4 <= committed < 20
        run = jobs.resume(ws, stopped.id)
        assert run.wait() == {"ran": 20 - committed, "done": 20}
        assert ws.store.job(stopped.id).status == "done" and jobs.unfinished(ws) == []


def test_progress_rows_are_throttled(ws, monkeypatch):
    writes = []
    original = ws.store.update_job_progress
    monkeypatch.setattr(ws.store, "update_job_progress", lambda *a, **k: (writes.append(a), original(*a, **k))[1])
    monkeypatch.setattr(jobs, "SAVE_EVERY_S", 3600.0)
    run = jobs.start(ws, "testcount", {"name": "g", "n": 20})
    run.wait()
    assert len(writes) == 1  # the first progress; the next would wait an hour
    assert ws.store.job(run.id).done == 20  # the end is always recorded


def test_every_job_kind_imports_from_its_map():
    """A kind stored by one process must resume in another: each name in the map registers itself on import."""
    for name, module in jobs.KIND_MODULES.items():
        assert jobs.kind(name).name == name, f"{module} does not register '{name}'"
    with pytest.raises(jobs.JobError, match="unknown job kind"):
        jobs.kind("no_such_kind")


def test_a_served_job_has_its_own_cancel_and_stops_with_its_client(ws):
    """Cancelling one job a client's command started leaves the command's session running; the client
    going away stops every job the command started. A real Session over a socketpair."""
    import socket

    from engine.serve.protocol import Request
    from engine.serve.session import Session

    near, far = socket.socketpair()
    session = Session(near, Request(["jobs"], "/", str(ws.root)), ws)

    def command():
        first = jobs.start(ws, "testcount", {"name": "s1", "n": 50})
        for progress in first:
            if progress.done == 2:
                first.cancel()
        second = jobs.start(ws, "testcount", {"name": "s2", "n": 50})
        for progress in second:
            if progress.done == 3:
                session.cancelled.set()  # the client went away
        return first, second

    try:
        first, second = session.run(command)
    finally:
        near.close()
        far.close()
    assert first.status == "cancelled" and ws.store.get_state("test-job-s1") == "2"
    assert second.status == "cancelled" and ws.store.get_state("test-job-s2") == "3"
