"""Workspace and database faults: a damaged or foreign database, folders that cannot be written, a full
disk and kill -9 each end in one line (or a clean resume), and what was stored stays consistent."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.store import DB_NAME
from tests.conftest import REPO, quarry_env
from tests.reliability.util import as_nobody, error_line, quarry, stored


@pytest.fixture
def ws(demo_workspace_dir, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    return root


def test_a_truncated_database_is_one_line(ws):
    db = ws / DB_NAME
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    error_line(quarry("docs", "-w", ws), DB_NAME, "move it aside", code=1)


def test_a_database_of_random_bytes_is_one_line(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / DB_NAME).write_bytes(random.Random(3).randbytes(300_000))
    error_line(quarry("docs", "-w", root), DB_NAME, code=1)


def test_a_database_header_overwritten_is_one_line(ws):
    db = ws / DB_NAME
    data = bytearray(db.read_bytes())
    data[:8192] = random.Random(5).randbytes(8192)
    db.write_bytes(bytes(data))
    error_line(quarry("search", "warranty", "-w", ws), DB_NAME, code=1)


def test_another_programs_duckdb_file_is_refused_and_left_alone(tmp_path):
    import duckdb

    root = tmp_path / "ws"
    root.mkdir()
    with duckdb.connect(str(root / DB_NAME)) as db:
        db.execute("CREATE TABLE invoices (id INTEGER, total DOUBLE); INSERT INTO invoices VALUES (1, 9.5)")
    error_line(quarry("docs", "-w", root), DB_NAME, "another program", code=1)
    with duckdb.connect(str(root / DB_NAME), read_only=True) as db:
        tables = {r[0] for r in db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"invoices"}


def test_a_workspace_path_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error_line(quarry("docs", "-w", blocker / "ws"), "cannot be created", code=1)


def test_a_workspace_path_that_is_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error_line(quarry("init", blocker), "file", code=(1, 2))


def test_read_only_indexes_that_need_a_rebuild_are_one_line(ws, open_tmp):
    root = open_tmp / "ws"
    shutil.copytree(ws, root)
    before = stored(root)
    (root / "indexes" / "vectors.faiss").unlink()
    with as_nobody(root):
        (root / "indexes").chmod(0o555)
        ran = quarry("search", "warranty", "-w", root)
        (root / "indexes").chmod(0o755)
    error_line(ran, "indexes", "writable", code=1)
    assert stored(root) == before  # rebuilt from DuckDB once writable


def test_the_workspace_open_elsewhere_is_one_line(ws):
    from tests.conftest import workspace_held_elsewhere

    with workspace_held_elsewhere(ws):
        error_line(quarry("search", "warranty", "-w", ws), "another Quarry process", code=1)


def _run_limited(args: list[str], fsize: int, env: dict) -> subprocess.CompletedProcess:
    """Runs the CLI with writes past `fsize` bytes failing as on a full disk (RLIMIT_FSIZE)."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))
        from tui.cli import main
        sys.argv = ["quarry", *{args!r}]
        main()
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=240)


def test_a_full_disk_leaves_the_stored_data_as_it_was(ws, tmp_path):
    before = stored(ws)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(2):
        (folder / f"big-{i}.md").write_text(f"# Big {i}\n" + " ".join(
            f"Line {j} of file {i} mentions warehouse {j * 7 % 101}." for j in range(2500)))
    done = _run_limited(["ingest", str(folder), "-w", str(ws)], fsize=256 * 1024, env=quarry_env())
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1 and ("full" in errors[0] or "space" in errors[0] or "too large" in errors[0])
    after = stored(ws)
    assert set(before.documents) <= set(after.documents)
    assert set(before.chunk_ids) <= set(after.chunk_ids)


FILES = 24


@pytest.mark.parametrize("kill_after", [1, 4])
def test_kill_9_during_ingest_then_a_rerun_completes_consistently(encoder, tmp_path, kill_after):
    folder = tmp_path / "many"
    folder.mkdir()
    # enough text that ingest commits several groups (a group is the files finished in about a second)
    for i in range(FILES):
        (folder / f"note-{i:02d}.md").write_text(
            f"# Note {i}\n" + " ".join(f"Item {i}-{j} covers topic {j * i % 17}." for j in range(400)))
    root = tmp_path / "ws"
    cmd = [sys.executable, "-m", "tui", "ingest", "--workspace", str(root), str(folder)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=quarry_env(), cwd=REPO)
    seen = 0
    for line in proc.stderr:
        seen += "chunks (" in line
        if seen >= kill_after:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL  # killed mid-ingest, not finished before the signal
    middle = stored(root)  # consistent right after the kill (indexes rebuilt from DuckDB if behind)
    assert kill_after <= len([d for d in middle.documents if d[1] == "ready"]) < FILES
    ran = quarry("ingest", folder, "-w", root)
    assert ran.code == 0, ran.stderr
    assert len(stored(root).documents) == FILES


def test_kill_9_during_a_chat_keeps_earlier_chats(ws, chat_model):
    first = quarry("chat", "--max-tokens", "4", "hello", "-w", ws)
    assert first.code == 0
    before = stored(ws)
    proc = subprocess.Popen([sys.executable, "-m", "tui", "chat", "--max-tokens", "200", "Tell a long story",
                             "-w", str(ws)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=quarry_env(), cwd=REPO)
    proc.stdout.read(1)  # the first token is out: the question is being stored
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    after = stored(ws)
    assert set(before.chats) <= set(after.chats) and after.messages >= before.messages
