import json
import subprocess
import sys

from tests.conftest import REPO, quarry_env
from tests.helpers import run_cli


def test_chat_json_shape(tmp_path, chat_model):
    result = run_cli("chat", "--json", "--max-tokens", "24", "--workspace", str(tmp_path),
                     "Name three ways to reduce customer churn.")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"].strip()
    assert data["ttft_ms"] > 0 and data["completion_tokens"] > 0 and data["tokens_per_s"] > 0
    assert {"prompt_tokens", "model", "chat_id", "stop_reason"} <= set(data)


def test_chat_continues_a_stored_chat(tmp_path, chat_model):
    first = json.loads(run_cli("chat", "--json", "--max-tokens", "8", "-w", str(tmp_path), "hello").stdout)
    second = run_cli("chat", "--json", "--max-tokens", "8", "-w", str(tmp_path),
                     "--chat", str(first["chat_id"]), "and again")
    assert json.loads(second.stdout)["chat_id"] == first["chat_id"]
    listed = json.loads(run_cli("chats", "--json", "-w", str(tmp_path)).stdout)
    assert len(listed) == 1


def test_unknown_model_is_one_line(tmp_path):
    result = run_cli("chat", "--model", "nope", "-w", str(tmp_path), "hi")
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: unknown model 'nope'")
    assert len(result.output.strip().splitlines()) == 1


def test_models_list_json(chat_model):
    rows = json.loads(run_cli("models", "list", "--json").stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["smollm2-135m"]["status"] == "ready" and by_id["smollm2-135m"]["size_bytes"] > 10**7


def _switches_after_import(module: str, **env: str) -> list[str]:
    """Imports a module in a fresh interpreter whose environment has no offline switches (plus `env`)."""
    clean = {k: v for k, v in quarry_env(**env).items()
             if k not in env and not k.startswith(("HF_", "TRANSFORMERS_"))} | env
    code = (f"import os; before = os.environ.get('HF_HUB_OFFLINE'); import {module}; "
            "print(before, os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))")
    done = subprocess.run([sys.executable, "-c", code], env=clean, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_offline_switches_are_set_by_the_app():
    """Importing the engine (as every front does) turns the hub switches on in a process that had none."""
    assert _switches_after_import("engine") == ["None", "1", "1"]
    assert _switches_after_import("tui.cli") == ["None", "1", "1"]


def test_offline_switches_set_by_the_user_are_kept():
    assert _switches_after_import("engine", HF_HUB_OFFLINE="0") == ["0", "0", "1"]


def test_help_has_examples():
    for command in (["chat"], ["models", "pull"], ["init"]):
        out = run_cli(*command, "--help").output
        assert "Example" in out


def test_prompt_longer_than_the_context_is_one_line(tmp_path, chat_model):
    huge = "word " * 6000
    result = run_cli("chat", "-w", str(tmp_path), huge)
    assert result.exit_code == 1 and "more than the 4096-token context" in result.output
    assert len(result.output.strip().splitlines()) == 1
    listed = json.loads(run_cli("chats", "--json", "-w", str(tmp_path)).stdout)
    assert listed == []
