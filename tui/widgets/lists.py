"""Lists and tables that also move with j/k and jump with g/G, as terminal users expect."""

from __future__ import annotations

from textual.widgets import DataTable, ListView

from tui import actions


class KeyedListView(ListView):
    BINDINGS = actions.bindings("list")

    def action_first(self) -> None:
        if len(self):
            self.index = 0

    def action_last(self) -> None:
        if len(self):
            self.index = len(self) - 1


class KeyedDataTable(DataTable):
    BINDINGS = actions.bindings("list")

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
