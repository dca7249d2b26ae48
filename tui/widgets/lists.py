"""Lists and tables that also move with j/k and jump with g/G, as terminal users expect."""

from __future__ import annotations

from textual.widgets import DataTable, ListView, SelectionList

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


class KeyedSelectionList(SelectionList):
    """A pick list: j/k/g/G move, and focusing it highlights a row, so space picks at once (with no row
    highlighted, space and j did nothing, and said nothing)."""

    BINDINGS = actions.bindings("list")

    def on_focus(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def action_first(self) -> None:
        if self.option_count:
            self.highlighted = 0

    def action_last(self) -> None:
        if self.option_count:
            self.highlighted = self.option_count - 1
