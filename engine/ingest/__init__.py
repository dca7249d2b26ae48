"""Ingest: files -> clean text -> chunks -> vectors -> DuckDB (one transaction per file) -> indexes.

A file's content hash makes ingest incremental: unchanged files are skipped, changed ones replaced,
and files gone from an ingested folder removed. Each file commits on its own, so an ingest that is
killed resumes where it stopped; the indexes are checkpointed with the DuckDB generation they match
and rebuilt from DuckDB's stored vectors if a crash left them behind.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.errors import IngestError, QuarryError
from engine.ingest.chunking import CHUNK_TOKENS, OVERLAP_TOKENS, Piece, chunk_blocks
from engine.ingest.loaders import (
    LOADERS,
    SUPPORTED,
    TABLE_SUFFIXES,
    Block,
    Loaded,
    record_text,
    table_relation,
)
from engine.ingest.text import language

CHECKPOINT_SECONDS = 10.0
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "indexes"}


@dataclass
class IngestEvent:
    """Progress of an ingest, yielded after every file (and once at the start and the end)."""

    kind: str  # start | ingested | skipped | failed | removed | done
    path: str = ""
    files_done: int = 0
    files_total: int = 0
    chunks: int = 0  # chunks of this file
    chunks_total: int = 0  # chunks embedded so far in this run
    chunks_per_s: float = 0.0
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    ingested: int = 0
    skipped: int = 0
    failed: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    pages: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        work = (f"{self.chunks_embedded} chunks embedded" if self.chunks_embedded
                else "no encoding work (everything up to date)")
        return (f"{self.ingested} ingested, {self.skipped} unchanged, {self.removed} removed, "
                f"{self.failed} failed; {work} in {self.seconds:.1f} s")


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Gives (supported files under the paths, folders given) in a stable order."""
    files, folders = [], []
    for path in paths:
        path = Path(path).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for found in sorted(path.rglob("*")):
                hidden = any(p in SKIP_DIRS or p.startswith(".") for p in found.relative_to(path).parts)
                if found.is_file() and not hidden and found.suffix.lower() in SUPPORTED:
                    files.append(found)
        elif path.is_file():
            files.append(path)
        else:
            raise QuarryError(f"{path}: no such file or folder")
    return files, folders


def _table_name(path: Path) -> str:
    stem = re.sub(r"\W+", "_", path.stem.lower()).strip("_") or "table"
    return f"t_{stem}"


def load(path: Path, store) -> tuple[Loaded, bool]:
    """Gives a file's blocks and whether they are table records; raises IngestError naming the file."""
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return load_table(path, store), True
    loader = LOADERS.get(suffix)
    if loader is None:
        raise IngestError(f"{path}: unsupported file type '{suffix}'")
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: empty file, nothing to ingest")
    loaded = loader(path)
    return loaded, loaded.doctype == "xlsx"


def load_table(path: Path, store) -> Loaded:
    """Reads a csv/json/parquet file with DuckDB itself; each row becomes one record block."""
    import duckdb

    if path.stat().st_size == 0:
        raise IngestError(f"{path}: empty file, nothing to ingest")
    doctype, sql = table_relation(path)
    warnings = []
    params: list = [str(path)]
    if doctype == "csv":
        delimiter, ragged = csv_shape(path)
        sql = "SELECT * FROM read_csv(?, header = true, sample_size = -1, delim = ?"
        # DuckDB's sniffer falls back to one text column on ragged rows; padding keeps every field.
        sql += ", null_padding = true)" if ragged else ")"
        params.append(delimiter)
        if ragged:
            warnings.append(f"{path}: {ragged} rows have a different number of fields than the header;"
                            " missing fields were left empty")
    try:
        columns, rows = store.read_table_rows(sql, params)
    except duckdb.Error as exc:
        raise IngestError(f"{path}: not a readable {doctype} file ({_first_line(exc)})") from None
    if not rows:
        raise IngestError(f"{path}: the table has no rows")
    blocks = [Block(record_text(columns, row), None, path.stem) for row in rows]
    return Loaded(doctype, blocks, title=path.name, table_sql=sql, table_params=params, warnings=warnings)


def csv_shape(path: Path) -> tuple[str, int]:
    """Gives a CSV's delimiter and how many rows have a field count unlike the header's."""
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        sample = fh.read(65536)
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        ragged = sum(1 for row in reader if row and len(row) != len(header))
    return delimiter, ragged


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def chunking_signature(encoder_id: str) -> str:
    return f"{encoder_id}:{CHUNK_TOKENS}:{OVERLAP_TOKENS}"


def reembed_needed(ws) -> int:
    """Gives how many stored chunks were made with other encoder or chunk settings (0 if none)."""
    stored = ws.store.get_state("chunking")
    if stored is None or stored == chunking_signature(ws.encoder_id):
        return 0
    return ws.store.chunk_count()


