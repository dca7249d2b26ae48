"""What a command served for a client sees: its own stdout, stderr and stdin, a cancel event, the workspace.

sys.stdout, sys.stderr and sys.stdin are process-wide, so the holder swaps in routers once: a thread that
runs a client's command writes to that client's frames, every other thread (the TUI, the holder's own
command) to what was there before."""

from __future__ import annotations

import base64
import ctypes
import io
import socket
import sys
import threading

from engine.serve import protocol

_current = threading.local()
_install_lock = threading.Lock()


def current() -> Session | None:
    """Gives the session whose command runs in this thread, or None outside served commands."""
    return getattr(_current, "session", None)


def cancel_event() -> threading.Event | None:
    """Gives the cancel event of the served command in this thread (jobs it starts stop when its client
    cancels or goes away), or None outside served commands."""
    session = current()
    return session.cancelled if session is not None else None


class _Output(io.TextIOBase):
    """A text stream whose writes become frames of one kind ("out" or "err") to the client."""

    def __init__(self, session: Session, kind: str, tty: bool) -> None:
        self._session = session
        self._kind = kind
        self._tty = tty

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._tty

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes streams with b"": this one is text only
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._session.send({"t": self._kind, "d": text})
        return len(text)


class _Stdin(io.TextIOWrapper):
    """The client's piped stdin, replayed; a terminal on the client is a terminal here too."""

    def __init__(self, data: str, tty: bool) -> None:
        super().__init__(io.BytesIO(base64.b64decode(data, validate=False)), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class Session:
    """One client's command: frames out over `conn`, cancel when the client asks or goes away."""

    def __init__(self, conn: socket.socket, request: protocol.Request, workspace) -> None:
        self.conn = conn
        self.request = request
        self.workspace = workspace
        self.cancelled = threading.Event()
        self.gone = False  # the client closed or died: what the command still writes is dropped
        self.stdout = _Output(self, "out", request.stdout_tty)
        self.stderr = _Output(self, "err", request.stderr_tty)
        self.stdin = _Stdin(request.stdin, request.stdin_tty)
        self._send_lock = threading.Lock()
        self._state = threading.Lock()
        self._thread_id: int | None = None  # set while the command runs (it may be interrupted then)

    def send(self, message: dict) -> None:
        if self.gone:
            return
        try:
            with self._send_lock:
                protocol.send(self.conn, message)
        except OSError:
            self.gone = True

    def run(self, fn, *args):
        """Runs fn(*args) in this thread as the session's command; gives its result."""
        install_routers()
        _current.session = self
        with self._state:
            self._thread_id = threading.get_ident()
        try:
            return fn(*args)
        finally:
            with self._state:
                self._thread_id = None
                # an interrupt asked for just as the command ended must not land in the holder's code
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)
            _current.session = None

    def interrupt(self, gone: bool = False) -> None:
        """Cancels the command as Ctrl-C would alone: jobs it started see their cancel event, and a
        KeyboardInterrupt is raised in its thread (at its next Python line; a call inside C finishes
        first), so it ends the way it ends when interrupted in its own process."""
        self.gone = self.gone or gone
        if self.cancelled.is_set():
            return
        self.cancelled.set()
        with self._state:
            if self._thread_id is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id),
                                                           ctypes.py_object(KeyboardInterrupt))


class _Router:
    """Stands in for sys.stdout/stderr/stdin: the session's stream in a served thread, else the old one."""

    def __init__(self, name: str, fallback) -> None:
        self._name = name
        self._fallback = fallback

    def _target(self):
        session = getattr(_current, "session", None)
        return getattr(session, self._name) if session is not None else self._fallback

    def __getattr__(self, attr: str):
        return getattr(self._target(), attr)

    def write(self, text):
        return self._target().write(text)

    def flush(self) -> None:
        target = self._target()
        if target is not None:
            target.flush()

    def isatty(self) -> bool:
        target = self._target()
        return target is not None and target.isatty()

    def __iter__(self):
        return iter(self._target())


def install_routers() -> None:
    """Puts the routers in place of sys.stdout, sys.stderr and sys.stdin (again if someone, such as
    Textual leaving, put its own back)."""
    with _install_lock:
        for name in ("stdout", "stderr", "stdin"):
            stream = getattr(sys, name)
            if not isinstance(stream, _Router):
                setattr(sys, name, _Router(name, stream))
