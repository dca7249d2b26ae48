import json
import os

from click.testing import CliRunner

from tui.cli import cli


def test_chat_json_shape(tmp_path, chat_model):
    result = CliRunner().invoke(cli, ["chat", "--json", "--max-tokens", "24", "--workspace", str(tmp_path),
                                      "Name three ways to reduce customer churn."])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"].strip()
    assert data["ttft_ms"] > 0 and data["completion_tokens"] > 0 and data["tokens_per_s"] > 0
    assert {"prompt_tokens", "model", "chat_id", "stop_reason"} <= set(data)


def test_chat_continues_a_stored_chat(tmp_path, chat_model):
    runner = CliRunner()
    first = json.loads(runner.invoke(cli, ["chat", "--json", "--max-tokens", "8", "-w", str(tmp_path),
                                           "hello"]).stdout)
    second = runner.invoke(cli, ["chat", "--json", "--max-tokens", "8", "-w", str(tmp_path),
                                 "--chat", str(first["chat_id"]), "and again"])
    assert json.loads(second.stdout)["chat_id"] == first["chat_id"]
    listed = json.loads(runner.invoke(cli, ["chats", "--json", "-w", str(tmp_path)]).stdout)
    assert len(listed) == 1


def test_unknown_model_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["chat", "--model", "nope", "-w", str(tmp_path), "hi"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: unknown model 'nope'")
    assert len(result.output.strip().splitlines()) == 1


def test_models_list_json(chat_model):
    rows = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["smollm2-135m"]["status"] == "ready" and by_id["smollm2-135m"]["size_bytes"] > 10**7


def test_offline_switches_are_set_by_the_app():
    import engine  # noqa: F401

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_help_has_examples():
    for command in (["chat"], ["models", "pull"], ["init"]):
        out = CliRunner().invoke(cli, [*command, "--help"]).output
        assert "Example" in out


def test_prompt_longer_than_the_context_is_one_line(tmp_path, chat_model):
    huge = "word " * 6000
    result = CliRunner().invoke(cli, ["chat", "-w", str(tmp_path), huge])
    assert result.exit_code == 1 and "more than the 4096-token context" in result.output
    assert len(result.output.strip().splitlines()) == 1
    listed = json.loads(CliRunner().invoke(cli, ["chats", "--json", "-w", str(tmp_path)]).stdout)
    assert listed == []
