"""A Chinese question in the Chat pane: the documents' own sentence comes back, cited, with a Chinese
header; the citation opens the passage with the quoted span highlighted. The chat model is not called
(SmolLM2 does not read Chinese), so the answer and its pictures are the same every run."""

from __future__ import annotations

import pytest

from tests.tui.helpers import app_on, ask, chunk_opened, ready
from tui.widgets.message_box import CitationList, MessageBox

QUESTION = "员工每年有几天带薪年假？"


async def test_chinese_question_shows_the_cited_extract(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, QUESTION)  # Chinese arrives from an input method as text, as ask() puts it
        box = [b for b in app.query(MessageBox) if b.role == "assistant"][-1]
        assert box.text.startswith("以下是文档中的原文：") and "十五天" in box.text and "[1]" in box.text
        citations = box.query_one(CitationList)
        cited = citations.citations[0]
        assert cited["path"].endswith("zh/员工手册.txt") and "十五天" in cited["span_text"]
        citations.focus()
        citations.highlighted = 0
        await pilot.press("enter")
        await chunk_opened(pilot)
        start, end = app.screen.span
        assert app.screen.text[start:end] == cited["span_text"]
        await pilot.press("escape")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_chinese_extract_snapshot(snap_compare, demo_workspace, size):
    app = app_on(demo_workspace, warm_models=False, cursor_blink=False)

    async def run_before(pilot):
        await ready(pilot)
        await ask(pilot, QUESTION)  # Chinese arrives from an input method as text, as ask() puts it
        pilot.app.query_one("#prompt").focus()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
