"""`quarry feedback rate|list|export|remove` and `quarry eval answers|retrieval --from-ratings` on a copy of the
demo workspace, with the real SmolLM2 GGUF and ONNX encoder."""

from __future__ import annotations

import json

import duckdb
import pytest

from engine.documents.ratings import OUTCOMES
from tests.helpers import run_cli as run

QUESTION = "How many days do customers have to return an item?"


def _ask(root, question: str = QUESTION) -> dict:
    """Asks for a quoted answer: the model is loaded, but a 1,000-token prompt is not read (seconds here)."""
    result = run("ask", question, "--json", "--extractive", "-w", root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _passage_elsewhere(root, question: str, cited: set[str]) -> dict:
    """Gives a search hit for the question from a file the answer did not cite (else the top hit)."""
    hits = json.loads(run("search", question, "--k", "10", "--json", "-w", root).stdout)["hits"]
    return next((h for h in hits if h["file"] not in cited), hits[0])


def test_ratings_become_tests(demo_root, chat_model):
    good = _ask(demo_root)
    bad = _ask(demo_root, "Which courier delivers our parcels in Germany?")
    passage = _passage_elsewhere(demo_root, "Which courier delivers our parcels in Germany?",
                                 {c["file"] for c in bad["citations"]})
    rated = run("feedback", "rate", good["message_id"], "good", "-w", demo_root)
    assert rated.exit_code == 0 and f"rated answer {good['message_id']} good" in rated.output
    rated = run("feedback", "rate", bad["message_id"], "bad", "--passage", passage["chunk_id"], "-w", demo_root)
    assert rated.exit_code == 0, rated.output

    stored = json.loads(run("feedback", "list", "--kind", "rating", "--json", "-w", demo_root).stdout)
    assert [s["value"] for s in stored] == ["good", "bad"]
    assert stored[1]["detail"]["question"] == "Which courier delivers our parcels in Germany?"
    assert stored[1]["detail"]["answer"] == bad["answer"]
    assert stored[1]["detail"]["passage"]["chunk_id"] == passage["chunk_id"]
    assert stored[1]["detail"]["passage"]["path"] == passage["file"] and stored[1]["detail"]["passage"]["text"]

    result = run("eval", "answers", "--from-ratings", "--extractive", "--json", "-w", demo_root)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["from_ratings"] and report["n"] == 2
    by_id = {r["message_id"]: r for r in report["ratings"]}
    assert by_id[good["message_id"]]["was"] == "good" and by_id[good["message_id"]]["outcome"] == "same"
    redone = by_id[bad["message_id"]]
    assert redone["was"] == "bad" and redone["passage"]["chunk_id"] == passage["chunk_id"]
    assert redone["outcome"] in ("fixed", "right_file", "missed", "refused") and redone["outcome"] in OUTCOMES
    assert sum(report["outcomes"].values()) == 2

    human = run("eval", "answers", "--from-ratings", "--extractive", "-w", demo_root)
    assert human.exit_code == 0 and "Which courier delivers our parcels" in human.stdout
    assert human.stdout.splitlines()[0].split() == ["answer", "was", "now", "question"]
    assert "1 rated good: the same answer as the rated one" in human.stderr and "1 rated bad: " in human.stderr

    gold = run("eval", "retrieval", "--from-ratings", "--json", "-w", demo_root)
    assert gold.exit_code == 0, gold.output
    rows = json.loads(gold.stdout)["rows"]
    assert {r["mode"] for r in rows} == {"vector", "keyword", "hybrid"} and all(r["n"] == 1 for r in rows)

    # the pointed-at passage's document removed: it cannot be found, and was counted as a miss (recall 0.000)
    docs = json.loads(run("docs", "--json", "-w", demo_root).stdout)
    doc_id = next(d["id"] for d in docs if d["path"] == passage["file"])
    assert run("docs", "--remove", doc_id, "-w", demo_root).exit_code == 0
    gone = run("eval", "retrieval", "--from-ratings", "-w", demo_root)
    assert gone.exit_code == 1 and "no longer in the library" in gone.output and gone.output.count("\n") == 1


def test_rating_bad_inputs(demo_root, chat_model):
    from engine.workspace import Workspace

    answer = _ask(demo_root)
    question_id = answer["message_id"] - 1
    for args, line in [
        ((question_id, "good"), f"message {question_id} is a question, not an answer"),
        ((answer["message_id"], "good", "--passage", 1), "a passage goes with a bad rating"),
        ((answer["message_id"], "bad", "--passage", 999999), "passage 999999: no such passage in the library"),
    ]:
        result = run("feedback", "rate", *args, "-w", demo_root)
        assert result.exit_code == 1 and line in result.output and len(result.output.strip().splitlines()) == 1
    with Workspace(demo_root) as ws:
        ws.store.delete_chat(answer["chat_id"])
    gone = run("feedback", "rate", answer["message_id"], "good", "-w", demo_root)
    assert gone.exit_code == 1
    assert (f"answer {answer['message_id']}: no such answer (its chat was deleted, or the answer regenerated);"
            " nothing stored") in gone.output
    assert run("feedback", "list", "-w", demo_root).stdout.strip() == "no feedback yet"
    none = run("eval", "answers", "--from-ratings", "-w", demo_root)
    assert none.exit_code == 1 and "no rated document answers yet" in none.output
    none = run("eval", "retrieval", "--from-ratings", "-w", demo_root)
    assert none.exit_code == 1 and "no retrieval golds from ratings yet" in none.output
    none = run("eval", "refusals", "--lang", "zh", "-w", demo_root)
    assert none.exit_code == 1 and "too few rated zh document answers to fit a refusal bar" in none.output
    both = run("eval", "answers", "--from-ratings", __file__, "-w", demo_root)
    assert both.exit_code == 2 and "give a QUESTIONS file or --from-ratings" in both.output


@pytest.fixture
def with_feedback(tmp_path):
    """A fresh workspace holding two pieces of feedback, one with markup and a line break in its text."""
    from engine.workspace import Workspace

    with Workspace(tmp_path / "ws") as ws:
        ws.store.add_feedback("label", "tickets", "text:abc", "refund", {"text": "[bold]Where[/bold] is\nmy parcel?"})
        ws.store.add_feedback("dismiss", "u1", "SD-001", "dismissed", {"title": "Standing desk 中文"})
    return tmp_path / "ws"


def test_feedback_list_export_remove(with_feedback, tmp_path):
    listed = run("feedback", "list", "-w", with_feedback)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "when", "kind", "subject", "target", "value", "about"]
    assert "[bold]Where[/bold] is my parcel?" in lines[1] and "Standing desk 中文" in lines[2]
    wrong = run("feedback", "list", "--kind", "nope", "-w", with_feedback)
    assert wrong.exit_code == 2 and "'nope' is not a kind of feedback; use one of label, rating" in wrong.output
    only = run("feedback", "list", "--kind", "dismiss", "--json", "-w", with_feedback)
    assert [f["target"] for f in json.loads(only.stdout)] == ["SD-001"]

    for name in ("fb.csv", "fb.parquet"):
        out = tmp_path / name
        done = run("feedback", "export", out, "-w", with_feedback)
        assert done.exit_code == 0 and done.stdout.startswith("2 rows written to"), done.output
        reader = "read_csv" if name.endswith(".csv") else "read_parquet"
        rows = duckdb.execute(f"SELECT id, kind, target, value, detail, created_at FROM {reader}(?) ORDER BY id",
                              [str(out)]).fetchall()
        assert [(r[1], r[2], r[3]) for r in rows] == [("label", "text:abc", "refund"),
                                                      ("dismiss", "SD-001", "dismissed")]
        assert json.loads(rows[0][4])["text"] == "[bold]Where[/bold] is\nmy parcel?" and rows[1][5] is not None
    bad = run("feedback", "export", tmp_path / "fb.xlsx", "-w", with_feedback)
    assert bad.exit_code == 1 and "export feedback to a .csv or .parquet file" in bad.output

    first = json.loads(only.stdout)[0]["id"]
    removed = run("feedback", "remove", first, "-w", with_feedback)
    assert removed.exit_code == 0 and f"removed feedback {first} (dismiss" in removed.output
    again = run("feedback", "remove", first, "-w", with_feedback)
    assert again.exit_code == 1
    assert f"feedback {first}: no such feedback; `quarry feedback list` shows the ids" in again.output
    assert len(json.loads(run("feedback", "list", "--json", "-w", with_feedback).stdout)) == 1


def test_a_scoped_answer_is_asked_again_in_its_scope(demo_root):
    """A good answer asked with --path was re-asked over the whole library by `eval answers --from-ratings`,
    where another file answered: reported 'changed' though nothing had. The rating keeps the chat's scope."""
    asked = run("ask", "--path", "*returns-policy*", "--extractive", "--json", "What is the restocking fee?",
                "-w", demo_root)
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert run("feedback", "rate", answer["message_id"], "good", "-w", demo_root).exit_code == 0
    stored = json.loads(run("feedback", "list", "--kind", "rating", "--json", "-w", demo_root).stdout)[0]
    assert stored["detail"]["scope"]["paths"] == ["*returns-policy*"]
    result = run("eval", "answers", "--from-ratings", "--extractive", "--json", "-w", demo_root)
    assert result.exit_code == 0, result.output
    assert [r["outcome"] for r in json.loads(result.stdout)["ratings"]] == ["same"]
