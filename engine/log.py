"""Quarry's log: one rotating file under the user's state dir (`quarry locate` prints where), mirrored to
stderr by `quarry --verbose`. Every unexpected exception's traceback is written here by both fronts, so a
user can send it with a bug report.

Document text and questions never go in whole: `clip()` keeps their first 80 characters, enough to
recognise a request without copying a private document into a file nobody thinks of cleaning."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path

from engine import locations

FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(threadName)s %(name)s: %(message)s"
MAX_BYTES = 1_000_000  # per file; with BACKUPS the log never takes more than ~4 MB
BACKUPS = 3
CLIP = 80
# Quarry's own loggers write INFO and up; libraries only their warnings (jieba, faiss and pypdf are chatty).
OWN = ("engine", "tui", "quarry")

_file_handler: logging.handlers.RotatingFileHandler | None = None
_stderr_handler: logging.StreamHandler | None = None


def clip(text: object, limit: int = CLIP) -> str:
    """Gives text as it may be logged: its first `limit` characters, on one line, with … when cut."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def setup(verbose: bool = False) -> Path:
    """Sends Quarry's log to its file and, when `verbose`, to stderr too; gives the file's path. Calling it
    again adds nothing twice (it only follows the file when its place changed, as between tests)."""
    global _stderr_handler
    path = ensure()
    root = logging.getLogger()
    if verbose and _stderr_handler is None:
        _stderr_handler = logging.StreamHandler(sys.stderr)
        _stderr_handler.setFormatter(_Formatter("quarry: %(levelname)s %(name)s: %(message)s"))
        root.addHandler(_stderr_handler)
    for name in OWN:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    return path


def ensure() -> Path:
    """Gives the log file's path, with the file handler in place (what `setup` does, levels aside)."""
    global _file_handler
    path = locations.log_file()
    root = logging.getLogger()
    if _file_handler is None or _file_handler.baseFilename != os.path.abspath(path):
        if _file_handler is not None:
            root.removeHandler(_file_handler)
            _file_handler.close()
        # delay: no file (and no folder) until something is logged; most runs log nothing.
        _file_handler = _RotatingFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                                      delay=True)
        _file_handler.setFormatter(_Formatter(FORMAT))
        root.addHandler(_file_handler)
        if root.level == logging.NOTSET or root.level > logging.WARNING:
            root.setLevel(logging.WARNING)
        for name in OWN:
            own = logging.getLogger(name)
            if own.level == logging.NOTSET:
                own.setLevel(logging.INFO)
    return path


def report(exc: BaseException, what: str) -> tuple[str, bool]:
    """Gives one line for a failure and whether it is a bug. A QuarryError is the user's to fix: its
    message's first line. Anything else is a bug: its traceback goes to the log, and the line says so and
    names the file."""
    from engine.errors import QuarryError, first_line

    if isinstance(exc, QuarryError):
        return first_line(exc, limit=400), False
    if "duckdb" in sys.modules:  # a damaged database met half-way through work is the user's to fix too
        from engine.store import damaged_error

        damaged = damaged_error(exc)
        if damaged is not None:
            return str(damaged), False
    path = ensure()
    logging.getLogger("quarry").error("%s failed", what, exc_info=exc)
    name = type(exc).__name__
    said = f"{name}: {first_line(exc)}" if str(exc).strip() else name
    return f"Bug (please report): {said} — traceback in {path}", True


def stop_verbose() -> None:
    """Stops mirroring to stderr (the terminal app owns the screen; its log stays in the file)."""
    global _stderr_handler
    if _stderr_handler is not None:
        logging.getLogger().removeHandler(_stderr_handler)
        _stderr_handler = None


class _Formatter(logging.Formatter):
    """Writes tracebacks with every exception's message clipped (a bug's message may quote a document);
    the frames, which are code, stay whole."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_text  # another handler's unclipped text, cached on the record: not ours
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = saved

    def formatException(self, ei) -> str:
        te = traceback.TracebackException(*ei)
        seen: set[int] = set()
        stack = [te]
        while stack:
            one = stack.pop()
            if one is None or id(one) in seen:
                continue
            seen.add(id(one))
            if isinstance(getattr(one, "_str", None), str):  # the message format_exception_only prints
                one._str = clip(one._str)
            stack += [one.__cause__, one.__context__, *(getattr(one, "exceptions", None) or [])]
        return "".join(te.format()).rstrip("\n")


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """A rotating file handler that makes its folder when it first writes, and never lets a log it
    cannot write (a read-only home, a full disk) take the app down with it."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # the app goes on without its log rather than printing logging's own traceback
