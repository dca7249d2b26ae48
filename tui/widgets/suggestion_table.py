"""The Recommend pane's results table: on a user's suggestions, keys accept or dismiss the highlighted
item, or undo the last (the keys come from the keymap: actions `suggestion.*`)."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import DataTable

from tui import actions


class SuggestionTable(DataTable):
    """The recommendations; on a user's, keys accept or dismiss the highlighted item, or undo."""

    BINDINGS = actions.bindings("suggestion")

    class Answered(Message):
        def __init__(self, what: str) -> None:
            super().__init__()
            self.what = what  # accept | dismiss | undo

    def action_answer_suggestion(self, what: str) -> None:
        self.post_message(self.Answered(what))