def ingest_paths(ws, paths: Iterable[Path], cancel: Callable[[], bool] | None = None,
                 reembed: bool = False, summary: IngestSummary | None = None) -> Iterator[IngestEvent]:
    """Ingests files and folders into the workspace, yielding progress after every file."""
    from engine.search import searchable_text

    summary = summary if summary is not None else IngestSummary()
    started = time.perf_counter()
    store = ws.store
    pending = reembed_needed(ws)
    if pending and not reembed:
        raise QuarryError(f"the encoder or chunk settings changed; {pending} chunks would be re-embedded."
                          " Run again with --reembed to do it")
    if pending:
        with store.transaction():
            for doc in store.documents():
                store.delete_document(doc.id)
            store.bump_generation()
    store.set_state("chunking", chunking_signature(ws.encoder_id))
    files, folders = discover(paths)
    encoder = ws.encoder()
    searcher = ws.searcher()
    if pending:
        with searcher.lock:
            searcher.sync()  # an already open searcher still holds the deleted vectors
    yield IngestEvent("start", files_total=len(files))
    seen = {str(f) for f in files}
    last_checkpoint = time.perf_counter()
    done = 0

    for folder in folders:
        for doc_id, path in store.document_paths_under(str(folder) + "/"):
            if path not in seen:
                with store.transaction():
                    removed = store.delete_document(doc_id)
                    store.bump_generation()
                searcher.remove(removed)
                summary.removed += 1
                yield IngestEvent("removed", path, done, len(files), message="file is gone")
    for path in files:
        if cancel is not None and cancel():
            break
        key = str(path)
        digest = _sha256(path)
        existing = store.document_by_path(key)
        done += 1
        if existing and existing[1] == digest and existing[2] == "ready":
            summary.skipped += 1
            yield _event("skipped", key, done, len(files), 0, summary, started)
            continue
        try:
            loaded, records = load(path, store)
            pieces = chunk_blocks(loaded.blocks, encoder.token_offsets, records=records)
            if not pieces:
                raise IngestError(f"{path}: no text to index")
        except Exception as exc:  # third-party parsers raise anything on a broken file; one file, one line
            if not isinstance(exc, IngestError):
                exc = IngestError(f"{path}: could not be read ({type(exc).__name__}: {_first_line(exc)[:100]})")
            _record_failure(store, key, path, digest, existing, str(exc))
            summary.failed += 1
            summary.errors.append(str(exc))
            yield _event("failed", key, done, len(files), 0, summary, started, str(exc))
            continue
        title = loaded.title or path.name
        texts = [searchable_text(title, p.heading, p.text) for p in pieces]
        vectors = encoder.encode(texts)
        removed, ids = _store_document(store, key, path, digest, existing, loaded, title, pieces, vectors)
        searcher.apply(removed, ids, vectors, texts)
        summary.ingested += 1
        summary.chunks_embedded += len(pieces)
        summary.pages += loaded.pages or 1
        if time.perf_counter() - last_checkpoint > CHECKPOINT_SECONDS:
            searcher.checkpoint()
            last_checkpoint = time.perf_counter()
        event = _event("ingested", key, done, len(files), len(pieces), summary, started)
        event.warnings = loaded.warnings
        yield event
    searcher.checkpoint()
    summary.seconds = time.perf_counter() - started
    yield _event("done", "", done, len(files), 0, summary, started, summary.line())


def _event(kind, path, done, total, chunks, summary, started, message="") -> IngestEvent:
    elapsed = max(time.perf_counter() - started, 1e-9)
    return IngestEvent(kind, path, done, total, chunks, summary.chunks_embedded,
                       summary.chunks_embedded / elapsed, message)


def _record_failure(store, key, path, digest, existing, error) -> None:
    """Keeps a failed file visible in the library; a previous good version stays searchable."""
    if existing and existing[2] == "ready":
        return
    with store.transaction():
        if existing:
            store.delete_document(existing[0])
        store.insert_document(key, path.name, path.suffix.lower().lstrip(".") or "file", digest,
                              path.stat().st_size, None, None, {}, "failed", error, _mtime(path))


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime)


def _store_document(store, key, path, digest, existing, loaded: Loaded, title: str,
                    pieces: list[Piece], vectors) -> tuple[list[int], list[int]]:
    """Replaces a file's document and chunks in one transaction; gives (removed ids, new ids)."""
    langs = [language(p.text) for p in pieces]
    doc_lang = max(set(langs), key=langs.count)
    with store.transaction():
        removed = store.delete_document(existing[0]) if existing else []
        doc_id = store.insert_document(key, title, loaded.doctype, digest, path.stat().st_size,
                                       loaded.pages, doc_lang, {"warnings": loaded.warnings}, "ready",
                                       None, _mtime(path))
        ids = store.insert_chunks(doc_id, (
            (i, p.page, p.heading, p.text, p.tokens, lang, vectors[i].tobytes())
            for i, (p, lang) in enumerate(zip(pieces, langs))))
        if loaded.table_sql:
            store.register_table(_table_name(path), doc_id, key, loaded.table_sql, loaded.table_params)
        store.bump_generation()
    return removed, ids


def remove_document(ws, document_id: int) -> int:
    """Removes a document from DuckDB and both indexes; gives how many chunks went with it."""
    store = ws.store
    with store.transaction():
        removed = store.delete_document(document_id)
        store.bump_generation()
    searcher = ws.searcher()
    searcher.remove(removed)
    searcher.checkpoint()
    return len(removed)
