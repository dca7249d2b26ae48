"""The CLI's side of serving (engine/serve): a command that finds its workspace held hands itself to the
holder; a command that opens the workspace itself serves the others until it and they are done; a served
command runs here exactly as `quarry ARGV` would in its own process."""

from __future__ import annotations

import contextlib
import io
import os
import select
import sys
import threading
from pathlib import Path

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
    if isinstance(getattr(stream, "buffer", None), io.BufferedReader) and isinstance(stream.buffer.raw, _Recorder):
        return  # recorded already (the launcher, then the CLI)
    if stream is not None and not stream.isatty() and isinstance(getattr(stream, "buffer", None), io.BufferedReader):
        _wrap_stdin(stream, _Recorder)


def _wrap_stdin(stream, make) -> None:
    """Re-makes sys.stdin over make(raw): the old wrapper is detached, not dropped (that would close fd 0)."""
    encoding, errors = stream.encoding, stream.errors
    raw = stream.detach().detach()
    sys.stdin = io.TextIOWrapper(io.BufferedReader(make(raw)), encoding=encoding, errors=errors)


class _Recorder(io.RawIOBase):
    """Stdin's bytes as read, kept; bytes taken ahead for a holder that then went away are read again."""

    def __init__(self, raw) -> None:
        self._raw = raw
        self.seen = bytearray()
        self._again = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._again:
            n = min(len(buffer), len(self._again))
            buffer[:n] = self._again[:n]
            self._again = self._again[n:]
            return n
        n = self._raw.readinto(buffer)
        if n:
            self.seen += bytes(buffer[:n])
        return n

    def fileno(self) -> int:
        return self._raw.fileno()

    def take_rest(self, argv: list[str]) -> bytes:
        """Gives all of stdin the command read, plus what is waiting (all of it, when `-` asks to wait):
        the holder replays it. stdin is then re-made so that, if no holder takes the command after all,
        the command here still reads what was taken ahead."""
        before = len(self.seen)
        try:
            ready = ("-" in argv or _reads_answers(argv)
                     or bool(select.select([self.fileno()], [], [], 0)[0]))
        except (OSError, ValueError):
            ready = False
        if ready:
            # bytes taken ahead by an earlier call (the launcher met a stale socket, then the CLI did) and not
            # read since stay first: read again here, they would not be seen anew and were lost
            unread, self._again = self._again, b""
            sys.stdin.buffer.read(STDIN_MAX_BYTES + 1)
            self._again = unread + bytes(self.seen[before:])
            _wrap_stdin(sys.stdin, lambda _raw: self)
        return bytes(self.seen)


def _reads_answers(argv: list[str]) -> bool:
    """Whether the command reads its stdin to the end whenever it comes, as `quarry classify review` reads
    piped answers: handed over at once, an idle pipe's answers were dropped (0 answered, exit 0)."""
    command = command_in_argv(argv)
    if command != "classify" or "--export" in argv:
        return False
    at = argv.index(command)
    return argv[at + 1:at + 2] == ["review"]


def forward_early(argv: list[str]) -> int | None:
    """Hands `quarry ARGV` to the holder of its workspace before the CLI is even loaded (the launcher's
    fast path); gives the exit code, or None when the command should run here as usual."""
    root = workspace_in_argv(argv)
    if root is None:
        return None
    from engine.serve import client
    from engine.serve.peer import database_holder, socket_path

    sock = socket_path(root)
    if not os.path.exists(sock):
        # A process that has just opened the database listens a moment later: wait for it here rather
        # than load the whole CLI and engine only to find the workspace held (8 commands at once).
        if database_holder(root) is None:
            return None
        import time

        deadline = time.monotonic() + BUSY_GRACE_S
        while not os.path.exists(sock):
            if time.monotonic() >= deadline or database_holder(root) is None:
                return None
            time.sleep(0.02)
    code = client.forward(root, _request(argv, root))
    sys.stdout.flush()
    return code


# commands that open the workspace named by -w/--workspace (or QUARRY_WORKSPACE, or the default)
_WORKSPACE_COMMANDS = {"ask", "chat", "chats", "classify", "compare", "docs", "eval", "export", "index",
                       "ingest", "jobs", "labels", "leaderboard", "recommend", "search"}


