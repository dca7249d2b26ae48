"""Helpers of the reliability suite: run the CLI in-process, check the one-line error, check that what
was stored before a fault is still there and that DuckDB, FAISS and tantivy agree."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import assert_consistent, run_cli

__all__ = ["assert_consistent"]  # the suite's one check, imported from here by the reliability tests


@dataclass
class Ran:
    """What one CLI run gave."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def quarry(*args, stdin: str | bytes | None = None, env: dict | None = None) -> Ran:
    """Runs `quarry ARGS` in this process; stdout and stderr apart."""
    result = run_cli(*args, input=stdin, env=env)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return Ran(result.exit_code, result.stdout, result.stderr, exc)


def error_line(ran: Ran, *names: str, code: int | tuple[int, ...] = (1, 2)) -> str:
    """Asserts the run failed with one line on stderr that names each of `names`; gives the line."""
    assert ran.exception is None, f"a traceback, not an error line: {ran.exception!r}"
    codes = code if isinstance(code, tuple) else (code,)
    assert ran.code in codes, f"exit {ran.code}; stderr: {ran.stderr!r}"
    lines = [line for line in ran.stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "error", "Usage", "Try"))]
    assert "Traceback" not in ran.stderr
    shown = [line for line in errors if line.startswith(("Error", "error"))]
    assert len(shown) == 1, f"want one error line, got: {lines}"
    for name in names:
        assert name in shown[0], f"{name!r} not in {shown[0]!r}"
    return shown[0]


def failed_lines(ran: Ran) -> list[str]:
    """Gives the per-file error lines of an ingest run."""
    return [line for line in ran.stderr.splitlines() if "error:" in line]


@dataclass(frozen=True)
class Stored:
    """What a workspace holds, for before/after comparisons."""

    documents: tuple
    chunk_ids: tuple
    chats: tuple
    messages: int


def stored(root: Path) -> Stored:
    """Opens a workspace and gives what it holds, after checking DuckDB, FAISS and tantivy agree."""
    from engine.workspace import Workspace

    with Workspace(root) as ws:
        ids = assert_consistent(ws)
        docs = tuple(sorted((d.path, d.status, d.chunks) for d in ws.store.documents()))
        chats = tuple(sorted((c.id, c.title) for c in ws.store.chats()))
        messages = sum(len(ws.store.messages(c[0])) for c in chats)
    return Stored(docs, tuple(ids), chats, messages)


def copy_workspace(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


NOBODY = 65534


@contextlib.contextmanager
def as_nobody(*owned: Path):
    """Runs the block as an unprivileged user when the tests run as root (root reads any file, so
    permission faults need another user); `owned` paths are given to that user first."""
    if os.geteuid() != 0:
        yield
        return
    for path in owned:
        os.chown(path, NOBODY, NOBODY)
        for base, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(base, name), NOBODY, NOBODY)
    # The interpreter lives under /root (0700 here): what the CLI imports lazily must be imported while
    # still root, or an import in the block fails as that user (engine.log's handlers); so must the codecs
    # files are read with: a lookup that fails as that user is cached as "unknown encoding" for the rest of
    # the process (every later test in this worker that reads a BOM or GBK then fails).
    import encodings.big5  # noqa: F401
    import encodings.gb18030  # noqa: F401
    import encodings.utf_8_sig  # noqa: F401
    import logging.handlers  # noqa: F401

    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
