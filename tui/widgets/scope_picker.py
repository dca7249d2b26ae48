"""The document picker: which documents the open chat answers from. Type to narrow the list by file name,
space picks or unpicks the highlighted document, enter applies (nothing picked: the whole library), escape
cancels. The typing field keeps the focus throughout, so the keys never change meaning under the user."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


def file_name(path: str) -> str:
    # engine.documents.scope's, not imported: it pulls the search stack, which the app's first paint must not
    return path.replace("\\", "/").rsplit("/", 1)[-1]


class FilterInput(Input):
    """The typing field: space picks the highlighted document (file names are typed without spaces)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space":
            event.stop()
            event.prevent_default()
            self.screen.action_toggle()
            return
        await super()._on_key(event)


def _folder(path: str) -> str:
    parts = path.replace("\\", "/").rsplit("/", 2)
    return parts[-2] if len(parts) > 1 else ""


class ScopePicker(ModalScreen[tuple[int, ...] | None]):
    """Gives the picked document ids (empty: the whole library), or None when cancelled."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("enter", "apply", "Apply", priority=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("pagedown", "move(10)", show=False, priority=True),
        Binding("pageup", "move(-10)", show=False, priority=True),
    ]

    def __init__(self, documents: list[tuple[int, str]], picked: set[int], title: str = "the open chat") -> None:
        super().__init__()
        self.documents = documents  # (id, path), by path
        self.picked = set(picked) & {doc_id for doc_id, _ in documents}
        self.title_text = title
        self.shown: list[tuple[int, str]] = list(documents)
        self._typed: str | None = None  # the text the list was last filled for

    def compose(self) -> ComposeResult:
        with Vertical(id="scope-dialog", classes="dialog"):
            yield Label(Text(f"Documents for {self.title_text}"), classes="title", id="scope-title")
            yield FilterInput(placeholder="type part of a file name", id="scope-filter")
            yield OptionList(id="scope-list")
            yield Label("", id="scope-count", classes="hint")
            yield Label("space pick/unpick · enter apply · esc cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#scope-list", OptionList).can_focus = False
        self._refill()
        field = self.query_one("#scope-filter", Input)
        field.cursor_blink = getattr(self.app, "cursor_blink", True)  # off in snapshot tests
        field.focus()

    def _row(self, doc_id: int, path: str) -> Text:
        row = Text("[x] " if doc_id in self.picked else "[ ] ", style="bold" if doc_id in self.picked else "")
        row.append(file_name(path))
        folder = _folder(path)
        if folder:
            row.append(f"  {folder}/", style="dim")
        return row

    def _refill(self) -> None:
        """Shows the documents whose file name holds the typed text, picked ones marked."""
        typed = self.query_one("#scope-filter", Input).value.strip().lower()
        self._typed = typed
        if typed:
            self.shown = [(d, p) for d, p in self.documents if typed in file_name(p).lower()]
        else:  # the picked ones first, so the scope is seen (and unpicked) without typing
            self.shown = ([m for m in self.documents if m[0] in self.picked]
                          + [m for m in self.documents if m[0] not in self.picked])
        listing = self.query_one("#scope-list", OptionList)
        listing.clear_options()
        listing.add_options([Option(self._row(d, p), id=str(d)) for d, p in self.shown])
        if self.shown:
            listing.highlighted = 0
        self._count()

    def _count(self) -> None:
        picked = f"{len(self.picked)} picked" if self.picked else "none picked: all documents"
        self.query_one("#scope-count", Label).update(f"{len(self.shown)} of {len(self.documents)} shown · {picked}")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._sync()

    def _sync(self) -> None:
        """Refills the list when the typed text changed since it was filled: a key pressed right after
        typing (down, space) acts on the list the text gives, whichever of the two arrives first."""
        if self.query_one("#scope-filter", Input).value.strip().lower() != self._typed:
            self._refill()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # a click on a row picks or unpicks it, as space does on the highlighted one
        self._toggle(event.option_index)

    def action_toggle(self) -> None:
        self._sync()
        highlighted = self.query_one("#scope-list", OptionList).highlighted
        if highlighted is not None:
            self._toggle(highlighted)

    def _toggle(self, index: int) -> None:
        doc_id, path = self.shown[index]
        self.picked.symmetric_difference_update({doc_id})
        self.query_one("#scope-list", OptionList).replace_option_prompt_at_index(index, self._row(doc_id, path))
        self._count()

    def action_move(self, step: int) -> None:
        self._sync()
        listing = self.query_one("#scope-list", OptionList)
        if not self.shown:
            return
        current = listing.highlighted if listing.highlighted is not None else 0
        listing.highlighted = max(0, min(len(self.shown) - 1, current + step))

    def action_apply(self) -> None:
        self.dismiss(tuple(d for d, _ in self.documents if d in self.picked))