def command_in_argv(argv: list[str]) -> str | None:
    """Gives the command a command line runs (`quarry -w DIR ingest x` -> "ingest"), read without the CLI."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if not arg.startswith("-") and (i == 0 or args[i - 1] not in ("-w", "--workspace")):
            return arg
    return None


def workspace_in_argv(argv: list[str]) -> Path | None:
    """Gives the workspace a command line works on, read without the CLI; None when that is not plain
    (help, version, a command that does not open a workspace): the CLI then decides."""
    path, command, args = None, None, list(argv)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-h", "--help", "--version"):
            return None
        if arg in ("-w", "--workspace"):
            if i + 1 >= len(args):
                return None
            path = args[i + 1]
        elif arg.startswith("--workspace="):
            path = arg.split("=", 1)[1]
        elif arg.startswith("-w") and len(arg) > 2 and not arg.startswith("--"):
            path = arg[2:]
        elif command is None and not arg.startswith("-") and (i == 0 or args[i - 1] not in ("-w", "--workspace")):
            command = arg
    if command not in _WORKSPACE_COMMANDS:
        return None
    return _resolve(Path(path) if path else None)


def open_workspace(path: Path | None):
    """Gives the workspace at `path` as a context manager. A served command borrows its holder's; a
    command from a shell whose workspace is held runs on the holder and exits here with its code; else
    the workspace is opened here and served to others while the command runs."""
    from engine.errors import WorkspaceBusy
    from engine.serve import client
    from engine.serve.peer import socket_path
    from engine.serve.session import current

    session = current()
    if session is not None:
        root = Path(path).expanduser().resolve() if path is not None else session.workspace.root
        if root == session.workspace.root:
            return contextlib.nullcontext(session.workspace)
        return _open(root)
    root = _resolve(path)
    argv = getattr(_local, "argv", None)
    if argv is None:  # called in-process (tests, scripts): opened here, as before serving existed
        return _open(root)
    import time

    deadline = time.monotonic() + BUSY_GRACE_S
    sock = socket_path(root)
    while True:
        code = client.forward(root, _request(argv, root)) if os.path.exists(sock) else None
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
    if path is None:
        from engine import locations

        path = locations.default_workspace()
    return Path(path).expanduser().resolve()


def _open(root: Path):
    from engine.workspace import Workspace

    return Workspace(root)


def _request(argv: list[str], root: Path):
    import base64

    from engine.serve import protocol
    from engine.serve.holder import quarry_environment

    return protocol.Request(argv=argv, cwd=os.getcwd(), workspace=str(root), env=quarry_environment(),
                            stdin=base64.b64encode(_stdin_bytes(argv)).decode("ascii"),
                            stdin_tty=_isatty(sys.stdin), stdout_tty=_isatty(sys.stdout),
                            stderr_tty=_isatty(sys.stderr), version=protocol.quarry_version())


def _isatty(stream) -> bool:
    return stream is not None and stream.isatty()


def _stdin_bytes(argv: list[str]) -> bytes:
    """Gives the piped stdin for the holder to replay (see _Recorder.take_rest); none from a terminal."""
    raw = getattr(getattr(sys.stdin, "buffer", None), "raw", None)
    return raw.take_rest(argv) if isinstance(raw, _Recorder) else b""


class _Holding:
    """The workspace opened here, served to other Quarry processes until the command and theirs end."""

    def __init__(self, workspace) -> None:
        self.workspace = workspace
        self.holder = None

    def __enter__(self):
        self.holder = serve(self.workspace)
        return self.workspace

    def __getattr__(self, name: str):  # used without `with`, it is the workspace (not served)
        return getattr(self.workspace, name)

    def __exit__(self, exc_type, *_exc) -> None:
        try:
            if self.holder is not None:  # Ctrl-C here stops the clients' commands too; our own failure does not
                self.holder.stop(cancel=exc_type is not None and issubclass(exc_type, KeyboardInterrupt))
        finally:
            self.workspace.close()


# -- the holder: serve and run requests --------------------------------------------------------------
def serve(workspace, on_command=None):
    """Starts serving `workspace` to other Quarry processes; gives the Holder, or None when the folder
    does not allow a socket (then this process works alone, as before). `on_command(request, code)` hears
    each client's command start (code None) and end."""
    from engine.serve.errors import ServeError
    from engine.serve.holder import Holder

    try:
        return Holder(workspace, run_request, on_command=on_command).start()
    except (ServeError, OSError):  # a read-only or odd folder: this process works alone, as before serving
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
        import traceback

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

        from engine.serve.session import current

        original = click.Path.convert

        def convert(self, value, param, ctx):
            session = current()
            if session is not None and isinstance(value, str | os.PathLike):
                text = os.fspath(value)
                if isinstance(text, str) and text not in ("", "-") and not os.path.isabs(text):
                    value = os.path.join(session.request.cwd, text)
            return original(self, value, param, ctx)

        click.Path.convert = convert
        _paths_patched = True
