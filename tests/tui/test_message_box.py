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


async def test_a_streamed_answer_renders_once_a_frame_in_bounded_parts():
    """Pieces arriving within a frame are shown together; a long answer is split into Markdown parts at
    paragraph breaks (never inside a code fence), and the final text is not parsed again when it is what
    streamed."""
    from textual.app import App
    from textual.containers import VerticalScroll

    from tests.tui.helpers import wait_for
    from tui.widgets.message_box import MessageBox

    paragraph = "The keeper climbed the **stairs** each evening. " * 12 + "\n\n"
    fence = "```\n" + "code line\n\n" * 60 + "```\n\n"
    answer = paragraph * 3 + fence + paragraph * 3

    class Host(App):
        def compose(self):
            yield VerticalScroll(MessageBox("assistant", "", id="box"))

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        box = app.query_one("#box", MessageBox)
        pieces = [answer[i:i + 7] for i in range(0, len(answer), 7)]
        for piece in pieces[:20]:
            await box.append(piece)
        assert len(box._pending) == 20 and box._flush_timer is not None  # one render waits for them all
        await wait_for(pilot, lambda: not box._pending and not box._flushing, timeout=10)
        assert box.query_one(".body").source == "".join(pieces[:20])
        for start in range(20, len(pieces), 15):  # then a frame every 15 pieces, drawn here at once
            for piece in pieces[start:start + 15]:
                await box.append(piece)
            if box._flush_timer is not None:
                box._flush_timer.stop()
                await box._flush()
        parts = list(box.query(".body"))
        assert len(parts) > 1 and "".join(p.source for p in parts) == answer
        assert all(p.source.count("```") % 2 == 0 for p in parts)  # a fence stays in one part
        await box.finish(answer.strip(), None, None)
        assert list(box.query(".body")) == parts and box.text == answer.strip()
        await box.finish("A corrected answer.", None, None)
        assert [p.source for p in box.query(".body")] == ["A corrected answer."]


async def test_a_failed_answer_shows_its_error_literally():
    from textual.app import App
    from textual.widgets import Static

    from tui.widgets.message_box import MessageBox

    class Host(App):
        def compose(self):
            yield MessageBox("assistant", "")

    async with Host().run_test() as pilot:
        box = pilot.app.query_one(MessageBox)
        await box.append("Partial ")
        error = "model_x_q4.gguf: *not* loaded [bold]; run `quarry models pull`"
        await box.fail(error)
        line = box.query_one(".failure", Static)
        assert str(line.render()) == error  # no emphasis eaten, no markup applied
        assert box.text == "Partial "
