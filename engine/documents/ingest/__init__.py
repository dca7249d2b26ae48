"""Ingest: files -> clean text -> chunks -> vectors -> DuckDB (one transaction per commit group) -> indexes.

A file's content hash makes ingest incremental: unchanged files are skipped, changed ones replaced,
and files gone from an ingested folder removed. Files go through pipeline.py (parallel parse, encoding
across files, commits in groups of about a second); a group is stored whole or not at all, so an ingest
that is killed resumes where it stopped; the indexes are checkpointed with the DuckDB generation they
match and rebuilt from DuckDB's stored vectors if a crash left them behind.
"""
from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine import jobs
from engine.documents.ingest import walk
from engine.documents.ingest.chunking import CHUNK_TOKENS, OVERLAP_TOKENS, chunk_blocks  # noqa: F401 (re-exported)
from engine.documents.ingest.loaders import (
    BIG_FILE_BYTES,  # noqa: F401 (the pipeline reads it here, where tests tune it)
    LOADERS,
    SUPPORTED,
    TABLE_SUFFIXES,
    Block,
    Limits,
    Loaded,
    record_text,
    table_doctype,
)
from engine.documents.ingest.walk import display
from engine.errors import IngestError, QuarryError, first_line
from engine.store.documents import TableFile

CHECKPOINT_SECONDS = 10.0
# A file of many chunks is embedded in slices, with a progress event and a cancel check after each:
# a 10 MB single line is 24,000 chunks and about half an hour of encoding on 2 busy cores.
ENCODE_SLICE = 1024


@dataclass
class IngestEvent:
    """Progress of an ingest, yielded after every file (and once at the start and the end)."""

    kind: str  # start | reading | embedding | ingested | skipped | special | failed | removed | done
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
    """Gives (supported files under the paths, folders given) in a stable order (see walk.discover)."""
    found = walk.discover(paths, SUPPORTED)
    if found.gone:
        raise QuarryError(f"{display(found.gone[0])}: no such file or folder")
    return found.files, found.folders


def _table_name(path: Path, store, key: str) -> str:
    """Gives the DuckDB table name for a table file: t_<stem>, or with its folder (then a number) when
    another file already holds that name (two prices.csv in different folders)."""
    stem = re.sub(r"\W+", "_", path.stem.lower()).strip("_") or "table"
    folder = re.sub(r"\W+", "_", path.parent.name.lower()).strip("_")
    names = [f"t_{stem}", *([f"t_{folder}_{stem}"] if folder else []), *(f"t_{stem}_{n}" for n in range(2, 10_000))]
    return next(n for n in names if store.table_source(n) in (None, key))


