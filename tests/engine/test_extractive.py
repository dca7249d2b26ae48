"""Extractive answers: sentence ranking, spans, full-width marks, languages of models, and the answer
path for a Chinese question over the demo workspace (no chat model is called for it)."""

from __future__ import annotations

import struct

import pytest

from engine.documents import extractive
from engine.documents.citations import Source, check, sentence_spans
from engine.documents.evaluate import Question, contains, split_halves
from engine.documents.ingest.text import clean
from engine.documents.phrases import answer_language, phrase
from engine.documents.rag import Ask
from engine.errors import QuarryError
from engine.models import catalog
from engine.runtime.generation import GenerationParams

GREEDY = GenerationParams(max_tokens=48, temperature=0)

# Written for this test in the manner of a business article (stored as ingest stores text: NFKC).
FACTORY = clean(
    "大模型在制造业中的应用主要包括生产过程优化、质量检测和供应链管理。"
    "通过大模型进行产品质量检测，可以提高产品质量。"
    "例如，某家电制造商通过大模型检测压缩机零件，将不良品率降低了18%。"
    "另外，某物流企业通过大模型规划配送路线，将运输成本降低了12%。")
SALES = clean(
    "零售业通过大模型实现个性化推荐。"
    "例如，某书店通过大模型推荐图书，将复购率提高了9%。")

EMPTY_GGUF = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + b"\0" * 12  # a whole GGUF with no tensors


def _sources() -> list[Source]:
    return [Source(1, 101, "/docs/制造.txt", None, None, FACTORY), Source(2, 102, "/docs/零售.txt", 3, None, SALES)]


def test_the_sentence_with_the_figure_answers_a_how_much_question():
    picked = extractive.extract("家电制造商用大模型检测零件，不良品率降低了多少？", _sources(), "zh")
    assert picked and "18%" in picked[0].text
    assert len(picked) <= extractive.MAX_SENTENCES
    for s in picked:
        assert s.source.text[s.span[0]:s.span[1]] == s.text


def test_citations_carry_file_page_and_span_and_the_answer_keeps_full_width_marks():
    picked = extractive.extract("书店用大模型推荐图书后复购率提高了多少？", _sources(), "zh")
    cites = extractive.citations(picked)
    assert cites[0].path == "/docs/零售.txt" and cites[0].page == 3
    assert SALES[cites[0].span[0]:cites[0].span[1]] == cites[0].span_text
    text = extractive.render(picked, "zh")
    assert text.startswith(phrase("extract_header", "zh")) and "[1]" in text
    assert "，" in text and "," not in text  # ingest's NFKC made the comma ASCII; the answer restores it


def test_no_sentence_is_quoted_below_the_floor():
    weights = extractive.Weights(floor=0.3)
    assert extractive.extract("公司食堂几点开饭？", _sources(), "zh", weights=weights) == []
    assert extractive.extract("书店的复购率提高了多少？", _sources(), "zh", weights=weights)


def test_full_width_is_character_for_character():
    text = "例如,某书店(北京)提高了9%。Total: 5, ok?"
    restored = extractive.full_width(text)
    assert len(restored) == len(text)
    assert restored.startswith("例如，某书店（北京）") and restored.endswith("Total: 5, ok?")


def test_sentence_spans_split_chinese_without_spaces_and_keep_offsets():
    text = "第一句。第二句?第三句!Fourth one. Fifth"
    spans = sentence_spans(text)
    assert [s for _, _, s in spans] == ["第一句。", "第二句?", "第三句!", "Fourth one.", "Fifth"]
    assert all(text[a:b] == s for a, b, s in spans)


def test_question_language_and_phrases():
    assert answer_language("员工每年有几天年假？") == "zh"
    assert answer_language("台北信義門市哪一天開幕？") == "zh-Hant"
    assert answer_language("How long must passwords be?") == "en"
    assert phrase("refusal", "zh-Hant") != phrase("refusal", "zh") != phrase("refusal", "en")


