"""English quotes: a table row is quoted whole, "how long" is not a topic word, stems match on their
first letters, and later sentences come from the best one's file only (engine/documents/extractive.py)."""

from __future__ import annotations

from engine.documents import extractive
from engine.documents.citations import Source

ROWS = ("name: Seattle showroom; city: Seattle; hours: 10:00-19:00; phone: 206-555-0101\n"
        "name: Portland showroom; city: Portland; hours: 09:00-18:00; phone: 503-555-0144")


def test_a_table_row_is_quoted_whole():
    spans = extractive.quote_spans(ROWS)
    assert [text for _, _, text in spans] == ROWS.split("\n")
    assert all(ROWS[start:end] == text for start, end, text in spans)
    picked = extractive.extract("What are the opening hours of the Seattle showroom?",
                                [Source(1, 1, "/d/tables/stores.parquet", None, None, ROWS)], "en")
    assert "10:00-19:00" in picked[0].text and "Portland" not in picked[0].text


def test_question_words_leave_out_how_long_and_match_stems_on_their_first_letters():
    assert extractive.question_words("How long are customer order records kept?") == [
        "customer", "order", "record", "kept"]
    approves = extractive.question_words("Who approves expenses?")[0]
    assert approves == "approv" and extractive._holds(approves, "", extractive._stems("need approval from a director"))
    assert not extractive._holds("deliv", "", extractive._stems("delivery"))  # short stems match whole


def test_later_sentences_come_from_the_best_ones_file():
    sources = [Source(1, 1, "/d/faq.md", None, None, "Shipping is free on orders over $75. Express takes 2 days."),
               Source(2, 2, "/d/tickets.csv", None, None, "Shipping is free on orders over $75, right?")]
    picked = extractive.extract("Is shipping free on orders over $75?", sources, "en")
    assert {s.source.path for s in picked} == {"/d/faq.md"}
