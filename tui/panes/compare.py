"""The Compare pane (being built: its issue replaces this placeholder)."""

from __future__ import annotations

from tui.panes.planned import PlannedPane


class ComparePane(PlannedPane):
    def __init__(self, **kwargs) -> None:
        super().__init__("compare", **kwargs)
