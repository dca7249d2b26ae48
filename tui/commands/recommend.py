"""`quarry` commands of the Recommend pane (being built by its issue)."""

from __future__ import annotations