def load(path: Path, store, limits: Limits | None = None) -> tuple[Loaded, bool]:
    """Gives a file's blocks and whether they are table records; raises IngestError naming the file."""
    limits = limits or Limits()
    limits.check(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES and suffix not in LOADERS:
        raise IngestError(f"{path}: unsupported file type '{suffix}'")
    try:
        if suffix in TABLE_SUFFIXES:
            return load_table(path, store), True
        if path.stat().st_size == 0:
            raise IngestError(f"{path}: empty file, nothing to ingest")
        loaded = LOADERS[suffix](path)
    except (IngestError, PermissionError, FileNotFoundError):
        raise  # the run loop words these (permissions, a file gone mid-run)
    except Exception as exc:  # third-party parsers raise anything on a broken file; one file, one line
        raise IngestError(f"{path}: could not be read ({type(exc).__name__}: {first_line(exc)[:100]})") from None
    limits.check_text(path, loaded)
    return loaded, loaded.doctype == "xlsx"


def load_table(path: Path, store) -> Loaded:
    """Reads a csv/json/parquet file with DuckDB itself; each row becomes one record block."""
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: empty file, nothing to ingest")
    if table_doctype(path) == "csv":
        table, warnings = csv_table(path)
    else:
        table, warnings = TableFile(str(path), table_doctype(path)), []
    columns, rows = store.read_table_file(table)
    if not rows:
        raise IngestError(f"{path}: the table has no rows")
    blocks = [Block(record_text(columns, row), None, path.stem) for row in rows]
    return Loaded(doctype=table.doctype, blocks=blocks, title=path.name, table=table, warnings=warnings)


def csv_table(path: Path) -> tuple[TableFile, list[str]]:
    """Gives a CSV file as DuckDB reads it, with what to tell the user: its delimiter as sniffed here
    (DuckDB's sniffer took a one-column file with a tab in one text for tab-separated, and falls back to
    one text column on ragged rows, which padding keeps whole), read from a UTF-8 copy when the file is in
    another encoding (DuckDB reads UTF-8 only; Excel on a Chinese Windows saves CSV as GBK)."""
    from engine.documents.ingest.encoding import utf8_path

    readable, encoding = utf8_path(path)
    delimiter, ragged = csv_shape(readable)
    warnings = [f"{path}: read as {encoding} (not UTF-8)"] if encoding else []
    if ragged:
        warnings.append(f"{path}: {ragged} rows have a different number of fields than the header;"
                        " missing fields were left empty")
    return TableFile(str(readable), "csv", delimiter, bool(ragged)), warnings


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


def chunking_signature(encoder_id: str) -> str:
    return f"{encoder_id}:{CHUNK_TOKENS}:{OVERLAP_TOKENS}"


def reembed_needed(ws) -> int:
    """Gives how many stored chunks were made with other encoder or chunk settings (0 if none)."""
    stored = ws.store.get_state("chunking")
    if stored is None or stored == chunking_signature(ws.encoder_signature):
        return 0
    return ws.store.chunk_count()


def ingest_paths(ws, paths: Iterable[Path], cancel: Callable[[], bool] | None = None,
                 reembed: bool = False, summary: IngestSummary | None = None,
                 ray: str | None = None) -> Iterator[IngestEvent]:
    """Ingests files and folders into the workspace, yielding progress after every file.

    `ray` ("local", or a cluster's address) parses and encodes on Ray Data (engine/scale) instead of
    this process's pipeline; the commits are the same.

    One writer: each commit group's DuckDB commit and the index update that matches it happen in one
    `store.writing()` block, so a checkpoint (which takes the same lock) never tags the indexes with a
    generation whose chunks they lack."""
    summary = summary if summary is not None else IngestSummary()
    started = time.perf_counter()
    store = ws.store
    if ray is not None:
        from engine import scale

        scale.check(ray)  # Ray missing, or an address that does not answer: one line, before any work
    pending = reembed_needed(ws)
    if pending and not reembed:
        raise QuarryError(f"the encoder or chunk settings changed; {pending} chunks would be re-embedded."
                          " Run again with --reembed to do it")
    limits = Limits.from_settings()
    found = walk.discover(paths, SUPPORTED)
    files, folders = found.files, found.folders
    gone = walk.stale_documents(store, found)  # documents under given paths that no longer exist
    encoder = ws.encoder()
    searcher = ws.searcher()  # before any writing() block: opening it may rebuild from DuckDB
    if pending:
        with store.writing():
            removed = [cid for doc in store.documents() for cid in store.delete_document(doc.id)]
            store.bump_generation()
            searcher.remove(removed)
    store.set_state("chunking", chunking_signature(ws.encoder_signature))
    yield IngestEvent("start", files_total=len(files))
    for shown, problem in found.problems:  # unreadable folders, symlink loops: reported, the rest goes on
        summary.failed += 1
        summary.errors.append(problem)
        yield _event("failed", shown, 0, len(files), 0, summary, started, problem)
    for shown, line in found.special:  # FIFOs, sockets, devices: one line each, never opened, not a failure
        yield _event("special", shown, 0, len(files), 0, summary, started, line)
    seen = {display(f) for f in files}
    under = [row for folder in folders for row in store.document_paths_under(display(folder) + "/")]
    for doc_id, path in under + gone:
        if path not in seen:
            with store.writing():
                removed = store.delete_document(doc_id)
                store.bump_generation()
                searcher.remove(removed)
            summary.removed += 1
            yield IngestEvent("removed", path, 0, len(files), message="file is gone")
    states = store.document_states()
    if ray is not None:
        from engine.scale import ingest as on_ray

        done = yield from on_ray.run(ws, files, states, limits, encoder, searcher, summary, started, cancel,
                                     sys.modules[__name__], ray)
    else:
        from engine.documents.ingest import pipeline

        done = yield from pipeline.run(ws, files, states, limits, encoder, searcher, summary, started, cancel,
                                       sys.modules[__name__])
    searcher.checkpoint()
    summary.seconds = time.perf_counter() - started
    yield _event("done", "", done, len(files), 0, summary, started, summary.line())


def _embed(encoder, texts, key, done, total, summary, started, cancel):
    """Yields a file's vectors (an array) last; a file of many chunks is embedded in slices, with an
    "embedding" event and a cancel check after each. Yields no array when cancelled part-way."""
    if len(texts) <= ENCODE_SLICE:
        yield encoder.encode(texts)
        return
    import numpy as np

    vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    file_started = time.perf_counter()
    for start in range(0, len(texts), ENCODE_SLICE):
        if cancel is not None and cancel():
            return
        end = min(start + ENCODE_SLICE, len(texts))
        vectors[start:end] = encoder.encode(texts[start:end])
        event = _event("embedding", key, done - 1, total, end, summary, started,
                       f"embedding {key}: {end}/{len(texts)} chunks")
        event.chunks_per_s = end / max(time.perf_counter() - file_started, 1e-9)
        yield event
    yield vectors


def _event(kind, path, done, total, chunks, summary, started, message="") -> IngestEvent:
    elapsed = max(time.perf_counter() - started, 1e-9)
    return IngestEvent(kind, path, done, total, chunks, summary.chunks_embedded,
                       summary.chunks_embedded / elapsed, message)


def remove_document(ws, document_id: int) -> int:
    """Removes a document from DuckDB and both indexes; gives how many chunks went with it."""
    store = ws.store
    if all(d.id != document_id for d in store.documents()):
        raise QuarryError(f"no document with id {document_id}; see `quarry docs` for the ids")
    searcher = ws.searcher()
    with store.writing():
        removed = store.delete_document(document_id)
        store.bump_generation()
        searcher.remove(removed)
    searcher.checkpoint()
    return len(removed)


# -- ingest as a job ---------------------------------------------------------------------------


def start_ingest(ws, paths: Iterable[Path], reembed: bool = False, cancel=None, ray: str | None = None):
    """Starts an ingest job (engine.jobs): gives its JobRun; resuming it skips files already committed.
    `ray`: "local" or a Ray address to parse and encode on Ray Data (None: this process)."""
    params = {"paths": [os.path.abspath(Path(p).expanduser()) for p in paths], "reembed": reembed}
    if ray is not None:
        params["ray"] = ray
    return jobs.start(ws, "ingest", params, cancel)


@jobs.register("ingest", unit="files")
def ingest_job(ws, job: jobs.Job) -> Iterator[jobs.Progress]:
    """The ingest job: ingest_paths with the job's params, its events as Progress; gives the summary."""
    summary = IngestSummary()
    paths = [Path(p) for p in job.params["paths"]]
    for event in ingest_paths(ws, paths, cancel=job.cancelled, reembed=bool(job.params.get("reembed")),
                              summary=summary, ray=job.params.get("ray")):
        name = Path(event.path).name if event.path else ""
        data = {"event": event.kind, "path": event.path, "chunks": event.chunks,
                "chunks_total": event.chunks_total, "chunks_per_s": event.chunks_per_s, "label": name,
                "rate_text": f"{event.chunks_per_s:.0f} chunks/s"}
        if event.kind in ("failed", "special"):
            data["error" if event.kind == "failed" else "line"] = event.message
        if event.kind == "removed":
            message = f"removed {name} (file is gone)"
        elif event.kind in ("done", "embedding", "reading"):
            message = event.message
        else:
            message = f"{event.chunks_total} chunks · {event.chunks_per_s:.0f} chunks/s · {name}".rstrip(" ·")
        yield job.progress(event.files_done, event.files_total, message, event.warnings, summary.failed, data)
    return summary
