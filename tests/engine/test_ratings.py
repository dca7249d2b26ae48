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
