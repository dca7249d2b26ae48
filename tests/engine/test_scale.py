"""Ingest on Ray Data (`--ray`) against the in-process pipeline; the bad-input lines of the Ray path.

One local Ray serves the whole module (starting one costs seconds); tests that need no Ray start none."""

from __future__ import annotations

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
