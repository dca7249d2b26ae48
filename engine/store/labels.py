"""Label sets, their labels and examples, trained heads, classification runs and batch outputs: schema and SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from engine.errors import ClassifyError, first_line
from engine.store.sql import quote_ident


def m004_labels(db: duckdb.DuckDBPyConnection) -> None:
    """Creates label sets, labels, examples, trained-head records and runs."""
    db.execute("""
        CREATE SEQUENCE label_set_ids START 1;
        CREATE SEQUENCE label_example_ids START 1;
        CREATE SEQUENCE classify_run_ids START 1;
        CREATE TABLE label_sets (
            id BIGINT PRIMARY KEY DEFAULT nextval('label_set_ids'),
            name VARCHAR NOT NULL UNIQUE,
            kind VARCHAR NOT NULL DEFAULT 'text',   -- text | tabular
            features JSON,                          -- tabular: the feature column names
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE labels (
            set_id BIGINT NOT NULL,
            name VARCHAR NOT NULL,
            description VARCHAR,
            ord INTEGER NOT NULL,
            PRIMARY KEY (set_id, name)
        );
        CREATE TABLE label_examples (
            id BIGINT PRIMARY KEY DEFAULT nextval('label_example_ids'),
            set_id BIGINT NOT NULL,
            text VARCHAR,
            features JSON,
            label VARCHAR NOT NULL,
            source VARCHAR
        );
        CREATE INDEX label_examples_set ON label_examples(set_id);
        CREATE TABLE classify_heads (
            set_id BIGINT NOT NULL,
            method VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            detail JSON,
            trained_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (set_id, method)
        );
        CREATE TABLE classify_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('classify_run_ids'),
            kind VARCHAR NOT NULL,                  -- eval | batch
            label_set VARCHAR,
            source VARCHAR,
            methods VARCHAR,
            summary JSON,
            created_at TIMESTAMP DEFAULT current_timestamp
        );
    """)


@dataclass
class HeadRecord:
    """A method trained on a label set and saved: its name, detail (auto's choice) and when."""

    method: str
    detail: dict
    trained_at: datetime


@dataclass
class LabelSet:
    id: int
    name: str
    kind: str
    features: list[str]
    labels: list[str]
    descriptions: dict[str, str]
    examples: int
    counts: dict[str, int]


@dataclass
class RunRow:
    id: int
    kind: str
    label_set: str | None
    source: str | None
    methods: str
    summary: dict
    created_at: datetime


BATCH_COLUMNS = ["row_id", "text", "label", "confidence", "runner_up", "method", "attempt"]


class LabelsSQL:
    """Store methods for label sets, examples, heads, runs and batch outputs (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    # -- label sets ---------------------------------------------------------------------------
    def label_set_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM label_sets ORDER BY name").fetchall()]

    def label_set(self, name: str) -> LabelSet | None:
        row = self.db.execute("SELECT id, name, kind, features FROM label_sets WHERE name = ?", [name]).fetchone()
        if row is None:
            return None
        labels = self.db.execute("SELECT name, description FROM labels WHERE set_id = ? ORDER BY ord",
                                 [row[0]]).fetchall()
        counts = dict(self.db.execute("SELECT label, count(*) FROM label_examples WHERE set_id = ? GROUP BY label",
                                      [row[0]]).fetchall())
        return LabelSet(row[0], row[1], row[2], json.loads(row[3]) if row[3] else [],
                        [r[0] for r in labels], {r[0]: r[1] or "" for r in labels},
                        sum(counts.values()), {name: counts.get(name, 0) for name, _ in labels})

    def create_label_set(self, name: str, labels: list[tuple[str, str]], kind: str = "text",
                         features: list[str] | None = None) -> int:
        with self.writing():
            set_id = self.db.execute("INSERT INTO label_sets (name, kind, features) VALUES (?, ?, ?) RETURNING id",
                                     [name, kind, json.dumps(features or [])]).fetchone()[0]
            self._add_labels(set_id, labels)
        return set_id

    def _add_labels(self, set_id: int, labels: list[tuple[str, str]]) -> None:
        start = self.db.execute("SELECT coalesce(max(ord) + 1, 0) FROM labels WHERE set_id = ?", [set_id]).fetchone()[0]
        known = {r[0] for r in self.db.execute("SELECT name FROM labels WHERE set_id = ?", [set_id]).fetchall()}
        fresh = [(n, d) for n, d in labels if n not in known]
        self._bulk_insert("labels", ["set_id", "name", "description", "ord"], ["int64", "string", "string", "int32"],
                          [(set_id, n, d or None, start + i) for i, (n, d) in enumerate(fresh)])

    def add_labels(self, set_id: int, labels: list[tuple[str, str]]) -> None:
        with self.writing():
            self._add_labels(set_id, labels)

    def describe_label(self, set_id: int, label: str, description: str) -> None:
        with self.writing():
            self.db.execute("UPDATE labels SET description = ? WHERE set_id = ? AND name = ?",
                            [description, set_id, label])

    def delete_label_set(self, set_id: int) -> list[str]:
        """Deletes a set with its labels, examples and head records; gives the head files to remove."""
        with self.writing():
            paths = [r[0] for r in self.db.execute("SELECT path FROM classify_heads WHERE set_id = ?",
                                                   [set_id]).fetchall()]
            for table in ("classify_heads", "label_examples", "labels"):
                self.db.execute(f"DELETE FROM {table} WHERE set_id = ?", [set_id])
            self.db.execute("DELETE FROM label_sets WHERE id = ?", [set_id])
        return paths

    # -- examples -----------------------------------------------------------------------------
    def add_examples(self, set_id: int, rows: list[tuple[str | None, dict | None, str]], source: str) -> int:
        """Adds (text, features, label) examples in one transaction; gives how many."""
        with self.writing():
            self._bulk_insert("label_examples", ["set_id", "text", "features", "label", "source"],
                              ["int64", "string", "string", "string", "string"],
                              [(set_id, t, json.dumps(f) if f is not None else None, lab, source)
                               for t, f, lab in rows])
        return len(rows)

    def examples(self, set_id: int) -> list[tuple[str | None, dict | None, str]]:
        rows = self.db.execute("SELECT text, features, label FROM label_examples WHERE set_id = ? ORDER BY id",
                               [set_id]).fetchall()
        return [(t, json.loads(f) if f else None, lab) for t, f, lab in rows]

    # -- trained heads ------------------------------------------------------------------------
    def head(self, set_id: int, method: str) -> tuple[str, str, dict] | None:
        row = self.db.execute("SELECT fingerprint, path, detail FROM classify_heads WHERE set_id = ? AND method = ?",
                              [set_id, method]).fetchone()
        return (row[0], row[1], json.loads(row[2]) if row[2] else {}) if row else None

    def save_head(self, set_id: int, method: str, fingerprint: str, path: str, detail: dict) -> None:
        with self.writing():
            self.db.execute("INSERT OR REPLACE INTO classify_heads (set_id, method, fingerprint, path, detail)"
                            " VALUES (?, ?, ?, ?, ?)", [set_id, method, fingerprint, path, json.dumps(detail)])

    def heads(self, set_id: int) -> list[HeadRecord]:
        """Gives the label set's saved heads, by method name."""
        rows = self.db.execute("SELECT method, detail, trained_at FROM classify_heads WHERE set_id = ? ORDER BY method",
                               [set_id]).fetchall()
        return [HeadRecord(m, json.loads(d) if d else {}, t) for m, d, t in rows]

    # -- runs ---------------------------------------------------------------------------------
    def add_classify_run(self, kind: str, label_set: str | None, source: str | None, methods: str,
                         summary: dict) -> int:
        with self.writing():
            return self.db.execute("INSERT INTO classify_runs (kind, label_set, source, methods, summary)"
                                   " VALUES (?, ?, ?, ?, ?) RETURNING id",
                                   [kind, label_set, source, methods, json.dumps(summary, default=str)]).fetchone()[0]

    def classify_runs(self, limit: int = 50) -> list[RunRow]:
        rows = self.db.execute("SELECT id, kind, label_set, source, methods, summary, created_at FROM classify_runs"
                               " ORDER BY id DESC LIMIT ?", [limit]).fetchall()
        return [RunRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else {}, r[6]) for r in rows]

    # -- tables the user classifies -----------------------------------------------------------
    def table_exists(self, name: str) -> bool:
        return self.db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                               [name]).fetchone()[0] > 0

    def table_named(self, name: str) -> str | None:
        """Gives the table DuckDB resolves the name to (identifiers ignore case, quoted or not), or None."""
        row = self.db.execute("SELECT table_name FROM information_schema.tables WHERE lower(table_name) = lower(?)"
                              " ORDER BY table_name LIMIT 1", [name]).fetchone()
        return row[0] if row else None

    def is_batch_output(self, name: str) -> bool:
        """Tells whether a table is a classify batch's output: shaped like one, not an ingested table, and
        named as the output of a recorded classify job or run. Only such a table may be replaced."""
        if self.db.execute("SELECT count(*) FROM data_tables WHERE lower(name) = lower(?)", [name]).fetchone()[0]:
            return False
        if [c for c, _ in self.table_columns(name)] != BATCH_COLUMNS:
            return False
        return self.db.execute(
            "SELECT (SELECT count(*) FROM jobs WHERE kind = 'classify_batch'"
            "        AND lower(json_extract_string(params, '$.output')) = lower(?))"
            " + (SELECT count(*) FROM classify_runs WHERE kind = 'batch'"
            "        AND lower(json_extract_string(summary, '$.output')) = lower(?))",
            [name, name]).fetchone()[0] > 0

    def table_columns(self, relation_sql: str, params: list | None = None) -> list[tuple[str, str]]:
        """Gives (name, type) of the columns of a table name or a SELECT."""
        sql = relation_sql if relation_sql.lstrip().upper().startswith("SELECT") else \
            f"SELECT * FROM {quote_ident(relation_sql)}"
        rel = self.db.execute(f"SELECT * FROM ({sql}) LIMIT 0", params or [])
        return [(d[0], str(d[1])) for d in rel.description]

    def user_tables(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM data_tables ORDER BY name").fetchall()]

    def read_relation(self, relation_sql: str, columns: list[str], params: list | None = None) -> list[tuple]:
        """Gives the chosen columns of a table name or a SELECT, every row, in its order."""
        sql = relation_sql if relation_sql.lstrip().upper().startswith("SELECT") else \
            f"SELECT * FROM {quote_ident(relation_sql)}"
        cols = ", ".join(quote_ident(c) for c in columns)
        return self.db.execute(f"SELECT {cols} FROM ({sql})", params or []).fetchall()

    # -- batch outputs ------------------------------------------------------------------------
    def stage_batch_source(self, staging: str, relation_sql: str, column: str, params: list | None = None) -> int:
        """Copies the column to classify into a staging table with a stable row number; gives its rows.

        Kept until the batch finishes, so a resumed batch reads exactly the rows the first run did."""
        sql = relation_sql if relation_sql.lstrip().upper().startswith("SELECT") else \
            f"SELECT * FROM {quote_ident(relation_sql)}"
        with self.writing():
            if not self.table_exists(staging):
                self.db.execute(f"CREATE TABLE {quote_ident(staging)} AS SELECT row_number() OVER () AS row_id,"
                                f" {quote_ident(column)} AS value FROM ({sql})", params or [])
            return self.db.execute(f"SELECT count(*) FROM {quote_ident(staging)}").fetchone()[0]

    def stage_values(self, staging: str, values: list) -> int:
        """Stages values read outside DuckDB (XLSX cells, tabular records as JSON) with row ids 1..n."""
        with self.writing():
            if not self.table_exists(staging):
                self.db.execute(f"CREATE TABLE {quote_ident(staging)} (row_id BIGINT, value VARCHAR)")
                self._bulk_insert(staging, ["row_id", "value"], ["int64", "string"],
                                  [(i + 1, v) for i, v in enumerate(values)])
            return self.table_row_count(staging)

    def table_row_count(self, name: str) -> int:
        return self.db.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()[0]

    def staged_text_rows(self, staging: str) -> int:
        """Gives how many staged values hold text: not NULL, not blank, not a number."""
        return self.db.execute(f"SELECT count(*) FROM {quote_ident(staging)} WHERE value IS NOT NULL AND"
                               " trim(value::VARCHAR) <> '' AND TRY_CAST(value::VARCHAR AS DOUBLE) IS NULL"
                               ).fetchone()[0]

    def batch_attempts(self, output: str) -> int:
        return self.db.execute(f"SELECT coalesce(max(attempt), 0) FROM {quote_ident(output)}").fetchone()[0]

    def batch_skipped(self, output: str) -> int:
        return self.db.execute(f"SELECT count(*) FROM {quote_ident(output)} WHERE label IS NULL").fetchone()[0]

    def create_batch_output(self, output: str) -> None:
        with self.writing():
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {quote_ident(output)} (row_id BIGINT PRIMARY KEY,"
                            " text VARCHAR, label VARCHAR, confidence DOUBLE, runner_up VARCHAR, method VARCHAR,"
                            " attempt INTEGER)")

    def batch_done(self, output: str) -> tuple[int, int]:
        """Gives (rows already committed, the last committed row id)."""
        return self.db.execute(f"SELECT count(*), coalesce(max(row_id), 0) FROM {quote_ident(output)}").fetchone()

    def batch_rows(self, staging: str, after: int, limit: int) -> list[tuple[int, object]]:
        return self.db.execute(f"SELECT row_id, value FROM {quote_ident(staging)} WHERE row_id > ? ORDER BY row_id"
                               " LIMIT ?", [after, limit]).fetchall()

    def staged_blocks(self, staging: str, after: int, rows: int) -> list:
        """Gives the staged rows after `after` in row order as Arrow tables of `rows` rows (blocks to hand
        to Ray Data), the values with their column's own type as batch_rows gives them."""
        reader = self.db.sql(f"SELECT row_id, value FROM {quote_ident(staging)} WHERE row_id > ?"
                             " ORDER BY row_id", params=[after]).to_arrow_reader(rows)
        import pyarrow as pa

        return [pa.Table.from_batches([b]) for b in reader if b.num_rows]

    def commit_batch(self, output: str, rows: list[tuple]) -> None:
        """Commits (row_id, text, label, confidence, runner_up, method, attempt) rows in one transaction."""
        with self.writing():
            self._bulk_insert(output, BATCH_COLUMNS,
                              ["int64", "string", "string", "float64", "string", "string", "int32"], rows)

    def _bulk_insert(self, table: str, names: list[str], types: list[str], rows: list[tuple]) -> None:
        """Inserts rows into the named columns in one statement, inside the caller's transaction."""
        # Through Arrow: DuckDB's executemany runs a statement per row (measured on the busy 2-core box:
        # 49 s for 512 rows, a multi-row VALUES insert 8.7 s, this 0.02 s).
        import pyarrow as pa

        if not rows:
            return
        columns = list(zip(*rows))
        data = pa.table({n: pa.array(list(c), getattr(pa, t)()) for n, c, t in zip(names, columns, types)})
        view = f"_bulk_{table}"
        cols = ", ".join(quote_ident(n) for n in names)
        self.db.register(view, data)
        try:
            self.db.execute(f"INSERT INTO {quote_ident(table)} ({cols}) SELECT {cols} FROM {quote_ident(view)}")
        finally:
            self.db.unregister(view)

    def drop_table(self, name: str) -> None:
        with self.writing():
            self.db.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")

    def export_batch(self, output: str, path: str, fmt: str) -> None:
        """Writes the predictions with the classified text to a CSV or Parquet file."""
        quoted = path.replace("'", "''")
        try:
            self.db.execute(f"COPY (SELECT row_id, text, label, confidence, runner_up, method FROM "
                            f"{quote_ident(output)} ORDER BY row_id) TO '{quoted}' (FORMAT {fmt})")
        except duckdb.Error as exc:  # the folder went away or filled up after the batch's checks
            raise ClassifyError(f"{path}: could not write the export ({first_line(exc)}); the labels are in table"
                                f" {output}; free space or export to another folder") from None

    def batch_counts(self, output: str) -> dict[str, int]:
        return dict(self.db.execute(f"SELECT label, count(*) FROM {quote_ident(output)} GROUP BY label"
                                    " ORDER BY 2 DESC").fetchall())

    def batch_attempt_counts(self, output: str) -> dict[int, int]:
        return dict(self.db.execute(f"SELECT attempt, count(*) FROM {quote_ident(output)} GROUP BY attempt").fetchall())

    def batch_duplicates(self, output: str) -> int:
        return self.db.execute(f"SELECT count(*) - count(DISTINCT row_id) FROM {quote_ident(output)}").fetchone()[0]
