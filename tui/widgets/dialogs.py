"""Modal screens: cited passage viewer, confirm, rename, keys help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ChunkScreen(ModalScreen[None]):
    """Shows a cited chunk with its file and page, the supporting span highlighted."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, path: str, page: int | None, heading: str | None, text: str,
                 span: tuple[int, int] | None, ocr: bool = False) -> None:
        super().__init__()
        self.path, self.page, self.heading, self.text, self.span = path, page, heading, text, span
        self.ocr = ocr  # the page was a scan: its text was read by OCR and may hold misread characters

    def compose(self) -> ComposeResult:
        body = Text(self.text)
        if self.span and self.span[1] > self.span[0]:
            body.stylize("bold reverse", self.span[0], self.span[1])
        where = self.path + (f" — page {self.page}" if self.page else "") + (" · text by OCR" if self.ocr else "")
        with Vertical(id="chunk-dialog", classes="dialog"):
            yield Label(Text(where), id="chunk-where")
            if self.heading:
                yield Label(Text(self.heading), classes="hint")
            with VerticalScroll():
                yield Static(body, id="chunk-text")
            yield Label("esc to close", classes="hint")


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape,n", "answer(False)", "No"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question), id="confirm-question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename chat (enter to save, esc to cancel)")
            yield Input(self.current, id="rename-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class HelpScreen(ModalScreen[None]):
    """Every action with its current key, built from tui.actions."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, rows: list[tuple[str, str, str]], note: str = "") -> None:
        super().__init__()
        self.rows = rows
        self.note = note  # keys that are not actions of their own (built from the keymap by the app)

    def compose(self) -> ComposeResult:
        lines = Text()
        for scope, key, description in self.rows:
            lines.append(f"{scope:10}", style="dim")
            lines.append(f"{key:14}", style="bold")
            lines.append(description + "\n")
        if self.note:
            lines.append(f"\n{self.note}", style="dim")
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("Keys", classes="title")
            with VerticalScroll():
                yield Static(lines, id="help-text")
