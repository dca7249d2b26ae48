"""Scopes in the CLI: `ask --path/--doc`, a scope kept with its chat, one that matches nothing, `@name` in a
piped `quarry chat`. Answers are quoted (extractive) so no test waits on the chat model: the scope acts on
the search, which both answer modes share."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

QUOTE = {"QUARRY_EXTRACTIVE": "true"}  # the settings' env override: answers quote the documents


@pytest.fixture
def root(demo_workspace) -> str:
    root = str(demo_workspace.root)
    demo_workspace.close()
    return root


def _doc_id(root: str, name: str) -> int:
    docs = json.loads(run_cli("docs", "--json", "-w", root).stdout)
    return next(d["id"] for d in docs if d["path"].endswith(name))


def _files(data: dict) -> set[str]:
    return {c["file"].rsplit("/", 1)[-1] for c in data["citations"]} | {
        h["file"].rsplit("/", 1)[-1] for h in data["nearest"]}


def test_ask_path_answers_only_from_matching_documents(root):
    result = run_cli("ask", "--json", "--extractive", "-w", root, "--path", "*returns*",
                     "How long do I have to return an unopened item?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "30 days" in data["answer"] and _files(data) == {"returns-policy.pdf"}
    assert [d["file"].rsplit("/", 1)[-1] for d in data["scope"]["documents"]] == ["returns-policy.pdf"]
    # the travel question, scoped to the returns policy, is not answered from the travel policy
    other = json.loads(run_cli("ask", "--json", "--extractive", "-w", root, "--path", "*returns*",
                               "What is the hotel cap per night in New York?").stdout)
    assert _files(other) <= {"returns-policy.pdf"}
    # two globs: either document may answer; the scope line goes to stderr, the answer to stdout
    both = run_cli("ask", "--extractive", "-w", root, "--path", "*returns*", "--path", "*travel*",
                   "What is the hotel cap per night in New York?")
    assert both.exit_code == 0, both.output
    assert "scope: 2 docs — returns-policy.pdf, travel-policy.docx" in both.stderr
    assert "travel-policy.docx" in both.stdout and "scope:" not in both.stdout


def test_ask_doc_scope_is_kept_with_the_chat(root):
    returns = _doc_id(root, "returns-policy.pdf")
    first = json.loads(run_cli("ask", "--json", "-w", root, "--doc", returns,
                               "How long do I have to return an unopened item?", env=QUOTE).stdout)
    assert _files(first) == {"returns-policy.pdf"} and first["scope"]["docs"] == [returns]
    # the chat keeps the document by its file: a changed file is ingested again under a new id
    chats = json.loads(run_cli("chats", "--json", "-w", root).stdout)
    path = first["scope"]["documents"][0]["file"]
    assert path.endswith("returns-policy.pdf") and chats[0]["scope"] == {"paths": [], "docs": [], "files": [path]}
    # the next question in that chat, with no flags, keeps the chat's scope
    follow = json.loads(run_cli("ask", "--json", "-w", root, "--chat", first["chat_id"],
                                "What is the hotel cap per night in New York?", env=QUOTE).stdout)
    assert [d["id"] for d in follow["scope"]["documents"]] == [returns]
    assert _files(follow) <= {"returns-policy.pdf"}
    # `quarry chat` in a chat that keeps a scope answers from its documents too
    chat = json.loads(run_cli("chat", "--json", "-w", root, "--chat", first["chat_id"],
                              "How long do I have to return an unopened item?", env=QUOTE).stdout)
    assert chat["chat_id"] == first["chat_id"] and _files(chat) == {"returns-policy.pdf"}


def test_a_kept_scope_follows_a_changed_file_and_names_a_removed_one(tmp_path):
    docs, root = tmp_path / "docs", str(tmp_path / "ws")
    docs.mkdir()
    (docs / "returns-2023.txt").write_text("Returns 2023. Unopened items may be returned within 30 days.\n")
    (docs / "returns-2024.txt").write_text("Returns 2024. Unopened items may be returned within 15 days.\n")
    assert run_cli("ingest", "-w", root, docs).exit_code == 0
    first = json.loads(run_cli("ask", "--json", "-w", root, "--doc", _doc_id(root, "returns-2024.txt"),
                               "How many days to return unopened items?", env=QUOTE).stdout)
    assert "15 days" in first["answer"] and _files(first) == {"returns-2024.txt"}
    (docs / "returns-2024.txt").write_text("Returns 2024. Unopened items may be returned within 14 days.\n")
    assert run_cli("ingest", "-w", root, docs).exit_code == 0
    chat = str(first["chat_id"])
    again = json.loads(run_cli("ask", "--json", "-w", root, "--chat", chat,
                               "How many days to return unopened items?", env=QUOTE).stdout)
    assert "14 days" in again["answer"] and _files(again) == {"returns-2024.txt"}
    (docs / "returns-2024.txt").unlink()
    assert run_cli("ingest", "-w", root, docs).exit_code == 0
    gone = run_cli("ask", "-w", root, "--chat", chat, "How many days?", env=QUOTE)
    assert gone.exit_code == 1 and len(gone.output.strip().splitlines()) == 1
    assert "returns-2024.txt: no longer in the library" in gone.output and "change the chat's scope" in gone.output


@pytest.mark.parametrize("args,named", [
    (("ask", "--path", "*no-such-file*", "How long?"), "--path '*no-such-file*' matches no document"),
    (("ask", "--doc", "9999", "How long?"), "--doc 9999: no document with that id"),
    (("ask", "--path", "*returns*", "@zzz how long?"), "@zzz matches no document name"),
    (("search", "--path", "*no-such-file*", "returns"), "--path '*no-such-file*' matches no document"),
    (("chat", "--doc", "9999", "hello"), "--doc 9999: no document with that id"),
])
def test_a_scope_that_matches_nothing_is_one_line(root, args, named):
    result = run_cli(args[0], "-w", root, *args[1:])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: {named}")
    assert len(result.output.strip().splitlines()) == 1
    assert "quarry docs" in result.output  # the fix: where the names and ids are


def test_a_scope_that_matches_nothing_stores_nothing(root):
    run_cli("ask", "-w", root, "--path", "*no-such-file*", "How long?")
    assert json.loads(run_cli("chats", "--json", "-w", root).stdout) == []


def test_at_name_in_a_piped_chat_scopes_that_question(root):
    result = run_cli("chat", "--json", "-w", root,
                     input="@Returns-Policy How long do I have to return an unopened item?\n", env=QUOTE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == "How long do I have to return an unopened item?"  # the @name is not asked
    assert _files(data) == {"returns-policy.pdf"} and "30 days" in data["answer"]
    # @name scopes that question only: the chat keeps no scope
    assert json.loads(run_cli("chats", "--json", "-w", root).stdout)[0]["scope"] is None
    nothing = run_cli("chat", "-w", root, input="@zzz what is the hotel cap?\n")
    assert nothing.exit_code == 1 and nothing.output.startswith("Error: @zzz matches no document name")


def test_search_takes_the_same_repeatable_filters(root):
    returns = _doc_id(root, "returns-policy.pdf")
    data = json.loads(run_cli("search", "--json", "-w", root, "--k", "20", "--path", "*travel*",
                              "--doc", returns, "hotel refund").stdout)
    files = {h["file"].rsplit("/", 1)[-1] for h in data["hits"]}
    assert files == {"travel-policy.docx", "returns-policy.pdf"}
