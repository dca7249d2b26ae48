"""One Arrow row per file between the Ray stages and in the Parquet shards: the file's fields, its chunks
as list columns and, once encoded, its vectors (float32 bytes, row-major)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine.documents.ingest.chunking import Piece
from engine.documents.ingest.prepare import Prepared
from engine.store.documents import TableFile

TASK = pa.schema([("order", pa.int64()), ("path", pa.string()), ("key", pa.string()), ("digest", pa.string())])

FILE = pa.schema([
    ("order", pa.int64()), ("path", pa.string()), ("key", pa.string()), ("status", pa.string()),
    ("digest", pa.string()), ("message", pa.string()), ("title", pa.string()), ("doctype", pa.string()),
    ("pages", pa.int64()), ("size", pa.int64()), ("modified", pa.timestamp("us")), ("table", pa.string()),
    ("warnings", pa.list_(pa.string())), ("chunks", pa.list_(pa.string())), ("pages_of", pa.list_(pa.int64())),
    ("headings", pa.list_(pa.string())), ("tokens", pa.list_(pa.int64())), ("texts", pa.list_(pa.string())),
    ("langs", pa.list_(pa.string())), ("terms", pa.list_(pa.string())), ("vectors", pa.binary()),
    ("ocr", pa.string()),  # what OCR read of a scan, as JSON
])


def tasks_table(tasks: list[tuple[Path, str, str | None]]) -> pa.Table:
    return pa.Table.from_pylist([{"order": i, "path": str(t[0]), "key": t[1], "digest": t[2]}
                                 for i, t in enumerate(tasks)], schema=TASK)


def to_row(order: int, p: Prepared, vectors: np.ndarray | None = None) -> dict:
    return {
        "order": order, "path": str(p.path), "key": p.key, "status": p.status, "digest": p.digest,
        "message": p.message, "title": p.title, "doctype": p.doctype, "pages": p.pages, "size": p.size,
        "modified": p.modified, "table": json.dumps(p.table.__dict__) if p.table is not None else None,
        "warnings": p.warnings, "chunks": [x.text for x in p.pieces], "pages_of": [x.page for x in p.pieces],
        "headings": [x.heading for x in p.pieces], "tokens": [x.tokens for x in p.pieces], "texts": p.texts,
        "langs": p.langs, "terms": p.terms,
        "vectors": vectors.astype(np.float32).tobytes() if vectors is not None else None,
        "ocr": json.dumps(p.ocr) if p.ocr else None,
    }


def files_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=FILE)


def from_row(row: dict, dimension: int) -> tuple[Prepared, np.ndarray | None]:
    """Gives the Prepared file and its vectors (None when not encoded) back from a row."""
    pieces = [Piece(t, pg, h, n) for t, pg, h, n in zip(row["chunks"], row["pages_of"], row["headings"],
                                                      row["tokens"])]
    table = TableFile(**json.loads(row["table"])) if row["table"] else None
    modified = row["modified"]
    p = Prepared(Path(row["path"]), row["key"], row["status"], row["digest"] or "", row["message"] or "",
                 row["title"] or "", row["doctype"] or "", row["pages"], row["size"], modified, table,
                 list(row["warnings"] or []), pieces, list(row["texts"] or []), list(row["langs"] or []),
                 list(row["terms"] or []), json.loads(row["ocr"]) if row.get("ocr") else None)
    vectors = row["vectors"]
    if vectors is None:
        return p, None
    return p, np.frombuffer(vectors, dtype=np.float32).reshape(len(pieces), dimension)
