"""A multi-line prompt: enter sends, ctrl+j adds a line; pasted newlines never send. Up and down on the
first and last line walk the prompt history; PageUp/PageDown scroll the conversation above."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui import actions


class PromptInput(TextArea):
    BINDINGS = actions.bindings("prompt")

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    class Paged(Message):
        """The user asked to scroll the conversation by a page (-1 up, +1 down)."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.prompts: list[str] = []  # earlier prompts, oldest first
        self._recalled: int | None = None  # index into history while walking it
        self._draft = ""

    def remember(self, text: str) -> None:
        """Adds a sent prompt to the history (once, newest last)."""
        if text in self.prompts:
            self.prompts.remove(text)
        self.prompts.append(text)
        self._recalled = None

    async def _on_key(self, event: events.Key) -> None:
        # Terminals cannot tell shift+enter from enter, so enter sends and ctrl+j breaks the line;
        # a paste arrives as one Paste event, so its newlines are kept, not sent.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.remember(text)
                self.post_message(self.Submitted(self, text))
            return
        if event.character == "?" and not self.text:
            # On an empty prompt ? shows the keys; once a question is started it is a question mark.
            event.stop()
            event.prevent_default()
            await self.app.run_action("help")
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")

    def action_history(self, step: int) -> None:
        """Recalls an earlier (step -1) or later (+1) prompt; inside a multi-line prompt, moves the cursor."""
        row = self.cursor_location[0]
        if step < 0 and row > 0:
            self.action_cursor_up()
            return
        if step > 0 and row < self.document.line_count - 1:
            self.action_cursor_down()
            return
        if not self.prompts:
            return
        if self._recalled is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(self.prompts) - 1
        else:
            index = self._recalled + step
        if index >= len(self.prompts):
            self._recalled = None
            self._set(self._draft)
            return
        self._recalled = max(index, 0)
        self._set(self.prompts[self._recalled])

    def _set(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def action_page(self, direction: int) -> None:
        self.post_message(self.Paged(direction))
