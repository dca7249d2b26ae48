"""The Recommend pane (being built: its issue replaces this placeholder)."""

from __future__ import annotations

from tui.panes.planned import PlannedPane


class RecommendPane(PlannedPane):
    def __init__(self, **kwargs) -> None:
        super().__init__("recommend", **kwargs)
