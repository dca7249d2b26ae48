from engine.documents.citations import Source, check
from engine.documents.rag import (
    RELEVANCE_BAR,
    SOURCE_BUDGET_TOKENS,
    Ask,
    format_source,
    select_sources,
    standalone_question,
)
from engine.documents.search import Hit
from engine.runtime.generation import GenerationParams

GREEDY = GenerationParams(max_tokens=64, temperature=0)


def test_answer_cites_the_returns_policy_with_its_page(demo_workspace, chat_model):
    answer = Ask(demo_workspace, "What is the return window for opened electronics?", extractive=False).run(GREEDY)
    assert not answer.refused and answer.citations
    first = answer.citations[0]
    assert first.path.endswith("policies/returns-policy.pdf") and first.page == 1
    chunk = demo_workspace.store.chunks_by_ids([first.chunk_id])[first.chunk_id]
    start, end = first.span
    assert chunk.text[start:end] == first.span_text and "15 days" in first.span_text


def test_absent_topic_is_refused_without_calling_the_model(demo_workspace):
    answer = Ask(demo_workspace, "What is the parental leave policy?").run(GREEDY)
    assert answer.refused and answer.relevance < RELEVANCE_BAR
    assert answer.stats.prompt_tokens == 0 and answer.stats.completion_tokens == 0
    assert answer.nearest and "do not answer" in answer.text


def test_chinese_question_is_answered_from_the_chinese_document(demo_workspace, chat_model):
    answer = Ask(demo_workspace, "已拆封的电子产品可以退货吗？").run(GREEDY)
    assert not answer.refused
    assert answer.citations and answer.citations[0].path.endswith("zh/退货政策.md")
    chunk = demo_workspace.store.chunks_by_ids([answer.citations[0].chunk_id])[answer.citations[0].chunk_id]
    assert answer.citations[0].span_text in chunk.text


def _sources() -> list[Source]:
    return [
        Source(1, 11, "/d/returns.pdf", 1, None,
               "Opened electronics may be returned within 15 days of delivery. A 10% restocking fee applies."),
        Source(2, 22, "/d/travel.docx", None, None,
               "The nightly hotel cap is $220 in most cities. The per diem is $65 for domestic travel."),
    ]


def test_planted_unsupported_sentence_is_flagged(encoder):
    text, citations, checks = check(
        "Opened electronics can be returned within 15 days [1]. The CEO owns a yacht called Breeze [1].",
        _sources(), encoder)
    flagged = [c for c in checks if not c.supported]
    assert [c.text for c in flagged] == ["The CEO owns a yacht called Breeze."]
    assert flagged[0].note == "dropped" and "Breeze ⚠." in text and "Breeze [1]" not in text


def test_wrong_citation_is_moved_to_the_supporting_source(encoder):
    text, citations, checks = check("The hotel cap is $220 per night [1].", _sources(), encoder)
    assert checks[0].supported and checks[0].note == "moved"
    assert [c.path for c in citations] == ["/d/travel.docx"] and citations[0].number == 1
    assert text.endswith("[1].")


def test_changed_number_is_not_supported(encoder):
    _, citations, checks = check("A 12% restocking fee applies [1].", _sources(), encoder)
    assert not checks[0].supported and citations == []


def test_only_used_sources_are_listed_and_renumbered(encoder):
    text, citations, _ = check("The per diem is $65 for domestic travel [2].", _sources(), encoder)
    assert [(c.number, c.chunk_id) for c in citations] == [(1, 22)] and "[1]" in text


def test_context_budget_is_never_exceeded(chat_model):
    long_text = "The warehouse keeps detailed records of every shipment and every pallet. " * 40
    hits = [Hit(i, 1.0, f"/d/long-{i}.txt", "long", "txt", None, None, long_text, rank=i) for i in range(30)]
    sources = select_sources(chat_model, hits, SOURCE_BUDGET_TOKENS)
    used = sum(chat_model.count_tokens(format_source(s.number, s.path, s.page, s.text)) for s in sources)
    assert sources and used <= SOURCE_BUDGET_TOKENS and len(sources) < 30


