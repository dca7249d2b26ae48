"""`quarry` commands of the Classify pane (being built by its issue)."""

from __future__ import annotations
