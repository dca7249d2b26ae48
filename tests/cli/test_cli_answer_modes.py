"""`quarry ask` and `quarry chat` with --extractive / --generate (and the older --generated): the answer
says which mode made it, on stderr and in --json."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

QUESTION = "How long do I have to return an unopened item?"


@pytest.fixture
def root(demo_workspace) -> str:
    root = str(demo_workspace.root)
    demo_workspace.close()
    return root


def test_extractive_quotes_and_says_so(root):
    result = run_cli("ask", "--extractive", "-w", root, QUESTION)
    assert result.exit_code == 0, result.output
    assert "“" in result.stdout and "30 days" in result.stdout
    assert result.stderr.startswith("quoted (the documents' own sentences) · ")
    data = json.loads(run_cli("ask", "--json", "--extractive", "-w", root, QUESTION).stdout)
    assert data["mode"] == "quoted" and data["made_by"] == "quoted" and data["completion_tokens"] == 0


def test_generate_has_the_model_write_and_says_which_model(root, chat_model):
    data = json.loads(run_cli("ask", "--json", "--generate", "--max-tokens", "8", "-w", root, QUESTION).stdout)
    assert not data["extractive"] and data["mode"] in ("written", "quoted instead")
    assert data["completion_tokens"] > 0 and data["model"] == "smollm2-135m"
    if data["mode"] == "written":
        assert data["made_by"] == "written by smollm2-135m"
    human = run_cli("ask", "--generated", "--max-tokens", "8", "-w", root, QUESTION)  # the older name
    assert human.exit_code == 0, human.output
    assert human.stderr.splitlines()[-1].startswith(("written by smollm2-135m · TTFT", "quoted: the model's words"))


def test_chat_takes_the_flags_for_document_turns(root):
    scoped = run_cli("chat", "--json", "--extractive", "--path", "*returns*", "-w", root, QUESTION)
    assert scoped.exit_code == 0, scoped.output
    assert json.loads(scoped.stdout)["mode"] == "quoted"
    plain = run_cli("chat", "--extractive", "-w", root, "Say hello.")
    assert plain.exit_code == 2
    errors = [line for line in plain.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "--extractive quotes your documents: give a scope" in errors[0]


def test_a_flag_is_kept_with_the_chat_for_its_next_questions_and_its_export(root, chat_model):
    # smollm2-135m quotes English by default (the catalog), so a written answer here comes from the chat
    first = json.loads(run_cli("ask", "--json", "--generate", "--max-tokens", "8", "-w", root, QUESTION).stdout)
    chat_id = first["chat_id"]
    follow = json.loads(run_cli("ask", "--json", "--max-tokens", "8", "--chat", str(chat_id), "-w", root,
                                "And for furniture?").stdout)
    assert not follow["extractive"] and follow["completion_tokens"] > 0
    listed = json.loads(run_cli("chats", "--json", "-w", root).stdout)
    assert [c["answer_mode"] for c in listed if c["id"] == chat_id] == ["written"]
    exported = run_cli("export", str(chat_id), "-w", root).stdout
    assert "· answers: written" in exported.splitlines()[2]
    assert "_written by smollm2-135m · TTFT" in exported or "_quoted (the words smollm2-135m wrote" in exported
    # a flag given again changes what the chat keeps
    quoted = json.loads(run_cli("ask", "--json", "--extractive", "--chat", str(chat_id), "-w", root,
                                QUESTION).stdout)
    assert quoted["mode"] == "quoted"
    listed = json.loads(run_cli("chats", "--json", "-w", root).stdout)
    assert [c["answer_mode"] for c in listed if c["id"] == chat_id] == ["quoted"]
    assert "_quoted_" in run_cli("export", str(chat_id), "-w", root).stdout


def test_an_unsupported_sentence_is_one_short_line_on_the_terminal(capsys):
    """A looping SmolLM2 answer gave one `unsupported:` line of thousands of characters ("Exemptions
    Exemptions ExemptIONS …"); the app cuts them at 60, and the record keeps them whole."""
    from engine.documents.citations import SentenceCheck
    from engine.documents.rag import Answer
    from tui.commands.talk import _print_answer

    looping = "Exceptions " + "Exemptions " * 600
    answer = Answer("What is exempt?", "What is exempt?", text="Some items are exempt.",
                    sentences=[SentenceCheck("Some items are exempt.", supported=True), SentenceCheck(looping)])
    _print_answer(answer)
    lines = [line for line in capsys.readouterr().out.splitlines() if "Exemptions" in line]
    assert len(lines) == 1 and len(lines[0]) < 300 and lines[0].endswith("…")
    assert answer.record()["unsupported"] == [looping]
