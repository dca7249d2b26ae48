"""Where a workspace's socket lives and who may use it: the same OS user only."""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path

from engine.serve.errors import ServeError

SOCKET_NAME = "quarry.sock"
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with its NUL


def socket_path(root: Path) -> Path:
    """Gives the socket of the workspace at `root`: inside the folder, or, when that path is too long for
    a Unix socket address, in a private per-user folder under the temp dir named by the folder's hash."""
    inside = Path(root) / SOCKET_NAME
    if len(os.fsencode(inside)) <= _SUN_PATH_MAX:
        return inside
    import hashlib
    import tempfile

    digest = hashlib.sha1(os.fsencode(Path(root))).hexdigest()[:20]
    private = Path(tempfile.gettempdir()) / f"quarry-{os.getuid()}"
    try:
        private.mkdir(mode=0o700, exist_ok=True)
        found = private.lstat()
    except OSError as exc:
        raise ServeError(f"{private}: cannot make the private socket folder ({exc.strerror or exc})") from None
    # another user could have made it first, to receive our commands: only our own 0700 folder is used
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or stat.S_IMODE(found.st_mode) & 0o077:
        raise ServeError(f"{private}: not a private folder of this user; remove it, or use a shorter "
                         "workspace path")
    return private / f"{digest}.sock"


DB_FILE = "quarry.duckdb"  # engine.store.DB_NAME, without importing DuckDB (a test keeps them equal)
_FLOCK = struct.Struct("@hhqqi")  # struct flock: type, whence, start, len, pid (and tail padding)


def database_holder(root: Path) -> int | None:
    """Gives the PID of the process that holds the workspace's database open for writing (DuckDB's
    fcntl lock), or None; asks the kernel (F_GETLK) without taking the lock or loading DuckDB."""
    import fcntl

    try:
        fd = os.open(Path(root) / DB_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        asked = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + bytes(8)
        kind, _whence, _start, _len, pid = _FLOCK.unpack_from(fcntl.fcntl(fd, fcntl.F_GETLK, asked))
    except OSError:
        return None
    finally:
        os.close(fd)
    # A read-only open takes a read lock, which also conflicts with the write lock asked about: it holds
    # nothing a command would wait for (it could open the database itself), so it is not a holder.
    return pid if kind == fcntl.F_WRLCK else None


_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_credentials(conn: socket.socket) -> tuple[int, int]:
    """Gives (pid, uid) of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    pid, uid, _gid = _UCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return pid, uid


def refusal_for(peer_uid: int, own_uid: int) -> str | None:
    """Gives the one line that refuses a peer of another user, or None for the same user."""
    if peer_uid == own_uid:
        return None
    return (f"this workspace is held by a Quarry process of another user (uid {own_uid}, you are uid"
            f" {peer_uid}); use a workspace of your own with --workspace")
