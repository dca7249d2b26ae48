"""The CLI's side of serving (engine/serve): a command that finds its workspace held hands itself to the
holder; a command that opens the workspace itself serves the others until it and they are done; a served
command runs here exactly as `quarry ARGV` would in its own process."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import select
import sys
import threading
import time
import traceback
from pathlib import Path

from engine.serve import session as served

BUSY_GRACE_S = 3.0  # a workspace just opened elsewhere is listening within this; past it, it is not ours
STDIN_MAX_BYTES = 8 << 20

_local = threading.local()
_patch_lock = threading.Lock()
_paths_patched = False


# -- the client: entry point and forwarding ---------------------------------------------------------
def record_invocation(argv: list[str]) -> None:
    """Marks this thread's command as started from a shell with `argv`: it may be handed to a holder.
    Piped stdin is recorded as the command reads it, so a holder gets what the command already read."""
    _local.argv = list(argv)
    stream = sys.stdin
    if stream is not None and not stream.isatty() and hasattr(stream, "buffer") and hasattr(stream.buffer, "raw"):
        recorder = _Recorder(stream.buffer.raw)
        sys.stdin = io.TextIOWrapper(io.BufferedReader(recorder), encoding=stream.encoding, errors=stream.errors)
        _local.stdin = recorder


class _Recorder(io.RawIOBase):
    def __init__(self, raw) -> None:
        self._raw = raw
        self.seen = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self.seen += bytes(buffer[:n])
        return n

    def fileno(self) -> int:
        return self._raw.fileno()


def open_workspace(path: Path | None):
    """Gives the workspace at `path` as a context manager. A served command borrows its holder's; a
    command from a shell whose workspace is held runs on the holder and exits here with its code; else
    the workspace is opened here and served to others while the command runs."""
    from engine.errors import WorkspaceBusy
    from engine.serve import client

    session = served.current()
    if session is not None:
        root = Path(path).expanduser().resolve() if path is not None else session.workspace.root
        if root == session.workspace.root:
            return contextlib.nullcontext(session.workspace)
        return _open(root)
    root = _resolve(path)
    argv = getattr(_local, "argv", None)
    if argv is None:  # called in-process (tests, scripts): opened here, as before serving existed
        return _open(root)
    deadline = time.monotonic() + BUSY_GRACE_S
    while True:
        code = client.forward(root, _request(argv, root))
        if code is not None:
            sys.stdout.flush()
            raise SystemExit(code)
        try:
            return _Holding(_open(root))
        except WorkspaceBusy:
            if time.monotonic() >= deadline:  # held by a process that does not serve (an older Quarry)
                raise
            time.sleep(0.05)


def _resolve(path: Path | None) -> Path:
    from engine import locations

    return Path(path or locations.default_workspace()).expanduser().resolve()


def _open(root: Path):
    from engine.workspace import Workspace

    return Workspace(root)


def _request(argv: list[str], root: Path):
    from engine.serve import protocol
    from engine.serve.holder import quarry_environment

    return protocol.Request(argv=argv, cwd=os.getcwd(), workspace=str(root), env=quarry_environment(),
                            stdin=base64.b64encode(_stdin_bytes(argv)).decode("ascii"),
                            stdin_tty=_isatty(sys.stdin), stdout_tty=_isatty(sys.stdout),
                            stderr_tty=_isatty(sys.stderr), version=protocol.quarry_version())


def _isatty(stream) -> bool:
    return stream is not None and stream.isatty()


def _stdin_bytes(argv: list[str]) -> bytes:
    """Gives the piped stdin the command read so far, plus what is waiting (or all of it, when `-` asks
    to wait for it): the holder replays it to the command."""
    recorder = getattr(_local, "stdin", None)
    if recorder is None or sys.stdin is None:
        return b""
    try:
        ready = "-" in argv or bool(select.select([recorder.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        ready = False
    if ready:
        sys.stdin.buffer.read(STDIN_MAX_BYTES + 1)  # recorded as it is read
    return bytes(recorder.seen)


class _Holding:
    """The workspace opened here, served to other Quarry processes until the command and theirs end."""

    def __init__(self, workspace) -> None:
        self.workspace = workspace
        self.holder = None

    def __enter__(self):
        self.holder = serve(self.workspace)
        return self.workspace

    def __exit__(self, exc_type, *_exc) -> None:
        try:
            if self.holder is not None:
                self.holder.stop(cancel=exc_type is not None)
        finally:
            self.workspace.close()


# -- the holder: serve and run requests --------------------------------------------------------------
def serve(workspace):
    """Starts serving `workspace` to other Quarry processes; gives the Holder, or None when the folder
    does not allow a socket (then this process works alone, as before)."""
    from engine.serve.errors import ServeError
    from engine.serve.holder import Holder

    try:
        return Holder(workspace, run_request).start()
    except ServeError:
        return None


def run_request(request, session) -> int:
    """Runs a client's `quarry ARGV` in this thread as its own process would; gives the exit code."""
    _patch_paths()
    return session.run(_invoke, request.argv)


def _invoke(argv: list[str]) -> int:
    import click

    from tui.cli import cli

    try:
        ctx = cli.make_context("quarry", list(argv), resilient_parsing=True)
        if not [*getattr(ctx, "_protected_args", ()), *ctx.args]:  # bare `quarry`: the app
            click.echo("Error: the app is not opened through another Quarry process", err=True)
            return 2
        cli.main(args=list(argv), prog_name="quarry", standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()  # a bug: as the command alone would, a traceback on its stderr
        return 1
    return 0


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _patch_paths() -> None:
    """Makes click.Path values relative to the client's working folder in served threads: the holder's
    cwd is its own and process-wide, so `quarry ingest ./docs` must be made absolute per command."""
    global _paths_patched
    with _patch_lock:
        if _paths_patched:
            return
        import click

        original = click.Path.convert

        def convert(self, value, param, ctx):
            session = served.current()
            if session is not None and isinstance(value, str | os.PathLike):
                text = os.fspath(value)
                if isinstance(text, str) and text not in ("", "-") and not os.path.isabs(text):
                    value = os.path.join(session.request.cwd, text)
            return original(self, value, param, ctx)

        click.Path.convert = convert
        _paths_patched = True
