import numpy as np

from engine.documents import index as vector_index
from engine.documents.index import VectorIndex
from engine.documents.search import Searcher


def _unit(rng, n, dim=32):
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_small_index_is_exact_large_is_ivf():
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 2000)
    ids = np.arange(10, 2010)
    assert VectorIndex.build(ids, vecs, 32).kind == "flat"
    ivf = VectorIndex.build(ids, vecs, 32, exact_limit=1000)
    assert ivf.kind == "ivf" and len(ivf) == 2000
    top = ivf.search(vecs[5], 1, nprobe=ivf.index.nlist)
    assert top[0][0] == 15 and abs(top[0][1] - 1.0) < 1e-4


def test_ivf_deletes_and_keeps_ids(tmp_path):
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 1500)
    ids = np.arange(1, 1501)
    ivf = VectorIndex.build(ids, vecs, 32, exact_limit=1000)
    ivf.remove([1, 2, 3])
    assert sorted(ivf.ids().tolist()) == list(range(4, 1501))
    assert all(i not in (1, 2, 3) for i, _ in ivf.search(vecs[0], 20, nprobe=ivf.index.nlist))
    ivf.save(tmp_path, generation=7, encoder="e")
    loaded, tag = VectorIndex.load(tmp_path)
    assert tag["generation"] == 7 and loaded.kind == "ivf" and len(loaded) == 1497


def test_allowed_ids_restrict_the_search():
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 300)
    index = VectorIndex.build(np.arange(300), vecs, 32)
    hits = index.search(vecs[0], 5, allowed=np.array([7, 8, 9]))
    assert {i for i, _ in hits} == {7, 8, 9}


def test_workspace_past_the_exact_limit_switches_to_ivf(demo_workspace, monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_LIMIT", 100)
    searcher = Searcher(demo_workspace)
    assert "vector" in searcher.rebuilt and searcher.vectors.kind == "ivf"
    assert sorted(searcher.vectors.ids().tolist()) == sorted(demo_workspace.store.all_chunk_ids())
    hits = searcher.search("return window for opened electronics", 3).hits
    assert hits[0].path.endswith("returns-policy.pdf")
