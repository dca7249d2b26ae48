"""One chat message: role, Markdown body (streamed), small stats line, and checked citations."""

from __future__ import annotations

import asyncio
import re
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui import actions

SNIPPET_CHARS = 80
FRAME_S = 1 / 15  # a streaming answer re-renders at most this often, with every piece that arrived meanwhile
CHUNK_CHARS = 2000  # a streaming answer starts a new Markdown part at a paragraph break past this size


def stats_text(stats: dict | None) -> str:
    """Gives the small line shown under an answer."""
    from engine.runtime.generation import stats_line  # dataclasses only: nothing heavy at first paint

    return stats_line(stats)


def footer_text(stats: dict | None, record: dict | None) -> str:
    """Gives the line under an answer: which mode made a document answer ('quoted', 'written by MODEL'),
    then its figures; a plain reply or a refusal has the figures alone."""
    from engine.documents.modes import QUOTED, WRITTEN, record_mode

    line = stats_text(stats)
    mode = record_mode(record)
    if mode == QUOTED:
        return "quoted"  # no timing: a few ms, and the same picture every run
    if mode == WRITTEN:
        return f"written by {line}" if line else "written"
    if mode == "quoted instead":
        return "quoted: the model's words were not supported" + (f" · {line}" if line else "")
    return line


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
        self.update(Text(f"{frame} {self.what} {self._tick // 10} s ({actions.key(self.app, 'chat.stop')} stops)"))


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
    it, e edits its question, + and - rate it, 1…9 open its citations and [ ] step to the previous or next
    answer."""

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
        self.message_id: int | None = None  # the stored message (what a rating names); None until stored
        self._parts = [text]  # the text so far, joined when read: streaming appends without copying it
        self.stats = stats
        self.record = record or {}
        self.waiting = waiting
        self._pending: list[str] = []  # streamed pieces not shown yet
        self._flush_timer = None
        self._flushing = False
        self._last_flush = 0.0
        self._chunk_chars = len(text)  # characters in the last Markdown part
        self._streamed = False

    @property
    def text(self) -> str:
        """The message's text (streamed so far, or final)."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0]

    @text.setter
    def text(self, value: str) -> None:
        self._parts = [value]

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it and pygments load with the first message, not at start

        yield Static("You" if self.role == "user" else "Quarry", classes="role")
        if self.waiting:
            yield Waiting(self.waiting)
        yield Markdown(self.text, classes="body")
        yield Static(Text(footer_text(self.stats, self.record)), classes="stats")
        yield Vertical(classes="extras")

    async def on_mount(self) -> None:
        self.query_one(".stats", Static).display = bool(footer_text(self.stats, self.record))
        if self.record:
            await self.show_record(self.record)

    async def _stop_waiting(self) -> None:
        for waiting in self.query(Waiting):
            await waiting.remove()

    async def append(self, piece: str) -> None:
        """Adds a streamed piece. It shows at the next frame with whatever else arrived by then, so a fast
        stream costs one Markdown update per frame, not one per piece; returns without waiting for it."""
        if not piece:
            return
        self._parts.append(piece)
        self._pending.append(piece)
        self._streamed = True
        await self._stop_waiting()
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_timer is not None or self._flushing or not self._pending:
            return
        wait = max(0.001, self._last_flush + FRAME_S - time.monotonic())  # a timer needs a delay above 0
        self._flush_timer = self.set_timer(wait, self._flush)

    async def _flush(self) -> None:
        """Shows the pieces that arrived since the last frame. Only the answer's last Markdown part is
        parsed again (Textual re-parses from its last block), and a part is closed at a paragraph break
        once it is CHUNK_CHARS long, so a frame's work stays bounded however long the answer grows."""
        self._flush_timer = None
        if not self._pending or not self.is_mounted:
            return
        self._flushing = True
        try:
            batch = "".join(self._pending)
            self._pending.clear()
            log = self.parent
            at_bottom = getattr(log, "is_vertical_scroll_end", False) or (
                log is not None and log.scroll_y >= log.max_scroll_y - 1)
            body = self.query(".body").last()
            split = self._split_point(body.source, batch)
            if split is None:
                await body.append(batch)
                self._chunk_chars += len(batch)
            else:
                from textual.widgets import Markdown

                if batch[:split]:
                    await body.append(batch[:split])
                rest = batch[split:]
                await self.mount(Markdown(rest, classes="body more"), after=body)
                self._chunk_chars = len(rest)
            if at_bottom and log is not None:
                log.scroll_end(animate=False)
        finally:
            self._flushing = False
            self._last_flush = time.monotonic()
        self._schedule_flush()

    def _split_point(self, source: str, batch: str) -> int | None:
        """Gives where in `batch` a new Markdown part should start (after a blank line, outside a code
        fence), or None to keep appending to the current part."""
        if self._chunk_chars + len(batch) < CHUNK_CHARS:
            return None
        cut = batch.rfind("\n\n")
        if cut < 0 or not batch[cut + 2:].strip():
            return None
        if (source.count("```") + batch[:cut].count("```")) % 2:  # inside a fenced block
            return None
        return cut + 2

    async def finish(self, text: str, stats: dict | None, record: dict | None) -> None:
        """Shows the final (checked) text, the stats and the citations; returns once they are mounted."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        while self._flushing:  # a frame being drawn finishes before the final text replaces it
            await asyncio.sleep(0.005)
        self._pending.clear()
        parts = list(self.query(".body"))
        # The final text of a plain reply is the streamed one, stripped: the parts already show it, so
        # only what the last frame did not show is added, instead of parsing the whole answer again.
        unshown = self._unshown(parts) if self._streamed and text.strip() == self.text.strip() else None
        self.text = text
        self.stats = stats
        await self._stop_waiting()
        if unshown is not None:
            if unshown:
                await parts[-1].append(unshown)
        else:
            for extra in parts[1:]:
                await extra.remove()
            await parts[0].update(text)
        footer = footer_text(stats, record or self.record)
        line = self.query_one(".stats", Static)
        line.update(Text(footer))
        line.display = bool(footer)
        if record:
            self.record = record
            await self.show_record(record)

    async def fail(self, error: str) -> None:
        """Ends the message with an error line shown literally (a path or a model's words may hold `_`,
        `*` or brackets); what was streamed before the failure stays."""
        await self.finish(self.text, None, None)
        await self.query_one(".extras", Vertical).mount(Static(Text(error), classes="failure"))

    def _unshown(self, parts: list) -> str:
        """Gives the end of the text that the Markdown parts do not show yet."""
        shown = sum(len(part.source) for part in parts)
        return self.text[shown:]

    async def show_literally(self) -> None:
        """Shows the text as it is, not as Markdown: a per-document answer quotes documents, whose `*`, `_`
        and brackets are theirs."""
        bodies = list(self.query(".body"))
        for body in bodies:
            body.display = False
        shown = self.query(".literal")
        if shown:
            shown.first().update(Text(self.text))
        elif bodies:
            await self.mount(Static(Text(self.text), classes="literal"), after=bodies[-1])

    async def show_record(self, record: dict) -> None:
        split = record.get("per_document") or {}
        if split.get("differ"):
            await self.show_literally()
        extras = self.query_one(".extras", Vertical)
        await extras.remove_children()
        citations = record.get("citations") or []
        nearest = record.get("nearest") or []
        widgets = []
        if split.get("differ"):
            from engine.documents.phrases import phrase

            lang = record.get("lang") or "en"
            note = phrase("per_document_note", lang)
            if split.get("replaced_model"):
                note += f"; {phrase('replaced_model', lang)}"
            widgets.append(Static(Text(note), classes="hint"))
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

    def action_rate(self, value: str) -> None:
        self.post_message(self.Requested(self, f"rate:{value}"))

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
