"""Ask and chat faults: bounds, unknown chats, stdin, failed asks that must store nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, quarry_env
from tests.reliability.util import error_line, quarry, stored


@pytest.fixture
def ws(demo_workspace_dir, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    return root


@pytest.mark.parametrize("args,option", [
    (("ask", "--k", "0", "refund window"), "--k"),
    (("ask", "--k", "-1", "refund window"), "--k"),
    (("ask", "--k", "51", "refund window"), "--k"),
    (("ask", "--max-tokens", "0", "refund window"), "--max-tokens"),
    (("chat", "--max-tokens", "0", "hello"), "--max-tokens"),
    (("chat", "--max-tokens", "-5", "hello"), "--max-tokens"),
    (("chat", "--temperature", "5", "hello"), "--temperature"),
    (("chat", "--chat", "abc", "hello"), "--chat"),
], ids=lambda v: "-".join(v) if isinstance(v, tuple) else v)
def test_a_bad_option_is_one_line_and_stores_nothing(ws, args, option):
    before = stored(ws)
    error_line(quarry(*args, "-w", ws), option, code=2)
    assert stored(ws) == before


@pytest.mark.parametrize("command", ["chat", "ask"])
def test_an_unknown_chat_is_an_error_and_stores_nothing(ws, command):
    before = stored(ws)
    error_line(quarry(command, "--chat", "9999", "hello there", "-w", ws), "9999", "quarry chats", code=1)
    assert stored(ws) == before


def test_a_message_under_a_missing_chat_cannot_be_stored(ws):
    """The foreign key: even a caller that skips the check cannot put a message in no chat."""
    import duckdb

    from engine.workspace import Workspace

    with Workspace(ws) as w:
        with pytest.raises(duckdb.ConstraintException):
            w.store.add_message(9999, "user", "orphan")
        assert w.store.schema_version() >= 2


def test_a_question_too_long_for_the_model_stores_nothing(ws, chat_model):
    before = stored(ws)
    question = "What is the refund window for opened electronics and furniture? " * 1600  # ~100 KB
    ran = quarry("ask", "--generate", question, "-w", ws)  # the model's context is what is too small
    assert ran.exception is None and ran.code in (0, 1)
    if ran.code == 1:
        error_line(ran, code=1)
        assert stored(ws) == before


def test_a_chat_prompt_too_long_stores_nothing(ws, chat_model):
    before = stored(ws)
    error_line(quarry("chat", "word " * 20000, "-w", ws), "context", code=1)
    assert stored(ws) == before


def test_docs_remove_of_a_missing_id_is_one_line(ws):
    before = stored(ws)
    error_line(quarry("docs", "--remove", "9999", "-w", ws), "9999", code=1)
    assert stored(ws) == before


def test_export_of_a_missing_chat_is_one_line(ws):
    error_line(quarry("export", "9999", "-w", ws), "9999", code=1)


def test_no_prompt_and_no_stdin_is_a_usage_line(ws):
    error_line(quarry("chat", "-w", ws), "prompt", code=2)


def test_latin1_on_stdin_is_decoded(ws, chat_model):
    text = "Résumé du contrat: la garantie couvre deux années à Genève.".encode("latin-1")
    ran = quarry("chat", "--max-tokens", "4", "--json", "Summarise this", "-", "-w", ws, stdin=text)
    assert ran.code == 0 and ran.exception is None, ran.stderr
    chat_id = json.loads(ran.stdout)["chat_id"]
    exported = quarry("export", chat_id, "-w", ws).stdout
    assert "Genève" in exported


def test_binary_on_stdin_is_one_line(ws):
    error_line(quarry("chat", "Summarise", "-", "-w", ws, stdin=bytes(range(256)) * 40), "stdin", code=1)


def test_a_pipe_with_no_data_is_not_waited_for(ws, chat_model):
    """`sleep 600 | quarry chat ...` answers the prompt instead of waiting for the pipe to close."""
    env = quarry_env(QUARRY_WORKSPACE=str(ws))
    writer = subprocess.Popen(["sleep", "120"], stdout=subprocess.PIPE)
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "tui", "chat", "--max-tokens", "2", "--json", "hi"],
                              stdin=writer.stdout, capture_output=True, text=True, env=env, cwd=REPO,
                              timeout=90)
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 90
    finally:
        writer.kill()
        writer.wait()


def test_ask_in_an_empty_workspace_says_so(tmp_path, encoder):
    ran = quarry("ask", "--json", "What is the refund window?", "-w", tmp_path / "ws")
    assert ran.code == 0 and json.loads(ran.stdout)["refused"]


def test_export_to_a_path_that_cannot_be_written_is_one_line(ws, tmp_path):
    from engine.workspace import Workspace

    with Workspace(ws) as w:
        chat_id = w.store.create_chat("kept", None)
        w.store.add_message(chat_id, "user", "hello")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error_line(quarry("export", chat_id, "--out", blocker / "chat.md", "-w", ws), "chat.md", code=1)
