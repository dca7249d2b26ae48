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


def test_a_scope_is_searched_within_its_documents_with_exact_scores(demo_workspace):
    from engine.documents.scope import for_question
    from engine.documents.search import Filters

    searcher = demo_workspace.searcher()
    question, scope = for_question(demo_workspace.store, "@returns-policy what is the restocking fee?")
    assert question == "what is the restocking fee?" and scope.names() == ["returns-policy.pdf"]
    hits = searcher.search("hotel cap per night in New York", 5, "hybrid", scope.filters()).hits
    assert hits and {h.path.rsplit("/", 1)[-1] for h in hits} == {"returns-policy.pdf"}
    # the scope's cosines are the ones the whole-library search gives the same passages
    whole = {h.chunk_id: h.vector_score for h in searcher.search(question, 50, "vector").hits}
    within = searcher.search(question, 3, "vector", scope.filters()).hits
    assert within and all(abs(h.vector_score - whole[h.chunk_id]) < 1e-5 for h in within if h.chunk_id in whole)
    # a scope with other filters: no document passes both, so nothing is found (not the whole library)
    both = Filters(doctype="md", doc_ids=tuple(scope.filters().doc_ids))
    assert searcher.search(question, 5, "hybrid", both).hits == []
