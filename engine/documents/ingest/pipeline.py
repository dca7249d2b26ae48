"""The ingest pipeline: parse files in parallel, encode chunks across files, commit in groups.

  parse   a process pool (the parsers hold the GIL) prepares files ahead of the encoder, taken back in
          file order from a bounded window (a few files and megabytes, never a list of every parsed
          file); small plain-text files parse here, as does a run with few files for the pool, where
          a worker would cost more than it saves
  encode  the chunks of consecutive files go to the encoder together, about BATCH_SECONDS of work a
          call (Encoder.encode sorts them by length and cuts them to its token budget; it checks for
          a cancel between its model calls)
  commit  the files finished in the last GROUP_SECONDS go to DuckDB in one transaction with one
          generation bump, and to FAISS/tantivy in the same writer block (the one-writer rule)

Progress is yielded per file once its group is committed; cancel is checked between batches, and a
cancelled run still commits the files it finished. A kill loses only the group under way: none of its
files is stored (one transaction), so the next run, finding no hash for them, does exactly those again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from engine import cpus
from engine.documents.ingest import ocr
from engine.documents.ingest.loaders import Limits
from engine.documents.ingest.prepare import Prepared, init_worker, prepare, prepare_in_worker
from engine.documents.ingest.walk import display

GROUP_SECONDS = 1.0  # a commit group: the files that finished encoding in about this long
# Encoder work per call (the batch size follows the measured speed). The more chunks a call sorts by
# length, the less padding it encodes: measured on 300 small Chinese files, 2 s batches ingested at
# 0.85-0.89x the bare encoder's speed and 0.5 s batches at 0.79-0.83x; 4 s gained nothing more.
BATCH_SECONDS = 2.0
FIRST_BATCH_TOKENS = 8192
# Below ~4k tokens (a few dozen chunks) a batch cannot be sorted into full, evenly padded encoder calls.
MIN_BATCH_TOKENS, MAX_BATCH_TOKENS = 4096, 65536
POOL_MIN_FILES = 24  # fewer files for the pool parse here: a spawned worker takes ~1 s to import the parsers
# Small plain-text files parse here: reading one and cutting it takes a few milliseconds, less than
# sending its result back from a worker. Measured on 2 cores, 1,000 small markdown files ingested at
# 0.90-0.95x the bare encoder parsed here and 0.81-0.84x through a worker (whose process also takes
# cycles from the encoder's threads); 300 Chinese text files were no faster through the worker.
PLAIN_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
PLAIN_HERE_BYTES = 256 << 10
WINDOW_FILES = 64  # files parsed ahead: enough to fill the next batch while the encoder runs
WINDOW_BYTES = 64 << 20  # and by size: at least one file, and no more than this


def parse_workers() -> int:
    """Gives how many parse processes to start: the encoder keeps the rest of the cores."""
    return max(1, min(4, cpus.usable() // 2))


class Parser:
    """Prepared files in file order; with workers > 0 they are parsed ahead in a process pool."""

    def __init__(self, tasks: list[tuple[Path, str, str | None]], workers: int, tokenizer_file: Path,
                 limits: Limits, store, offsets) -> None:
        self.tasks = deque(tasks)
        self.window: deque = deque()  # (task, future, bytes) submitted and not yet taken
        self.window_bytes = 0
        self.pool = None
        self.warm = False  # a worker has given a result
        self._inline = (limits, store, offsets)
        self._pool_args = (workers, str(tokenizer_file), limits)
        if workers > 0:
            self._start()
            self._fill()

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers, tokenizer_file, limits = self._pool_args
        # spawn, not fork: the ingest process runs ONNX Runtime, tantivy and TUI threads
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=init_worker, initargs=(tokenizer_file, limits, os.getpid()))

    def _fill(self) -> None:
        while self.tasks and len(self.window) < WINDOW_FILES and (
                not self.window or self.window_bytes < WINDOW_BYTES):
            task = self.tasks.popleft()
            size = _size(task[0])
            self.window.append((task, self._submit(task), size))
            self.window_bytes += size

    def _submit(self, task: tuple[Path, str, str | None]):
        """Gives a worker's future for a task; None for one parsed here (`parsed_here`)."""
        return None if parsed_here(task[0]) else self.pool.submit(prepare_in_worker, task)

    def parses_here(self, task: tuple[Path, str, str | None]) -> bool:
        """Tells whether `take` parses this task in this process."""
        return self.pool is None or parsed_here(task[0])

    def next_task(self) -> tuple[Path, str, str | None] | None:
        """Gives the task whose result `take` gives next (None when all are taken)."""
        if self.window:
            return self.window[0][0]
        return self.tasks[0] if self.tasks else None

    def ready(self) -> bool:
        """Tells whether `take` would give a result without waiting for a worker."""
        if self.pool is None or not self.window:
            return True
        task, future, _ = self.window[0]
        if future is None:  # a plain file is quick to read here; a scan is not
            return task[0].suffix.lower() not in ocr.IMAGE_SUFFIXES
        return future.done()

    def take(self) -> Prepared:
        if self.pool is None:
            path, key, digest = self.tasks.popleft()
            return prepare(path, key, digest, *self._inline)
        from concurrent.futures.process import BrokenProcessPool

        task, future, size = self.window.popleft()
        self.window_bytes -= size
        with contextlib.suppress(BrokenProcessPool):  # a worker died: handled below, through the futures
            self._fill()
        if future is None:
            return prepare(*task, *self._inline)
        if not self.warm and not future.done() and future.cancel():
            # the workers are still starting (about a second of imports): parse this one here meanwhile
            return prepare(*task, *self._inline)
        self.warm = True
        try:
            return future.result()
        except BrokenProcessPool:
            pass
        # A parser took its worker down (a crash in a C library, out of memory): every file in the window
        # lost its result. This one is tried again alone in fresh workers and fails alone if it breaks
        # them again; the rest are parsed again after it.
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._start()
        try:
            return self.pool.submit(prepare_in_worker, task).result()
        except BrokenProcessPool:
            from engine.errors import IngestError

            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start()
            return Prepared(task[0], task[1], "failed", message=str(IngestError(
                f"{task[1]}: parsing it stopped its process (a crash or out of memory); the file was skipped")))
        finally:
            self.window = deque((t, self._submit(t), n) for t, _, n in self.window)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def parsed_here(path: Path) -> bool:
    """Tells whether a file is parsed in the ingest process even when there is a pool: an image, which
    OCR reads here so that its pages are reported as they are read and a cancel stops it between pages
    (a PDF goes to the workers: most have a text layer, and a scanned one there reports progress per
    file), and a small plain-text file (PLAIN_SUFFIXES)."""
    suffix = path.suffix.lower()
    return suffix in ocr.IMAGE_SUFFIXES or (suffix in PLAIN_SUFFIXES and _size(path) <= PLAIN_HERE_BYTES)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class Work:
    """A parsed file between the parser and the commit: its vectors fill in as batches are encoded."""

    def __init__(self, prepared: Prepared, dimension: int) -> None:
        self.prepared = prepared
        count = len(prepared.texts)
        self.vectors = np.zeros((count, dimension), dtype=np.float32) if count else None


