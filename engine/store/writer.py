"""The one-writer check: with QUARRY_STRICT_WRITES=1 (the test suite sets it) a statement that writes
outside `store.writing()` raises at once, naming the statement, instead of colliding later with another
thread's transaction ("Conflict on update") or slipping between a commit and its index apply."""

from __future__ import annotations

import os
import re

# COPY ... TO a file only reads the database; COPY table FROM a file writes it.
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE|MERGE|COPY\s+[\w\".]+\s+FROM)\b",
                    re.IGNORECASE)


class WriteOutsideWriter(RuntimeError):
    """A DuckDB write issued outside `store.writing()` (a bug in the store module that issued it)."""


def strict() -> bool:
    """Tells whether writes are checked in this process (QUARRY_STRICT_WRITES=1)."""
    return os.environ.get("QUARRY_STRICT_WRITES") == "1"


class CheckedCursor:
    """A DuckDB cursor that refuses write statements unless this thread is inside `store.writing()`."""

    __slots__ = ("_cursor", "_local")

    def __init__(self, cursor, local) -> None:
        self._cursor = cursor
        self._local = local

    def _check(self, sql) -> None:
        if getattr(self._local, "depth", 0) == 0 and isinstance(sql, str) and WRITES.match(sql):
            first = " ".join(sql.split())[:120]
            raise WriteOutsideWriter(f"a write outside store.writing(): {first}")

    def execute(self, sql, *args, **kwargs):
        self._check(sql)
        return self._cursor.execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        self._check(sql)
        return self._cursor.executemany(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)
