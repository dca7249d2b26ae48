"""Ingest on Ray Data (`--ray`) against the in-process pipeline; the bad-input lines of the Ray path.

One local Ray serves the whole module (starting one costs seconds); tests that need no Ray start none."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine import locations
from engine.workspace import Workspace
from tests.reliability.util import assert_consistent, error_line, failed_lines, quarry

DEMO = locations.demo_corpus()
# every kind of loader, English and Chinese, small enough that the Ray run takes seconds, not minutes
SAMPLE = ["policies/returns-policy.pdf", "policies/travel-policy.docx", "policies/security-policy.md",
          "policies/shipping-policy.html", "policies/remote-work-policy.txt", "zh/退货政策.md", "zh/员工手册.txt",
          "zh/台北門市公告.txt", "tables/products.csv", "tables/stores.parquet", "tables/loyalty-tiers.json",
          "price-list.xlsx"]
QUERIES = ["return window for opened electronics", "年假有几天", "travel expenses hotel limit"]


@pytest.fixture(scope="module")
def ray_stall(tmp_path_factory) -> Path:
    """The folder of engine.scale.stall_point's hook: absent (the hook off) until a test creates it."""
    return tmp_path_factory.mktemp("ray-stall") / "armed"


@pytest.fixture(scope="module")
def local_ray(ray_stall):
    ray = pytest.importorskip("ray", reason="the scale extra (ray[data]) is not installed")
    from engine import scale

    with pytest.MonkeyPatch.context() as env:
        env.setenv(scale.STALL_ENV, str(ray_stall))  # the local Ray's workers inherit it from its start
        scale.start_local(ray, num_cpus=2)  # this machine's size: the encoder pool must leave CPUs to reads
    yield ray
    ray.shutdown()


def _copy_sample(folder: Path, names: list[str]) -> Path:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / name, folder / name)
    return folder


def _library(root):
    with Workspace(root) as ws:
        assert_consistent(ws)
        docs = [(d.id, d.path, d.title, d.doctype, d.status, d.chunks, d.pages, d.lang) for d in ws.store.documents()]
        chunks = [(c.id, c.document_id, c.ord, c.page, c.heading, c.text, c.tokens, c.lang)
                  for batch in ws.store.iter_chunks() for c in batch]
        stored = ws.store.vectors_by_ids([c[0] for c in chunks])
        vectors = {i: np.frombuffer(v, dtype=np.float32) for i, v in stored.items()}
        hits = [[h.chunk_id for h in ws.searcher().search(q, k=5).hits] for q in QUERIES]
        tables = ws.store.table_names()
    return docs, chunks, vectors, hits, tables


def test_the_same_folder_in_process_and_on_ray_gives_the_same_library(encoder, local_ray, tmp_path):
    folder = _copy_sample(tmp_path / "docs", SAMPLE)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"garbage" * 50)
    runs = {}
    for name, extra in (("local", []), ("ray", ["--ray"])):
        ws = tmp_path / name
        # fp32: int8's dynamic quantization scales each call's activations, so its vectors depend on
        # which chunks share an encoder call (the two paths batch differently; cosine stays >= 0.98)
        assert quarry("index", "encoder", "minilm-l6", "--variant", "fp32", "-w", ws).code == 0
        ran = quarry("ingest", folder, *extra, "-w", ws)
        assert ran.code == 1 and "Traceback" not in ran.stderr  # the broken file fails the run, alone
        [line] = failed_lines(ran)
        assert "broken.pdf" in line and "not a readable PDF" in line
        runs[name] = _library(ws)
    assert len(runs["local"][0]) == len(SAMPLE) + 1  # every file a document, the failure too
    _assert_same(runs["local"], runs["ray"])


def _assert_same(local, on_ray) -> None:
    (docs, chunks, vectors, hits, tables) = local
    assert on_ray[0] == docs  # same documents and ids
    assert on_ray[1] == chunks  # same chunks, ids and texts: none missing, none twice
    assert vectors.keys() == on_ray[2].keys()
    assert max(float(np.abs(vectors[i] - on_ray[2][i]).max()) for i in vectors) < 1e-4
    assert on_ray[3] == hits and on_ray[4] == tables


def _kill_when_stalled(folder: Path, stages: list[str], killed: dict) -> None:
    """kill -9 the Ray worker that stalls at each stage in turn (engine.scale.stall_point)."""
    for stage in stages:
        pid_file = folder / f"{stage}.pid"
        deadline = time.monotonic() + 120
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        killed[stage] = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        os.kill(pid, signal.SIGKILL)


def test_a_ray_worker_killed_mid_task_is_retried_and_the_library_is_whole(encoder, local_ray, ray_stall,
                                                                           tmp_path):
    """kill -9 of the worker running a parse task, then of the encoder actor in the middle of its batch.

    They are killed where engine.scale.stall_point holds them (a test hook: a worker killed at a known
    point of its task is a fault no input can cause, and a kill by timing would race the scheduler).
    Ray runs the parse task again and restarts the actor, which redoes its batch; DuckDB, FAISS and
    tantivy end with every chunk once, as the in-process ingest stores them."""
    folder = _copy_sample(tmp_path / "docs", ["policies/security-policy.md", "zh/退货政策.md",
                                               "policies/remote-work-policy.txt"])
    runs, killed = {}, {}
    for name, extra in (("local", []), ("ray", ["--ray"])):
        ws = tmp_path / name
        assert quarry("index", "encoder", "minilm-l6", "--variant", "fp32", "-w", ws).code == 0
        killer = None
        if extra:
            ray_stall.mkdir()
            killer = threading.Thread(target=_kill_when_stalled, args=(ray_stall, ["parse", "encode"], killed))
            killer.start()
        try:
            ran = quarry("ingest", folder, *extra, "-w", ws)
        finally:
            if killer is not None:
                killer.join(timeout=150)
                shutil.rmtree(ray_stall)  # the hook off again for the other tests
        assert ran.code == 0 and ran.exception is None, ran.stderr
        runs[name] = _library(ws)
    assert set(killed) == {"parse", "encode"}, killed
    assert killed["parse"].startswith("ray::") and "EncodeFiles" in killed["encode"], killed
    _assert_same(runs["local"], runs["ray"])


