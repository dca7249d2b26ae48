"""Comparisons on real models: local side by side, a document question with the same sources for all,
local against the same model behind llama-cpp-python's server, broken servers, votes, batches, reruns."""

from __future__ import annotations

import csv
import json

import pytest

from engine import jobs
from engine.compare import (
    ColumnFinished,
    ColumnStarted,
    CompareError,
    CompareSettings,
    Comparison,
    Finished,
    Piece,
    Started,
    batch,
    rerun,
    reveal,
    vote,
)
from engine.errors import UnknownModel
from engine.models import catalog
from engine.workspace import Workspace

PAIR = ["smollm2-135m", "gemma3-270m"]


def quick(**kw) -> CompareSettings:
    return CompareSettings(**({"temperature": 0.0, "max_tokens": 12} | kw))


@pytest.fixture
def ws(tmp_path, chat_model):
    with Workspace(tmp_path / "ws") as workspace:
        yield workspace


def test_two_local_models_answer_one_after_another(ws):
    comparison = Comparison(ws, "Name two colours.", PAIR, quick())
    events = list(comparison.events())
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    run = comparison.run
    assert not run.concurrent  # CPU only here: one after another
    order = [(type(e).__name__, getattr(e, "position", None)) for e in events
             if isinstance(e, ColumnStarted | ColumnFinished)]
    assert order == [("ColumnStarted", 0), ("ColumnFinished", 0), ("ColumnStarted", 1), ("ColumnFinished", 1)]
    pieces = [e for e in events if isinstance(e, Piece)]
    assert {p.position for p in pieces} == {0, 1}
    for column in run.columns:
        assert column.status == "done" and column.text
        f = column.figures()
        assert f["ttft_ms"] > 0 and f["tokens_per_s"] > 0 and f["completion_tokens"] > 0
        assert f["prompt_tokens"] > 5 and f["load_ms"] >= 0 and f["peak_rss_mb"] > 10
    stored = ws.store.compare_run(run.id)
    assert stored.status == "done" and stored.models == PAIR
    assert stored.settings["temperature"] == 0.0 and stored.settings["seed"] == 42
    assert [a.text for a in stored.answers] == [c.text for c in run.columns]


def test_a_document_question_gives_every_model_the_same_sources(demo_workspace):
    comparison = Comparison(demo_workspace, "What is the return window for opened electronics?", PAIR,
                            quick(rag=True, max_tokens=24))
    run = comparison.run_all()
    assert run.sources and not run.refused
    assert run.settings.system_prompt.startswith("You answer questions using only the numbered sources")
    for column in run.columns:
        assert column.status == "done"
        assert 0.0 <= column.checks["supported_share"] <= 1.0
        assert column.checks["sentences"] >= 0
    stored = demo_workspace.store.compare_run(run.id)
    assert [s["chunk_id"] for s in stored.sources] == [s["chunk_id"] for s in run.sources]


def test_a_question_the_documents_do_not_answer_asks_no_model(demo_workspace):
    run = Comparison(demo_workspace, "What is the airspeed of an unladen swallow?", PAIR,
                     quick(rag=True)).run_all()
    assert run.refused
    assert all(c.text.startswith("Your documents do not answer") for c in run.columns)
    assert all(not c.stats.get("completion_tokens") for c in run.columns)


@pytest.mark.parametrize("models,message", [
    (["smollm2-135m", "nope"], "unknown model 'nope'"),
    (["smollm2-135m", "smollm2-135m"], "model 'smollm2-135m' is listed twice"),
    (["smollm2-135m"], "needs 2 to 4 models, got 1 (smollm2-135m)"),
    (["smollm2-135m", "minilm-l6"], "minilm-l6 is an encoder, not a chat model; chat models: "),
    (["a", "b", "c", "d", "e"], "unknown model 'a'"),
])
def test_bad_model_lists_are_one_line(ws, models, message):
    with pytest.raises((CompareError, UnknownModel)) as err:
        Comparison(ws, "hi", models, quick())
    assert message in str(err.value) and "\n" not in str(err.value)


def test_more_than_four_and_blind_with_three_are_refused(ws, user_models):
    for i in range(5):
        catalog.add_remote("http://127.0.0.1:9/v1", "m", f"r{i}")
    with pytest.raises(CompareError, match="at most 4 models, got 5"):
        Comparison(ws, "hi", [f"r{i}" for i in range(5)], quick())
    with pytest.raises(CompareError, match="blind mode compares two models, got 3"):
        Comparison(ws, "hi", ["r0", "r1", "r2"], quick(), blind=True)
    with pytest.raises(CompareError, match="the prompt is empty"):
        Comparison(ws, "   ", ["r0", "r1"], quick())


