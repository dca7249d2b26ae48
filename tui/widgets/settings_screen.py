"""The settings screen: model, temperature, max tokens, sources, search mode, theme; saved as TOML."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from engine.errors import SettingsError
from engine.settings import Settings

THEMES = ["textual-dark", "textual-light", "nord", "gruvbox", "tokyo-night"]


class SettingsScreen(ModalScreen[Settings | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: Settings, models: list[str]) -> None:
        super().__init__()
        self.current = current
        self.models = models or [current.model]

    def compose(self) -> ComposeResult:
        c = self.current
        # scrolls: on 24 rows the fields fill the dialog, and Save, Cancel and the error line sit below
        with VerticalScroll(id="settings-dialog", classes="dialog"):
            yield Label("Settings", classes="title")
            with Grid(id="settings-grid"):
                yield Label("Chat model")
                yield Select([(Text(m), m) for m in self.models], value=c.model if c.model in self.models
                             else self.models[0], allow_blank=False, id="set-model")
                yield Label("Temperature (0 = greedy)")
                yield Input(str(c.temperature), id="set-temperature", type="number")
                yield Label("Max tokens")
                yield Input(str(c.max_tokens), id="set-max-tokens", type="integer")
                yield Label("Sources per answer")
                yield Input(str(c.top_k_sources), id="set-top-k", type="integer")
                yield Label("Search mode")
                yield Select([(m, m) for m in ("hybrid", "vector", "keyword")], value=c.search_mode,
                             allow_blank=False, id="set-mode")
                yield Label("Document answers")
                yield Select([("as the catalog measured best for the model and language", "auto"),
                              ("always the documents' own sentences, quoted", "quoted"),
                              ("always the model's words, citations checked", "written")],
                             value=c.answer_mode, allow_blank=False, id="set-answer-mode")
                yield Label("Theme")
                yield Select([(t, t) for t in THEMES], value=c.theme if c.theme in THEMES else THEMES[0],
                             allow_blank=False, id="set-theme")
            yield Label("", id="settings-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def _refuse(self, line: str) -> None:
        """Shows why the values were not saved, scrolled into sight (it sits below the fields)."""
        error = self.query_one("#settings-error", Label)
        error.update(Text(line))
        self.call_after_refresh(error.scroll_visible, animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        try:
            # replace() keeps what this screen does not show (key overrides, ingest limits, memory budget).
            result = replace(
                self.current,
                model=str(self.query_one("#set-model", Select).value),
                temperature=float(self.query_one("#set-temperature", Input).value),
                max_tokens=int(self.query_one("#set-max-tokens", Input).value),
                top_k_sources=int(self.query_one("#set-top-k", Input).value),
                search_mode=str(self.query_one("#set-mode", Select).value),
                theme=str(self.query_one("#set-theme", Select).value),
                answer_mode=str(self.query_one("#set-answer-mode", Select).value))
        except SettingsError as exc:
            # The ranges live in engine/settings.py, the one settings object; its message names the key.
            self._refuse(str(exc).removeprefix("settings: "))
            return
        except ValueError:
            self._refuse("Temperature, max tokens and sources must be numbers")
            return
        self.dismiss(result)
