"""The wire format between a Quarry client and the holder of a workspace.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (an object with a "t" type).
Client → holder: one "run" request, then perhaps one "cancel" (Ctrl-C). Holder → client: "accepted" or
"refused", then "out"/"err" text as the command writes it, and "exit" with the code last."""

from __future__ import annotations

import json
import socket
import struct

from engine.serve.errors import ProtocolError

PROTOCOL = 1
_HEADER = struct.Struct(">I")
MAX_REQUEST_BYTES = 12 << 20  # argv + piped stdin (the CLI takes at most 8 MiB of stdin) + room
MAX_REPLY_BYTES = 8 << 20  # one chunk of output
REQUEST_TIMEOUT_S = 10.0  # a peer that connects and sends nothing is dropped after this


def quarry_version() -> str:
    """Gives this Quarry's version: a holder and a client of different versions do not talk. (engine's
    __version__, which a test keeps equal to the package's: importlib.metadata costs a client 80 ms.)"""
    from engine import __version__

    return __version__


def send(conn: socket.socket, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    conn.sendall(_HEADER.pack(len(data)) + data)


def receive(conn: socket.socket, limit: int) -> dict | None:
    """Gives the next frame's object, or None when the peer closed before a frame began; a frame over
    `limit`, cut short, or not a JSON object raises ProtocolError."""
    header = _read_exact(conn, _HEADER.size, allow_eof=True)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ProtocolError(f"message of {size} bytes is over the limit of {limit} bytes")
    body = _read_exact(conn, size, allow_eof=False)
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("message is not UTF-8 JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("message is not a JSON object with a type")
    return message


def _read_exact(conn: socket.socket, size: int, allow_eof: bool) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = conn.recv(min(size - got, 1 << 20))
        if not chunk:
            if allow_eof and got == 0:
                return None
            raise ProtocolError(f"message cut short ({got} of {size} bytes)")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class Request:
    """One command to run on the holder, as the client would have run it alone. (A plain class: the
    dataclasses module costs a client's start more than the rest of its imports.)"""

    def __init__(self, argv: list[str], cwd: str, workspace: str, env: dict[str, str] | None = None,
                 stdin: str = "", stdin_tty: bool = False, stdout_tty: bool = False, stderr_tty: bool = False,
                 protocol: int = PROTOCOL, version: str = "") -> None:
        self.argv = argv
        self.cwd = cwd
        self.workspace = workspace  # the folder the client resolved (--workspace, QUARRY_WORKSPACE, default)
        self.env = {} if env is None else env  # the client's QUARRY_* variables
        self.stdin = stdin  # base64 of what the client had on stdin (piped bytes), replayed to the command
        self.stdin_tty = stdin_tty
        self.stdout_tty = stdout_tty
        self.stderr_tty = stderr_tty
        self.protocol = protocol
        self.version = version

    def to_message(self) -> dict:
        return {"t": "run", **self.__dict__}

    @classmethod
    def from_message(cls, message: dict) -> Request:
        """Gives the request in a "run" frame; a missing or mistyped field raises ProtocolError."""
        if message.get("t") != "run":
            raise ProtocolError(f"expected a run request, got '{str(message.get('t'))[:40]}'")
        try:
            request = cls(**{k: v for k, v in message.items() if k != "t"})
        except TypeError as exc:
            raise ProtocolError(f"malformed run request ({exc})") from None
        checks = {"argv": isinstance(request.argv, list) and all(isinstance(a, str) for a in request.argv),
                  "cwd": isinstance(request.cwd, str), "workspace": isinstance(request.workspace, str),
                  "env": isinstance(request.env, dict) and all(
                      isinstance(k, str) and isinstance(v, str) for k, v in request.env.items()),
                  "stdin": isinstance(request.stdin, str), "protocol": isinstance(request.protocol, int),
                  "version": isinstance(request.version, str)}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ProtocolError(f"malformed run request (bad {', '.join(bad)})")
        return request
