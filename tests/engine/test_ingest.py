import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine import jobs, locations
from engine.documents.ingest import IngestSummary, ingest_paths
from engine.documents.search import Searcher
from engine.workspace import Workspace
from tests.conftest import quarry_env
from tests.helpers import assert_consistent


def run_ingest(ws, *paths):
    summary = IngestSummary()
    events = list(ingest_paths(ws, list(paths), summary=summary))
    return summary, events


def test_demo_corpus_ingests_every_format(demo_workspace):
    docs = demo_workspace.store.documents()
    assert len(docs) >= 40 and all(d.status == "ready" for d in docs)
    assert {"txt", "md", "html", "pdf", "docx", "xlsx", "csv", "json", "parquet"} <= {d.doctype for d in docs}
    pdf = next(d for d in docs if d.path.endswith("returns-policy.pdf"))
    assert pdf.pages == 2
    pages = {c.page for batch in demo_workspace.store.iter_chunks() for c in batch if c.document_id == pdf.id}
    assert pages == {1, 2}
    assert_consistent(demo_workspace)


def test_tables_are_kept_in_duckdb(demo_workspace):
    assert demo_workspace.store.table_rows("t_reviews", sentiment="差评") > 5


def test_gbk_and_big5_text_is_decoded(demo_workspace):
    texts = {c.path.rsplit("/", 1)[-1]: c.text for batch in demo_workspace.store.iter_chunks() for c in batch}
    assert "年假" in texts["员工手册.txt"]
    assert "台北" in texts["台北門市公告.txt"]


def test_html_script_text_is_not_ingested(demo_workspace):
    texts = " ".join(c.text for batch in demo_workspace.store.iter_chunks() for c in batch)
    assert "must not be ingested" not in texts


def test_unchanged_folder_does_no_encoding_work(demo_workspace):
    summary, events = run_ingest(demo_workspace, locations.demo_corpus())
    assert summary.chunks_embedded == 0 and summary.ingested == 0 and summary.skipped >= 40
    assert "no encoding work" in summary.line()


def test_changed_and_deleted_files_are_replaced_and_removed(encoder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\nThe alpha budget is 100 dollars.")
    (folder / "b.txt").write_text("Bravo notes: the bravo deadline is Friday.")
    with Workspace(tmp_path / "ws") as ws:
        run_ingest(ws, folder)
        before = assert_consistent(ws)
        (folder / "a.md").write_text("# Alpha\nThe alpha budget is 250 dollars now.")
        (folder / "b.txt").unlink()
        summary, _ = run_ingest(ws, folder)
        assert summary.ingested == 1 and summary.removed == 1
        after = assert_consistent(ws)
        assert not set(before) & set(after)
        hit = ws.searcher().search("alpha budget", 1).hits[0]
        assert "250" in hit.text


BAD_INPUTS = {
    "corrupt.pdf": (b"%PDF-1.4\n" + b"garbage" * 50, "not a readable PDF"),
    "binary.txt": (bytes(range(256)) * 8, "binary content"),
    "empty.md": (b"", "empty file"),
    "junk.xlsx": (None, "not a valid .xlsx"),
}


def _junk_xlsx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")


def _encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(locations.demo_corpus() / "onboarding-guide.pdf")))
    writer.encrypt("s3cret", algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)


