"""Per-document answers in a small look-alike library: three vendors' returns policies that differ in one
figure. Unscoped, the answer names each document with its own sentence and citation; when they agree, one
answer cites them all; scoped to one, one answer; a question that names a vendor is answered from it."""

from __future__ import annotations

import pytest

from engine.documents import per_document
from engine.documents.rag import Ask
from engine.documents.search import Filters
from engine.runtime.generation import GenerationParams

POLICY = ("{vendor} Home returns policy.\n\nUnopened items in their original packaging may be returned within "
          "{days} days of delivery for a full refund. Proof of purchase (order number or receipt) is required "
          "for every return. Refunds are issued to the original payment method after the item is inspected.\n")
VARIANTS = {"returns-acme.txt": ("Acme", 30), "returns-birch.txt": ("Birch", 15), "returns-cedar.txt": ("Cedar", 30)}
ZH_POLICY = "{vendor}退货政策。\n\n未拆封的商品可在签收后{days}天内退货，并全额退款。每次退货都需要提供订单号或收据。\n"
GREEDY = GenerationParams(max_tokens=32, temperature=0)


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory):
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace

    root = tmp_path_factory.mktemp("lookalikes")
    docs = root / "docs"
    docs.mkdir()
    for name, (vendor, days) in VARIANTS.items():
        (docs / name).write_text(POLICY.format(vendor=vendor, days=days), encoding="utf-8")
    (docs / "退货政策-甲.txt").write_text(ZH_POLICY.format(vendor="甲公司", days=30), encoding="utf-8")
    (docs / "退货政策-乙.txt").write_text(ZH_POLICY.format(vendor="乙公司", days=7), encoding="utf-8")
    ws = Workspace(root / "ws")
    list(ingest_paths(ws, [docs]))
    yield ws
    ws.close()


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_documents_that_differ_each_get_their_own_answer_and_citation(lookalikes):
    answer = Ask(lookalikes, "How many days do I have to return unopened items?", extractive=True).run()
    split = answer.per_document
    assert split["differ"] and not split["replaced_model"]
    assert answer.text.startswith("Your documents answer this differently (3 documents):")
    lines = answer.text.splitlines()[2:]
    # the two that say 30 days share a line, each cited; the one that says 15 days has its own
    thirty = next(line for line in lines if "30 days" in line)
    fifteen = next(line for line in lines if "15 days" in line)
    assert "returns-acme.txt" in thirty and "returns-cedar.txt" in thirty and "returns-birch.txt" in fifteen
    by_number = {c.number: _name(c.path) for c in answer.citations}
    assert sorted(by_number.values()) == sorted(VARIANTS)
    for line in lines:
        for number, name in by_number.items():
            assert (f"[{number}]" in line) == (name in line)  # each document's citation sits on its line
    for c in answer.citations:  # each citation is its own document's sentence
        days = VARIANTS[_name(c.path)][1]
        assert f"{days} days" in c.span_text
        chunk = lookalikes.store.chunks_by_ids([c.chunk_id])[c.chunk_id]
        assert chunk.text[c.span[0]:c.span[1]] == c.span_text
    assert [len(g["documents"]) for g in split["groups"]] == [2, 1] or [len(g["documents"]) for g in
                                                                      split["groups"]] == [1, 2]


def test_in_written_mode_the_per_document_answer_takes_the_models_place(lookalikes):
    answer = Ask(lookalikes, "How many days do I have to return unopened items?", extractive=False).run(GREEDY)
    assert answer.per_document["differ"] and answer.per_document["replaced_model"]
    assert answer.stats.model == "per-document" and answer.stats.completion_tokens == 0
    stored = lookalikes.store.messages(answer.chat_id)[-1]
    assert stored.citations["per_document"]["replaced_model"] and stored.content == answer.text


def test_documents_that_agree_give_one_answer_citing_each(lookalikes):
    answer = Ask(lookalikes, "Is proof of purchase required for a return?", extractive=True).run()
    assert answer.per_document is not None and answer.per_document["agree"]
    assert not answer.per_document["differ"]
    assert "order number or receipt" in answer.text and "differently" not in answer.text
    assert {_name(c.path) for c in answer.citations} == set(VARIANTS)
    assert answer.text.count("“") == 1  # one quote, cited to every document that says it


def test_a_scoped_question_gets_one_answer(lookalikes):
    birch = next(doc_id for doc_id, path in lookalikes.store.searchable_documents() if path.endswith("birch.txt"))
    answer = Ask(lookalikes, "How many days do I have to return unopened items?", extractive=True,
                 filters=Filters(doc_ids=(birch,))).run()
    assert answer.per_document is None and "15 days" in answer.text
    assert {_name(c.path) for c in answer.citations} == {"returns-birch.txt"}


def test_a_question_that_names_a_vendor_is_answered_from_its_document(lookalikes):
    answer = Ask(lookalikes, "How many days do I have to return unopened items at Birch?", extractive=True).run()
    assert not answer.per_document["differ"] and [_name(p) for p in answer.per_document["named"]] == [
        "returns-birch.txt"]
    assert "15 days" in answer.text and {_name(c.path) for c in answer.citations} == {"returns-birch.txt"}


def test_a_chinese_question_gets_the_per_document_answer_in_chinese(lookalikes):
    answer = Ask(lookalikes, "未拆封的商品可以在几天内退货？", extractive=True).run()
    assert answer.per_document["differ"], answer.text
    assert answer.text.startswith("这些文档的回答不同（2 份文档）：")
    assert "退货政策-甲.txt：“" in answer.text and "30天" in answer.text and "7天" in answer.text


@pytest.mark.parametrize("a,b,relation", [
    ("Unopened items may be returned within 30 days.", "Unopened items may be returned within 15 days.", "differ"),
    ("Unopened items may be returned within 30 days.", "Unopened items can be sent back within 30 days.", "same"),
    ("Refunds are issued within 5 business days after the item is received and inspected at our Reno warehouse.",
     "Refunds are issued within 5 business days after the item is received and inspected at our Austin warehouse.",
     "differ"),
    ("Acme Home: items are inspected at our warehouse.", "Birch Home: items are inspected at our warehouse.", "same"),
    ("Top sellers by revenue: Nimbus 14 Laptop, StandPro 60 desk.", "Nimbus 14 Laptop: 2880 x 1800 OLED, 90 Hz.",
     "other"),  # other things, other numbers: not set against each other
])
def test_sentences_differ_when_alike_with_other_numbers_or_a_swapped_term(a, b, relation):
    params = per_document.Params(doc_share=1.0, strength=0.6, substitution=0.2, alike=1.0)
    assert per_document.relation(a, b, {"acme", "birch"}, params) == relation
