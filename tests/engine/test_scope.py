"""Scopes: @name parsing and matching, completion, and a scope kept with its chat (migration 7)."""

from __future__ import annotations

from engine.documents.scope import Scope, completions, matches_name, mention_of, mentions


def test_mentions_are_taken_out_of_the_question():
    assert mentions("@returns-policy how long is the window?") == ("how long is the window?", ["returns-policy"])
    assert mentions("How long in @returns? And @\"Q3 report.pdf\".") == ("How long in? And.", ["returns",
                                                                                             "Q3 report.pdf"])
    assert mentions("mail bob@example.com about @退货政策。") == ("mail bob@example.com about。", ["退货政策"])
    assert mentions("a lone @ sign") == ("a lone @ sign", [])


def test_a_name_matches_file_names_case_insensitively():
    path = "/lib/policies/Returns-Policy.pdf"
    assert matches_name("returns", path) and matches_name("RETURNS-policy.PDF", path)
    assert matches_name("policies/ret", path)  # folder/file
    assert matches_name("*.pdf", path) and not matches_name("*.md", path)
    assert not matches_name("lib", path)  # the folders above the document's own are not its name


def test_completions_put_names_that_start_with_the_prefix_first():
    paths = ["/a/data-retention-policy.md", "/a/returns-policy.pdf", "/b/returns-policy.pdf", "/a/faq.md"]
    assert completions("ret", paths) == ["returns-policy.pdf", "data-retention-policy.md"]
    assert completions("", paths)[:2] == ["data-retention-policy.md", "returns-policy.pdf"]
    assert mention_of("Q3 report.pdf") == '@"Q3 report.pdf"' and mention_of("faq.md") == "@faq.md"


def test_a_chat_keeps_its_scope_across_a_reopen(tmp_path):
    from engine.workspace import Workspace

    with Workspace(tmp_path) as ws:
        chat_id = ws.store.create_chat("scoped", None, mode="docs")
        ws.store.set_chat_scope(chat_id, Scope(("*returns*",), (3,)).record())
    with Workspace(tmp_path) as ws:
        kept = ws.store.chat(chat_id).scope
        assert Scope.from_record(kept) == Scope(("*returns*",), (3,))
        ws.store.set_chat_scope(chat_id, Scope().record())
        assert ws.store.chats()[0].scope is None