@pytest.fixture
def bad_folder(tmp_path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, (data, _) in BAD_INPUTS.items():
        if data is not None:
            (folder / name).write_bytes(data)
    _junk_xlsx(folder / "junk.xlsx")
    _encrypted_pdf(folder / "locked.pdf")
    (folder / "gbk.txt").write_bytes("退货政策：七天无理由退货，运费由顾客承担。".encode("gbk"))
    (folder / "ragged.csv").write_text("sku,name,price\nA1,Lamp,10\nB2,Desk\nC3,Chair,30,extra,fields\nD4,Shelf,40\n")
    (folder / "good.md").write_text("# Good\nThis file is fine and mentions the zebra budget.")
    return folder


def test_bad_inputs_get_one_line_errors_and_the_rest_ingests(encoder, bad_folder, tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        summary, events = run_ingest(ws, bad_folder)
        failed = {Path(e.path).name: e.message for e in events if e.kind == "failed"}
        for name, (_, cause) in BAD_INPUTS.items():
            assert cause in failed[name] and name in failed[name] and "\n" not in failed[name]
        assert "encrypted PDF" in failed["locked.pdf"]
        assert set(failed) == {*BAD_INPUTS, "locked.pdf"}
        ready = {Path(d.path).name: d for d in ws.store.documents() if d.status == "ready"}
        assert {"gbk.txt", "ragged.csv", "good.md"} <= set(ready)
        warned = [w for e in events for w in e.warnings]
        assert any("ragged.csv" in w for w in warned)
        assert ws.store.table_rows("t_ragged") >= 3
        assert ws.searcher().search("zebra budget", 1, "keyword").hits[0].path.endswith("good.md")
        assert ws.searcher().search("七天无理由退货", 1).hits[0].path.endswith("gbk.txt")
        assert_consistent(ws)


def test_a_bad_new_version_keeps_the_good_one(encoder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.pdf").write_bytes((locations.demo_corpus() / "onboarding-guide.pdf").read_bytes())
    with Workspace(tmp_path / "ws") as ws:
        run_ingest(ws, folder)
        (folder / "plan.pdf").write_bytes(b"%PDF-1.4 truncated")
        summary, _ = run_ingest(ws, folder)
        assert summary.failed == 1
        doc = ws.store.documents()[0]
        assert doc.status == "ready" and doc.chunks > 0


def test_stale_index_is_rebuilt_from_duckdb(demo_workspace):
    ids = assert_consistent(demo_workspace)
    root = demo_workspace.root
    demo_workspace.close()
    (root / "indexes" / "vectors.faiss").unlink()
    shutil.rmtree(root / "indexes" / "keyword")
    with Workspace(root) as ws:
        searcher = ws.searcher()
        assert set(searcher.rebuilt) == {"vector", "keyword"}
        assert assert_consistent(ws) == ids


def test_vectors_stored_in_duckdb_match_the_encoder(demo_workspace):
    from engine.documents.search import searchable_text

    chunk = next(demo_workspace.store.iter_chunks())[0]
    stored = np.frombuffer(demo_workspace.store.vectors_by_ids([chunk.id])[chunk.id], dtype=np.float32)
    fresh = demo_workspace.encoder().encode([searchable_text(chunk.title, chunk.heading, chunk.text)])[0]
    assert float(stored @ fresh) > 0.999


KILLED_MID_GROUP = """
import sys
from engine.documents.ingest import pipeline, start_ingest
from engine.workspace import Workspace

# a commit group per encoder batch of about three files, so that the kill lands with groups to go
pipeline.GROUP_SECONDS = 0.0
pipeline.FIRST_BATCH_TOKENS = pipeline.MIN_BATCH_TOKENS = pipeline.MAX_BATCH_TOKENS = 600
for p in start_ingest(Workspace(sys.argv[1]), [sys.argv[2]]):
    if p.data.get("event") == "ingested":
        print(p.data["path"], flush=True)
"""


def test_kill_mid_group_stores_no_half_file_and_resume_redoes_exactly_the_rest(encoder, tmp_path):
    from engine.documents.ingest import pipeline
    from engine.documents.ingest.loaders import Limits
    from engine.documents.ingest.prepare import prepare

    folder = tmp_path / "many"
    folder.mkdir()
    total = pipeline.POOL_MIN_FILES
    for i in range(total):
        (folder / f"note-{i:02d}.md").write_text(
            f"# Note {i}\n" + " ".join(f"Item {i}-{j} covers topic {j * i % 17}." for j in range(30)))
    expected = {str(p): len(prepare(p, str(p), None, Limits(), None, encoder.token_offsets).pieces)
                for p in folder.iterdir()}
    ws_dir = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_MID_GROUP, str(ws_dir), str(folder)],
                            stdout=subprocess.PIPE, text=True, env=quarry_env())
    assert proc.stdout.readline()  # the first group is committed: kill while the next is encoded
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with Workspace(ws_dir) as ws:
        docs = ws.store.documents()
        finished = {d.path for d in docs if d.status == "ready"}
        assert 1 <= len(finished) < total and len(docs) == len(finished)
        assert all(d.chunks == expected[d.path] for d in docs)  # no file is half stored
        [stopped] = jobs.unfinished(ws)  # the killed process left its job "running"
        assert stopped.kind == "ingest" and stopped.params["paths"] == [os.path.abspath(folder)]
        summary = jobs.resume(ws, stopped.id).wait()
        assert summary.skipped == len(finished) and summary.ingested == total - len(finished)
        assert ws.store.job(stopped.id).status == "done" and jobs.unfinished(ws) == []
        ids = assert_consistent(ws)
        assert len(ids) == ws.store.chunk_count() == sum(expected.values())
        assert {d.path: d.chunks for d in ws.store.documents()} == expected


def test_searcher_detects_generation_mismatch(demo_workspace):
    with demo_workspace.store.transaction():
        demo_workspace.store.bump_generation()
    assert set(Searcher(demo_workspace).rebuilt) == {"vector", "keyword"}


def test_changed_chunk_settings_say_how_much_will_be_reembedded(encoder, tmp_path):
    from engine.errors import QuarryError

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\nAlpha text about budgets.")
    with Workspace(tmp_path / "ws") as ws:
        run_ingest(ws, folder)
        chunks = ws.store.chunk_count()
        ws.store.set_state("chunking", "other-encoder:100:10")
        with pytest.raises(QuarryError, match=f"{chunks} chunks would be re-embedded.*--reembed"):
            run_ingest(ws, folder)
        assert ws.store.chunk_count() == chunks
        summary = IngestSummary()
        list(ingest_paths(ws, [folder], reembed=True, summary=summary))
        assert summary.chunks_embedded == chunks
        assert_consistent(ws)


def test_a_parser_crash_is_one_line_and_the_rest_ingests(encoder, tmp_path, monkeypatch):
    """A fake loader: no real file is known to crash pypdf or python-docx with an unexpected error type."""
    from engine.documents.ingest import loaders

    def crash(path):
        raise RecursionError("maximum recursion depth exceeded while parsing")

    monkeypatch.setitem(loaders.LOADERS, ".html", crash)  # .html: no archive check runs before its loader
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "weird.html").write_text("<p>weird</p>")
    (folder / "fine.md").write_text("# Fine\nThe fine file mentions quokkas.")
    with Workspace(tmp_path / "ws") as ws:
        summary, events = run_ingest(ws, folder)
        failed = [e.message for e in events if e.kind == "failed"]
        assert failed == [f"{folder / 'weird.html'}: could not be read (RecursionError: maximum recursion depth "
                          "exceeded while parsing)"]
        assert summary.ingested == 1 and summary.failed == 1