def test_chinese_answer_check_splits_and_marks_without_spaces(encoder):
    policy = clean("已拆封的电子产品仅在出现质量问题时可以退换，需在签收后十五天内申请。")
    sources = [Source(1, 7, "/d/退货.md", None, None, policy)]
    text, citations, checks = check("已拆封的电子产品需在签收后十五天内申请退换[1]。公司的老板有一艘游艇叫微风[1]。",
                                    sources, encoder)
    assert len(checks) == 2 and checks[0].supported and not checks[1].supported
    assert "申请退换[1]。" in text and "微风⚠。" in text and " " not in text


def test_catalog_knows_what_each_chat_model_reads():
    assert catalog.get("smollm2-135m").languages == ("en",)
    assert not catalog.get("smollm2-135m").reads("zh") and catalog.get("smollm2-135m").reads("en")
    assert catalog.parse_languages("zh, en") == ("zh", "en")
    with pytest.raises(QuarryError, match="unknown language 'klingon'"):
        catalog.parse_languages("klingon")


def test_models_add_records_languages(tmp_models_dir, tmp_path):
    gguf = tmp_path / "qwen-tiny.gguf"
    gguf.write_bytes(EMPTY_GGUF)
    entry = catalog.add(gguf, "qwen-tiny", languages="zh,en")
    assert entry.reads("zh") and catalog.load()["qwen-tiny"].languages == ("zh", "en")


def test_halves_are_stable_and_split_each_language_and_kind():
    qs = [Question(f"问题{i}？", "a.txt" if i % 3 else None, "x", "zh") for i in range(12)]
    qs += [Question(f"Question {i}?", "b.txt", "y", "en") for i in range(6)]
    fit, report = split_halves(qs)
    assert split_halves(list(reversed(qs))) == (fit, report)
    assert not set(q.question for q in fit) & set(q.question for q in report)
    for lang, answerable in (("zh", True), ("zh", False), ("en", True)):
        a = sum(1 for q in fit if q.lang == lang and bool(q.expected_file) == answerable)
        b = sum(1 for q in report if q.lang == lang and bool(q.expected_file) == answerable)
        assert abs(a - b) <= 1


def test_contains_ignores_width_and_spacing():
    assert contains("“例如，某汽车制造商将不良品率降低了30%。”[1]", "不良品率降低了30%")
    assert contains("升降范围 62 至 127 厘米", "62至127厘米") and not contains("三十", "30")


def test_chinese_question_gets_a_cited_extract_without_the_chat_model(demo_workspace):
    answer = Ask(demo_workspace, "已拆封的电子产品多少天内可以申请退换？").run(GREEDY)
    assert answer.extractive and not answer.refused and answer.lang == "zh"
    assert answer.text.startswith("以下是文档中的原文：") and "十五天" in answer.text
    assert answer.stats.completion_tokens == 0 and answer.stats.ttft_ms < 1000
    first = answer.citations[0]
    assert first.path.endswith("zh/退货政策.md")
    chunk = demo_workspace.store.chunks_by_ids([first.chunk_id])[first.chunk_id]
    assert chunk.text[first.span[0]:first.span[1]] == first.span_text
    stored = demo_workspace.store.messages(answer.chat_id)[-1]
    assert stored.citations["extractive"] and stored.citations["lang"] == "zh"


def test_unanswerable_chinese_question_is_refused_in_chinese(demo_workspace):
    answer = Ask(demo_workspace, "公司食堂几点开饭？").run(GREEDY)
    assert answer.refused and answer.text == phrase("refusal", "zh")


def test_extractive_can_be_asked_for_in_english(demo_workspace):
    answer = Ask(demo_workspace, "What is the return window for opened electronics?", extractive=True).run(GREEDY)
    assert answer.extractive and "15 days" in answer.text and answer.citations
    assert answer.citations[0].path.endswith("returns-policy.pdf")
