"""The modal of a bad rating: optionally point at the passage that does answer the question, picked from the
answer's own sources or from a search of the library."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.messages import SearchFinished
from tui.widgets.message_box import snippet
from tui.workers import thread_worker

NO_PASSAGE = "none"
SEARCH_HITS = 8


def passage_label(p: dict) -> Text:
    """Gives a candidate passage's one-line label, literal (file names and passages are never markup)."""
    name = p["path"].rsplit("/", 1)[-1]
    page = f", p.{p['page']}" if p.get("page") else ""
    return Text(f"{name}{page} — “{snippet(p.get('text') or '', heading=p.get('heading'))}”")


def answer_sources(record: dict) -> list[dict]:
    """Gives an answer's sources as candidate passages: its citations, then the nearest passages of a
    refusal, each chunk once."""
    seen, out = set(), []
    for c in record.get("citations") or []:
        if c.get("chunk_id") not in seen:
            seen.add(c.get("chunk_id"))
            out.append({"chunk_id": c["chunk_id"], "path": c["path"], "page": c.get("page"),
                        "text": c.get("span_text") or "", "heading": c.get("heading")})
    for n in record.get("nearest") or []:
        if n.get("chunk_id") not in seen:
            seen.add(n.get("chunk_id"))
            out.append({"chunk_id": n["chunk_id"], "path": n["path"], "page": n.get("page"),
                        "text": n.get("text") or "", "heading": n.get("heading")})
    return out


class RatingScreen(ModalScreen[dict | None]):
    """Dismisses with {"passage": chunk id or None} when the bad rating is to be stored, None when
    cancelled (nothing stored)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    #rating-dialog OptionList { height: auto; max-height: 14; }
    #rating-dialog Label { width: 100%; }  /* wraps: at 80 columns the title lost "esc cancels" */
    """

    def __init__(self, workspace, question: str, sources: list[dict], search_mode: str = "hybrid") -> None:
        super().__init__()
        self.workspace = workspace
        self.question = question
        self.sources = sources
        self.hits: list[dict] = []
        self.search_mode = search_mode
        self.searches = 0  # finished searches, for tests that wait on them

    def compose(self) -> ComposeResult:
        with Vertical(id="rating-dialog", classes="dialog"):
            yield Label("Bad answer. Which passage does answer it? (optional; esc cancels)", id="rating-title")
            yield Label(Text(self.question), classes="hint", id="rating-question")
            yield OptionList(id="rating-options")
            yield Input(placeholder="Search the library for the passage, then enter", id="rating-search")

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#rating-options", OptionList).focus()

    def _fill(self) -> None:
        listing = self.query_one("#rating-options", OptionList)
        listing.clear_options()
        options = [Option(Text("No passage: just rate it bad"), id=NO_PASSAGE)]
        options += [Option(Text("Source: ").append_text(passage_label(p)), id=f"s{i}")
                    for i, p in enumerate(self.sources)]
        options += [Option(Text("Found: ").append_text(passage_label(p)), id=f"h{i}")
                    for i, p in enumerate(self.hits)]
        listing.add_options(options)
        listing.highlighted = 0

    @on(OptionList.OptionSelected, "#rating-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or NO_PASSAGE
        if key == NO_PASSAGE:
            self.dismiss({"passage": None})
            return
        chosen = (self.sources if key[0] == "s" else self.hits)[int(key[1:])]
        self.dismiss({"passage": chosen["chunk_id"]})

    @on(Input.Submitted, "#rating-search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.search(event.value.strip())
        else:  # enter on the empty box did nothing at all
            self.notify("Type words to search the library for the passage, then enter", severity="warning",
                        timeout=3)

    @thread_worker("rating-search", "search the library")
    def search(self, text: str) -> None:
        result = self.workspace.searcher().search(text, SEARCH_HITS, self.search_mode)
        self.post_message(SearchFinished(text, result.hits, 0.0))

    @on(SearchFinished)
    def _found(self, message: SearchFinished) -> None:
        message.stop()
        self.hits = [{"chunk_id": h.chunk_id, "path": h.path, "page": h.page, "text": h.text, "heading": h.heading}
                     for h in message.hits]
        self._fill()
        listing = self.query_one("#rating-options", OptionList)
        listing.highlighted = 1 + len(self.sources) if self.hits else 0
        listing.focus()
        self.searches += 1
        if not self.hits:
            self.notify("No passage found; try other words", severity="warning", timeout=3)
