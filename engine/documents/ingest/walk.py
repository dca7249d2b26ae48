"""Finding the files to ingest: survives names that are not UTF-8, symlink loops, unreadable folders
and paths that are gone, reporting each as a problem instead of stopping the batch."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "indexes"}


@dataclass
class Found:
    """What a walk over the given paths found."""

    files: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # folders given (their gone files are removed)
    gone: list[Path] = field(default_factory=list)  # given paths that do not exist (stale documents go)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path shown, one-line cause)


def display(path: Path | str) -> str:
    """Gives a path as text that can be stored and printed: bytes that are not UTF-8 show as \\xNN."""
    return safe_text(str(path))


def safe_text(text: str) -> str:
    """Gives text with the surrogates Python uses for undecodable file-name bytes written as \\xNN."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _absolute(path: Path) -> Path:
    """Gives an absolute path with symlinks resolved where they resolve (a loop stays as given)."""
    path = Path(os.path.abspath(path.expanduser()))
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return path


def discover(paths, supported: set[str]) -> Found:
    """Gives the supported files under the paths in a stable order, and every problem met on the way."""
    found = Found()
    for given in paths:
        path = _absolute(Path(given))
        try:
            path.stat()
        except FileNotFoundError:
            found.gone.append(path)
            continue
        except OSError as exc:
            found.problems.append((display(path), _loop_or(path, exc)))
            continue
        if os.path.isdir(path):
            found.folders.append(path)
            _walk(path, supported, found)
        else:
            found.files.append(path)
    return found


def _loop_or(path: Path, exc: OSError) -> str:
    if exc.errno == 40:  # ELOOP
        return f"{display(path)}: a symlink loop; give the real file or folder"
    return f"{display(path)}: cannot be read ({_cause(exc)}); check its permissions"


def _walk(top: Path, supported: set[str], found: Found) -> None:
    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else top
        found.problems.append((display(where), f"{display(where)}: folder cannot be read ({_cause(exc)});"
                                               " its files were not ingested; check its permissions"))

    files = []
    for folder, dirs, names in os.walk(top, onerror=failed, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in names:
            if name.startswith(".") or Path(name).suffix.lower() not in supported:
                continue
            path = Path(folder) / name
            if path.is_file():
                files.append(path)
            elif path.is_symlink():
                found.problems.append((display(path), _loop_or(path, _stat_error(path))))
    found.files.extend(sorted(files, key=str))


def _stat_error(path: Path) -> OSError:
    try:
        path.stat()
    except OSError as exc:
        return exc
    return OSError(0, "not a regular file")


def stale_documents(store, found: Found) -> list[tuple[int, str]]:
    """Gives (id, path) of stored documents at or under given paths that no longer exist, so a moved
    folder's old documents can be cleared; a gone path with nothing stored is an error."""
    from engine.errors import QuarryError

    stale = []
    for path in found.gone:
        shown = display(path)
        rows = [(i, p) for i, p in store.document_paths_under(shown) if p == shown or p.startswith(shown + "/")]
        if not rows:
            raise QuarryError(f"{shown}: no such file or folder")
        stale += rows
    return stale
