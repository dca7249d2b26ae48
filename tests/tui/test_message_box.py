"""Citation labels and the ⚠ line under an answer."""

from tui.widgets.message_box import citation_label, snippet, unsupported_line


def test_snippet_drops_a_repeated_heading_and_cuts_at_a_word():
    text = "Returns policy\nReturns policy Opened electronics may be returned within fifteen days of delivery if unused"
    line = snippet(text, 60, heading="Returns policy")
    assert not line.startswith("Returns policy")
    assert line.endswith("…") and len(line) <= 60
    assert line[:-1].split()[-1] in text.split()  # the last word is whole


def test_citation_label_is_literal_text():
    label = citation_label({"number": 2, "path": "/d/[b]x.pdf", "page": 3, "span_text": "See [/terms] here."})
    assert label.plain == "[2] [b]x.pdf, p.3 — “See [/terms] here.”"


def test_unsupported_line_names_only_sentences_the_user_sees():
    shown = "Opened electronics can be returned within 15 days [1]. They come with a free gift ⚠."
    line = unsupported_line(["They come with a free gift.", "Shipping is always free."], shown)
    assert "1 sentence(s)" in line.plain and "free gift" in line.plain and "Shipping" not in line.plain
    quoted = "From your documents: “Opened electronics may be returned within 15 days.” [1]"
    assert unsupported_line(["They come with a free gift."], quoted) is None


def test_unsupported_line_speaks_chinese_for_a_chinese_answer():
    line = unsupported_line(["赠品免费"], "退货期限是十五天[1]。赠品免费⚠。")
    assert line.plain.startswith("⚠") and "1" in line.plain and "没有来源支持" in line.plain
