"""Preparing one file for the encoder: hash, skip check, parse, chunk, searchable texts, languages and
the jieba words of the keyword index. It runs in parse worker processes (or inline for small runs) and
touches no workspace state: the workspace's writer commits what it gives back."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.documents.ingest import ocr
from engine.documents.ingest.chunking import Piece, chunk_blocks
from engine.documents.ingest.loaders import Limits
from engine.documents.ingest.text import has_cjk, language
from engine.documents.ingest.walk import safe_text
from engine.errors import IngestError, first_line

Offsets = Callable[[list[str]], list[list[tuple[int, int]]]]


@dataclass
class Prepared:
    """One file ready to encode (status parsed), unchanged (skipped) or refused (failed, with message)."""

    path: Path
    key: str  # the path as stored and shown
    status: str  # parsed | skipped | failed
    digest: str = ""
    message: str = ""
    title: str = ""
    doctype: str = ""
    pages: int | None = None
    size: int | None = None
    modified: datetime | None = None
    table: object = None  # a TableFile for csv/json/parquet files, kept as a DuckDB table at commit
    warnings: list[str] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # what is embedded and keyword-indexed per chunk
    langs: list[str] = field(default_factory=list)
    terms: list[str | None] = field(default_factory=list)  # jieba words of texts with Chinese, else None
    ocr: dict | None = None  # what OCR read of a scan (pages, confidence), kept in the document's metadata

    @property
    def lang(self) -> str | None:
        """Gives the document's language: its chunks' most common one."""
        return max(set(self.langs), key=self.langs.count) if self.langs else None

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.pieces)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def as_ingest_error(exc: BaseException, key: str, path: Path) -> IngestError:
    """Gives the one-line IngestError for anything reading a file raised (third-party parsers raise anything)."""
    if isinstance(exc, IngestError):
        return exc
    if isinstance(exc, PermissionError):
        return IngestError(f"{key}: cannot be read (permission denied); check its permissions")
    if isinstance(exc, FileNotFoundError):
        return IngestError(f"{key}: the file disappeared while it was being ingested; run again")
    if isinstance(exc, OSError):
        return IngestError(f"{key}: cannot be read ({exc.strerror or type(exc).__name__})")
    return IngestError(f"{path}: could not be read ({type(exc).__name__}: {first_line(exc)[:100]})")


def prepare(path: Path, key: str, stored_digest: str | None, limits: Limits, reader,
            offsets: Offsets) -> Prepared:
    """Gives a file parsed and chunked, or skipped when its hash equals `stored_digest`, or failed.

    `reader` reads table files (the workspace store inline, a private DuckDB in a worker); `offsets`
    gives encoder token offsets for chunking."""
    from engine.documents import ingest
    from engine.documents.keyword import zh_terms
    from engine.documents.search import searchable_text

    digest = ""
    try:
        digest = sha256(path)
        if digest == stored_digest:
            return Prepared(path, key, "skipped", digest)
        loaded, records = ingest.load(path, reader, limits)  # the loaders' one entry point
        pieces = chunk_blocks(loaded.blocks, offsets, records=records)
        if not pieces:
            raise IngestError(f"{path}: no text to index")
        stat = path.stat()
    except ocr.Cancelled:  # stopped between two OCR'd pages: the ingest stops, nothing of this file is stored
        raise
    except Exception as exc:
        return Prepared(path, key, "failed", digest, safe_text(str(as_ingest_error(exc, key, path))))
    title = safe_text(loaded.title or path.name)
    texts = [searchable_text(title, p.heading, p.text) for p in pieces]
    return Prepared(
        path, key, "parsed", digest, title=title, doctype=loaded.doctype, pages=loaded.pages,
        size=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime), table=loaded.table,
        warnings=[safe_text(w) for w in loaded.warnings], ocr=loaded.ocr, pieces=pieces, texts=texts,
        langs=[language(p.text) for p in pieces],
        # jieba is the slowest part of storing Chinese: segmenting here keeps it out of the writer's lock
        terms=[" ".join(zh_terms(t)) if has_cjk(t) else None for t in texts])


# -- in a parse worker process ------------------------------------------------------------------

_WORKER: dict = {}


def init_worker(tokenizer_file: str, limits: Limits, parent: int) -> None:
    """Loads what a parse worker needs once; the worker exits when the ingest process is gone."""
    from engine.runtime.encoder import untruncated_offsets
    from engine.store.documents import TableReader

    _WORKER.update(offsets=untruncated_offsets(tokenizer_file), limits=limits, reader=TableReader())

    def orphaned() -> None:  # a kill -9 of the ingest must not leave parsers behind
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()


def prepare_in_worker(task: tuple[Path, str, str | None]) -> Prepared:
    path, key, stored_digest = task
    return prepare(path, key, stored_digest, _WORKER["limits"], _WORKER["reader"], _WORKER["offsets"])
