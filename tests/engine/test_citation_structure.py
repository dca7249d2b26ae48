"""The citation check keeps an answer's Markdown structure and never cites a list number."""

from engine.documents.citations import Source, check, markdown_sentences

SOURCE = Source(1, 11, "/d/returns.md", None, "Returns",
                "Returns\n1.\nOpened electronics may be returned within 15 days.\n2.\n"
                "Unopened items may be returned within 30 days.")


def test_markdown_sentences_keep_line_breaks_and_markers():
    parts = markdown_sentences("Two rules:\n\n1. First rule. Still first.\n2. Second rule.")
    assert parts == [("", "Two rules:"), ("\n\n1. ", "First rule."), (None, "Still first."),
                     ("\n2. ", "Second rule.")]


def test_check_keeps_a_list_and_cites_no_list_number(encoder):
    answer = ("The rules:\n\n1. Opened electronics may be returned within 15 days [1].\n"
              "2. Unopened items may be returned within 30 days [1].")
    text, citations, _ = check(answer, [SOURCE], encoder)
    lines = text.split("\n")
    assert lines[0].startswith("The rules") and lines[1] == ""
    assert lines[2].startswith("1. Opened electronics") and lines[3].startswith("2. Unopened items")
    assert citations and all(c.span_text.strip() not in ("1.", "2.") for c in citations)
