"""Finding the files to ingest: survives names that are not UTF-8, symlink loops, unreadable folders
and paths that are gone, reporting each as a problem instead of stopping the batch."""

from __future__ import annotations

import os
import stat
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
    special: list[tuple[str, str]] = field(default_factory=list)  # (path shown, why it is never opened)


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
            mode = path.stat().st_mode
        except FileNotFoundError:
            found.gone.append(path)
            continue
        except OSError as exc:
            found.problems.append((display(path), _loop_or(path, exc)))
            continue
        if stat.S_ISDIR(mode):
            found.folders.append(path)
            _walk(path, supported, found)
        elif stat.S_ISREG(mode):
            found.files.append(path)
        else:  # opening a FIFO blocks until a writer comes; a device can be endless
            found.special.append((display(path), special_line(path, mode)))
    return found


SPECIAL_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                 (stat.S_ISBLK, "a block device"))


def special_line(path: Path, mode: int) -> str:
    """Gives the one line for a file that is not a regular file: it is skipped, never opened."""
    kind = next((name for test, name in SPECIAL_KINDS if test(mode)), "a special file")
    return f"skipped {display(path)}: not a regular file ({kind}); special files are never read"


def _loop_or(path: Path, exc: OSError) -> str:
    if exc.errno == 40:  # ELOOP
        return f"{display(path)}: a symlink loop; give the real file or folder"
    if isinstance(exc, FileNotFoundError) and path.is_symlink():  # not a permission matter
        return f"{display(path)}: a link to {display(os.readlink(path))}, which does not exist; fix or remove the link"
    return f"{display(path)}: cannot be read ({_cause(exc)}); check its permissions"


def _walk(top: Path, supported: set[str], found: Found) -> None:
    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else top
        found.problems.append((display(where), f"{display(where)}: folder cannot be read ({_cause(exc)});"
                                               " its files were not ingested; check its permissions"))

    files = []
    others = linked = 0  # files of a type Quarry does not read, links to folders: counted, so an
    # empty-handed walk can say why
    for folder, dirs, names in os.walk(top, onerror=failed, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        linked += sum(os.path.islink(os.path.join(folder, d)) for d in dirs)  # walked past, not into
        for name in names:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() not in supported:
                others += 1
                continue
            path = Path(folder) / name
            try:
                mode = path.stat().st_mode
            except OSError as exc:  # a dangling link or a loop (a file gone since the listing is passed over)
                if not isinstance(exc, FileNotFoundError) or path.is_symlink():
                    found.problems.append((display(path), _loop_or(path, exc)))
                continue
            if stat.S_ISREG(mode):
                files.append(path)
            elif not stat.S_ISDIR(mode):  # a folder named like a file is walked as a folder already
                found.special.append((display(path), special_line(path, mode)))
    found.files.extend(sorted(files, key=str))
    if not files and not any(shown.startswith(display(top)) for shown, _ in found.problems + found.special):
        # otherwise a folder of other files "ingests" as 0 files, everything up to date, and says nothing
        kinds = " ".join(sorted(s.lstrip(".") for s in supported))
        also = [f"{others} other file{'s' if others != 1 else ''}"] if others else []
        also += [f"{linked} link{'s' if linked != 1 else ''} to folders, not followed"] if linked else []
        also = f" ({'; '.join(also)})" if also else ""
        found.special.append((display(top), f"skipped {display(top)}: no file of a type Quarry reads in it{also};"
                                             f" it reads {kinds}"))


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
