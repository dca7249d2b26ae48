"""One chat message: role, Markdown body (streamed), small stats line, and checked citations."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option


def stats_text(stats: dict | None) -> str:
    """Gives the small line shown under an answer."""
    if not stats or not stats.get("completion_tokens"):
        return ""
    return (f"{stats.get('model', '')} · TTFT {stats.get('ttft_ms', 0):.0f} ms · "
            f"{stats.get('tokens_per_s', 0):.0f} tok/s · {stats.get('completion_tokens', 0)} tokens"
            + (" · stopped" if stats.get("stop_reason") == "cancelled" else ""))


def citation_label(c: dict) -> str:
    name = c["path"].rsplit("/", 1)[-1]
    page = f", p.{c['page']}" if c.get("page") else ""
    return f"[{c['number']}] {name}{page} — “{' '.join(c['span_text'].split())[:80]}”"


class CitationList(OptionList):
    """The sources an answer cites; enter opens the cited passage."""

    class Opened(Message):
        def __init__(self, citation: dict) -> None:
            super().__init__()
            self.citation = citation

    def __init__(self, citations: list[dict], **kwargs) -> None:
        super().__init__(*[Option(citation_label(c), id=str(i)) for i, c in enumerate(citations)], **kwargs)
        self.citations = citations

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Opened(self.citations[int(event.option.id)]))


class MessageBox(Vertical):
    """A user or assistant message."""

    def __init__(self, role: str, text: str = "", stats: dict | None = None, record: dict | None = None,
                 **kwargs) -> None:
        super().__init__(classes=f"message {role}", **kwargs)
        self.role = role
        self.text = text
        self.stats = stats
        self.record = record or {}

    def compose(self) -> ComposeResult:
        yield Static("You" if self.role == "user" else "Quarry", classes="role")
        yield Markdown(self.text, classes="body")
        yield Static(stats_text(self.stats), classes="stats")
        yield Vertical(classes="extras")

    def on_mount(self) -> None:
        self.query_one(".stats", Static).display = bool(stats_text(self.stats))
        if self.record:
            self.show_record(self.record)

    async def append(self, piece: str) -> None:
        self.text += piece
        await self.query_one(Markdown).append(piece)

    def finish(self, text: str, stats: dict | None, record: dict | None) -> None:
        """Shows the final (checked) text, the stats and the citations."""
        self.text = text
        self.stats = stats
        self.query_one(Markdown).update(text)
        line = self.query_one(".stats", Static)
        line.update(stats_text(stats))
        line.display = bool(stats_text(stats))
        if record:
            self.show_record(record)

    def show_record(self, record: dict) -> None:
        extras = self.query_one(".extras", Vertical)
        extras.remove_children()
        citations = record.get("citations") or []
        unsupported = record.get("unsupported") or []
        nearest = record.get("nearest") or []
        widgets = []
        if citations:
            widgets.append(CitationList(citations, classes="citations"))
        if unsupported:
            widgets.append(Static(f"⚠ {len(unsupported)} sentence(s) not supported by the sources: "
                                  + " | ".join(s[:60] for s in unsupported), classes="unsupported"))
        if record.get("refused") and nearest:
            near = [{"number": i, "path": n["path"], "page": n.get("page"), "span_text": n.get("text", ""),
                     "chunk_id": n["chunk_id"], "span": [0, 0]} for i, n in enumerate(nearest, start=1)]
            widgets.append(Static("Nearest passages:", classes="hint"))
            widgets.append(CitationList(near, classes="citations"))
        if widgets:
            extras.mount_all(widgets)
