"""`quarry compare`, `quarry compare batch`, `quarry leaderboard`, `quarry models add-remote`."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli as invoke

PAIR = "smollm2-135m,gemma3-270m"


def test_document_comparison_returns_both_answers_with_figures(demo_workspace_dir, tmp_path, chat_model):
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    result = invoke("compare", "--json", "Summarise our travel policy", "--models", PAIR, "--rag",
                    "--max-tokens", "48", "-w", str(root))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rag"] is True and data["sources"] and data["models"] == PAIR.split(",")
    assert [a["model"] for a in data["answers"]] == PAIR.split(",")
    for answer in data["answers"]:
        assert answer["status"] == "done" and answer["answer"]
        assert answer["ttft_ms"] > 0 and answer["tokens_per_s"] > 0 and answer["completion_tokens"] > 0
        assert answer["prompt_tokens"] > 0 and answer["load_ms"] is not None and answer["peak_rss_mb"] > 0
        assert 0 <= answer["supported_share"] <= 1
    assert data["settings"]["temperature"] == 0.0 and data["settings"]["max_tokens"] == 48


def test_blind_run_vote_reveal_and_leaderboard(tmp_path, chat_model):
    ws = str(tmp_path / "ws")
    result = invoke("compare", "--json", "--blind", "Say hello.", "--models", PAIR, "--max-tokens", "6", "-w", ws)
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["blind"] and run["models"] is None and all("model" not in a for a in run["answers"])
    assert [a["label"] for a in run["answers"]] == ["A", "B"]
    assert invoke("compare", "vote", str(run["run_id"]), "a", "-w", ws).exit_code == 0
    again = invoke("compare", "vote", str(run["run_id"]), "b", "-w", ws)
    assert again.exit_code == 1 and "already has a vote" in again.output
    names = json.loads(invoke("compare", "reveal", str(run["run_id"]), "--json", "-w", ws).stdout)["labels"]
    assert sorted(names.values()) == sorted(PAIR.split(","))
    board = json.loads(invoke("leaderboard", "--json", "--rounds", "20", "-w", ws).stdout)
    assert board["votes"] == 1
    top = board["ratings"][0]
    assert top["model"] == names["A"] and top["wins"] == 1 and top["bt_low"] <= top["bt"] <= top["bt_high"]
    listed = json.loads(invoke("compare", "runs", "--json", "-w", ws).stdout)
    assert listed[0]["vote"] == "a" and listed[0]["models"] is not None


def test_rerun_from_the_cli(tmp_path, chat_model):
    ws = str(tmp_path / "ws")
    first = json.loads(invoke("compare", "--json", "Name a fruit.", "--models", PAIR, "--max-tokens", "6",
                              "--temperature", "0", "-w", ws).stdout)
    again = json.loads(invoke("compare", "--json", "--rerun", str(first["run_id"]), "-w", ws).stdout)
    assert again["rerun_of"] == first["run_id"] and again["settings"] == first["settings"]
    assert [a["answer"] for a in again["answers"]] == [a["answer"] for a in first["answers"]]


def test_batch_prints_one_json_document_and_exports(tmp_path, chat_model):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a colour.\n\nName an animal.\n", encoding="utf-8")
    ws = tmp_path / "ws"
    result = invoke("compare", "batch", str(prompts), "--models", PAIR, "--max-tokens", "6", "--json",
                    "-w", str(ws))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["prompts"] == 2 and data["done"] == 2 and len(data["answers"]) == 4
    assert {r["model"] for r in data["summary"]} == set(PAIR.split(","))
    assert data["csv"].endswith(".csv") and (ws / "exports").is_dir()


@pytest.mark.parametrize("args,message", [
    (["--models", "smollm2-135m,nope"], "unknown model 'nope'"),
    (["--models", "smollm2-135m"], "needs 2 to 4 models, got 1"),
    (["--models", "smollm2-135m,smollm2-135m"], "listed twice"),
    ([], "give the models to compare"),
])
def test_bad_input_is_one_line(tmp_path, args, message):
    result = invoke("compare", "hi", *args, "-w", str(tmp_path / "ws"))
    assert result.exit_code != 0 and message in result.output
    assert len([line for line in result.output.splitlines() if line.strip().startswith("Error")]) == 1


def test_add_remote_and_list(user_models):
    result = invoke("models", "add-remote", "http://gpu-box:8080/v1", "--name", "qwen2.5-7b", "--id", "team-qwen",
                    "--api-key-env", "TEAM_KEY")
    assert result.exit_code == 0, result.output
    assert "team-qwen: registered remote model qwen2.5-7b at http://gpu-box:8080/v1 (API key from $TEAM_KEY)" \
        in result.output
    rows = {r["id"]: r for r in json.loads(invoke("models", "list", "--json").stdout)}
    assert rows["team-qwen"]["kind"] == "remote" and rows["team-qwen"]["status"] == "ready"
    bad = invoke("models", "add-remote", "gpu-box", "--name", "x")
    assert bad.exit_code == 1 and "not an http(s) URL" in bad.output


def test_help_has_examples():
    for command in (["compare"], ["compare", "run"], ["compare", "batch"], ["compare", "vote"], ["leaderboard"],
                    ["models", "add-remote"]):
        out = invoke(*command, "--help").output
        assert "Example" in out, command
