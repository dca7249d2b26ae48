"""`quarry labels` and `quarry classify`: label sets, texts, batches, evaluation, runs, help and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.workspace import Workspace
from tests.conftest import quarry_env, require_models
from tests.helpers import run_cli as run

TABLES = Path(__file__).resolve().parents[2] / "demo" / "docs" / "tables"
CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"


@pytest.fixture(scope="module")
def ws_dir(tmp_path_factory):
    require_models("minilm-l6")
    root = tmp_path_factory.mktemp("cli-classify")
    result = run("labels", "import", "tickets", "--file", TABLES / "support-tickets.csv", "--text-column", "text",
                 "--label-column", "intent", "-w", root)
    assert result.exit_code == 0, result.output
    result = run("labels", "import", "credit", "--file", CREDIT, "--features", "*",
                 "--label-column", "outcome", "-w", root)
    assert result.exit_code == 0, result.output
    return root


def test_every_command_help_has_an_example():
    for args in (["labels"], ["labels", "list"], ["labels", "create"], ["labels", "import"], ["labels", "show"],
                 ["labels", "delete"], ["classify"], ["classify", "eval"], ["classify", "runs"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Example" in result.output, args


def test_labels_list_show_create_delete(ws_dir):
    listed = json.loads(run("labels", "list", "--json", "-w", ws_dir).stdout)
    assert {s["name"] for s in listed} >= {"tickets", "credit"}
    shown = json.loads(run("labels", "show", "tickets", "--json", "-w", ws_dir).stdout)
    assert len(shown["labels"]) >= 8 and all(label["examples"] > 0 for label in shown["labels"])
    created = run("labels", "create", "tmp", "-l", "yes=agrees", "-l", "no", "-w", ws_dir)
    assert created.exit_code == 0 and "2 labels" in created.output
    assert run("labels", "delete", "tmp", "-w", ws_dir).exit_code == 0
    missing = run("labels", "show", "tmp", "-w", ws_dir)
    assert missing.exit_code != 0 and "no label set 'tmp'" in missing.output


def test_classify_texts_json(ws_dir):
    result = run("classify", "where is my parcel, it is a week late", "I was charged twice",
                 "--label-set", "tickets", "--json", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["auto"]["method"] in ("zero-shot", "embedding", "lexical", "stack")
    assert [p["label"] for p in doc["predictions"]] == ["shipping_delay", "billing"]


def test_classify_a_file_column_as_a_batch(ws_dir, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text("id,body\n1,please refund my order\n2,my password reset never arrives\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("classify", "--file", source, "--column", "body", "--label-set", "tickets", "--method", "lexical",
                 "--export", out, "--json", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["rows"] == 2 and out.exists() and "refund_request" in out.read_text()


def test_classify_eval_on_a_label_set_prints_every_method(ws_dir):
    result = run("classify", "eval", "--label-set", "credit", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    assert "tabular" in result.output and "auto:tabular" in result.output and "confusion" in result.output
    runs = json.loads(run("classify", "runs", "--json", "-w", ws_dir).stdout)
    assert runs[0]["kind"] == "eval" and runs[0]["label_set"] == "credit"


def test_classify_eval_on_train_and_test_files(ws_dir, tmp_path):
    lines = (TABLES / "support-tickets.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    (tmp_path / "train.csv").write_text("\n".join([header, *rows[::2]]), encoding="utf-8")
    (tmp_path / "test.csv").write_text("\n".join([header, *rows[1::2]]), encoding="utf-8")
    result = run("classify", "eval", "--train", tmp_path / "train.csv", "--test", tmp_path / "test.csv",
                 "--label-column", "intent", "--method", "lexical", "--json", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["methods"][0]["method"] == "lexical" and doc["methods"][0]["accuracy"] > 0.5


@pytest.mark.parametrize("args,message", [
    (["classify", "hello", "--label-set", "nope"], "no label set 'nope'"),
    (["classify", "", "--label-set", "tickets", "-m", "lexical"], "text 1 is empty"),
    (["classify", "--table", "ghost", "--column", "x", "--label-set", "tickets"], "no table 'ghost'"),
    (["classify", "hello", "--label-set", "credit", "-m", "lexical"], "this label set holds table rows"),
    (["classify", "--file", TABLES / "support-tickets.csv", "--label-set", "tickets"],
     "give the column with the text to classify"),
    (["classify", "--file", TABLES / "support-tickets.csv", "-c", "text", "--label-set", "tickets",
      "--export", "/no/such/folder/out.csv"], "no folder /no/such/folder"),
])
def test_errors_are_one_line(ws_dir, args, message):
    result = run(*args, "-w", ws_dir)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("output", ["documents", "jobs"])
def test_output_over_an_internal_table_is_refused_and_the_table_kept(ws_dir, output):
    """`--output documents` once dropped the library before classifying into it."""
    with Workspace(ws_dir) as ws:
        before = ws.store.db.execute(f"SELECT count(*) FROM {output}").fetchone()[0]
    result = run("classify", "--file", TABLES / "support-tickets.csv", "-c", "text", "-s", "tickets", "-m", "lexical",
                 "--output", output, "-w", ws_dir)
    assert result.exit_code != 0 and f"output table '{output}' already exists" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    with Workspace(ws_dir) as ws:
        assert ws.store.db.execute(f"SELECT count(*) FROM {output}").fetchone()[0] == before


def test_texts_piped_on_stdin_one_per_line(ws_dir):
    result = run("classify", "-s", "tickets", "-m", "lexical", "--json", "-w", ws_dir,
                 input="please refund my order\n\nmy password reset never arrives\n")
    assert result.exit_code == 0, result.output
    assert [p["text"] for p in json.loads(result.stdout)["predictions"]] == [
        "please refund my order", "my password reset never arrives"]


def test_an_idle_stdin_pipe_is_not_waited_on(ws_dir):
    """`quarry classify -s tickets` under a pipe no one writes to once hung on sys.stdin.read()."""
    proc = subprocess.Popen([sys.executable, "-m", "tui", "classify", "-s", "tickets", "-w", str(ws_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=quarry_env())
    try:
        code = proc.wait(timeout=120)  # stdin stays open and empty all along
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("quarry classify waited on an idle stdin pipe")
    finally:
        proc.stdin.close()
    out = proc.stdout.read()
    assert code != 0 and "give texts to classify" in out and "Traceback" not in out
