"""Small SQL helpers every store module shares."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """Gives a DuckDB identifier quoted safely (a table or column name from a user's file)."""
    return '"' + name.replace('"', '""') + '"'
