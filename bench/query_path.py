"""Query-path costs, each change against the way it was, over interleaved rounds (median and spread of
the per-round ratio):
- a CLI search (`quarry search --json`, a fresh process) on a library of N synthetic chunks, with the
  FAISS file memory-mapped vs read whole (QUARRY_FAISS_MMAP=0, the old way);
- a filtered search whose cost follows the hits (candidates checked against the filter in DuckDB) vs
  materialising every matching id and searching within them (the old way);
- a checkpoint after a change: how long a search waits for the search lock, file written outside it
  vs under it (the old way); and a checkpoint with nothing changed (the file is not rewritten);
- exact cosines of the candidates from DuckDB's vectors (what the refusal bar sees at any size) vs the
  IVF search limited to the probed lists (the old way, which gave 0 to most candidates);
- encoding an answer's sentences in one batch vs one encoder call per sentence (the old way);
- fitting a long chat into the context by binary search vs dropping one turn per render (the old way).

Usage: python bench/query_path.py [--chunks 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import ROOT, interleave, print_table, write_json  # noqa: I001
from retrieval import synthetic_workspace

from engine.documents.search import Filters


def cli_search(root: Path, rounds: int) -> dict:
    """Times `quarry search` in a fresh process, mmap on vs off, alternating."""

    def run(mmap: bool) -> float:
        env = dict(os.environ, QUARRY_FAISS_MMAP="1" if mmap else "0")
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "tui", "search", "w17 w3", "--workspace", str(root),
                               "--k", "5", "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-500:])
        json.loads(done.stdout)
        return (time.perf_counter() - t0) * 1000

    def faiss_load(mmap: bool) -> float:
        probe = (f"import time, sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
                 "from engine.documents.index import VectorIndex; import numpy as np; t = time.perf_counter(); "
                 f"v, _ = VectorIndex.load(Path({str(root / 'indexes')!r}), mmap={mmap!r}); "
                 "v.search(np.ones(v.dimension, dtype=np.float32) / v.dimension ** 0.5, 10); "
                 "print((time.perf_counter() - t) * 1000)")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-500:])
        return float(done.stdout.strip().splitlines()[-1])

    return {"cli_search_ms": interleave({"mmap": lambda: run(True), "read_whole": lambda: run(False)}, rounds),
            "faiss_load_and_search_ms": interleave({"mmap": lambda: faiss_load(True),
                                                    "read_whole": lambda: faiss_load(False)}, rounds)}


def filtered(ws, rounds: int, queries: np.ndarray) -> dict:
    searcher = ws.searcher()
    filters = Filters(path_glob="*/doc-1*")  # about a ninth of the library
    depth = 50
    it = iter(range(10**9))

    def new() -> float:
        q = queries[next(it) % len(queries)]
        t0 = time.perf_counter()
        searcher._filtered(lambda n, allowed: searcher.vectors.search(
            q, n, None if allowed is None else np.array(allowed)), depth, filters)
        return (time.perf_counter() - t0) * 1000

    def old() -> float:
        q = queries[next(it) % len(queries)]
        t0 = time.perf_counter()
        allowed = sorted(ws.store.filter_chunk_ids(None, filters.doctype, filters.path_glob, filters.since))
        searcher.vectors.search(q, depth, np.array(allowed))
        return (time.perf_counter() - t0) * 1000

    return interleave({"proportional": new, "materialise_all": old}, rounds)


def checkpoint(ws, rounds: int, queries: np.ndarray) -> dict:
    """Gives the longest wait for the search lock while a checkpoint writes a changed index."""
    searcher = ws.searcher()
    folder = searcher.vectors_dir
    ids = iter(range(1, 10**9))

    def waits(old_way: bool) -> float:
        searcher.vectors.remove([next(ids)])  # one change, so the file must be rewritten
        done = threading.Event()

        def write() -> None:
            if old_way:
                with searcher.lock:
                    searcher.vectors.save(folder, ws.store.chunk_generation(), ws.encoder_id)
            else:
                searcher.checkpoint()
            done.set()

        worker = threading.Thread(target=write)
        worker.start()
        worst = 0.0
        while not done.is_set():
            t0 = time.perf_counter()
            with searcher.lock:
                pass
            worst = max(worst, (time.perf_counter() - t0) * 1000)
            time.sleep(0.002)
        worker.join()
        return worst

    def unchanged() -> float:
        t0 = time.perf_counter()
        searcher.checkpoint()
        return (time.perf_counter() - t0) * 1000

    def changed() -> float:
        searcher.vectors.remove([next(ids)])
        t0 = time.perf_counter()
        searcher.checkpoint()
        return (time.perf_counter() - t0) * 1000

    return {"search_lock_wait_ms": interleave({"write_outside_lock": lambda: waits(False),
                                               "write_under_lock": lambda: waits(True)}, rounds),
            "checkpoint_ms": interleave({"unchanged": unchanged, "changed": changed}, rounds)}


def exact_cosines(ws, queries: np.ndarray) -> dict:
    """Gives how many of 50 candidates the old IVF-limited scoring left at 0, and the new cost."""
    searcher = ws.searcher()
    zeros, new_ms, old_ms = [], [], []
    for q in queries[:50]:
        candidates = [cid for cid, _ in searcher.keywords.search("w3 w17", 50)] or list(range(1, 51))
        t0 = time.perf_counter()
        exact = searcher.vector_scores(q, candidates)
        new_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        limited = dict(searcher.vectors.search(q, len(candidates), np.array(candidates)))
        old_ms.append((time.perf_counter() - t0) * 1000)
        zeros.append(sum(1 for c in candidates if c not in limited))
        assert all(abs(exact[c] - limited[c]) < 1e-4 for c in limited)
    return {"candidates": 50, "old_scored_zero_median": float(np.median(zeros)),
            "exact_ms_median": round(float(np.median(new_ms)), 3),
            "ivf_limited_ms_median": round(float(np.median(old_ms)), 3)}


def sentence_batch(rounds: int) -> dict:
    from engine.runtime.encoder import Encoder

    encoder = Encoder()
    sentences = [f"The return window for opened electronics is {i + 10} days with a restocking fee of {i}%."
                 for i in range(8)]
    encoder.encode(sentences)
    return interleave({"one_batch": lambda: _ms(lambda: encoder.encode(sentences)),
                       "one_call_each": lambda: _ms(lambda: [encoder.encode([s]) for s in sentences])}, rounds)


def history_fit(rounds: int) -> dict:
    from engine.documents.chat import fit_history
    from engine.runtime import pool

    model = pool.get("smollm2-135m", slot="bench")
    history = []
    for i in range(300):
        history += [{"role": "user", "content": f"Question {i}: what does clause {i} of the contract say?"},
                    {"role": "assistant", "content": f"Clause {i} says the supplier delivers within {i} days."}]
    reserve = 384

    def old() -> int:
        budget = model.n_ctx - reserve
        kept = list(history)
        while len(kept) > 1 and len(model.tokenize(model.render([{"role": "system", "content": "s"},
                                                                    *kept]))) > budget:
            kept.pop(0)
        return len(kept)

    kept_new = len(fit_history(model, "s", history, reserve)[0])
    assert kept_new == old(), "binary search keeps what the loop kept"
    return interleave({"binary_search": lambda: _ms(lambda: fit_history(model, "s", history, reserve)),
                       "one_turn_per_render": lambda: _ms(old)}, rounds) | {"turns": len(history), "kept": kept_new}


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def summary_rows(results: dict) -> list[dict]:
    rows = []
    for name, result in results.items():
        for part, value in (result.items() if "ratios" not in result else [("", result)]):
            if not isinstance(value, dict) or "ratios" not in value:
                continue
            base = value["baseline"]
            for side, ratio in value["ratios"].items():
                rows.append({"what": f"{name} {part}".strip(), "new": side, "old": base,
                             "new_median": value[side]["median"], "old_median": value[base]["median"],
                             "ratio_median": ratio["median"], "ratio_min": ratio["min"], "ratio_max": ratio["max"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="quarry-query-"))
    results: dict = {}
    try:
        t0 = time.perf_counter()
        ws, centers = synthetic_workspace(tmp / "lib", args.chunks, 384, rng)
        searcher = ws.searcher()
        build_s = time.perf_counter() - t0
        queries = centers[rng.integers(0, len(centers), 64)] + 0.6 * rng.standard_normal((64, 384)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        print(f"library of {args.chunks} chunks ({searcher.vectors.kind}) built in {build_s:.0f} s", file=sys.stderr)
        results["exact_cosines"] = exact_cosines(ws, queries)
        results["filtered_search_ms"] = filtered(ws, args.rounds, queries)
        results["checkpoint"] = checkpoint(ws, args.rounds, queries)
        ws.close()
        if not args.skip_cli:
            results["cli"] = cli_search(tmp / "lib", args.rounds)
        results["sentence_encode_ms"] = sentence_batch(args.rounds)
        results["history_fit_ms"] = history_fit(args.rounds)
        rows = summary_rows(results)
        print_table(f"Query path at {args.chunks} chunks: new vs old (medians of {args.rounds} interleaved rounds)",
                    rows, list(rows[0]))
        print_table("Exact cosines for the refusal bar", [results["exact_cosines"]], list(results["exact_cosines"]))
        write_json(f"query_path_{args.chunks}", {"chunks": args.chunks, "index": searcher.vectors.kind,
                                                 "build_s": round(build_s, 1), "results": results, "summary": rows})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
