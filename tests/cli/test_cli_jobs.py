"""`quarry ingest` follows its job (lines on a pipe, a bar on a terminal); `quarry jobs` lists and resumes."""

import json

from click.testing import CliRunner

from engine import jobs
from engine.documents.ingest import start_ingest
from engine.workspace import Workspace
from tests.helpers import run_cli


def _folder(tmp_path, n: int = 4):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(n):
        (folder / f"memo-{i}.md").write_text(f"# Memo {i}\nThe okapi number {i} budget is {i} dollars.")
    return folder


def _stopped_ingest(tmp_path):
    """A workspace whose ingest stopped after one of four files, as a crash or a cancel leaves it."""
    root = tmp_path / "ws"
    with Workspace(root) as ws:
        run = start_ingest(ws, [_folder(tmp_path)])
        next(run), next(run)
        run.close()
        return root, run.id


def test_ingest_prints_a_line_per_file_on_stderr_and_one_json_on_stdout(tmp_path, encoder):
    result = run_cli("ingest", "--json", "-w", str(tmp_path / "ws"), str(_folder(tmp_path)))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ingested"] == 4
    plain = run_cli("ingest", "-w", str(tmp_path / "ws2"), str(tmp_path / "docs"))
    lines = plain.stderr.splitlines()
    assert len([line for line in lines if "memo-" in line and "chunks (" in line]) == 4
    assert lines[0].startswith("[1/4] ") and plain.stdout.startswith("4 ingested")


def test_jobs_lists_a_stopped_ingest_and_resumes_it(tmp_path, encoder):
    root, job_id = _stopped_ingest(tmp_path)
    listed = json.loads(run_cli("jobs", "--json", "-w", str(root)).stdout)
    assert [(j["id"], j["kind"], j["status"], j["done"]) for j in listed] == [(job_id, "ingest", "cancelled", 1)]
    resumed = run_cli("jobs", "resume", str(job_id), "--json", "-w", str(root))
    assert resumed.exit_code == 0, resumed.output
    data = json.loads(resumed.stdout)
    assert data["status"] == "done" and data["result"]["ingested"] == 3 and data["result"]["skipped"] == 1
    assert run_cli("jobs", "-w", str(root)).stdout.strip() == "no unfinished jobs"
    again = run_cli("jobs", "resume", str(job_id), "-w", str(root))
    assert again.exit_code == 1 and "already finished" in again.output


def test_follow_draws_a_bar_on_a_terminal(tmp_path, encoder):
    from tui.commands.progress import follow

    root = tmp_path / "ws"
    runner = CliRunner()
    with Workspace(root) as ws, runner.isolation() as (out, err, _):
        summary = follow(start_ingest(ws, [_folder(tmp_path)]), bar=True)
        assert summary.ingested == 4 and ws.store.jobs()[0].status == "done" and jobs.unfinished(ws) == []
    assert out.getvalue() == b"" and "━" in err.getvalue().decode() and b"4/4" in err.getvalue()
