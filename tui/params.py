"""Click parameter types shared by every command: one number type, so every float option refuses NaN and
the infinities (Python's float() takes "nan" and "inf", and NaN passes any range check)."""

from __future__ import annotations

import math

import click


class Number(click.ParamType):
    """A finite float, optionally within [lo, hi]; NaN, ±inf and overflowing values are refused."""

    name = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None) -> None:
        self.lo, self.hi = lo, hi

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give one {self._range() or 'like 0.5'}", param, ctx)
        if (self.lo is not None and number < self.lo) or (self.hi is not None and number > self.hi):
            self.fail(f"{value!r} is not {self._range()}", param, ctx)
        return number

    def _range(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"from {self.lo:g} to {self.hi:g}"
        if self.lo is not None:
            return f"of at least {self.lo:g}"
        if self.hi is not None:
            return f"of at most {self.hi:g}"
        return ""

    def __repr__(self) -> str:
        return f"Number({self.lo}, {self.hi})"


class FileOrTable(click.ParamType):
    """A CSV/Parquet file or a DuckDB table of the workspace. A value that names a file (it has a suffix
    or a slash, or exists) is made a path as click.Path makes it, so a command the workspace's holder runs
    reads it from the client's folder, not the holder's; a bare name stays a table's."""

    name = "file|table"

    def convert(self, value, param, ctx) -> str:
        import os

        text = os.path.expanduser(os.fspath(value))
        path = click.Path(path_type=str).convert(text, param, ctx)  # served: joined to the client's folder
        if os.path.splitext(text)[1] or os.sep in text or os.path.exists(path):
            return path
        return text
