"""One writer: ingest, remove, search and chat writes in threads at once leave DuckDB, FAISS and tantivy
holding the same chunk ids — also after a kill -9 at a random point — and no thread sees a DuckDB
write conflict."""

import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from engine.documents.ingest import remove_document, start_ingest
from engine.workspace import Workspace
from tests.conftest import REPO, quarry_env
from tests.helpers import assert_consistent


def _notes(folder, n: int, lines: int = 30) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = " ".join(f"Note {i} line {j} covers topic {(i * j) % 13} and budget {j}." for j in range(lines))
        (folder / f"note-{i:02d}.md").write_text(f"# Note {i}\n{body}")


def _in_threads(*targets, seconds: float = 60.0) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # collected and reported by the test
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock-order deadlock?)"
    return errors


def test_ingest_remove_search_and_chat_writes_at_once_agree(encoder, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _notes(first, 8)
    _notes(second, 10)
    with Workspace(tmp_path / "ws") as ws:
        start_ingest(ws, [first]).wait()
        ws.searcher().checkpoint()
        ingest_done = threading.Event()
        removed: list[int] = []

        def ingest():
            try:
                start_ingest(ws, [second]).wait()
            finally:
                ingest_done.set()

        def remove():
            for doc in ws.store.documents():
                if "/first/" in doc.path and len(removed) < 4:
                    remove_document(ws, doc.id)
                    removed.append(doc.id)
                    time.sleep(0.02)

        def search():
            while not ingest_done.is_set():
                ws.searcher().search("budget topic", 5)
                ws.searcher().search("note line", 5, "keyword")

        def chat():
            chat_id = ws.store.create_chat("threads", None)
            while not ingest_done.is_set():
                ws.store.add_message(chat_id, "user", "hello", None)
                ws.store.set_state("chat-writer", str(time.time()))

        errors = _in_threads(ingest, remove, search, chat)
        assert errors == []
        assert len(removed) == 4
        ids = assert_consistent(ws)
        assert len({d.path for d in ws.store.documents()}) == 8 + 10 - 4
        assert len(ids) == ws.store.chunk_count()
    with Workspace(tmp_path / "ws") as ws:  # the saved indexes are trusted and right
        assert ws.searcher().rebuilt == []
        assert_consistent(ws)


def test_a_checkpoint_waits_for_a_commit_and_its_index_apply(encoder, tmp_path):
    """The old race: a checkpoint between one thread's commit and its index apply tagged the indexes
    with a generation whose chunks they lacked, and a crash then made those chunks unsearchable."""
    folder = tmp_path / "docs"
    _notes(folder, 3)
    with Workspace(tmp_path / "ws") as ws:
        start_ingest(ws, [folder]).wait()
        store, searcher = ws.store, ws.searcher()
        doc = store.documents()[0]
        inside, checkpointed = threading.Event(), threading.Event()

        def writer():
            with store.writing():
                removed = store.delete_document(doc.id)
                store.bump_generation()
                inside.set()
                time.sleep(0.5)  # a checkpoint asked for now must wait for the apply below
                assert not checkpointed.is_set()
                searcher.remove(removed)

        def checkpoint():
            inside.wait(10)
            searcher.checkpoint()
            checkpointed.set()

        assert _in_threads(writer, checkpoint) == []
        generation = store.chunk_generation()
    with Workspace(tmp_path / "ws") as ws:  # as after a crash: the saved tag is trusted as it is
        assert ws.searcher().rebuilt == [] and ws.searcher().vectors.generation == generation
        assert_consistent(ws)


def test_state_writes_from_many_threads_never_conflict(tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        def bump():
            for _ in range(15):
                ws.store.bump_generation()

        assert _in_threads(bump, bump, bump, bump) == []
        assert ws.store.chunk_generation() == 60


KILLED = textwrap.dedent("""
    import sys, threading, time
    import engine.documents.ingest as ingest
    from engine.documents.ingest import remove_document, start_ingest
    from engine.workspace import Workspace

    ingest.CHECKPOINT_SECONDS = 0.2  # checkpoint often, so kills land around them
    ws = Workspace(sys.argv[1])
    searcher = ws.searcher()

    def remover():
        while True:
            for doc in ws.store.documents():
                if "/first/" in doc.path:
                    remove_document(ws, doc.id)
                    time.sleep(0.05)
            time.sleep(0.05)

    def checkpointer():
        while True:
            searcher.checkpoint()
            time.sleep(0.03)

    threading.Thread(target=remover, daemon=True).start()
    threading.Thread(target=checkpointer, daemon=True).start()
    for p in start_ingest(ws, [sys.argv[2]]):
        print(p.done, flush=True)
    print("end", flush=True)
    time.sleep(60)
""")


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_at_a_random_point_leaves_stores_that_agree(encoder, tmp_path, seed):
    first, second = tmp_path / "first", tmp_path / "second"
    _notes(first, 4, lines=10)
    _notes(second, 16, lines=10)
    root = tmp_path / "ws"
    with Workspace(root) as ws:
        start_ingest(ws, [first]).wait()
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(root), str(second)], stdout=subprocess.PIPE,
                            text=True, env=quarry_env(), cwd=REPO)
    assert proc.stdout.readline()  # the job started: the encoder is loaded and writes are under way
    time.sleep(random.Random(seed).uniform(0.0, 1.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Workspace(root) as ws:
        assert_consistent(ws)
        start_ingest(ws, [second]).wait()
        assert_consistent(ws)
        assert {d.path for d in ws.store.documents()} >= {str(p) for p in second.iterdir()}


def test_a_write_outside_writing_is_refused_in_tests(tmp_path):
    from engine.store.writer import WriteOutsideWriter

    with Workspace(tmp_path / "ws") as ws:
        with pytest.raises(WriteOutsideWriter, match="outside store.writing"):
            ws.store.db.execute("INSERT INTO state VALUES ('loose', 'write')")
        with ws.store.writing():
            ws.store.db.execute("INSERT INTO state VALUES ('loose', 'write')")
        assert ws.store.get_state("loose") == "write"