def test_ray_not_installed_is_one_line_naming_the_extra(encoder, tmp_path, monkeypatch):
    """Ray is installed here: hiding its module is the only way to see what a user without it sees."""
    monkeypatch.setitem(sys.modules, "ray", None)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\nAlpha.")
    error_line(quarry("ingest", folder, "--ray", "-w", tmp_path / "ws"), "--ray", "scale")


def test_a_ray_address_that_does_not_answer_is_one_line_within_30_s(encoder, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\nAlpha.")
    began = time.perf_counter()
    ran = quarry("ingest", folder, "--ray", f"127.0.0.1:{port}", "-w", tmp_path / "ws")
    assert time.perf_counter() - began < 30
    error_line(ran, f"127.0.0.1:{port}", "does not answer")


# -- batch classification on Ray ------------------------------------------------------------------
REVIEWS = DEMO / "tables" / "reviews.csv"


@pytest.fixture(scope="module")
def labelled(encoder, tmp_path_factory) -> Path:
    """A workspace (fp32 encoder) with a small reviews label set, and a file of rows to label beside it."""
    from engine.classify import sets

    root = tmp_path_factory.mktemp("classify-ray")
    rows = list(csv.DictReader(REVIEWS.open(encoding="utf-8")))
    per_label: dict[str, list[dict]] = {}
    for row in rows[:300]:
        per_label.setdefault(row["sentiment"], []).append(row)
    examples = root / "examples.csv"
    with examples.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, ["text", "sentiment"], extrasaction="ignore")
        out.writeheader()
        out.writerows(r for group in per_label.values() for r in group[:12])
    with (root / "rows.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "text"])
        texts = [r["text"] for r in rows[300:340]] + ["", "42"]  # the two last rows have no text
        out.writerows(enumerate(texts))
    ws = root / "ws"
    # fp32, as for ingest: int8's dynamic quantization makes vectors depend on which texts share a call
    assert quarry("index", "encoder", "minilm-l6", "--variant", "fp32", "-w", ws).code == 0
    with Workspace(ws) as opened:
        sets.import_examples(opened, "reviews", "sentiment", file=examples, text_column="text")
    return root


def _labels(root: Path, table: str) -> list[tuple]:
    with Workspace(root / "ws") as ws:
        return ws.store.db.execute(f"SELECT row_id, text, label, runner_up, method, confidence FROM {table}"
                                   " ORDER BY row_id").fetchall()


def test_batch_classify_on_ray_gives_the_in_process_labels(local_ray, labelled, monkeypatch):
    """The embedding head on Ray's actors with their own encoder: the same label for every row. Blocks of
    a few rows, so that they come back in row order across many blocks (what resume relies on)."""
    from engine.scale import classify as on_ray

    monkeypatch.setattr(on_ray, "ROWS_PER_BLOCK", 8)
    monkeypatch.setattr(on_ray, "ROWS_PER_CALL", 4)
    common = ["classify", "--file", labelled / "rows.csv", "--column", "text", "--label-set", "reviews",
              "--method", "embedding", "-w", labelled / "ws"]
    assert quarry(*common, "--output", "c_here").code == 0
    ran = quarry(*common, "--output", "c_ray", "--ray")
    assert ran.code == 0 and ran.exception is None, ran.stderr
    assert "on Ray (local)" in ran.stderr
    here, on_ray = _labels(labelled, "c_here"), _labels(labelled, "c_ray")
    assert len(here) == 42 and [r[2] for r in here[-2:]] == [None, None]  # no text, no label, both ways
    assert [r[:5] for r in on_ray] == [r[:5] for r in here]  # row for row: text, label, runner-up, method
    assert max(abs(a[5] - b[5]) for a, b in zip(here, on_ray) if a[5] is not None) < 1e-4


def test_batch_classify_ray_bad_inputs_are_one_line_each(labelled, monkeypatch):
    """The ingest's lines for Ray missing and an address that does not answer, and --ray where it cannot run."""
    common = ["classify", "--label-set", "reviews", "-w", labelled / "ws"]
    batch = [*common, "--file", labelled / "rows.csv", "--column", "text"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    began = time.perf_counter()
    error_line(quarry(*batch, "--ray", f"127.0.0.1:{port}"), f"127.0.0.1:{port}", "does not answer")
    assert time.perf_counter() - began < 30
    error_line(quarry(*common, "some text", "--ray"), "--ray", "--table or --file")
    error_line(quarry(*batch, "--method", "llm", "--ray"), "llm", "--ray")
    monkeypatch.setitem(sys.modules, "ray", None)  # Ray is installed here: hiding it shows what a user without it sees
    error_line(quarry(*batch, "--ray"), "--ray", "scale")
    with Workspace(labelled / "ws") as ws:
        assert not any(name.startswith(("c_rows", "_stage_")) for name in ws.store.table_names())
