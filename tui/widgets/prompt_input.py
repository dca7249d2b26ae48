"""A multi-line prompt: enter sends, ctrl+j adds a line; pasted newlines never send. Up and down on the
first and last line walk the prompt history; PageUp/PageDown scroll the conversation above. Tab after
`@part` completes a document's file name (again: the next one); elsewhere tab moves the focus."""

from __future__ import annotations

import re
from collections.abc import Callable

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui import actions

_MENTION_BEFORE_CURSOR = re.compile(r'(?<!\S)@("[^"]*"?|\S*)$')


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
        self.mention_paths: Callable[[], list[str]] | None = None  # the library's paths, for @name
        self._completing: tuple[int, int, int, list[str], int] | None = None  # row, start, end, names, index

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
        if event.key == "tab" and self._complete_mention():
            event.stop()
            event.prevent_default()
            return
        if event.key != "tab":
            self._completing = None
        if event.character == "?" and not self.text:
            # On an empty prompt ? shows the keys; once a question is started it is a question mark.
            event.stop()
            event.prevent_default()
            await self.app.run_action("help")
            return
        await super()._on_key(event)

    def _complete_mention(self) -> bool:
        """Completes the `@part` before the cursor with a document's file name; a second tab right after
        gives the next name. Gives False when there is no @ word to complete (tab then moves the focus)."""
        from engine.documents.scope import completions, mention_of

        row, col = self.cursor_location
        state = self._completing
        if state is not None and state[0] == row and state[2] == col:
            _, start, _, names, index = state
            index = (index + 1) % len(names)
        else:
            line = self.document.get_line(row)[:col]
            match = _MENTION_BEFORE_CURSOR.search(line)
            if match is None or self.mention_paths is None:
                return False
            typed = match.group(1).strip('"')
            names = completions(typed, self.mention_paths())
            if not names:
                self.notify(f"@{typed} matches no document name; see Documents (f2) for the names",
                            severity="warning", timeout=3, markup=False)
                self._completing = None
                return True
            start, index = match.start(), 0
        token = mention_of(names[index])
        self.replace(token, (row, start), (row, col))
        end = start + len(token)
        self.move_cursor((row, end))
        self._completing = (row, start, end, names, index)
        if len(names) > 1:
            self.notify(f"{index + 1} of {len(names)} names (tab for the next): {names[index]}", timeout=2,
                        markup=False)
        return True

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
