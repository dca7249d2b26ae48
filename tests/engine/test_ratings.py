"""What a rerun of a rated question is called (engine/documents/ratings.py), on hand-made ratings and rows."""

from __future__ import annotations

import pytest

from engine.documents.ratings import OUTCOMES, outcome, question_of
from engine.store.feedback import Feedback

PASSAGE = {"chunk_id": 7, "path": "/docs/returns.md", "page": None, "text": "Returns within 30 days."}


def rating(value: str, passage: dict | None = None, refused: bool = False, answer: str = "Thirty days.") -> Feedback:
    return Feedback(1, "rating", "3", "12", value, {"question": "How long to return?", "answer": answer,
                                                   "mode": "docs", "refused": refused, "passage": passage,
                                                   "sources": [{"chunk_id": 9, "path": "/docs/faq.md"}]})


def row(answer: str = "Thirty days.", refused: bool = False, chunks=(), files=()) -> dict:
    return {"answer": answer, "refused": refused, "cited_chunks": list(chunks), "cited_files": list(files)}


@pytest.mark.parametrize("item,now,expected", [
    (rating("good"), row(" thirty  days. "), "same"),  # compared loosely: spacing and case
    (rating("good"), row("Two weeks."), "changed"),
    (rating("good"), row("", refused=True), "refused"),
    (rating("bad", PASSAGE), row(chunks=[7], files=["/docs/returns.md"]), "fixed"),
    (rating("bad", PASSAGE), row(chunks=[8], files=["/docs/returns.md"]), "right_file"),
    (rating("bad", PASSAGE), row(chunks=[9], files=["/docs/faq.md"]), "missed"),
    (rating("bad", PASSAGE), row("", refused=True), "refused"),
    (rating("bad", PASSAGE, refused=True), row("", refused=True), "missed"),  # refused before and now
    (rating("bad"), row("Thirty days."), "same"),
])
def test_outcomes(item, now, expected):
    assert outcome(item, now) == expected and expected in OUTCOMES


def test_the_expected_file_of_a_rated_question():
    assert question_of(rating("bad", PASSAGE)).expected_file == "/docs/returns.md"
    assert question_of(rating("good")).expected_file == "/docs/faq.md"  # what the good answer cited
    assert question_of(rating("good", refused=True)).expected_file is None  # a right refusal
    assert question_of(rating("bad")).lang == "en"


# -- a workspace's refusal bar refitted from its ratings (real demo workspace, real index) --------------

ANSWERED = ["未拆封的商品几天内可以无理由退货？", "升降桌电机的保修期是几年？", "入职满一年的员工每年有几天带薪年假？",
            "员工每年有多少天带薪病假？", "法定节假日加班工资按几倍计算？", "国内订单一般几天能送达？",
            "客服热线的电话号码是多少？", "电动升降桌的升降范围是多少厘米？", "空气净化器的滤网多久需要更换一次？",
            "退货检验合格后，退款多久能退回？"]
NOT_ANSWERED = ["公司股票今年的市盈率是多少？", "明天上海会下雨吗？", "比特币的价格是多少？",
                "董事长的生日是哪一天？", "食堂周三的菜单有什么？", "停车场每月租金多少钱？"]


def test_a_workspace_refits_its_refusal_bar_from_ratings(demo_workspace):
    from engine.documents import refusal
    from engine.documents.rag import Ask
    from engine.documents.ratings import refit_refusal_bar
    from engine.errors import FeedbackError

    store = demo_workspace.store
    for n, question in enumerate(ANSWERED[:3]):
        store.add_feedback("rating", 1, n, "good", {"mode": "docs", "question": question, "refused": False})
    with pytest.raises(FeedbackError, match="too few rated zh document answers to fit a refusal bar"):
        refit_refusal_bar(demo_workspace, "zh")
    for n, question in enumerate(ANSWERED[3:], start=3):  # a bad answer with its passage: answerable too
        store.add_feedback("rating", 1, n, "bad" if n % 2 else "good",
                           {"mode": "docs", "question": question, "refused": False,
                            "passage": {"path": "zh/x.md"} if n % 2 else None})
    for n, question in enumerate(NOT_ANSWERED, start=100):  # good refusals
        store.add_feedback("rating", 1, n, "good", {"mode": "docs", "question": question, "refused": True})
    report = refit_refusal_bar(demo_workspace, "zh")
    assert report["rated"] == 16 and not report["applied"]
    assert report["fit"]["answerable"] + report["report"]["answerable"] == 10
    assert report["fit"]["false_refusal_rate"] <= refusal.MAX_FALSE_REFUSALS
    assert refusal.workspace_bar(demo_workspace, "zh") is None  # not stored without apply
    applied = refit_refusal_bar(demo_workspace, "zh", apply=True)
    assert refusal.workspace_bar(demo_workspace, "zh") == applied["bar"]
    assert Ask(demo_workspace, ANSWERED[0]).bar() == applied["bar"]  # answers now use the workspace's bar
