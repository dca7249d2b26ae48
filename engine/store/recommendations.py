"""Catalog items, interactions and recommendation runs: schema and SQL."""

from __future__ import annotations

import duckdb


def m005_recommendations(db: duckdb.DuckDBPyConnection) -> None:
    """Creates this feature's tables (filled in by the feature's issue)."""


class RecommendationsSQL:
    """Store methods for this feature (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection
