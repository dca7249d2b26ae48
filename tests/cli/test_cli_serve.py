"""One workspace, many windows: real `quarry` processes beside a real holder (the TUI, headless, in its
own process), and beside each other."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reliability.util import stored
from tests.serve_holder import tui_holder


def quarry(*args, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `quarry ARGS` as a shell would: its own process, through the launcher."""
    return subprocess.run([sys.executable, "-m", "tui", *map(str, args)], cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def hits(ran: subprocess.CompletedProcess) -> list[tuple[int, float]]:
    assert ran.returncode == 0, ran.stderr
    return [(h["chunk_id"], round(h["score"], 6)) for h in json.loads(ran.stdout)["hits"]]


def parallel(n: int, *args) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: quarry(*args), range(n)))


@pytest.fixture
def ws(demo_workspace_dir, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    return root


QUERY = ("search", "return window for opened electronics", "--json", "--k", "3")


def test_clients_search_ask_and_ingest_through_the_tui(ws, tmp_path):
    alone = hits(quarry(*QUERY, "-w", ws))
    docs = tmp_path / "new"
    docs.mkdir()
    for i in range(3):
        (docs / f"note{i}.md").write_text(f"# Note {i}\n\nThe zebra-{i} protocol ships on Tuesdays.\n")
    with tui_holder(ws) as holder:
        assert oct((ws / "quarry.sock").stat().st_mode & 0o777) == "0o600"
        runs = parallel(8, *QUERY, "-w", ws)  # the TUI holds the database: each ran in the holder
        assert [hits(r) for r in runs] == [alone] * 8
        asked = quarry("ask", "-", "--generate", "--max-tokens", "16", "-w", ws, "--json",
                       stdin="What is the return window?\n",
                       timeout=300)  # piped stdin; the model loads in the holder
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout)["question"] == "What is the return window?"
        assert json.loads(asked.stdout)["answer"].strip()
        ingested = subprocess.run(  # a path relative to the client's folder, not the holder's
            [sys.executable, "-m", "tui", "ingest", "new", "-w", str(ws), "--json"],
                                  cwd=tmp_path, capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
        assert ingested.returncode == 0, ingested.stderr
        assert json.loads(ingested.stdout)["ingested"] == 3
        listed = quarry("docs", "-w", ws, "--json")
        assert sum("note" in d["path"] for d in json.loads(listed.stdout)) == 3
        # a blind run from a terminal: the holder cannot read the client's terminal, so it says how to vote
        # (it said "Aborted!" before)
        main_fd, tty_fd = os.openpty()
        try:
            blind = subprocess.run([sys.executable, "-m", "tui", "compare", "--blind", "--models",
                                    "smollm2-135m,gemma3-270m", "--max-tokens", "2", "Say hi", "-w", str(ws)],
                                   cwd=REPO, stdin=tty_fd, capture_output=True, text=True, timeout=300,
                                   env=dict(os.environ))
        finally:
            os.close(tty_fd)
            os.close(main_fd)
        assert blind.returncode == 0 and "Aborted" not in blind.stderr, blind.stderr
        assert "vote with `quarry compare vote" in blind.stderr
        assert holder.poll() is None
    after = stored(ws)  # DuckDB, FAISS and tantivy agree after the client's ingest
    assert sum("note" in d[0] for d in after.documents) == 3


def test_parallel_searches_without_a_holder_all_succeed(ws):
    alone = hits(quarry(*QUERY, "-w", ws))
    runs = parallel(8, *QUERY, "-w", ws)  # the first to open it serves the others
    assert [r.returncode for r in runs] == [0] * 8, [r.stderr for r in runs if r.returncode]
    assert [hits(r) for r in runs] == [alone] * 8
    assert not (ws / "quarry.sock").exists()  # the last holder took its socket with it


def test_kill_9_of_the_holder_then_a_command_takes_over(ws):
    alone = hits(quarry(*QUERY, "-w", ws))
    with tui_holder(ws) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert (ws / "quarry.sock").exists()  # stale: nobody listens
        after = quarry(*QUERY, "-w", ws)
    assert hits(after) == alone
    assert not (ws / "quarry.sock").exists()
    stored(ws)  # nothing lost, the three stores agree


def test_a_client_killed_mid_ingest_cancels_its_job(ws, tmp_path):
    """Decided: a client's job runs for that client, as in its own process: when the client is killed
    (or presses Ctrl-C) the holder cancels the job; what it committed stays and `jobs resume` goes on."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(120):
        (folder / f"doc{i:03}.md").write_text(f"# Doc {i}\n\n" + f"Paragraph {i} on shipping zones. " * 60)
    with tui_holder(ws) as holder:
        client = subprocess.Popen([sys.executable, "-m", "tui", "ingest", str(folder), "-w", str(ws)], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        first = client.stderr.readline()
        assert first.startswith("[1/120]"), first
        client.kill()
        client.wait()
        deadline = time.monotonic() + 60
        while True:
            listed = json.loads(quarry("jobs", "--all", "-w", ws, "--json").stdout)
            job = max(listed, key=lambda j: j["id"])
            if job["status"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert job["kind"] == "ingest" and job["status"] == "cancelled", job
        assert 0 < job["done"] < 120
        resumed = quarry("jobs", "resume", job["id"], "-w", ws)  # through the holder still
        assert resumed.returncode == 0, resumed.stderr
        assert holder.poll() is None
    assert sum("many" in d[0] for d in stored(ws).documents) == 120


def test_a_client_of_another_version_gets_one_line(ws):
    with tui_holder(ws):
        ran = subprocess.run([sys.executable, "-c", "import engine; engine.__version__ = '9.9.9';"
                              " import sys; sys.argv = ['quarry', 'docs', '-w', sys.argv[1]];"
                              " from tui.launch import main; main()", str(ws)],
                             cwd=REPO, capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert ran.returncode == 1
        assert ran.stderr.count("\n") == 1 and "Quarry 0.1.0, this is Quarry 9.9.9" in ran.stderr, ran.stderr
        assert quarry("docs", "-w", ws).returncode == 0  # the holder serves on


@pytest.mark.parametrize(("argv", "expected"), [
    (["search", "x", "-w", "/a"], "/a"), (["-w", "/a", "ask", "q"], "/a"), (["docs", "--workspace=/a"], "/a"),
    (["docs", "-w/a"], "/a"), (["search", "--", "-w"], "default"), (["docs"], "default"),
    (["search", "x", "-w", "/a", "--help"], None), (["models", "list"], None), ([], None), (["--version"], None),
    (["init", "-w", "/a"], None), (["search", "-w"], None)])
def test_the_launcher_reads_the_workspace_from_argv_as_the_cli_would(argv, expected, monkeypatch, tmp_path):
    from tui.serving import workspace_in_argv

    monkeypatch.setenv("QUARRY_WORKSPACE", str(tmp_path))
    want = {"default": tmp_path.resolve(), None: None}.get(expected, Path(expected or "/").resolve())
    assert workspace_in_argv(argv) == want


def test_a_clients_relative_file_or_table_is_read_from_its_own_folder(tmp_path):
    """`quarry recommend import --items cat.csv` and `quarry compare batch prompts.txt` take a file or a
    table name, not a click.Path: served by the app, the file was looked for in the app's folder ("cat.csv:
    no such file"), though the same command alone found it."""
    root = tmp_path / "ws"
    assert quarry("init", root).returncode == 0
    client = tmp_path / "client"
    client.mkdir()
    (client / "cat.csv").write_text("item_id,title,price\nA-1,Quiet chair,99\nA-2,Loud desk,199\n")
    (client / "log.csv").write_text("user_id,item_id,timestamp\nu1,A-1,2026-01-01\nu2,A-2,2026-01-02\n")
    with tui_holder(root) as holder:
        ran = subprocess.run([sys.executable, "-m", "tui", "recommend", "import", "--items", "cat.csv",
                              "--interactions", "log.csv", "-w", str(root), "--json"], cwd=client,
                             capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert ran.returncode == 0, ran.stderr
        assert sorted(r["rows"] for r in json.loads(ran.stdout)) == [2, 2]
        missing = subprocess.run([sys.executable, "-m", "tui", "compare", "batch", "nope.txt", "--models",
                                  "smollm2-135m,gemma3-270m", "-w", str(root)], cwd=client, capture_output=True,
                                 text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert missing.returncode != 0 and f"{client}/nope.txt" in missing.stderr, missing.stderr
        assert holder.poll() is None


def test_a_client_whose_reader_left_stops_quietly_as_alone(tmp_path):
    """`quarry chats | head -3` beside the app printed a BrokenPipeError traceback from the client (the
    command alone stops quietly, exit 1)."""
    root = tmp_path / "ws"
    assert quarry("init", root).returncode == 0
    with tui_holder(root) as holder:
        read, write = os.pipe()
        os.close(read)  # the reader has gone before the first line
        try:
            ran = subprocess.run([sys.executable, "-m", "tui", "labels", "list", "-w", str(root)], cwd=REPO,
                                 stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ))
        finally:
            os.close(write)
        assert "Traceback" not in ran.stderr and "BrokenPipeError" not in ran.stderr, ran.stderr
        assert ran.returncode == 1 and ran.stderr == ""
        assert holder.poll() is None
