"""Where labelled examples and texts to classify come from: a DuckDB table of the workspace, or a CSV,
Parquet or XLSX file. Gives rows; names the table, file or column when something is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.classify.base import ClassifyError

FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".xlsx")


@dataclass
class Source:
    """A table to read: a relation DuckDB can read (table name or SELECT), or rows already read (XLSX)."""

    name: str
    relation: str | None = None
    params: list = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] | None = None

    def require(self, *names: str | None) -> None:
        """Raises ClassifyError naming a column the table lacks, with the columns it has."""
        for name in names:
            if name and name not in self.columns:
                raise ClassifyError(f"{self.name} has no column '{name}'; its columns: "
                                    f"{', '.join(self.columns[:20])}")


def open_table(ws, table: str) -> Source:
    """Gives a workspace table (as ingested: `t_reviews`; the bare file stem `reviews` works too)."""
    store = ws.store
    for name in (table, f"t_{table}", f"t_{table.replace('-', '_')}"):
        if store.table_exists(name):
            return Source(f"table {name}", name, columns=[c for c, _ in store.table_columns(name)])
    known = store.user_tables()
    hint = f"; tables: {', '.join(known[:12])}" if known else "; ingest a CSV/Parquet/XLSX file first"
    raise ClassifyError(f"no table '{table}' in this workspace{hint}")


def open_file(ws, path: Path, min_columns: int = 2) -> Source:
    """Gives a CSV, Parquet or XLSX file as a table; raises ClassifyError when it is not one. Examples need
    a text and a label column, so fewer than `min_columns` reads as a file split on the wrong delimiter;
    texts to classify or review need only theirs."""
    from engine.errors import IngestError
    from engine.store.documents import TableFile, table_relation

    path = Path(path).expanduser()
    if not path.is_file():
        raise ClassifyError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise ClassifyError(f"{path}: not a table file; give a CSV, Parquet or XLSX file")
    if suffix == ".xlsx":
        return _xlsx(path)
    if suffix == ".parquet":
        table = TableFile(str(path), "parquet")
    else:  # as ingest reads it: its delimiter, and its encoding (engine/documents/ingest.csv_table)
        from engine.documents.ingest import csv_table

        try:
            table, _ = csv_table(path)
        except IngestError as exc:
            raise ClassifyError(str(exc)) from None
    sql, params = table_relation(table)  # SQL stays in engine/store
    try:
        columns = ws.store.table_file_columns(table)
    except IngestError as exc:
        raise ClassifyError(f"{exc}; give a CSV, Parquet or XLSX file with a header row") from None
    if len(columns) < min_columns:
        raise ClassifyError(f"{path}: reads as one column ({columns[0] if columns else 'none'}); give a table with"
                            " a header row and a text and a label column")
    return Source(str(path), sql, params, columns)


def _xlsx(path: Path) -> Source:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ClassifyError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ClassifyError(f"{path}: the first sheet is empty")
    columns = [str(h) if h is not None else f"column{i + 1}" for i, h in enumerate(header)]
    data = [tuple(r) for r in rows if r and any(v is not None for v in r)]
    book.close()
    return Source(str(path), columns=columns, rows=data)


def open_source(ws, table: str | None = None, file: Path | None = None, min_columns: int = 2) -> Source:
    if bool(table) == bool(file):
        raise ClassifyError("give either a table (--table T) or a file (--file F)")
    return open_table(ws, table) if table else open_file(ws, file, min_columns)


def read(ws, source: Source, columns: list[str]) -> list[tuple]:
    """Gives the chosen columns of every row of the source, in order."""
    source.require(*columns)
    if source.rows is not None:
        index = [source.columns.index(c) for c in columns]
        return [tuple(row[i] if i < len(row) else None for i in index) for row in source.rows]
    return ws.store.read_relation(source.relation, columns, source.params)
