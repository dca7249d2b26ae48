"""A per-document answer in the Chat pane: shown as plain text (document text literally, never Markdown),
each document named with its citation, a line saying the documents differ, and the same after a restart.
Answers are quoted (the settings' env override), so no test waits on the chat model."""

from __future__ import annotations

import pytest

from tests.tui.helpers import ask, ready, wait_for
from tui.app import QuarryApp
from tui.widgets.message_box import CitationList, MessageBox

POLICY = ("{vendor} Home returns policy.\n\nUnopened items in their *original* packaging may be returned within "
          "{days} days of delivery [/x] for a full refund. Proof of purchase is required for every return.\n")


@pytest.fixture(autouse=True)
def quoted_answers(monkeypatch):
    monkeypatch.setenv("QUARRY_EXTRACTIVE", "true")


@pytest.fixture
def root(tmp_path):
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace

    docs = tmp_path / "docs"
    docs.mkdir()
    for vendor, days in (("Acme", 30), ("Birch", 15)):
        (docs / f"returns_{vendor.lower()}_*draft*.txt").write_text(POLICY.format(vendor=vendor, days=days))
    with Workspace(tmp_path / "ws") as ws:
        list(ingest_paths(ws, [docs]))
    return tmp_path / "ws"


def shown(box: MessageBox) -> str:
    return str(box.query_one(".literal").render())


async def test_a_per_document_answer_is_plain_text_naming_each_document(root):
    async with QuarryApp(root, warm_models=False).run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "How many days do I have to return unopened items?")
        box = pilot.app.query(MessageBox).last()
        text = shown(box)
        assert text.startswith("Your documents answer this differently (2 documents):")
        # names with * and _, the passage's *original* and [/x], all as written
        assert "returns_acme_*draft*.txt: “" in text and "returns_birch_*draft*.txt: “" in text
        assert "*original*" in text and "[/x]" in text and "30 days" in text and "15 days" in text
        assert all(not body.display for body in box.query(".body"))
        hints = [str(h.render()) for h in box.query(".hint")]
        assert "one answer per document: they differ" in hints
        assert len(box.query_one(CitationList).citations) == 2
    async with QuarryApp(root, warm_models=False).run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: len(pilot.app.query(MessageBox)) == 2 and pilot.app.query(".literal"))
        assert shown(pilot.app.query(MessageBox).last()) == text
