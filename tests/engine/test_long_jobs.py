"""The long operations that became jobs (classify eval, answer eval, recommend import): each shows progress,
honours a cancel, and resumes cleanly, on small real data (real DuckDB, real sklearn, the real encoder)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from engine import jobs
from engine import recommend as rec
from engine.classify import evaluate, sets
from engine.documents import evaluate as answers
from engine.workspace import Workspace

CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"
QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "questions.jsonl"


def drive(run, cancel_when=lambda progress: False) -> list[jobs.Progress]:
    """Iterates a run to its end, cancelling it at the first progress `cancel_when` accepts."""
    seen = []
    for progress in run:
        seen.append(progress)
        if cancel_when(progress):
            run.cancel()
    return seen


# -- recommend import ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> tuple[str, str]:
    """A catalog of 2,000 items and a log of 300,000 interactions (large enough that DuckDB reports progress
    and a cancel lands mid-statement), written by DuckDB."""
    folder = tmp_path_factory.mktemp("big-log")
    items, log = folder / "items.csv", folder / "log.csv"
    db = duckdb.connect()
    db.execute(f"COPY (SELECT 'i' || i AS item_id, 'Item ' || i AS title, 'cat' || (i % 7) AS category, "
               f"10 + i % 90 AS price FROM range(2000) t(i)) TO '{items}' (HEADER)")
    db.execute(f"COPY (SELECT 'u' || (i % 40000) AS user_id, 'i' || ((i * 7919) % 2000) AS item_id, "
               f"TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS timestamp FROM range(300000) t(i)) "
               f"TO '{log}' (HEADER)")
    db.close()
    return str(items), str(log)


def test_import_job_shows_progress_and_gives_reports(tmp_path, big_log):
    items, log = big_log
    with Workspace(tmp_path / "ws") as ws:
        run = rec.start_import(ws, log, items)
        seen = drive(run)
        assert run.status == "done" and seen[-1].done == 100 and seen[-1].total == 100
        assert any(p.message.startswith("catalog") for p in seen)
        assert any(p.message.startswith("interactions") for p in seen)
        assert [p.done for p in seen] == sorted(p.done for p in seen)  # the bar never goes back
        kinds = [r.kind for r in run.result]
        assert kinds == ["items", "interactions"] and run.result[1].rows == 300_000
        assert ws.store.rec_counts().events == 300_000


def test_import_cancel_keeps_nothing_of_the_step_and_resume_skips_the_catalog(tmp_path, big_log):
    items, log = big_log
    with Workspace(tmp_path / "ws") as ws:
        run = rec.start_import(ws, log, items)
        # cancelled at the first look at the running statement, while DuckDB reads the log
        seen = drive(run, cancel_when=lambda p: p.message.startswith("interactions") and "reading " not in p.message)
        assert run.status == "cancelled" and run.result is None
        assert any(p.message.startswith("interactions") and "reading " not in p.message for p in seen)
        counts = ws.store.rec_counts()
        assert counts.items == 2000 and counts.events == 0  # the catalog committed, the log rolled back
        stored = ws.store.job(run.id)
        assert [r["kind"] for r in stored.result["checkpoint"]["reports"]] == ["items"]

        resumed = jobs.resume(ws, run.id)
        seen = drive(resumed)
        assert resumed.status == "done"
        assert not any(p.message.startswith("catalog") for p in seen)  # committed before: skipped
        assert [r.kind for r in resumed.result] == ["items", "interactions"]
        assert ws.store.rec_counts().events == 300_000


def test_import_data_still_gives_import_reports(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp\nu1,A,2026-05-01 10:00\nu1,A,2026-05-01 10:00\n", encoding="utf-8")
    with Workspace(tmp_path / "ws") as ws:
        [report] = rec.import_data(ws, str(log))
        assert isinstance(report, rec.ImportReport) and report.rows == 1 and report.duplicates == 1
        assert "1 duplicate events" in report.warnings[0]


# -- classify eval ----------------------------------------------------------------------------------
@pytest.fixture
def credit_ws(tmp_path):
    """A workspace with 300 demo credit applications as a tabular label set."""
    with open(CREDIT, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    small = tmp_path / "credit.csv"
    with open(small, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows[:301])
    ws = Workspace(tmp_path / "ws")
    sets.import_examples(ws, "credit", "outcome", file=small, features=[c for c in rows[0] if c != "outcome"])
    yield ws
    ws.close()


def test_classify_eval_job_progress_cancel_and_resume(credit_ws):
    params = evaluate.eval_params("credit", curve=(50,))
    run = evaluate.start_eval(credit_ws, params)
    seen = drive(run, cancel_when=lambda p: p.message == "evaluating auto")
    assert run.status == "cancelled" and run.result is None
    assert [p.message for p in seen][:2] == ["evaluating tabular", "learning curve of tabular"]
    assert all(p.total == 2 and p.unit == "methods" for p in seen)
    stored = credit_ws.store.job(run.id).result["checkpoint"]["methods"]
    assert [m["method"] for m in stored] == ["tabular"]
    assert credit_ws.store.classify_runs(10) == []  # nothing stored as a run until the end

    resumed = jobs.resume(credit_ws, run.id)
    seen = drive(resumed)
    assert resumed.status == "done"
    assert "evaluating tabular" not in [p.message for p in seen]  # scored before the cancel: kept
    report = resumed.result
    assert [m.method for m in report.methods] == ["tabular", "auto"]
    assert report.methods[0].accuracy == stored[0]["accuracy"] and report.methods[1].chosen
    assert credit_ws.store.classify_runs(10)[0].id == report.run_id


def test_classify_eval_params_name_what_is_missing(credit_ws):
    from engine.classify import ClassifyError

    with pytest.raises(ClassifyError, match="give --label-set S, or --train FILE and --test FILE"):
        evaluate.eval_params()
    with pytest.raises(ClassifyError, match="unknown method 'nope'"):
        evaluate.eval_params("credit", method="nope")
    with pytest.raises(ClassifyError, match="method 'lexical' reads text"):
        evaluate.start_eval(credit_ws, evaluate.eval_params("credit", method="lexical")).wait()


# -- answer eval ----------------------------------------------------------------------------------
def test_answers_eval_job_progress_cancel_and_resume(demo_workspace, tmp_path):
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()[:3]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = answers.answers_params(questions, extractive=True)  # quoted answers: no chat model needed
    run = answers.start_answers(demo_workspace, params)
    seen = drive(run, cancel_when=lambda p: p.done == 1)
    assert run.status == "cancelled" and [(p.done, p.total) for p in seen] == [(1, 3)]
    first = json.loads(lines[0])["question"]
    assert [r["question"] for r in demo_workspace.store.job(run.id).result["checkpoint"]["rows"]] == [first]

    resumed = jobs.resume(demo_workspace, run.id)
    seen = drive(resumed)
    assert resumed.status == "done" and [(p.done, p.total) for p in seen] == [(2, 3), (3, 3)]
    report = resumed.result
    assert report["n"] == 3 and [r["question"] for r in report["rows"]][0] == first
    assert report["contains_answer"] is not None


def test_answers_params_check_the_file(tmp_path):
    from engine.errors import QuarryError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": 1}\n', encoding="utf-8")
    with pytest.raises(QuarryError, match=r"bad.jsonl:1: expected a JSON object with a 'question' field"):
        answers.answers_params(bad)


def test_progress_is_not_held_up_by_a_statement_holding_the_write_lock(tmp_path):
    """A long import statement holds the write lock for its whole run; the job's progress must still be
    given at once (and its cancel seen), the row catching up at the next save."""
    import threading

    with Workspace(tmp_path / "ws") as ws:
        job_id = ws.store.create_job("recommend_import", {}, "%", 0)
        job = jobs.Job(ws.store, job_id, jobs.kind("recommend_import"), {}, threading.Event())
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with ws.store.writing():
                holding.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        try:
            given = threading.Thread(target=lambda: job.progress(40, 100, "interactions: log.csv 40%"))
            given.start()
            given.join(5)
            assert not given.is_alive()  # before the fix it waited for the statement to end
            assert job.last.done == 40 and ws.store.job(job_id).done == 0
        finally:
            release.set()
            holder.join()
        job._saved_at = None  # as a second later
        job.progress(60, 100, "interactions: log.csv 60%")
        assert ws.store.job(job_id).done == 60
