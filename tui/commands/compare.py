"""`quarry` commands of the Compare pane (being built by its issue)."""

from __future__ import annotations
