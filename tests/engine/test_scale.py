"""Ingest on Ray Data (`--ray`) against the in-process pipeline; the bad-input lines of the Ray path.

One local Ray serves the whole module (starting one costs seconds); tests that need no Ray start none."""

from __future__ import annotations

import shutil
import socket
import sys
import time

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
def local_ray():
    ray = pytest.importorskip("ray", reason="the scale extra (ray[data]) is not installed")
    from engine import scale

    scale.start_local(ray, num_cpus=2)  # this machine's size: the encoder pool must leave CPUs to reads
    yield ray
    ray.shutdown()


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
    folder = tmp_path / "docs"
    for name in SAMPLE:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / name, folder / name)
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
    (docs, chunks, vectors, hits, tables), ray_run = runs["local"], runs["ray"]
    assert len(docs) == len(SAMPLE) + 1 and ray_run[0] == docs  # same documents and ids, the failure too
    assert ray_run[1] == chunks  # same chunks, ids and texts
    assert vectors.keys() == ray_run[2].keys()
    assert max(float(np.abs(vectors[i] - ray_run[2][i]).max()) for i in vectors) < 1e-4
    assert ray_run[3] == hits and ray_run[4] == tables


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