def test_a_broken_server_fails_only_its_column(ws, user_models):
    from tests.remote_server import free_port

    catalog.add_remote(f"http://127.0.0.1:{free_port()}/v1", "m", "gone", timeout_s=2)
    run = Comparison(ws, "Say hello.", ["smollm2-135m", "gone"], quick()).run_all()
    local, remote = run.columns
    assert local.status == "done" and local.text
    assert remote.status == "failed" and "connection refused" in remote.error
    stored = ws.store.compare_run(run.id).answers
    assert stored[1].status == "failed" and "connection refused" in stored[1].error


def test_local_and_the_same_model_behind_a_server_agree(ws, user_models, llama_server):
    catalog.add_remote(llama_server["url"], "smollm2", "smollm2-served", api_key_env=llama_server["key_env"])
    settings = quick(max_tokens=24, repeat_penalty=1.0)
    run = Comparison(ws, "Name three ways to reduce customer churn.", ["smollm2-135m", "smollm2-served"],
                     settings).run_all()
    local, served = run.columns
    assert local.status == "done" and served.status == "done", served.error
    # Greedy decoding of the same weights through the same chat template: the same words.
    assert served.text[:40] == local.text[:40]
    assert served.stats["ttft_ms"] > 0 and served.stats["tokens_per_s"] > 0
    # The server holds the tokenizer; where it reports no usage the client estimates, so only roughly equal.
    assert 0.5 * local.stats["prompt_tokens"] <= served.stats["prompt_tokens"] <= 2 * local.stats["prompt_tokens"]
    # The key was sent (the server requires it) but is nowhere in the workspace's database.
    key = llama_server["key"].encode()
    ws.store.db.execute("CHECKPOINT")
    assert key not in (ws.root / "quarry.duckdb").read_bytes()
    assert llama_server["key"] not in json.dumps([a.__dict__ for a in ws.store.compare_run(run.id).answers],
                                                 default=str)


def test_a_prompt_longer_than_one_context_fails_that_column_only(ws, user_models, llama_server):
    catalog.add_remote(llama_server["url"], "smollm2", "smollm2-small-ctx", api_key_env=llama_server["key_env"])
    prompt = "Summarise this: " + "the quarterly report lists revenue by region. " * 160
    run = Comparison(ws, prompt, ["smollm2-135m", "smollm2-small-ctx"], quick(max_tokens=4)).run_all()
    local, served = run.columns
    assert local.status == "done"
    assert served.status == "failed" and "HTTP 400" in served.error and "context" in served.error


def _blind_run(ws, outcome_first=None):
    comparison = Comparison(ws, "Say hello.", PAIR, quick(max_tokens=6), blind=True)
    run = comparison.run_all()
    assert sorted(c.label for c in run.columns) == ["A", "B"] and sorted(run.models) == sorted(PAIR)
    return run


def test_votes_need_a_finished_blind_unrevealed_run(ws):
    running = ws.store.create_compare_run("Say hello.", PAIR, quick().to_dict(), blind=True)
    with pytest.raises(CompareError, match="still answering; vote when both answers have finished"):
        vote(ws, running, "a")
    plain = Comparison(ws, "Say hello.", PAIR, quick(max_tokens=4)).run_all()
    with pytest.raises(CompareError, match="was not blind"):
        vote(ws, plain.id, "a")
    run = _blind_run(ws)
    with pytest.raises(CompareError, match="unknown vote 'maybe'"):
        vote(ws, run.id, "maybe")
    recorded = vote(ws, run.id, "b")
    by_label = {c.label: c.model for c in run.columns}
    assert (recorded.model_a, recorded.model_b, recorded.outcome) == (by_label["A"], by_label["B"], "b")
    with pytest.raises(CompareError, match="already has a vote"):
        vote(ws, run.id, "a")
    assert reveal(ws, run.id) == by_label
    second = _blind_run(ws)
    with pytest.raises(CompareError, match="no vote yet: vote first"):
        reveal(ws, second.id)
    reveal(ws, second.id, skip_vote=True)
    with pytest.raises(CompareError, match="already revealed"):
        vote(ws, second.id, "a")
    from engine.compare import board

    top = board(ws, rounds=20)
    assert top.votes == 1 and {r.model for r in top.ratings} == set(PAIR)


