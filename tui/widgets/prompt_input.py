"""A multi-line prompt: enter sends, ctrl+j adds a line; pasted newlines never send."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    BINDINGS = [Binding("ctrl+j", "newline", "New line", show=False, id="prompt.newline")]

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        # Terminals cannot tell shift+enter from enter, so enter sends and ctrl+j breaks the line;
        # a paste arrives as one Paste event, so its newlines are kept, not sent.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")