def _parse_workers() -> list[int]:
    """Gives the pids of this process's spawned parse workers."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"spawn_main" in (proc / "cmdline").read_bytes() and \
                    f"PPid:\t{os.getpid()}\n" in (proc / "status").read_text():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_a_parse_worker_killed_mid_run_costs_no_file(encoder, tmp_path, monkeypatch):
    import threading
    import time

    from engine.documents.ingest import pipeline

    starts = []
    real_start = pipeline.Parser._start
    monkeypatch.setattr(pipeline.Parser, "_start", lambda self: starts.append(1) or real_start(self))

    folder = tmp_path / "docs"
    folder.mkdir()
    # a page of mostly script first keeps the worker busy a while, for few chunks; the kill lands while
    # it (or the worker's start) is under way
    script = "<script>" + "var x = 1;\n" * 150_000 + "</script>"
    (folder / "a-long.html").write_text(f"<html><body>{script}<p>The quarterly numbers moved again.</p></body></html>")
    for i in range(pipeline.POOL_MIN_FILES):  # html goes to the pool (small plain text is parsed here)
        (folder / f"note-{i:02d}.html").write_text(f"<h1>Note {i}</h1><p>Note {i} is about topic {i * 7 % 13}.</p>")
    killed = []

    def killer():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for pid in _parse_workers():
                # at once: on an idle machine the worker parses the long page in well under a second
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    with Workspace(tmp_path / "ws") as ws:
        summary, events = run_ingest(ws, folder)
        thread.join()
        assert killed, "no parse worker was seen"
        assert len(starts) >= 2  # the pool was started again after the kill
        assert summary.failed == 0 and summary.ingested == pipeline.POOL_MIN_FILES + 1, summary.errors
        assert_consistent(ws)


def test_a_cancel_inside_an_encoder_batch_stops_it_and_stores_none_of_its_files(encoder, tmp_path, monkeypatch):
    """Batches hold seconds of encoder work (the more chunks sorted together, the less padding): the
    encoder is asked between its model calls, so a cancel does not wait for the batch to end."""
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(40):
        (folder / f"note-{i:02d}.md").write_text(f"# Note {i}\nNote {i} is about topic {i * 7 % 13}.")
    calls = []
    # the first file is encoded alone (one model call); the cancel comes after the next batch's first call
    cancel = lambda: len(calls) >= 2  # noqa: E731
    with Workspace(tmp_path / "ws") as ws:
        real_run = ws.encoder()._run
        monkeypatch.setattr(ws.encoder(), "_run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
        summary = IngestSummary()
        list(ingest_paths(ws, [folder], cancel=cancel, summary=summary))
        assert len(calls) == 2  # the batch (40 chunks, two calls of at most 32) stopped after its first
        assert summary.ingested == 1 and len(ws.store.documents()) == 1
        summary, _ = run_ingest(ws, folder)
        assert summary.ingested == 39 and summary.skipped == 1
        assert len(ws.store.documents()) == 40
        assert_consistent(ws)


def test_encode_with_stop_gives_none_and_without_it_the_same_vectors(encoder):
    texts = [f"sentence number {i} about refunds" for i in range(70)]
    assert encoder.encode(texts, stop=lambda: True) is None
    np.testing.assert_allclose(encoder.encode(texts, stop=lambda: False), encoder.encode(texts), atol=1e-6)
