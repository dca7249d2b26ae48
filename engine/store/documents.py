"""Documents, their chunks and the tables read from table files: schema and SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from engine.errors import IngestError, first_line
from engine.store.sql import quote_ident


@dataclass
class Document:
    """One ingested file (or one table file) as the library shows it."""

    id: int
    path: str
    title: str
    doctype: str
    sha256: str
    pages: int | None
    chunks: int
    status: str
    error: str | None
    ingested_at: datetime | None
    lang: str | None = None


@dataclass
class ChunkRow:
    """One chunk of a document, as stored."""

    id: int
    document_id: int
    ord: int
    page: int | None
    heading: str | None
    text: str
    tokens: int | None
    lang: str | None
    path: str = ""
    doctype: str = ""
    title: str = ""
    ocr: bool = False  # the chunk's page was read by OCR (the document's meta lists the pages)


@dataclass
class TableFile:
    """A csv, json or parquet file that DuckDB reads as a table."""

    path: str
    doctype: str  # csv | json | parquet
    delimiter: str | None = None  # csv only
    null_padding: bool = False  # csv only: pad rows with fewer fields than the header


def table_relation(table: TableFile) -> tuple[str, list]:
    """Gives the DuckDB SQL (and its parameters) that reads a table file, for store methods that take a
    relation (code outside engine/store passes it through without writing SQL of its own)."""
    if table.doctype == "csv":
        sql = "SELECT * FROM read_csv(?, header = true, sample_size = -1"
        params: list = [table.path]
        if table.delimiter:
            sql += ", delim = ?"
            params.append(table.delimiter)
        return sql + (", null_padding = true)" if table.null_padding else ")"), params
    if table.doctype == "json":
        return "SELECT * FROM read_json_auto(?)", [table.path]
    if table.doctype == "parquet":
        return "SELECT * FROM read_parquet(?)", [table.path]
    raise ValueError(f"not a table file type: {table.doctype}")


class DocumentsSQL:
    """Store methods for documents, chunks and data tables (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    # -- documents ----------------------------------------------------------------------------
    def document_by_path(self, path: str) -> tuple[int, str, str] | None:
        """Gives (id, sha256, status) of the document stored for a path."""
        return self.db.execute("SELECT id, sha256, status FROM documents WHERE path = ?",
                               [path]).fetchone()

    def documents(self) -> list[Document]:
        rows = self.db.execute("""
            SELECT d.id, d.path, d.title, d.doctype, d.sha256, d.pages, count(c.id), d.status, d.error,
                   d.ingested_at, d.lang
            FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
            GROUP BY ALL ORDER BY d.path""").fetchall()
        return [Document(*row) for row in rows]

    def searchable_documents(self, glob: str | None = None) -> list[tuple[int, str]]:
        """Gives (id, path) of the documents that have text to search, by path; with `glob`, only those
        whose path or title matches it (as a search's path filter does)."""
        where, params = "", []
        if glob:
            where, params = " AND (d.path GLOB ? OR d.title GLOB ?)", [glob, glob]
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT d.id, d.path FROM documents d WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)"
            + where + " ORDER BY d.path", params).fetchall()]

    def document_paths_under(self, prefix: str) -> list[tuple[int, str]]:
        return self.db.execute("SELECT id, path FROM documents WHERE starts_with(path, ?)",
                               [prefix]).fetchall()

    def chunk_ids_of(self, document_id: int) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM chunks WHERE document_id = ? ORDER BY id", [document_id]).fetchall()]

    def delete_document(self, document_id: int) -> list[int]:
        """Deletes a document, its chunks and its tables; gives the removed chunk ids."""
        ids = self.chunk_ids_of(document_id)
        self.db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
        for (name,) in self.db.execute("SELECT name FROM data_tables WHERE document_id = ?",
                                       [document_id]).fetchall():
            self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
        self.db.execute("DELETE FROM data_tables WHERE document_id = ?", [document_id])
        self.db.execute("DELETE FROM documents WHERE id = ?", [document_id])
        return ids

    def insert_document(self, path: str, title: str, doctype: str, sha256: str, size: int,
                        pages: int | None, lang: str | None, meta: dict, status: str,
                        error: str | None, modified_at: datetime | None) -> int:
        return self.db.execute("""
            INSERT INTO documents (path, title, doctype, sha256, size_bytes, pages, lang, meta, status,
                                   error, modified_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [path, title, doctype, sha256, size, pages, lang, json.dumps(meta), status, error,
             modified_at]).fetchone()[0]

    def document_states(self) -> dict[str, tuple[int, str, str]]:
        """Gives path -> (id, sha256, status) of every document, in one query (ingest's skip check)."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT path, id, sha256, status FROM documents").fetchall()}

    def documents_at(self, paths: list[str]) -> dict[str, tuple[int, str]]:
        """Gives path -> (id, status) of the documents stored for these paths."""
        if not paths:
            return {}
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT path, id, status FROM documents WHERE path IN (SELECT unnest(?::VARCHAR[]))",
            [list(paths)]).fetchall()}

    def insert_documents(self, rows: list[tuple]) -> list[int]:
        """Inserts (path, title, doctype, sha256, size, pages, lang, meta, status, error, modified_at)
        rows in one statement; gives their ids, numbered in the rows' order."""
        if not rows:
            return []
        ids = [r[0] for r in self.db.execute(
            f"SELECT nextval('document_ids') FROM range({len(rows)})").fetchall()]
        columns = [list(c) for c in zip(*rows)]
        columns[7] = [json.dumps(m) for m in columns[7]]
        self.db.execute(
            "INSERT INTO documents (id, path, title, doctype, sha256, size_bytes, pages, lang, meta, status,"
            " error, modified_at) SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),"
            " unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::INTEGER[]),"
            " unnest(?::VARCHAR[]), unnest(?::JSON[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),"
            " unnest(?::TIMESTAMP[])", [ids, *columns])
        return ids

    def insert_chunk_rows(self, rows: list[tuple]) -> list[int]:
        """Inserts (document_id, ord, page, heading, text, tokens, lang, vector bytes) rows of many
        documents in one statement; gives their ids in the rows' order."""
        if not rows:
            return []
        ids = [r[0] for r in self.db.execute(
            f"SELECT nextval('chunk_ids') FROM range({len(rows)})").fetchall()]
        columns = [list(c) for c in zip(*rows)]
        self.db.execute(
            "INSERT INTO chunks (id, document_id, ord, page, heading, text, tokens, lang, vector)"
            " SELECT unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::INTEGER[]), unnest(?::INTEGER[]),"
            " unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]),"
            " unnest(?::BLOB[])", [ids, *columns])
        return ids

    def insert_chunks(self, document_id: int, chunks: Iterable[tuple]) -> list[int]:
        """Inserts (ord, page, heading, text, tokens, lang, vector bytes) rows; gives their ids."""
        rows = list(chunks)
        if not rows:
            return []
        first = self.db.execute(f"SELECT nextval('chunk_ids') FROM range({len(rows)})").fetchall()
        ids = [r[0] for r in first]
        # One statement over column lists: executemany runs a statement per row (~8 ms each here).
        columns = [list(c) for c in zip(*rows)]
        self.db.execute(
            "INSERT INTO chunks (id, document_id, ord, page, heading, text, tokens, lang, vector)"
            " SELECT unnest(?::BIGINT[]), ?, unnest(?::INTEGER[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]),"
            " unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::BLOB[])",
            [ids, document_id, *columns])
        return ids

    def iter_vectors(self, batch: int = 8192) -> Iterator[list[tuple[int, bytes]]]:
        """Yields (chunk id, float32 vector bytes) in id order, a batch at a time."""
        last = 0
        while True:
            rows = self.db.execute("SELECT id, vector FROM chunks WHERE id > ? AND vector IS NOT NULL"
                                   " ORDER BY id LIMIT ?", [last, batch]).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def vectors_by_ids(self, ids: list[int]) -> dict[int, bytes]:
        if not ids:
            return {}
        rows = self.db.execute("SELECT id, vector FROM chunks WHERE id IN (SELECT unnest(?::BIGINT[]))",
                               [list(ids)]).fetchall()
        return dict(rows)

    def register_table(self, name: str, document_id: int, table: TableFile) -> int:
        """Keeps a table file as a DuckDB table of its own; gives its row count."""
        sql, params = table_relation(table)
        self.db.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}', params)
        rows = self.db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        self.db.execute("INSERT OR REPLACE INTO data_tables VALUES (?, ?, ?, ?)",
                        [name, document_id, table.path, rows])
        return rows

    def table_source(self, name: str) -> str | None:
        """Gives the path of the file a kept data table was read from (None when the name is free)."""
        row = self.db.execute("SELECT source_path FROM data_tables WHERE name = ?", [name]).fetchone()
        return row[0] if row else None

    def read_table_file(self, table: TableFile) -> tuple[list[str], list[tuple]]:
        """Gives (column names, rows) of a csv/json/parquet file read by DuckDB itself."""
        sql, params = table_relation(table)
        try:
            rel = self.db.execute(sql, params)
            columns = [d[0] for d in rel.description]
            return columns, rel.fetchall()
        except duckdb.Error as exc:
            cause = first_line(exc, 160)
            raise IngestError(f"{table.path}: not a readable {table.doctype} file ({cause})") from None

    def table_file_columns(self, table: TableFile) -> list[str]:
        """Gives the column names of a csv/json/parquet file without reading its rows."""
        sql, params = table_relation(table)
        try:
            return [d[0] for d in self.db.execute(f"SELECT * FROM ({sql}) LIMIT 0", params).description]
        except duckdb.Error as exc:
            cause = first_line(exc, 120)
            raise IngestError(f"{table.path}: not a readable table ({cause})") from None

    def table_rows(self, name: str, **equals) -> int:
        """Gives how many rows of a kept data table have the given column values (all rows without)."""
        where = " AND ".join(f"{quote_ident(column)} = ?" for column in equals) or "TRUE"
        return self.db.execute(f"SELECT count(*) FROM {quote_ident(name)} WHERE {where}",
                               list(equals.values())).fetchone()[0]

    def table_names(self) -> list[str]:
        """Gives the names of every table in the workspace database (Quarry's own and data tables)."""
        return [r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]

    def bulk_load(self, documents, chunks) -> None:
        """Appends Arrow tables of documents (id, path, title, doctype, sha256, status) and chunks (id,
        document_id, ord, text, tokens, lang, vector) in one transaction, bumping the generation
        (benches build synthetic libraries with it; ids must not collide with existing rows)."""
        with self.writing():
            for name, table, columns in (("documents", documents, "id, path, title, doctype, sha256, status"),
                                         ("chunks", chunks, "id, document_id, ord, text, tokens, lang, vector")):
                if table is None:
                    continue
                self.db.register("_bulk", table)
                try:
                    self.db.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM _bulk")
                finally:
                    self.db.unregister("_bulk")
            self.bump_generation()

    def set_ingested_at(self, when: datetime) -> None:
        """Sets every document's ingest time (fixed pictures in snapshot tests)."""
        with self.writing():
            self.db.execute("UPDATE documents SET ingested_at = ?", [when])

    # -- chunks -------------------------------------------------------------------------------
    def all_chunk_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id").fetchall()]

    def chunk_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def iter_chunks(self, batch: int = 2048) -> Iterator[list[ChunkRow]]:
        """Yields every chunk with its document's path and type, in id order, a batch at a time."""
        last = 0
        while True:
            rows = self._chunk_query("c.id > ? ORDER BY c.id LIMIT ?", [last, batch])
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def chunks_by_ids(self, ids: list[int]) -> dict[int, ChunkRow]:
        if not ids:
            return {}
        rows = self._chunk_query("c.id IN (SELECT unnest(?::BIGINT[]))", [list(ids)])
        return {r.id: r for r in rows}

    def _chunk_query(self, where: str, params: list) -> list[ChunkRow]:
        rows = self.db.execute(f"""
            SELECT c.id, c.document_id, c.ord, c.page, c.heading, c.text, c.tokens, c.lang,
                   d.path, d.doctype, d.title,
                   coalesce(list_contains(CAST(json_extract(d.meta, '$.ocr.pages') AS INTEGER[]), c.page), false)
            FROM chunks c JOIN documents d ON d.id = c.document_id WHERE {where}""", params).fetchall()
        return [ChunkRow(*r) for r in rows]

    def filter_chunk_ids(self, ids: list[int] | None, doctype: str | None, path_glob: str | None,
                         since: datetime | None, paths: Sequence[str] = (), doc_ids: Sequence[int] = ()) -> set[int]:
        """Gives the chunk ids (among `ids`, or all) whose document matches the filters; with `paths` or
        `doc_ids`, only documents matching one of those globs or being one of those ids (a scope)."""
        clauses, params = ["TRUE"], []
        if ids is not None:
            clauses.append("c.id IN (SELECT unnest(?::BIGINT[]))")
            params.append(list(ids))
        if doctype:
            clauses.append("d.doctype = ?")
            params.append(doctype)
        if path_glob:
            clauses.append("(d.path GLOB ? OR d.title GLOB ?)")
            params += [path_glob, path_glob]
        if since:
            clauses.append("coalesce(d.modified_at, d.ingested_at) >= ?")
            params.append(since)
        if paths or doc_ids:
            either = ["(d.path GLOB ? OR d.title GLOB ?)" for _ in paths]
            params += [p for glob in paths for p in (glob, glob)]
            if doc_ids:
                either.append("d.id IN (SELECT unnest(?::BIGINT[]))")
                params.append(list(doc_ids))
            clauses.append("(" + " OR ".join(either) + ")")
        rows = self.db.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE "
            + " AND ".join(clauses), params).fetchall()
        return {r[0] for r in rows}


class TableReader:
    """Reads table files with a private in-memory DuckDB: what a parse worker process, which holds no
    workspace, hands to the loaders in place of the store."""

    def __init__(self) -> None:
        self.db = duckdb.connect()

    read_table_file = DocumentsSQL.read_table_file


def parquet_in_order(pattern: str, column: str, batch: int = 512) -> Iterator[list[dict]]:
    """Yields the rows of Parquet files (a glob) sorted by a column, a batch of rows at a time. A private
    DuckDB reads them: it sorts beyond memory and leaves the workspace's connection free for commits."""
    db = duckdb.connect()
    try:
        reader = db.read_parquet(pattern).order(quote_ident(column)).to_arrow_reader(batch)
        for record_batch in reader:
            yield record_batch.to_pylist()
    finally:
        db.close()
