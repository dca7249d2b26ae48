"""One chat message: role, Markdown body (streamed), small stats line, and checked citations."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui import actions

SNIPPET_CHARS = 80


def stats_text(stats: dict | None) -> str:
    """Gives the small line shown under an answer."""
    if not stats or not stats.get("completion_tokens"):
        return ""
    return (f"{stats.get('model', '')} · TTFT {stats.get('ttft_ms', 0):.0f} ms · "
            f"{stats.get('tokens_per_s', 0):.0f} tok/s · {stats.get('completion_tokens', 0)} tokens"
            + (" · stopped" if stats.get("stop_reason") == "cancelled" else ""))


def snippet(text: str, limit: int = SNIPPET_CHARS, heading: str | None = None) -> str:
    """Gives a one-line excerpt of at most `limit` characters, cut at a word boundary (with …), without
    a leading heading that the label already names."""
    flat = " ".join(text.split())
    if heading:
        head = " ".join(heading.split())
        while head and flat.startswith(head) and len(flat) > len(head):
            flat = flat[len(head):].lstrip(" :—-")
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2 and not re.search(r"[\u3400-\u9fff]", cut[space:]):
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + "…"


def citation_label(c: dict) -> Text:
    """Gives a citation's one-line label, literal text (file names and passages are never markup)."""
    name = c["path"].rsplit("/", 1)[-1]
    page = f", p.{c['page']}" if c.get("page") else ""
    return Text(f"[{c['number']}] {name}{page} — “{snippet(c['span_text'], heading=c.get('heading'))}”")


class CitationList(OptionList):
    """The sources an answer cites; enter opens the cited passage."""

    class Opened(Message):
        def __init__(self, citation: dict) -> None:
            super().__init__()
            self.citation = citation

    BINDINGS = actions.bindings("list")

    def __init__(self, citations: list[dict], **kwargs) -> None:
        super().__init__(*[Option(citation_label(c), id=str(i)) for i, c in enumerate(citations)], **kwargs)
        self.citations = citations

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Opened(self.citations[int(event.option.id)]))


class Waiting(Static):
    """A spinner with the seconds waited, shown until an answer's first token arrives."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, what: str, **kwargs) -> None:
        super().__init__("", classes="waiting", **kwargs)
        self.what = what
        self._tick = 0

    def on_mount(self) -> None:
        self._show()
        self.set_interval(0.1, self._advance)

    def _advance(self) -> None:
        self._tick += 1
        self._show()

    def _show(self) -> None:
        frame = self.FRAMES[self._tick % len(self.FRAMES)]
        self.update(Text(f"{frame} {self.what} {self._tick // 10} s (esc stops)"))


def unsupported_line(unsupported: list[str], shown: str, lang: str | None = None) -> Text | None:
    """Gives the ⚠ line for the unsupported sentences the user can see in the shown answer (none when
    the answer was replaced by a quote), in the answer's language."""
    flat = " ".join(shown.split())
    seen = [s for s in unsupported if (body := " ".join(s.split()).rstrip(".!?。！？")) and body in flat]
    if not seen:
        return None
    from engine.documents.phrases import answer_language, phrase

    head = phrase("unsupported", lang or answer_language(shown), n=len(seen))
    return Text(head + " | ".join(snippet(s, 60) for s in seen))


class MessageBox(Vertical):
    """A user or assistant message. An answer can take focus (f6 from the prompt): then r regenerates
    it, e edits its question, 1…9 open its citations and [ ] step to the previous or next answer."""

    BINDINGS = actions.bindings("answer")

    class Requested(Message):
        """The user asked for something about this answer that the chat pane does (regenerate, edit…)."""

        def __init__(self, box: MessageBox, action: str, step: int = 0) -> None:
            super().__init__()
            self.box = box
            self.action = action
            self.step = step

    def __init__(self, role: str, text: str = "", stats: dict | None = None, record: dict | None = None,
                 waiting: str | None = None, **kwargs) -> None:
        super().__init__(classes=f"message {role}", **kwargs)
        self.can_focus = role == "assistant"
        self.role = role
        self.text = text
        self.stats = stats
        self.record = record or {}
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        yield Static("You" if self.role == "user" else "Quarry", classes="role")
        from textual.widgets import Markdown  # markdown-it and pygments load with the first message, not at start

        if self.waiting:
            yield Waiting(self.waiting)
        yield Markdown(self.text, classes="body")
        yield Static(Text(stats_text(self.stats)), classes="stats")
        yield Vertical(classes="extras")

    async def on_mount(self) -> None:
        self.query_one(".stats", Static).display = bool(stats_text(self.stats))
        if self.record:
            await self.show_record(self.record)

    async def _stop_waiting(self) -> None:
        for waiting in self.query(Waiting):
            await waiting.remove()

    async def append(self, piece: str) -> None:
        self.text += piece
        await self._stop_waiting()
        await self.query_one(".body").append(piece)

    async def finish(self, text: str, stats: dict | None, record: dict | None) -> None:
        """Shows the final (checked) text, the stats and the citations; returns once they are mounted."""
        self.text = text
        self.stats = stats
        await self._stop_waiting()
        await self.query_one(".body").update(text)
        line = self.query_one(".stats", Static)
        line.update(Text(stats_text(stats)))
        line.display = bool(stats_text(stats))
        if record:
            self.record = record
            await self.show_record(record)

    async def show_record(self, record: dict) -> None:
        extras = self.query_one(".extras", Vertical)
        await extras.remove_children()
        citations = record.get("citations") or []
        nearest = record.get("nearest") or []
        widgets = []
        if citations:
            widgets.append(CitationList(citations, classes="citations"))
        warning = unsupported_line(record.get("unsupported") or [], self.text, record.get("lang"))
        if warning is not None:
            widgets.append(Static(warning, classes="unsupported"))
        if record.get("refused") and nearest:
            near = [{"number": i, "path": n["path"], "page": n.get("page"), "span_text": n.get("text", ""),
                     "chunk_id": n["chunk_id"], "span": [0, 0], "heading": n.get("heading")}
                    for i, n in enumerate(nearest, start=1)]
            from engine.documents.phrases import phrase

            widgets.append(Static(Text(phrase("nearest", record.get("lang") or "en")), classes="hint"))
            widgets.append(CitationList(near, classes="citations"))
        if widgets:
            await extras.mount_all(widgets)

    # -- keys on a focused answer (or its citations) --------------------------------------------
    def action_regenerate(self) -> None:
        self.post_message(self.Requested(self, "regenerate"))

    def action_edit_last(self) -> None:
        self.post_message(self.Requested(self, "edit"))

    def action_step_answer(self, step: int) -> None:
        self.post_message(self.Requested(self, "step", step))

    def action_back_to_prompt(self) -> None:
        self.post_message(self.Requested(self, "prompt"))

    def action_open_citation(self, number: int) -> None:
        for listing in self.query(CitationList):
            if 1 <= number <= len(listing.citations):
                listing.highlighted = number - 1
                listing.post_message(CitationList.Opened(listing.citations[number - 1]))
                return
        self.notify(f"This answer has no citation {number}", severity="warning", timeout=3)
