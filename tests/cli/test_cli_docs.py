import json
import shutil

from engine import locations
from tests.helpers import run_cli as run


def test_search_json_ranks_returns_policy_first(demo_workspace_dir):
    result = run("search", "--json", "return window for opened electronics", "-w", demo_workspace_dir)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert hits[0]["file"].endswith("policies/returns-policy.pdf")
    assert {"file", "page", "chunk_id", "score", "text"} <= set(hits[0])


def test_search_filters_from_the_cli(demo_workspace_dir):
    hits = json.loads(run("search", "--json", "warranty", "--type", "pdf", "-w", demo_workspace_dir).stdout)["hits"]
    assert hits and all(h["file"].endswith(".pdf") for h in hits)
    future = run("search", "--json", "warranty", "--since", "2999-01-01", "-w", demo_workspace_dir)
    assert json.loads(future.stdout)["hits"] == []


def test_ingest_twice_reports_no_encoding_work(tmp_path, encoder):
    folder = tmp_path / "docs"
    shutil.copytree(locations.demo_corpus() / "policies", folder)
    first = json.loads(run("ingest", "--json", folder, "-w", tmp_path / "ws").stdout)
    assert first["ingested"] == 8 and first["chunks_embedded"] > 0
    second = run("ingest", folder, "-w", tmp_path / "ws")
    assert "no encoding work" in second.stdout and second.exit_code == 0


def test_index_info_and_docs(demo_workspace_dir):
    info = json.loads(run("index", "info", "--json", "-w", demo_workspace_dir).stdout)
    assert info["vector_index"]["kind"] == "flat" and info["keyword_documents"] == info["chunks"] > 500
    assert info["encoder_provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
    docs = json.loads(run("docs", "--json", "-w", demo_workspace_dir).stdout)
    assert len(docs) >= 40


def test_eval_retrieval(demo_workspace_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "hotel cap per night", "expected_file": "travel-policy.docx"})
                         + "\n" + json.dumps({"question": "What is the parental leave policy?"}) + "\n")
    report = json.loads(run("eval", "retrieval", questions, "--json", "-w", demo_workspace_dir).stdout)
    hybrid = next(r for r in report["rows"] if r["mode"] == "hybrid" and r["lang"] == "all")
    assert hybrid["recall"] == 1.0 and report["unanswerable"] == 1


def test_eval_rejects_a_bad_questions_file(demo_workspace_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\nnot json\n')
    result = run("eval", "retrieval", bad, "-w", demo_workspace_dir)
    assert result.exit_code == 1 and "bad.jsonl:2" in result.output
    gbk = tmp_path / "gbk.jsonl"  # it was "Bug (please report): UnicodeDecodeError"
    gbk.write_bytes('{"question": "ok"}\n{"question": "退货政策是什么？"}\n'.encode("gbk"))
    for command in ("retrieval", "answers"):
        result = run("eval", command, gbk, "-w", demo_workspace_dir)
        assert result.exit_code == 1 and "gbk.jsonl:2: not UTF-8 (JSON lines are UTF-8)" in result.output
        assert "Bug" not in result.output


def test_ask_json_cites_and_refuses(demo_workspace_dir, chat_model, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    data = json.loads(run("ask", "--json", "What is the return window for opened electronics?", "-w", root).stdout)
    assert not data["refused"] and data["citations"][0]["file"].endswith("returns-policy.pdf")
    assert data["citations"][0]["page"] == 1 and data["ttft_ms"] > 0
    refused = json.loads(run("ask", "--json", "Who won the 2022 football world cup?", "-w", root).stdout)
    assert refused["refused"] and refused["completion_tokens"] == 0 and refused["nearest"]
    exported = run("export", data["chat_id"], "-w", root)
    assert "returns-policy.pdf" in exported.stdout


def test_missing_path_is_one_line(tmp_path, encoder):
    result = run("ingest", tmp_path / "nope", "-w", tmp_path / "ws")
    assert result.exit_code == 1 and "no such file or folder" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_workspace_open_elsewhere_is_one_line(tmp_path):
    from engine.workspace import Workspace
    from tests.conftest import workspace_held_elsewhere

    Workspace(tmp_path).close()
    with workspace_held_elsewhere(tmp_path):
        result = run("docs", "-w", tmp_path)
    assert result.exit_code == 1 and "open in another Quarry process" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_workspace_given_before_the_command_is_used(demo_workspace_dir):
    docs = json.loads(run("-w", demo_workspace_dir, "docs", "--json").stdout)
    assert len(docs) >= 40


def test_eval_answers_is_a_job_with_progress_on_stderr(demo_workspace_dir, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "What is the return window for opened electronics?",
                                     "expected_file": "policies/returns-policy.pdf", "answer": "15 days"}) + "\n"
                         + json.dumps({"question": "Who won the 2022 football world cup?"}) + "\n")
    result = run("eval", "answers", questions, "--extractive", "-w", root)  # quoted answers: no chat model
    assert result.exit_code == 0, result.output
    assert "[1/2 questions]" in result.stderr and "contains_answer" in result.stdout  # a line a second at most
    jobs = json.loads(run("jobs", "--all", "--json", "-w", root).stdout)
    assert jobs[0]["kind"] == "answers_eval" and jobs[0]["status"] == "done"
    data = json.loads(run("eval", "answers", questions, "--extractive", "--json", "-w", root).stdout)
    assert data["n"] == 2 and data["refusal_rate_unanswerable"] is not None
    # the questions asked are the evaluation's, not the user's: none lands in the Chat list (each run added
    # a chat per question, so 168 bench questions buried the user's own chats, and the app opened on one)
    assert json.loads(run("chats", "--json", "-w", root).stdout) == []
