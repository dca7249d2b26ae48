"""DuckDB store of a workspace: the connection, migrations, the one writer discipline, and the SQL of each
feature mixed in from its own module (documents, chats, jobs, labels, recommendations, comparisons, feedback,
review answers)."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from engine.errors import ReadOnlyWorkspace, WorkspaceBusy, WorkspaceError, first_line
from engine.store.chats import Chat, ChatsSQL, Message
from engine.store.comparisons import ComparisonsSQL
from engine.store.documents import ChunkRow, Document, DocumentsSQL
from engine.store.feedback import Feedback, FeedbackSQL
from engine.store.jobs import JobsSQL
from engine.store.labels import LabelsSQL
from engine.store.migrations import MIGRATIONS
from engine.store.recommendations import RecommendationsSQL
from engine.store.review import ReviewSQL
from engine.store.writer import CheckedCursor, strict

DB_NAME = "quarry.duckdb"

__all__ = ["DB_NAME", "Chat", "ChunkRow", "Document", "Feedback", "Message", "Store"]


DAMAGED_FIX = ("it is damaged or not Quarry's: move it aside (your files are untouched) and run"
               " `quarry ingest` again to rebuild the library")
CUT_FIX = ("the database file is damaged (cut short): restore it from a backup, or move it aside (your files"
           " are untouched) and run `quarry ingest` again to rebuild the library")

# DuckDB's file layout: a 4 KiB main header, two 4 KiB database headers (the newer one, by its iteration,
# is in force), then whole blocks of the size the header gives; DuckDB grows and shrinks the file by whole
# blocks. A file that ends inside a block was cut (a copy that stopped, a full disk during a copy):
# checked on open, before DuckDB reads only the blocks the first command needs and a later command
# fails half-way. (A header's block count is no guide: DuckDB trims free blocks off the end and keeps it.)
_HEADER = 4096
_MAGIC = b"DUCK"

# DuckDB's words for a file whose blocks cannot be read back as written.
_DAMAGE = ("could not read enough bytes", "corrupt", "checksum", "invalid block", "block id out of range")


def cut_short(path: Path) -> bool:
    """Tells whether a DuckDB file ends inside a block, so it was cut (False when it cannot tell)."""
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(3 * _HEADER)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return False
    if len(head) < 3 * _HEADER or head[8:12] != _MAGIC:
        return False
    newest = None
    for offset in (_HEADER, 2 * _HEADER):
        _, iteration, _, _, _, block_size = struct.unpack_from("<6Q", head, offset)
        if block_size < _HEADER or block_size & (block_size - 1) or block_size > 1 << 30:
            continue  # not a header this check understands: leave the file to DuckDB
        if newest is None or iteration > newest[0]:
            newest = (iteration, block_size)
    return newest is not None and (size - 3 * _HEADER) % newest[1] != 0


def damaged_error(exc: BaseException) -> WorkspaceError | None:
    """Gives the one-line WorkspaceError for a DuckDB error that says a database file is damaged (met in
    the middle of a command, after the open), or None for any other error."""
    if not isinstance(exc, duckdb.Error) or not any(s in str(exc).lower() for s in _DAMAGE):
        return None
    named = re.search(r'file "([^"]+)"', str(exc))
    where = named.group(1) if named else DB_NAME
    return WorkspaceError(f"{where}: the database file is damaged ({first_line(exc)[:120]}); restore it from a"
                          " backup, or move it aside (your files are untouched) and run `quarry ingest` again")


_NO_ROOM = ("no space left", "file too large", "disk quota", "out of disk")


def _no_room(exc: BaseException) -> bool:
    """Tells whether a write failed for want of disk space (the file system, not a bug)."""
    # a failed COMMIT reports it as a TransactionException, a failed write as an IOException
    return isinstance(exc, (duckdb.Error, OSError)) and any(s in str(exc).lower() for s in _NO_ROOM)


def _no_room_message(path: Path, exc: BaseException) -> str:
    return (f"{path}: the disk is full ({first_line(exc)}); free some space and run again;"
            " what was stored before is kept")


def _writable(path: Path) -> bool:
    """Tells whether this process may write the database file and create its .wal beside it (the
    effective user's rights, and a read-only mount says no too)."""
    kwargs = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    return all(os.access(p, os.W_OK, **kwargs) for p in (path, path.parent))


def _busy_message(path: Path, exc: Exception) -> str:
    text = str(exc)
    pid = ""
    if "PID" in text:
        pid = " (" + text[text.index("PID"):].split(")")[0] + ")"
    return (f"{path}: the workspace is open in another Quarry process{pid}; "
            "close it or use another --workspace")


class Store(DocumentsSQL, ChatsSQL, JobsSQL, LabelsSQL, RecommendationsSQL, ComparisonsSQL, FeedbackSQL,
            ReviewSQL):
    """The workspace's DuckDB file; the only code that writes SQL.

    Writes go through `writing()`: one lock per process covers the transaction *and* whatever the caller
    does inside it (an index update), so two threads never conflict on a row and no checkpoint can fall
    between a commit and the index apply that matches it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._cursor_lock = threading.Lock()
        self._cursors: weakref.WeakSet = weakref.WeakSet()  # per-thread cursors, gone with their thread
        self.write_lock = threading.RLock()
        if cut_short(path):
            raise WorkspaceError(f"{path}: {CUT_FIX}")
        # A healthy library on a read-only mount (or in folders this user may only read) is opened for
        # reading: search, docs and ask work; what would be stored is refused in one line (writing()).
        self.read_only = path.exists() and not _writable(path)
        try:
            self._conn = duckdb.connect(str(path), read_only=self.read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WorkspaceBusy(_busy_message(path, exc)) from None
            raise WorkspaceError(f"{path}: cannot open the workspace database ({first_line(exc)});"
                                 f" {DAMAGED_FIX}") from None
        except duckdb.Error as exc:
            raise WorkspaceError(f"{path}: not a readable DuckDB database ({first_line(exc)});"
                                 f" {DAMAGED_FIX}") from None
        try:
            self.migrate()
        except duckdb.Error as exc:
            self._conn.close()
            raise WorkspaceError(f"{path}: the workspace database cannot be read or upgraded"
                                 f" ({first_line(exc)}); {DAMAGED_FIX}") from None
        except WorkspaceError:
            self._conn.close()
            raise

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """Gives this thread's cursor: a DuckDB connection must not be shared between threads."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._cursor_lock:
                cursor = self._conn.cursor()
                self._cursors.add(cursor)
                self._local.cursor = cursor = CheckedCursor(cursor, self._local) if strict() else cursor
        return cursor

    def close(self) -> None:
        """Closes the database; a query still running in another thread (a worker the app is leaving
        behind at exit) is interrupted and waited for, briefly, instead of failing the close."""
        deadline = time.monotonic() + 10
        while True:
            try:
                self._conn.close()
                return
            except duckdb.ResourceInUseException:
                if time.monotonic() > deadline:
                    raise
                with self._cursor_lock:
                    for cursor in list(self._cursors):
                        with contextlib.suppress(duckdb.Error):
                            cursor.interrupt()
                time.sleep(0.05)

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Applies the migrations not yet recorded and gives their names."""
        tables = {r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if tables and "_migrations" not in tables:  # never add Quarry's tables to another program's file
            raise WorkspaceError(f"{self.path}: a DuckDB database of another program (tables: "
                                 f"{', '.join(sorted(tables)[:5])}); give Quarry its own --workspace folder")
        if self.read_only:
            done = {row[0] for row in self.db.execute("SELECT id FROM _migrations").fetchall()} if tables else set()
            if any(number not in done for number, _ in MIGRATIONS):
                raise ReadOnlyWorkspace(f"{self.path}: read-only, and it was made by an older Quarry that must"
                                        " upgrade it once; make the workspace writable for one run")
            return []
        with self.writing():
            self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name VARCHAR,"
                            " applied_at TIMESTAMP DEFAULT current_timestamp)")
        done = {row[0] for row in self.db.execute("SELECT id FROM _migrations").fetchall()}
        applied = []
        for number, migration in MIGRATIONS:
            if number in done:
                continue
            with self.writing():
                migration(self.db)
                self.db.execute("INSERT INTO _migrations (id, name) VALUES (?, ?)",
                                [number, migration.__name__])
            applied.append(migration.__name__)
        return applied

    def schema_version(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM _migrations").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction under the process's write lock (the same as `writing()`)."""
        with self.writing():
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Holds the process's write lock and one transaction; nested calls join the outer one."""
        if self.read_only:
            raise ReadOnlyWorkspace(f"{self.path}: the workspace is read-only (this user may not write it);"
                                    " reading, search and answers work but nothing can be stored: make the"
                                    " folder writable to store")
        with self.write_lock:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                if depth:
                    yield
                    return
                self.db.execute("BEGIN TRANSACTION")
                try:
                    yield
                except BaseException as exc:
                    with contextlib.suppress(duckdb.Error):  # a database a full disk invalidated
                        self.db.execute("ROLLBACK")
                    if _no_room(exc):
                        raise WorkspaceError(_no_room_message(self.path, exc)) from None
                    raise
                try:
                    self.db.execute("COMMIT")
                except duckdb.Error as exc:
                    if _no_room(exc):
                        raise WorkspaceError(_no_room_message(self.path, exc)) from None
                    raise
            finally:
                self._local.depth = depth

    # -- state --------------------------------------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self.writing():
            self.db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", [key, value])

    def chunk_generation(self) -> int:
        """Gives the counter bumped by every change to chunks; indexes record the value they match."""
        return int(self.get_state("chunk_generation", "0"))

    def bump_generation(self) -> int:
        with self.writing():
            value = self.chunk_generation() + 1
            self.set_state("chunk_generation", str(value))
        return value
