"""The holder's socket and protocol with real sockets: refusals are one line and change nothing on the
holder, which serves the next request as before. The handler is the CLI's own (tui/serving.py)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import struct
from pathlib import Path

import pytest

from engine.serve import client, protocol
from engine.serve.errors import ServeError
from engine.serve.holder import Holder, quarry_environment
from engine.serve.peer import socket_path
from tui.serving import run_request


def test_the_version_a_holder_checks_is_the_package_version():
    import engine

    assert engine.__version__ == importlib.metadata.version("quarry")


def test_the_lock_probe_sees_duckdbs_lock_and_names_the_same_file(demo_workspace, tmp_path):
    import subprocess
    import sys

    from engine.serve.peer import DB_FILE, database_holder
    from engine.store import DB_NAME

    assert DB_FILE == DB_NAME
    assert database_holder(tmp_path) is None  # no database
    probe = subprocess.run([sys.executable, "-c", "import sys; from engine.serve.peer import database_holder;"
                            " print(database_holder(sys.argv[1]))", str(demo_workspace.root)],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == str(os.getpid())  # this process holds it open (the fixture)


def test_a_read_only_open_is_not_a_holder(tmp_path):
    """A process that opened the database read-only (a read-only mount, `quarry docs` by another user)
    holds a read lock: commands must not wait for it to serve them, it never will."""
    import subprocess
    import sys

    from engine.serve.peer import database_holder
    from engine.workspace import Workspace

    Workspace(tmp_path).close()
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; db = duckdb.connect(sys.argv[1],"
                               " read_only=True); print('open', flush=True); sys.stdin.readline()",
                               str(tmp_path / "quarry.duckdb")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        assert database_holder(tmp_path) is None  # it was the reader's pid before the fix
    finally:
        reader.communicate("\n", timeout=30)


def request(root: Path, *argv: str, **changes) -> protocol.Request:
    fields = dict(argv=list(argv), cwd=os.getcwd(), workspace=str(root), env=quarry_environment(),
                  version=protocol.quarry_version())
    fields.update(changes)
    return protocol.Request(**fields)


@pytest.fixture
def holder(demo_workspace):
    with Holder(demo_workspace, run_request).start() as serving:
        yield serving


def docs_through(holder, capsys) -> list[dict]:
    """Runs `quarry docs --json` through the holder as a client would; gives the documents."""
    capsys.readouterr()
    assert client.forward(holder.root, request(holder.root, "docs", "--json")) == 0
    return json.loads(capsys.readouterr().out)


def raw(holder, data: bytes, then_read: bool = True) -> dict | None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(holder.path))
        conn.sendall(data)
        return protocol.receive(conn, protocol.MAX_REPLY_BYTES) if then_read else None


def frame(obj) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def test_the_socket_is_the_users_only_and_goes_with_the_holder(demo_workspace):
    serving = Holder(demo_workspace, run_request).start()
    path = demo_workspace.root / "quarry.sock"
    assert path.is_socket() and path.stat().st_mode & 0o777 == 0o600
    serving.stop()
    assert not path.exists()
    assert client.forward(demo_workspace.root, request(demo_workspace.root, "docs")) is None  # not held


def test_malformed_messages_are_refused_in_one_line_and_the_holder_serves_on(holder, capsys):
    before = docs_through(holder, capsys)
    refusals = {
        "HTTP": raw(holder, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),  # its first 4 bytes: a 1.2 GB "length"
        "oversized": raw(holder, struct.pack(">I", protocol.MAX_REQUEST_BYTES + 1)),
        "not JSON": raw(holder, frame(b"\xff\xfe not json")),
        "not an object": raw(holder, frame([1, 2, 3])),
        "not a run": raw(holder, frame({"t": "hello"})),
        "missing fields": raw(holder, frame({"t": "run", "argv": ["docs"]})),
        "wrong types": raw(holder, frame({**request(holder.root, "docs").to_message(), "argv": "docs"})),
        "unknown field": raw(holder, frame({**request(holder.root, "docs").to_message(), "rm": "-rf"})),
    }
    for name, reply in refusals.items():
        assert reply["t"] == "refused", name
        assert "\n" not in reply["message"] and reply["message"], name
    assert "over the limit" in refusals["oversized"]["message"]
    raw(holder, b"", then_read=False)  # connects and leaves
    raw(holder, b"\x00\x00\x01\x00{\"t\":", then_read=False)  # leaves half-way through a frame
    assert docs_through(holder, capsys) == before
    assert holder.served >= 1


def test_a_request_the_holder_cannot_run_as_the_client_would_is_refused(holder, capsys):
    root = holder.root
    cases = {"Quarry 9.9": request(root, "docs", version="9.9"),
             # a thread count other than the holder's own (the suite sets one per xdist worker)
             "QUARRY_THREADS": request(root, "docs", env={**quarry_environment(), "QUARRY_THREADS": str(
                 int(os.environ.get("QUARRY_THREADS") or 1) + 1)}),
             "does not hold": request(root, "docs", workspace=str(root.parent))}
    for needle, asked in cases.items():
        with pytest.raises(ServeError, match=needle) as caught:
            client.forward(root, asked)
        assert "\n" not in str(caught.value)
    assert docs_through(holder, capsys)


def test_a_client_that_leaves_mid_stream_changes_nothing(holder, capsys):
    before = docs_through(holder, capsys)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(holder.path))
        protocol.send(conn, request(holder.root, "search", "return window", "--k", "50").to_message())
        assert protocol.receive(conn, protocol.MAX_REPLY_BYTES)["t"] == "accepted"
    assert docs_through(holder, capsys) == before


def test_a_peer_of_another_uid_is_refused(demo_workspace, capsys):
    """The SO_PEERCRED check on a real connection: this holder belongs to another uid (as if it ran under
    another user), so our own uid is the foreign one. A real second user: tests/cli/test_cli_serve_users.py."""
    with Holder(demo_workspace, run_request, uid=os.getuid() + 1).start() as other:
        with pytest.raises(ServeError, match="another user") as caught:
            client.forward(demo_workspace.root, request(demo_workspace.root, "docs"))
        assert "\n" not in str(caught.value)
        assert other.served == 0


def test_a_workspace_too_deep_for_a_socket_address_is_served_from_a_private_folder(tmp_path, capsys):
    from engine.workspace import Workspace

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = socket_path(deep)
    assert len(os.fsencode(path)) <= 107 and path.parent.stat().st_mode & 0o777 == 0o700
    assert socket_path(tmp_path) == tmp_path / "quarry.sock"
    with Workspace(deep) as ws, Holder(ws, run_request).start():
        capsys.readouterr()
        assert client.forward(ws.root, request(ws.root, "docs", "--json")) == 0
        assert json.loads(capsys.readouterr().out) == []
    assert not path.exists()