def test_rerun_repeats_the_settings_and_greedy_answers(ws):
    first = Comparison(ws, "Name a fruit.", PAIR, quick(max_tokens=8, seed=7)).run_all()
    again = rerun(ws, first.id).run_all()
    assert again.rerun_of == first.id
    assert again.settings.to_dict() == first.settings.to_dict()
    assert [c.text for c in again.columns] == [c.text for c in first.columns]
    with pytest.raises(CompareError, match="no comparison run 999"):
        rerun(ws, 999)


def test_a_batch_is_resumable_and_exports(ws, tmp_path):
    prompts = tmp_path / "set.jsonl"
    prompts.write_text("\n".join(json.dumps(r) for r in [
        {"prompt": "What colour is the sky on a clear day? One word.", "reference": "blue"},
        {"question": "What is two plus two? Answer with a number.", "answer": "4"},
        {"prompt": "Name a fruit."},
    ]), encoding="utf-8")
    run = batch.start_batch(ws, str(prompts), PAIR, quick(max_tokens=8))
    for progress in run:
        if progress.done >= 1:
            run.cancel()  # stops before the next prompt; the first stays committed
    assert run.status == "cancelled"
    batch_id = run.job.params["batch_id"]
    assert ws.store.compare_batch_done_items(batch_id) == {0}
    resumed = jobs.resume(ws, run.id)
    result = resumed.wait()
    assert resumed.status == "done" and result["done"] == 3
    runs = ws.store.compare_runs(batch_id=batch_id)
    assert [r.item for r in runs] == [0, 1, 2]  # nothing run twice
    rows = {r["model"]: r for r in result["summary"]}
    assert set(rows) == set(PAIR)
    for row in rows.values():
        assert row["answered"] == 3 and row["tokens_per_s"] > 0
        assert row["contains"] is not None and 0 <= row["contains"] <= 1 and row["similarity"] is not None
    csv_path, md_path = batch.export(ws, batch_id, tmp_path / "out")
    with csv_path.open(newline="", encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))  # answers may hold newlines: count rows, not lines
    assert len(exported) == 3 * 2 and {r["model"] for r in exported} == set(PAIR)
    assert "| model |" in md_path.read_text() and "smollm2-135m" in md_path.read_text()


@pytest.mark.parametrize("content,name,message", [
    ("", "empty.txt", "no prompts in it"),
    ("{not json\n", "bad.jsonl", "bad.jsonl:1: not a JSON object"),
    ('{"reference": "x"}\n', "noprompt.jsonl", "no \"prompt\""),
    ("# Customer FAQ\n## Shipping\n", "faq.md", "faq.md: not a prompt set"),  # not 2 prompts of markdown
    ("a,b\n1,2\n", "rows.csv", "rows.csv: not a prompt set .* table:NAME"),
])
def test_bad_prompt_sets_are_one_line(ws, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CompareError, match=message.replace('"', '.')):
        batch.read_prompt_set(str(path), ws)
    with pytest.raises(CompareError, match="no such prompt file"):
        batch.read_prompt_set(str(tmp_path / "missing.txt"), ws)
    with pytest.raises(CompareError, match="no table 'nope'"):
        batch.read_prompt_set("table:nope", ws)


def test_a_prompt_file_saved_as_gbk_is_read(tmp_path):
    """A prompt a line, as a Chinese Windows' Notepad saves it (GBK): it was "not UTF-8 text"."""
    path = tmp_path / "prompts.txt"
    path.write_bytes("用一句话介绍升降桌\n退货政策是什么？\n".encode("gbk"))
    assert [item.prompt for item in batch.read_prompt_set(str(path))] == ["用一句话介绍升降桌", "退货政策是什么？"]
    path.write_bytes(b"\x00\x01\x02 binary")
    with pytest.raises(CompareError, match="prompts.txt: binary content"):
        batch.read_prompt_set(str(path))


def test_agreement_contains_and_similarity(encoder):
    from engine.compare.agreement import agreement, contains

    assert contains("退款三个工作日内到账。", "三个工作日")
    assert contains("The window is 15 days.", "15 Days")
    assert contains("１５ days", "15 days")  # full-width digits fold
    assert not contains("about two weeks", "15 days")
    close = agreement("Opened electronics can be returned within 15 days.", "15 days", encoder)
    far = agreement("Bananas are yellow.", "15 days", encoder)
    assert close["contains"] and close["similarity"] > far["similarity"]
