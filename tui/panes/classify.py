"""The Classify pane (being built: its issue replaces this placeholder)."""

from __future__ import annotations

from tui.panes.planned import PlannedPane


class ClassifyPane(PlannedPane):
    def __init__(self, **kwargs) -> None:
        super().__init__("classify", **kwargs)