def test_long_document_prompt_fits_the_context(tmp_path, encoder, chat_model, monkeypatch):
    """A long chat about a long manual: the oldest turns are dropped until sources, the newest turns
    and the answer fit the context, and only as many as needed."""
    # A private pool whose answer slot has a 768-token context and sources of at most 400 tokens: the
    # fitting is the same at any size, and filling 4,096 tokens cost this test minutes of prompt decoding.
    from engine.documents import rag
    from engine.documents.ingest import ingest_paths
    from engine.documents.rag import build_messages
    from engine.runtime import pool
    from engine.workspace import Workspace

    monkeypatch.setattr(rag, "SOURCE_BUDGET_TOKENS", 400)
    private = pool.Pool()
    monkeypatch.setattr(pool, "_pool", private)
    model = private.get(chat_model.model_id, slot="rag", n_ctx=768)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "manual.md").write_text("# Manual\n" + "\n".join(
        f"Section {i}: the forklift battery must be charged for {i % 9 + 1} hours before use." for i in range(600)))
    filler = "The loading dock keeps pallets, crates and spare parts in numbered bays. " * 5
    try:
        with Workspace(tmp_path / "ws") as ws:
            list(ingest_paths(ws, [folder]))
            chat_id = ws.store.create_chat("long", model.model_id, mode="docs")
            for turn in range(8):
                ws.store.add_message(chat_id, "user", f"Question {turn} about the dock. {filler}")
                ws.store.add_message(chat_id, "assistant", f"Answer {turn}. {filler}", None,
                                     {"raw_text": f"Answer {turn}. {filler}", "refused": True})
            ask = Ask(ws, "How long must the forklift battery be charged?", chat_id=chat_id, k=50, extractive=False)
            history, _ = ask._history()
            answer = ask.run(GREEDY)
    finally:
        private.close()
    assert not answer.refused and answer.sources

    def prompt(turns):
        return len(chat_model.prompt_tokens(chat_model.render(build_messages(answer.sources, turns, ask.question))))

    assert prompt(history) > model.n_ctx == 768  # all of it would not fit: turns must be dropped
    assert prompt([]) < answer.stats.prompt_tokens < prompt(history)  # some turns dropped, some kept
    assert answer.stats.prompt_tokens + answer.stats.completion_tokens <= model.n_ctx
    kept = next(n for n in range(0, len(history) + 1, 2) if prompt(history[n:]) == answer.stats.prompt_tokens)
    # the oldest go first, and no more of them than needed
    assert kept >= 2 and prompt(history[kept - 2:]) + 64 >= model.n_ctx


def test_follow_up_uses_history_and_is_stored(demo_workspace, chat_model):
    first = Ask(demo_workspace, "What is the hotel cap per night in New York?", extractive=False).run(GREEDY)
    follow = Ask(demo_workspace, "And what about the per diem?", chat_id=first.chat_id, extractive=False).run(GREEDY)
    assert "hotel cap" in follow.search_query
    messages = demo_workspace.store.messages(first.chat_id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    stored = messages[-1]
    assert stored.stats["ttft_ms"] > 0 and "citations" in stored.citations
    # the system prompt and the whole first turn (its sources included) come from the KV cache
    first_prompt = first.stats.prompt_tokens + first.stats.completion_tokens
    assert follow.stats.cached_tokens >= first.stats.prompt_tokens and follow.stats.cached_tokens <= first_prompt


def test_short_unrelated_follow_up_does_not_borrow_the_previous_topic(demo_workspace, chat_model):
    first = Ask(demo_workspace, "What is the hotel cap per night in New York?", extractive=False).run(GREEDY)
    stray = Ask(demo_workspace, "S-Tab", chat_id=first.chat_id, extractive=False).run(GREEDY)
    assert "hotel cap" in stray.search_query and stray.refused
    follow = Ask(demo_workspace, "and for London?", chat_id=first.chat_id, extractive=False).run(GREEDY)
    assert not follow.refused and "S-Tab" not in follow.search_query


def test_standalone_question_leaves_a_complete_question_alone():
    history = ["What is the travel per diem?"]
    assert standalone_question("Who approves expenses over $1,000 at Corvid?", history).startswith("Who")
    assert standalone_question("and abroad?", history) == "What is the travel per diem? and abroad?"


def test_empty_library_says_how_to_add_documents(tmp_path, encoder):
    from engine.workspace import Workspace

    with Workspace(tmp_path) as ws:
        answer = Ask(ws, "What is the refund window?").run(GREEDY)
    assert answer.refused and "no documents in this workspace" in answer.text


def test_warm_start_caches_the_system_prompt(demo_workspace, chat_model):
    from engine.documents.rag import warm
    from engine.runtime import pool

    answers = pool.get(chat_model.model_id, slot="rag")  # document answers have their own KV cache
    answers._forget_from(0)
    decoded = warm(answers)
    answer = Ask(demo_workspace, "How long must passwords be?", extractive=False).run(GREEDY)
    assert decoded > 20 and answer.stats.cached_tokens >= decoded - 8
