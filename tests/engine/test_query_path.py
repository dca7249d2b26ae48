"""Query-path costs and exactness: exact cosines past the IVF size, filtered searches that follow the
hits, a memory-mapped FAISS file, checkpoints that rewrite it only when it changed, history fitting."""

import numpy as np
import pytest

from engine.documents import index as vector_index

N = 60_000  # past EXACT_LIMIT: the library gets an IVF index
DIM = 32
NEEDLE_EVERY = 1000


@pytest.fixture(scope="module")
def big_library(tmp_path_factory):
    """A workspace of 60k synthetic chunks (IVF index) whose every 1000th chunk says 'needle'."""
    import pyarrow as pa

    from engine.workspace import Workspace

    root = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((N, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, N + 1, dtype=np.int64)
    docs = np.arange(1, N // 100 + 2, dtype=np.int64)
    with Workspace(root) as ws:
        ws.store.bulk_load(pa.table({"id": docs, "path": [f"/lib/{'memo' if i % 2 else 'note'}-{i}.txt" for i in docs],
                                     "title": [f"doc {i}" for i in docs], "doctype": ["txt"] * len(docs),
                                     "sha256": ["x"] * len(docs), "status": ["ready"] * len(docs)}),
                           pa.table({"id": ids, "document_id": ids // 100 + 1, "ord": ids % 100,
                                     "text": [("needle " if i % NEEDLE_EVERY == 0 else "") + f"hay w{i % 97} w{i % 89}"
                                              for i in ids],
                                     "tokens": np.full(N, 4), "lang": ["en"] * N,
                                     "vector": [v.tobytes() for v in vectors]}))
    return root, vectors


@pytest.fixture
def few_lists(monkeypatch):
    """IVF with 64 lists and 1 probed, so a search sees a sixty-fourth of the library."""
    monkeypatch.setattr(vector_index, "nlist_for", lambda n: 64)
    monkeypatch.setattr(vector_index, "NPROBE", 1)


def test_relevance_cosines_are_exact_past_the_ivf_limit(big_library, few_lists):
    from engine.workspace import Workspace

    root, vectors = big_library
    with Workspace(root) as ws:
        searcher = ws.searcher()
        assert searcher.vectors.kind == "ivf"
        candidates = [cid for cid, _ in searcher.keywords.search("needle", 50)]
        assert len(candidates) == 50
        query = vectors[12_345]
        exact = searcher.vector_scores(query, candidates)
        assert sorted(exact) == sorted(candidates)
        for cid in candidates:
            assert exact[cid] == pytest.approx(float(vectors[cid - 1] @ query), abs=1e-5)
        # what the IVF-limited search gave: most keyword-only candidates were not scored at all (cosine 0)
        limited = dict(searcher.vectors.search(query, 50, np.array(candidates)))
        assert len(limited) < 10


def test_filtered_search_gives_only_matching_hits_with_no_id_list_of_the_library(big_library, few_lists,
                                                                                 monkeypatch):
    from engine.documents.search import Filters
    from engine.workspace import Workspace

    root, vectors = big_library
    with Workspace(root) as ws:
        searcher = ws.searcher()
        calls = []
        original = ws.store.filter_chunk_ids

        def spy(ids, *rest):
            calls.append(None if ids is None else len(ids))
            return original(ids, *rest)

        monkeypatch.setattr(ws.store, "filter_chunk_ids", spy)
        hits = searcher._filtered(lambda n, allowed: searcher.keywords.search("hay", n, allowed), 50,
                                  Filters(path_glob="/lib/memo-*"))
        assert len(hits) == 50 and None not in calls and max(calls) <= 800
        paths = ws.store.chunks_by_ids([cid for cid, _ in hits])
        assert all("/memo-" in paths[cid].path for cid, _ in hits)
        needles = searcher._filtered(lambda n, allowed: searcher.keywords.search("needle", n, allowed), 50,
                                     Filters(path_glob="/lib/memo-11.txt"))
        assert [cid for cid, _ in needles] == [1000]  # chunks 1000-1099 are memo-11's
        # a filter that almost nothing passes, matching chunks that rank past every overfetch round (the
        # last document's: every "hay" chunk scores the same, so the first-stored rank first), still finds
        # them, through its own few ids
        calls.clear()
        few = searcher._filtered(lambda n, allowed: searcher.keywords.search("hay", n, allowed), 50,
                                 Filters(path_glob="/lib/memo-599.txt"))
        assert len(few) == 50 and all(59_800 <= cid < 59_900 for cid, _ in few) and calls[-1] is None


def test_the_faiss_file_is_memory_mapped_and_copied_before_a_change(big_library, few_lists):
    from engine.workspace import Workspace

    if not vector_index.mmap_flag():
        pytest.skip("this FAISS cannot map an index file in place")
    root, vectors = big_library
    with Workspace(root) as ws:
        searcher = ws.searcher()
        searcher.checkpoint()
    with Workspace(root) as ws:
        searcher = ws.searcher()
        assert searcher.vectors.mapped and searcher.rebuilt == []
        stamp = (root / "indexes" / "vectors.faiss").stat().st_mtime_ns
        searcher.checkpoint()  # nothing changed: the 60k-vector file is not rewritten
        assert (root / "indexes" / "vectors.faiss").stat().st_mtime_ns == stamp
        with ws.store.writing():
            searcher.vectors.remove([1])
        assert not searcher.vectors.mapped and len(searcher.vectors) == N - 1
        assert 1 not in {cid for cid, _ in searcher.vectors.search(vectors[0], 5, nprobe=64)}


def test_history_fitting_drops_the_fewest_oldest_turns():
    from engine.documents.chat import fewest_to_drop

    renders = []

    def fits(drop: int) -> bool:
        renders.append(drop)
        return drop >= 137

    assert fewest_to_drop(fits, 1000) == 137 and len(renders) <= 12
    assert fewest_to_drop(lambda d: True, 1000) == 0
    assert fewest_to_drop(lambda d: False, 1000) == 1000
    assert fewest_to_drop(lambda d: d >= 7, 40, step=2) == 8
