"""The Compare pane's answers: one column per model (title, streamed text, figures), side by side in a
`Columns` row whose letter keys vote after a blind round."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static

from tui import actions


def figures_text(column) -> str:
    """Gives the one or two lines of figures under a column."""
    return column.figures_line(lines=2)


class AnswerColumn(Vertical):
    """One model's answer: a title (model or A/B), the streamed text, its figures."""

    def __init__(self, position: int, title: str, **kwargs) -> None:
        super().__init__(classes="compare-column", **kwargs)
        self.position = position
        self.title = title
        self.text = ""
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Label(Text(self.title), classes="compare-title")
        with VerticalScroll(classes="compare-scroll"):
            yield Static(Text("waiting…", style="dim"), classes="compare-text")
        yield Static("", classes="compare-figures")

    def set_title(self, title: str) -> None:
        self.title = title
        self.query_one(".compare-title", Label).update(Text(title))

    def append(self, text: str) -> None:
        self.text += text
        self.query_one(".compare-text", Static).update(Text(self.text))
        scroll = self.query_one(".compare-scroll", VerticalScroll)
        if scroll.scroll_y >= scroll.max_scroll_y - 1:
            scroll.scroll_end(animate=False)

    def started(self) -> None:
        self.query_one(".compare-text", Static).update(Text("thinking…", style="dim"))

    def finish(self, column) -> None:
        self.finished = True
        body = Text(column.text or "")
        if column.error:
            if body:
                body.append("\n\n")
            body.append(column.error, style="bold red")
        elif column.status == "cancelled":
            body.append("\n(stopped)", style="dim")
        self.query_one(".compare-text", Static).update(body)
        figures = self.query_one(".compare-figures", Static)
        figures.update(Text(figures_text(column)) if column.stats else "")
        self.set_class(bool(column.error), "failed")


class Columns(Horizontal, can_focus=True):
    """The answers side by side; focused after a blind round, when its letter keys vote (the prompt
    keeps its letters for typing). It only says what was asked; the pane records it."""

    BINDINGS = actions.bindings("verdict")

    class Voted(Message):
        """A vote key: `outcome` is a, b, tie or both_bad."""

        def __init__(self, outcome: str) -> None:
            super().__init__()
            self.outcome = outcome

    class RevealAsked(Message):
        """The reveal key: show the names without a vote."""

    def action_vote(self, outcome: str) -> None:
        self.post_message(self.Voted(outcome))

    def action_reveal(self) -> None:
        self.post_message(self.RevealAsked())
