"""The holder's side: listen on the workspace's socket, check each peer, run its request, drain on stop."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from engine.serve import protocol
from engine.serve.errors import ProtocolError, ServeError
from engine.serve.peer import peer_credentials, refusal_for, socket_path
from engine.serve.session import Session

# handler(request, session) -> exit code: the front runs the request's command inside session.run(...)
Handler = Callable[[protocol.Request, Session], int]
# on_command(request, code): a client's command started (code None) or ended; the app shows it
Listener = Callable[[protocol.Request, int | None], None]

_POLL_S = 0.05


class Holder:
    """Serves a workspace this process holds (its DuckDB file is open here, for writing)."""

    def __init__(self, workspace, handler: Handler, uid: int | None = None,
                 on_command: Listener | None = None) -> None:
        self.workspace = workspace
        self.on_command = on_command
        self.root = Path(workspace.root)
        self.path = socket_path(self.root)
        self.handler = handler
        self.uid = os.getuid() if uid is None else uid  # tests pass another uid to see a refusal
        self.version = protocol.quarry_version()
        self.served = 0
        self._sessions: set[Session] = set()
        self._active = 0  # connections accepted and not yet done (admitted or not): stop waits for them
        self._lock = threading.Condition()
        self._stopping = False
        self._closing = False  # stopping with cancel: a new client is closed unanswered, so it opens it itself
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._inode = -1

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> Holder:
        """Binds the socket (replacing a stale one: this process holds the database, so no live holder
        can own it) and starts accepting in a daemon thread."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # bound under a private name, made 0600, then renamed into place: the socket is never reachable
        # with wider rights, and a client never meets a half-made one
        staging = self.path.with_name(f".q{os.getpid()}")  # no longer than the name: the address must fit
        try:
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()  # on a read-only mount this fails (EROFS) before it looks for the name
            listener.bind(str(staging))
            os.chmod(staging, 0o600)
            listener.listen(64)
            os.replace(staging, self.path)
            self._inode = os.stat(self.path).st_ino
        except OSError as exc:
            listener.close()
            with contextlib.suppress(OSError):
                staging.unlink()
            raise ServeError(f"{self.path}: cannot listen for other Quarry processes ({exc.strerror or exc});"
                             " make the workspace folder writable") from None
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="quarry-holder", daemon=True)
        self._thread.start()
        return self

    def stop(self, cancel: bool = False, timeout: float | None = None) -> None:
        """Stops serving: with `cancel`, the commands of clients are interrupted; otherwise they finish
        first (and new clients are still served until none is left, so none is turned away half-way).
        The socket is removed while this process still holds the database."""
        with self._lock:
            self._stopping = True
            self._closing = self._closing or cancel
            if cancel:
                for session in list(self._sessions):
                    session.interrupt()
            self._lock.wait_for(lambda: not self._active, timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.stop(cancel=exc_type is not None and issubclass(exc_type, KeyboardInterrupt))

    # -- accepting ----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        listener = self._listener
        try:
            while True:
                ready, _, _ = select.select([listener], [], [], _POLL_S)
                if ready:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        continue
                    with self._lock:
                        self._active += 1
                    threading.Thread(target=self._serve, args=(conn,), name="quarry-serve", daemon=True).start()
                    continue
                with self._lock:
                    if self._stopping and not self._active:
                        break
        finally:
            self._unlink()
            listener.close()

    def _unlink(self) -> None:
        """Removes the socket file if it is still ours (a later holder's must stay)."""
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()

    # -- one connection -----------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        session = None
        try:
            with conn:
                session = self._admit(conn)
                if session is None:
                    return
                threading.Thread(target=self._watch, args=(session,), name="quarry-watch", daemon=True).start()
                self._tell(session.request, None)
                try:
                    code = self.handler(session.request, session)
                except BaseException as exc:  # a bug in the front: the client gets one line, we go on
                    session.send({"t": "err", "d": f"Error: the holder failed ({type(exc).__name__}: {exc})\n"})
                    code = 1
                session.send({"t": "exit", "code": int(code)})
                self._tell(session.request, int(code))
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client went away: its command was cancelled by the watcher
        finally:
            with self._lock:
                if session is not None:
                    self._sessions.discard(session)
                    self.served += 1
                self._active -= 1
                self._lock.notify_all()

    def _tell(self, request: protocol.Request, code: int | None) -> None:
        if self.on_command is not None:
            with contextlib.suppress(Exception):  # the listener's trouble is never the client's
                self.on_command(request, code)

    def _admit(self, conn: socket.socket) -> Session | None:
        """Checks the peer and reads its request; gives the session, or None after a one-line refusal."""
        if self._closing:
            return None
        _pid, uid = peer_credentials(conn)
        refusal = refusal_for(uid, self.uid)
        if refusal is None:
            conn.settimeout(protocol.REQUEST_TIMEOUT_S)
            try:
                message = protocol.receive(conn, protocol.MAX_REQUEST_BYTES)
                if message is None:
                    return None  # connected and left: a probe
                request = protocol.Request.from_message(message)
                refusal = self._mismatch(request)
            except ProtocolError as exc:
                refusal = f"the Quarry process holding {self.root} (PID {os.getpid()}) refused a request: {exc}"
            except TimeoutError:
                refusal = f"no request within {protocol.REQUEST_TIMEOUT_S:.0f} s"
        if refusal is not None:
            _refuse(conn, refusal)
            return None
        conn.settimeout(None)
        session = Session(conn, request, self.workspace)
        with self._lock:
            self._sessions.add(session)
        session.send({"t": "accepted", "pid": os.getpid()})
        return session

    def _mismatch(self, request: protocol.Request) -> str | None:
        """Gives why this holder cannot run the request as the client would have run it, or None."""
        who = f"the Quarry process holding {self.root} (PID {os.getpid()})"
        if request.protocol != protocol.PROTOCOL or request.version != self.version:
            return (f"{who} is Quarry {self.version}, this is Quarry {request.version or '?'}; run the same"
                    " version, or close that one")
        if Path(request.workspace) != self.root:
            return f"{who} does not hold {request.workspace}"
        own = quarry_environment()
        differ = sorted(k for k in set(own) | set(request.env) if own.get(k) != request.env.get(k))
        if differ:
            return (f"{who} runs with other settings in the environment ({', '.join(differ)}); run with the"
                    " same QUARRY_ variables, or close that process")
        return None

    def _watch(self, session: Session) -> None:
        """Reads what the client sends after its request: "cancel" (Ctrl-C) or the end of the connection
        (closed or killed) interrupts its command; anything else is ignored."""
        conn = session.conn
        while True:
            try:
                message = protocol.receive(conn, 1 << 10)
            except (OSError, ProtocolError):
                message = None
            if message is None:
                session.interrupt(gone=True)
                return
            if message.get("t") == "cancel":
                session.interrupt()


def _refuse(conn: socket.socket, refusal: str) -> None:
    """Sends the one-line refusal, then reads what the client still sends until it closes (briefly):
    closing a Unix socket with unread data resets it, and the client would lose the line."""
    with contextlib.suppress(OSError):
        conn.settimeout(1.0)
        protocol.send(conn, {"t": "refused", "message": refusal})
        conn.shutdown(socket.SHUT_WR)
        drained = 0
        while drained < protocol.MAX_REQUEST_BYTES:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            drained += len(chunk)


_UNSHARED = {"QUARRY_WORKSPACE"}  # each client names its own; the holder checks it is this one


def quarry_environment() -> dict[str, str]:
    """Gives this process's QUARRY_* variables that change how a command runs."""
    return {k: v for k, v in os.environ.items() if k.startswith("QUARRY_") and k not in _UNSHARED}