class Pipeline:
    """The encode and commit stages of one ingest run (the caller feeds it prepared files in order)."""

    def __init__(self, ws, encoder, searcher, summary, total: int, started: float,
                 cancel: Callable[[], bool] | None, events) -> None:
        self.ws, self.store, self.encoder, self.searcher = ws, ws.store, encoder, searcher
        self.summary, self.total, self.started = summary, total, started
        self.cancel = cancel or (lambda: False)
        self.events = events  # the package's event helpers (`_event`, `_embed`, its constants)
        self.done = 0
        self.batch: list[Work] = []  # parsed (and failed) files waiting for the encoder, in file order
        self.batch_tokens = 0
        self.batch_started = 0.0
        self.target_tokens = FIRST_BATCH_TOKENS
        self.group: list[Work] = []  # files encoded (or failed), waiting for their commit
        self.group_started = 0.0
        self.last_checkpoint = time.perf_counter()
        self.cancelled = False
        # The first file is encoded and committed alone: the user sees progress within a second, and
        # a run stopped right after it has kept it.
        self.first = True

    def event(self, kind: str, path: str = "", chunks: int = 0, message: str = ""):
        return self.events._event(kind, path, self.done, self.total, chunks, self.summary, self.started, message)

    def skipped(self, key: str):
        self.done += 1
        self.summary.skipped += 1
        return self.event("skipped", key)

    def add(self, prepared: Prepared, more_ready: bool) -> Iterator:
        """Queues a parsed or failed file; encodes and commits when a batch or a group is due."""
        if prepared.status == "parsed" and len(prepared.texts) > self.events.ENCODE_SLICE:
            yield from self.encode_big(prepared)
        else:
            if not self.batch:
                self.batch_started = time.perf_counter()
            self.batch.append(Work(prepared, self.encoder.dimension))
            self.batch_tokens += prepared.tokens
            if (self.first or self.batch_tokens >= self.target_tokens or not more_ready
                    or time.perf_counter() - self.batch_started >= GROUP_SECONDS):
                self.encode_batch()
        yield from self.commit_due()

    def encode_batch(self) -> None:
        """Encodes the queued files' chunks in one call; the files move to the commit group."""
        if not self.batch:
            return
        works = [w for w in self.batch if w.vectors is not None]
        texts = [t for w in works for t in w.prepared.texts]
        if texts:
            began = time.perf_counter()
            vectors = self.encoder.encode(texts, stop=self.cancel)
            seconds = time.perf_counter() - began
            if vectors is None:  # cancelled part-way: none of these files is stored; a resumed run does them
                self.batch, self.batch_tokens = [], 0
                self.cancelled = True
                return
            rate = self.batch_tokens / max(seconds, 1e-6)
            self.target_tokens = int(min(MAX_BATCH_TOKENS, max(MIN_BATCH_TOKENS, rate * BATCH_SECONDS)))
            start = 0
            for w in works:
                w.vectors[:] = vectors[start : start + len(w.prepared.texts)]
                start += len(w.prepared.texts)
        self._finished(self.batch)
        self.batch, self.batch_tokens = [], 0
        if self.cancel():
            self.cancelled = True

    def encode_big(self, prepared: Prepared) -> Iterator:
        """A file of many chunks is encoded alone in slices, with an "embedding" event after each."""
        self.encode_batch()
        if self.cancelled:
            return
        work = Work(prepared, self.encoder.dimension)
        vectors = None
        for event in self.events._embed(self.encoder, prepared.texts, prepared.key, self.done + 1, self.total,
                                        self.summary, self.started, self.cancel):
            if isinstance(event, np.ndarray):
                vectors = event
            else:
                yield event
        if vectors is None:  # cancelled part-way: nothing of this file is stored
            self.cancelled = True
            return
        work.vectors = vectors
        self._finished([work])

    def encoded(self, prepared: Prepared, vectors: np.ndarray | None) -> None:
        """Queues a file encoded elsewhere (Ray) for the next commit group."""
        work = Work(prepared, self.encoder.dimension)
        work.vectors = vectors
        self._finished([work])

    def _finished(self, works: list[Work]) -> None:
        if works and not self.group:
            self.group_started = time.perf_counter()
        self.group.extend(works)

    def commit_due(self, force: bool = False) -> Iterator:
        if self.group and (force or self.cancelled or self.first
                           or time.perf_counter() - self.group_started >= GROUP_SECONDS):
            yield from self.commit()

    def finish(self) -> Iterator:
        """Encodes what is queued (unless cancelled) and commits the last group."""
        if not self.cancelled:
            self.encode_batch()
        yield from self.commit_due(force=True)

    def commit(self) -> Iterator:
        """Stores the group: one transaction, one generation bump, the indexes changed in the same
        writer block; then yields each file's event in file order."""
        group, self.group = self.group, []
        self.first = False
        store, pkg = self.store, self.events
        with store.writing():
            existing = store.documents_at([w.prepared.key for w in group])
            removed: list[int] = []
            stored: list[Work] = []
            rows = []
            for w in group:
                p = w.prepared
                old = existing.get(p.key)
                if p.status == "failed" and old and old[1] == "ready":
                    continue  # a previous good version stays searchable
                if old:
                    removed += store.delete_document(old[0])
                stored.append(w)
                if p.status == "failed":
                    size, modified = _stat(p.path)
                    rows.append((p.key, display(p.path.name), p.path.suffix.lower().lstrip(".") or "file",
                                 p.digest, size, None, None, {}, "failed", p.message, modified))
                else:
                    rows.append((p.key, p.title, p.doctype, p.digest, p.size, p.pages, p.lang,
                                 _meta(p), "ready", None, p.modified))
            doc_ids = store.insert_documents(rows)
            parsed = [(w, doc_id) for w, doc_id in zip(stored, doc_ids) if w.prepared.status == "parsed"]
            chunk_ids = store.insert_chunk_rows([
                (doc_id, i, piece.page, piece.heading, piece.text, piece.tokens, lang, w.vectors[i].tobytes())
                for w, doc_id in parsed
                for i, (piece, lang) in enumerate(zip(w.prepared.pieces, w.prepared.langs))])
            for w, doc_id in parsed:
                if w.prepared.table is not None:
                    store.register_table(pkg._table_name(w.prepared.path, store, w.prepared.key), doc_id,
                                         w.prepared.table)
            if removed or chunk_ids:
                store.bump_generation()
                vectors = (np.vstack([w.vectors for w, _ in parsed]) if parsed
                           else np.zeros((0, self.encoder.dimension), dtype=np.float32))
                # last: nothing but COMMIT can fail after it
                self.searcher.apply(removed, chunk_ids, vectors,
                                    [t for w, _ in parsed for t in w.prepared.texts],
                                    [t for w, _ in parsed for t in w.prepared.terms])
        if time.perf_counter() - self.last_checkpoint > pkg.CHECKPOINT_SECONDS:
            self.searcher.checkpoint()
            self.last_checkpoint = time.perf_counter()
        for w in group:
            p = w.prepared
            self.done += 1
            if p.status == "failed":
                self.summary.failed += 1
                self.summary.errors.append(p.message)
                yield self.event("failed", p.key, 0, p.message)
                continue
            self.summary.ingested += 1
            self.summary.chunks_embedded += len(p.pieces)
            self.summary.pages += p.pages or 1
            event = self.event("ingested", p.key, len(p.pieces))
            event.warnings = list(p.warnings)
            yield event


