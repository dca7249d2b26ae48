"""Retrieval bench: quality on the demo workspace, ingest throughput, latency at 10k/100k/1M chunks.

Baselines measured in the same run: each retriever alone and plain (unweighted) reciprocal-rank
fusion for quality; exact FAISS search for the recall@10 of the IVF index.

Ingest throughput by encoder variant (int8 vs fp32) alternates the two over rounds.

Usage: python bench/retrieval.py [--sizes 10000,100000,1000000] [--queries 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, interleave, p50_p95, print_table, timed_ms, write_json  # noqa: I001

from engine import locations
from engine.documents.evaluate import first_rank, read_questions
from engine.documents.ingest import IngestSummary, chunk_blocks, discover, ingest_paths, load
from engine.documents.search import fuse
from engine.workspace import Workspace


def quality(ws, questions, k: int) -> list[dict]:
    searcher = ws.searcher()
    rows = []
    answerable = [q for q in questions if q.expected_file]
    modes = ["vector", "keyword", "rrf (plain)", "hybrid"]
    ranks = {m: {} for m in modes}
    for q in answerable:
        vec = searcher.search(q.question, 50, "vector").hits
        kw = searcher.search(q.question, 50, "keyword").hits
        hyb = searcher.search(q.question, 50, "hybrid").hits
        by_id = {h.chunk_id: h.path for h in vec + kw}
        rrf = fuse([(h.chunk_id, h.score) for h in vec], [(h.chunk_id, h.score) for h in kw],
                   {"vector": 1.0, "keyword": 1.0})
        lists = {"vector": [h.path for h in vec], "keyword": [h.path for h in kw],
                 "rrf (plain)": [by_id[c] for c, _ in rrf], "hybrid": [h.path for h in hyb]}
        for mode, paths in lists.items():
            rank = first_rank(list(dict.fromkeys(paths)), q.expected_file)
            ranks[mode].setdefault(q.lang, []).append(rank)
    for mode in modes:
        for lang in ("en", "zh"):
            values = ranks[mode].get(lang, [])
            rows.append({"mode": mode, "lang": lang, "n": len(values),
                         "recall@5": sum(1 for r in values if r and r <= k) / len(values),
                         "mrr": sum(1 / r for r in values if r) / len(values)})
    return rows


def ingest_throughput(corpus: Path, tmp: Path) -> dict:
    files, _ = discover([corpus])
    with Workspace(tmp / "throughput-load") as ws:
        encoder = ws.encoder()
        t0 = time.perf_counter()
        pages = chunks = 0
        for path in files:
            loaded, records = load(path, ws.store)
            pieces = chunk_blocks(loaded.blocks, encoder.token_offsets, records=records)
            pages += loaded.pages or 1
            chunks += len(pieces)
        load_s = time.perf_counter() - t0
    summary = IngestSummary()
    with Workspace(tmp / "throughput-full") as ws:
        ws.encoder()
        t0 = time.perf_counter()
        for _ in ingest_paths(ws, [corpus], summary=summary):
            pass
        full_s = time.perf_counter() - t0
    return {"files": len(files), "pages": pages, "chunks": chunks,
            "pages_per_s_before_encoding": pages / load_s,
            "chunks_per_s_with_encoding": summary.chunks_embedded / full_s}


def ingest_by_variant(corpus: Path, tmp: Path, rounds: int) -> dict:
    """Ingest chunks/s with each encoder variant into a fresh workspace, the variants alternated over
    rounds; the ratio is int8 over fp32 per round."""
    runs = itertools.count()  # a fresh workspace folder per ingest

    def ingest(variant: str) -> float:
        summary = IngestSummary()
        with Workspace(tmp / f"variant-{variant}-{next(runs)}") as ws:
            ws.use_encoder("minilm-l6", variant)
            t0 = time.perf_counter()
            for _ in ingest_paths(ws, [corpus], summary=summary):
                pass
            return summary.chunks_embedded / (time.perf_counter() - t0)

    return interleave({"int8": lambda: ingest("int8"), "fp32": lambda: ingest("fp32")}, rounds, baseline="fp32")


def synthetic_workspace(root: Path, n: int, dim: int, rng: np.random.Generator):
    """Gives a workspace whose DuckDB holds n synthetic chunks (Zipf words, clustered unit vectors)."""
    import pyarrow as pa

    vocab = np.array([f"w{i}" for i in range(50_000)])
    centers = rng.standard_normal((1000, dim)).astype(np.float32)
    ws = Workspace(root)
    store = ws.store
    docs = np.arange(1, n // 100 + 2, dtype=np.int64)
    store.bulk_load(pa.table({"id": docs, "path": [f"/synthetic/doc-{i}.txt" for i in docs],
                              "title": [f"doc {i}" for i in docs], "doctype": ["txt"] * len(docs),
                              "sha256": ["x"] * len(docs), "status": ["ready"] * len(docs)}), None)
    batch = 100_000
    for start in range(0, n, batch):
        m = min(batch, n - start)
        words = vocab[np.minimum(rng.zipf(1.3, size=(m, 40)) - 1, len(vocab) - 1)]
        texts = [" ".join(row) for row in words]
        vecs = centers[rng.integers(0, 1000, m)] + 0.6 * rng.standard_normal((m, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        ids = np.arange(start + 1, start + m + 1, dtype=np.int64)
        store.bulk_load(None, pa.table({"id": ids, "document_id": ids // 100 + 1, "ord": ids % 100,
                                        "text": texts, "tokens": np.full(m, 40), "lang": ["en"] * m,
                                        "vector": [v.tobytes() for v in vecs]}))
    return ws, centers


def scale(n: int, tmp: Path, queries: int, rng: np.random.Generator) -> dict:
    from engine.documents.index import VectorIndex

    root = tmp / f"scale-{n}"
    t0 = time.perf_counter()
    ws, centers = synthetic_workspace(root, n, 384, rng)
    load_s = time.perf_counter() - t0
    ws.encoder().encode(["warm up"])
    build_ms, searcher = timed_ms(ws.searcher)
    dim = 384
    qv = centers[rng.integers(0, 1000, queries)] + 0.6 * rng.standard_normal((queries, dim)).astype(np.float32)
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    vocab_queries = [f"w{rng.zipf(1.3) % 5000} w{rng.integers(0, 50_000)}" for _ in range(queries)]
    vec_ms = [timed_ms(searcher.vectors.search, q, 10)[0] for q in qv]
    kw_ms = [timed_ms(searcher.keywords.search, t, 10)[0] for t in vocab_queries]
    hyb_ms = [timed_ms(searcher.search, t, 10, "hybrid")[0] for t in vocab_queries]
    row = {"chunks": n, "index": searcher.vectors.kind, "bulk_load_s": round(load_s, 1),
           "index_build_s": round(build_ms / 1000, 1)}
    row |= {f"vector_{k}": v for k, v in p50_p95(vec_ms).items()}
    row |= {f"keyword_{k}": v for k, v in p50_p95(kw_ms).items()}
    row |= {f"hybrid_e2e_{k}": v for k, v in p50_p95(hyb_ms).items()}
    if searcher.vectors.kind == "ivf":
        # Baseline: exact search over the same vectors.
        ids = searcher.vectors.ids()
        exact = VectorIndex.empty(dim)
        vectors = np.zeros((len(ids), dim), dtype=np.float32)
        for batch in ws.store.iter_vectors(50_000):
            b_ids = np.array([r[0] for r in batch])
            vectors[b_ids - 1] = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32).reshape(-1, dim)
        exact.add(np.arange(1, len(ids) + 1), vectors)
        sample = qv[: min(100, queries)]
        exact_ms, recall = [], []
        for q in sample:
            ms, truth = timed_ms(exact.search, q, 10)
            exact_ms.append(ms)
            approx = {i for i, _ in searcher.vectors.search(q, 10)}
            recall.append(len(approx & {i for i, _ in truth}) / 10)
        row["exact_p50_ms"] = p50_p95(exact_ms)["p50_ms"]
        row["recall@10_vs_exact"] = round(float(np.mean(recall)), 4)
        del vectors, exact
    ws.close()
    shutil.rmtree(root, ignore_errors=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the ingest comparison by variant")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="quarry-bench-"))
    try:
        questions = read_questions(ROOT / "bench" / "questions.jsonl")
        with Workspace(tmp / "demo") as ws:
            for _ in ingest_paths(ws, [locations.demo_corpus()]):
                pass
            q_rows = quality(ws, questions, args.k)
        print_table(f"Retrieval quality on the demo workspace ({len(questions)} questions, "
                    f"{sum(1 for q in questions if not q.expected_file)} without an answer)",
                    q_rows, ["mode", "lang", "n", "recall@5", "mrr"])
        throughput = ingest_throughput(locations.demo_corpus(), tmp)
        print_table("Ingest throughput (demo corpus)", [throughput], list(throughput))
        variants = ingest_by_variant(locations.demo_corpus(), tmp, args.rounds)
        print_table(f"Ingest chunks/s by encoder variant (medians of {args.rounds} alternated rounds)",
                    [{"variant": v, "chunks_per_s": variants[v]["median"]} for v in ("int8", "fp32")]
                    + [{"variant": "int8/fp32", "chunks_per_s": variants["ratio"]}], ["variant", "chunks_per_s"])
        scale_rows = []
        for n in [int(s) for s in args.sizes.split(",") if s]:
            scale_rows.append(scale(n, tmp, args.queries, rng))
            print_table("Latency at scale (ms; one query at a time)", scale_rows, list(scale_rows[-1]))
        write_json("retrieval", {"quality": q_rows, "ingest": throughput, "ingest_by_variant": variants,
                                 "scale": scale_rows})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
