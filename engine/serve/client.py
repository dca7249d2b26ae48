"""The asking side: hand a command to the process that holds the workspace and replay its answer here."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path

from engine.serve import protocol
from engine.serve.errors import ProtocolError, ServeError
from engine.serve.peer import socket_path

ACCEPT_TIMEOUT_S = 60.0  # a holder answers at once; one that does not is stopped (SIGSTOP) or wedged


def forward(root: Path, request: protocol.Request) -> int | None:
    """Runs `request` on the holder of the workspace at `root`, writing its stdout and stderr here as
    they come; gives its exit code, or None when no process serves the workspace (no socket, a stale one
    left by a killed holder, or a holder that closed before taking the request): then open it here.
    A refusal, or a holder that stops half-way, raises ServeError (one line)."""
    path = socket_path(root)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except PermissionError:
        conn.close()
        raise ServeError(f"{path}: this workspace is held by a Quarry process of another user;"
                         " use a workspace of your own with --workspace") from None
    except OSError:  # FileNotFoundError, ConnectionRefusedError (stale), and anything not a socket
        conn.close()
        return None
    with conn:
        conn.settimeout(ACCEPT_TIMEOUT_S)
        try:
            protocol.send(conn, request.to_message())
            first = protocol.receive(conn, protocol.MAX_REPLY_BYTES)
        except TimeoutError:
            raise ServeError(f"{path}: the Quarry process holding this workspace does not answer (stopped?);"
                             " resume or close it, and run again") from None
        except (OSError, ProtocolError):
            return None  # closing between our connect and its accept: nothing ran
        if first is None:
            return None
        conn.settimeout(None)
        if first.get("t") == "refused":
            raise ServeError(str(first.get("message", "the holder refused the request")))
        holder = f"the Quarry process holding {root} (PID {first.get('pid', '?')})"
        return _replay(conn, holder)


def _replay(conn: socket.socket, holder: str) -> int:
    cancelled = False
    while True:
        try:
            message = protocol.receive(conn, protocol.MAX_REPLY_BYTES)
        except KeyboardInterrupt:
            if cancelled:
                raise
            cancelled = True  # the holder interrupts the command; it ends as it would here
            with contextlib.suppress(OSError):
                protocol.send(conn, {"t": "cancel"})
            continue
        except (OSError, ProtocolError):
            message = None
        if message is None:
            raise ServeError(f"{holder} stopped before the command finished; run it again")
        kind = message.get("t")
        if kind == "out":
            try:
                sys.stdout.write(message.get("d", ""))
                sys.stdout.flush()
            except BrokenPipeError:  # the reader left (`quarry chats | head -1`): stop, saying nothing, as alone
                with contextlib.suppress(OSError):
                    protocol.send(conn, {"t": "cancel"})
                # stdout still holds what could not be written, and Python would complain flushing it at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 1
        elif kind == "err":
            sys.stderr.write(message.get("d", ""))
            sys.stderr.flush()
        elif kind == "exit":
            code = message.get("code")
            return code if isinstance(code, int) else 1