def _meta(p: Prepared) -> dict:
    """Gives what a document keeps beside its chunks: its warnings, and what OCR read (pages, confidence)."""
    return {"warnings": p.warnings, **({"ocr": p.ocr} if p.ocr else {})}


def _stat(path: Path):
    from datetime import datetime

    try:
        stat = path.stat()
        return stat.st_size, datetime.fromtimestamp(stat.st_mtime)
    except OSError:
        return None, None


def plan(files: list[Path], states: dict) -> tuple[list[tuple[Path, str, str | None]], list[str]]:
    """Gives the parse tasks (path, key, stored hash when the stored version is ready) and the keys of
    files given twice (ingested once: the second time they are unchanged)."""
    tasks, twice, keys = [], [], set()
    for path in files:
        key = display(path)
        state = states.get(key)
        if key in keys:
            twice.append(key)
            continue
        keys.add(key)
        tasks.append((path, key, state[1] if state and state[2] == "ready" else None))
    return tasks, twice


def tokenizer_file(ws) -> Path:
    """Gives the workspace encoder's tokenizer.json (what the parse workers chunk with)."""
    from engine.models import catalog

    return catalog.get(ws.encoder_id).model_path.parent / "tokenizer.json"


def run(ws, files: list[Path], states: dict, limits: Limits, encoder, searcher, summary, started: float,
        cancel: Callable[[], bool] | None, events, workers: int | None = None) -> Iterator:
    """Ingests `files` (none removed or skipped yet) through the pipeline, yielding per-file events.

    `states` maps stored paths to (id, sha256, status); `events` is the ingest package (its event
    helpers and the constants tests tune)."""
    tasks, twice = plan(files, states)
    if workers is None:
        pooled = sum(1 for t in tasks if t[2] is None and not parsed_here(t[0]))
        workers = parse_workers() if pooled >= POOL_MIN_FILES else 0
    parser = Parser(tasks, workers, tokenizer_file(ws), limits, ws.store, encoder.token_offsets)
    line = Pipeline(ws, encoder, searcher, summary, len(files), started, cancel, events)
    try:
        for key in twice:
            yield line.skipped(key)
        while (task := parser.next_task()) is not None:
            if line.cancel():
                line.cancelled = True
                break
            if task[2] is None and _size(task[0]) > events.BIG_FILE_BYTES:  # say so before a long parse
                yield line.event("reading", task[1], 0,
                                 f"reading {task[1]} ({_size(task[0]) / (1 << 20):.0f} MB)")
            here = parser.parses_here(task)
            if task[0].suffix.lower() in ocr.SCAN_SUFFIXES and (here or not parser.ready()):
                # OCR may read it here (progress per page, cancel between pages) or in a worker (a sign
                # of life every few seconds: a scanned PDF's pages take seconds each)
                try:
                    for item in ocr.run_watched(parser.take, line.cancel, waiting=None if here else task[1]):
                        if isinstance(item, (ocr.PageDone, ocr.PageReading, ocr.Still)):
                            yield line.event("reading", task[1], 0, item.message)
                        else:
                            prepared = item
                except ocr.Cancelled:  # nothing of this file is stored; a resumed run reads it again
                    line.cancelled = True
                    break
            else:
                prepared = parser.take()
            if prepared.status == "skipped":
                yield line.skipped(prepared.key)
                continue
            yield from line.add(prepared, parser.ready())
            if line.cancelled:
                break
        yield from line.finish()
    finally:
        parser.close()
    return line.done
