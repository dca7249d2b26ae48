"""Model comparison runs, answers, blind votes: schema and SQL."""

from __future__ import annotations

import duckdb


def m006_comparisons(db: duckdb.DuckDBPyConnection) -> None:
    """Creates this feature's tables (filled in by the feature's issue)."""


class ComparisonsSQL:
    """Store methods for this feature (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection
