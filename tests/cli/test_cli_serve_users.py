"""Only the same OS user gets in: a real second user (made with useradd, run with setpriv) on each side.
Needs root; the other user runs the system Python on the stdlib-only client and holder (engine/serve)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.serve_holder import tui_holder

OTHER = "quarry-peer"
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    os.getuid() != 0 or not shutil.which("setpriv") or not shutil.which("useradd")
    or not os.path.exists(SYSTEM_PYTHON), reason="needs root, setpriv, useradd and a system python3")


@pytest.fixture(scope="module")
def other_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(OTHER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER],
                       check=True)
        return pwd.getpwnam(OTHER)


def as_user(user: pwd.struct_passwd, code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                             SYSTEM_PYTHON, "-c", textwrap.dedent(code), *args], cwd=REPO,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, text=True, **kwargs)


@pytest.fixture
def shared_dir():
    """A folder both users can walk into (pytest's own tmp folders are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="quarry-users-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_another_user_cannot_reach_a_holder(demo_workspace_dir, shared_dir, other_user):
    ws = shared_dir / "ws"
    shutil.copytree(demo_workspace_dir, ws)
    ws.chmod(0o755)
    with tui_holder(ws):
        client = as_user(other_user, """
            import sys
            from tui.launch import main
            sys.argv = ["quarry", "docs", "-w", sys.argv[1]]
            main()
        """, str(ws), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = client.communicate(timeout=60)
    assert client.returncode == 1 and out == ""
    assert err.count("\n") == 1 and "another user" in err, err


def test_a_holder_refuses_a_peer_of_another_uid(shared_dir, other_user):
    """Root can connect to any socket, so a holder run by the other user sees a foreign uid (SO_PEERCRED)."""
    from engine.serve import client, protocol
    from engine.serve.errors import ServeError

    folder = shared_dir / "theirs"
    folder.mkdir()
    os.chown(folder, other_user.pw_uid, other_user.pw_gid)
    holder = as_user(other_user, """
        import sys, types
        from pathlib import Path
        from engine.serve.holder import Holder
        def never(request, session):
            raise AssertionError("a foreign peer's request ran")
        with Holder(types.SimpleNamespace(root=Path(sys.argv[1])), never).start() as serving:
            print("serving", flush=True)
            sys.stdin.readline()
            print("served", serving.served, flush=True)
    """, str(folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "serving"
        asked = protocol.Request(argv=["docs"], cwd="/", workspace=str(folder), version=protocol.quarry_version())
        with pytest.raises(ServeError, match="another user") as caught:
            client.forward(folder, asked)
        assert "\n" not in str(caught.value)
        out, _ = holder.communicate("\n", timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert out.strip() == "served 0"  # refused before anything ran, and it stopped cleanly
