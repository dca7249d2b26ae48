"""Scoped questions are not slower: TTFT of a question scoped to its document (`--path`) against the same
question over the whole library, at the same prompt size.

Each side is timed as a user waits: from the call (for the scoped side: resolving the scope included) to
the first streamed token, the KV cache cleared and the system prompt warmed before each (as the app warms
it at start-up). With k=1 source, both sides put the same passage in the prompt whenever the library's best
passage is the scoped document's, so the prompts are the same size; each pair's prompt tokens are kept and
pairs whose prompts differ are reported apart. Both sides alternate which runs first, over >= 5 rounds; the
ratio scoped/unscoped is given per pair, with its median and spread. The retrieval step alone (search and
relevance, where a scope acts) is timed the same way.

Usage: python bench/scope_ttft.py [--rounds 5] [--workspace DIR] [--k 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import ratio_summary, write_json  # noqa: I001

from engine import locations
from engine.documents import rag
from engine.documents.ingest import ingest_paths
from engine.documents.scope import Scope, for_question
from engine.runtime import pool
from engine.runtime.generation import GenerationParams
from engine.workspace import Workspace

# (question, the glob of the document that answers it)
QUESTIONS = [
    ("What is the return window for opened electronics?", "*returns-policy*"),
    ("What is the hotel cap per night in New York?", "*travel-policy*"),
    ("How long must passwords be?", "*security-policy*"),
    ("How long are customer records kept?", "*data-retention-policy*"),
    ("How many days a week can staff work remotely?", "*remote-work-policy*"),
]
MODEL = "smollm2-135m"


def ask_once(ws, question: str, glob: str | None, k: int) -> dict:
    """Gives one ask's TTFT from the call, its prompt tokens and its retrieval time (cold KV cache)."""
    model = pool.get(MODEL, slot="rag")
    model._forget_from(0)
    rag.warm(model)
    started = time.perf_counter()
    filters = None
    if glob is not None:
        question, resolved = for_question(ws.store, question, Scope(paths=(glob,)))
        filters = resolved.filters()
    job = rag.Ask(ws, question, k=k, filters=filters)
    first = None
    for _ in job.stream(GenerationParams(max_tokens=1, temperature=0, repeat_penalty=1.0)):
        first = first or time.perf_counter()
    if first is None:  # refused without the model: no TTFT to compare
        return {"ttft_ms": None, "prompt_tokens": None, "refused": True}
    return {"ttft_ms": (first - started) * 1000, "prompt_tokens": job.answer.stats.prompt_tokens,
            "refused": job.answer.refused, "sources": [s.chunk_id for s in job.answer.sources]}


def retrieve_once(ws, question: str, glob: str | None, k: int) -> float:
    """Gives the time of the retrieval step alone (scope resolution, search, relevance), in ms."""
    started = time.perf_counter()
    filters = None
    if glob is not None:
        question, resolved = for_question(ws.store, question, Scope(paths=(glob,)))
        filters = resolved.filters()
    rag.Ask(ws, question, k=k, filters=filters).retrieve([])
    return (time.perf_counter() - started) * 1000


def paired(run, rounds: int) -> dict:
    """Runs `run(question, glob_or_None)` for both sides of every question each round, alternating which
    side goes first (by round and question); gives each side's samples and the per-pair ratios."""
    pairs = []
    for r in range(rounds):
        for i, (question, glob) in enumerate(QUESTIONS):
            order = [("scoped", glob), ("unscoped", None)]
            if (r + i) % 2:
                order.reverse()
            result = {name: run(question, g) for name, g in order}
            pairs.append({"round": r, "question": question, **result})
    return {"pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--k", type=int, default=1, help="sources per answer (1: the same prompt size)")
    parser.add_argument("--workspace", type=Path, help="a demo workspace to copy (default: ingest the demo)")
    args = parser.parse_args()
    load_before = os.getloadavg()  # this shared machine's load: TTFT's spread follows it
    tmp = Path(tempfile.mkdtemp(prefix="scope-ttft-"))
    root = tmp / "ws"
    try:
        if args.workspace:
            shutil.copytree(args.workspace, root)
        with Workspace(root) as ws:
            if not args.workspace:
                for _ in ingest_paths(ws, [locations.demo_corpus()]):
                    pass
            question, glob = QUESTIONS[0]  # warm-up: models loaded, indexes and caches touched
            ask_once(ws, question, glob, args.k)
            ask_once(ws, question, None, args.k)
            ttft = paired(lambda q, g: ask_once(ws, q, g, args.k), args.rounds)
            retrieval = paired(lambda q, g: retrieve_once(ws, q, g, args.k), args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    same = [p for p in ttft["pairs"] if p["scoped"]["ttft_ms"] and p["unscoped"]["ttft_ms"]
            and p["scoped"]["prompt_tokens"] == p["unscoped"]["prompt_tokens"]]
    differ = [p for p in ttft["pairs"] if p not in same]
    ratios = [p["scoped"]["ttft_ms"] / p["unscoped"]["ttft_ms"] for p in same]
    retrieval_ratios = [p["scoped"] / p["unscoped"] for p in retrieval["pairs"]]
    result = {
        "what": "TTFT of questions scoped to their document (--path) vs the same questions unscoped, at the "
                "same prompt size (k=1 source, pairs with equal prompt tokens); ratio = scoped / unscoped",
        "rounds": args.rounds, "k": args.k, "model": MODEL, "questions": [q for q, _ in QUESTIONS],
        "load_average": {"before": [round(v, 1) for v in load_before],
                         "after": [round(v, 1) for v in os.getloadavg()]},
        "goal": "scoped TTFT within 1.05x of unscoped",
        "ttft_ratio": ratio_summary(ratios, "scoped/unscoped TTFT"),
        "ttft_ms": {side: {"median": round(statistics.median(p[side]["ttft_ms"] for p in same), 1)}
                    for side in ("scoped", "unscoped")} if same else {},
        "pairs_same_prompt": len(same), "pairs_other": len(differ),
        "prompt_tokens_median": statistics.median(p["scoped"]["prompt_tokens"] for p in same) if same else None,
        "retrieval_ratio": ratio_summary(retrieval_ratios, "scoped/unscoped retrieval"),
        "retrieval_ms": {side: round(statistics.median(p[side] for p in retrieval["pairs"]), 2)
                         for side in ("scoped", "unscoped")},
        "pairs": [{"round": p["round"], "question": p["question"][:40],
                   "scoped_ms": _ms(p["scoped"]["ttft_ms"]), "unscoped_ms": _ms(p["unscoped"]["ttft_ms"]),
                   "scoped_prompt": p["scoped"]["prompt_tokens"], "unscoped_prompt": p["unscoped"]["prompt_tokens"]}
                  for p in ttft["pairs"]],
    }
    r = result["ttft_ratio"]
    print(f"TTFT scoped/unscoped over {len(same)} pairs at the same prompt size: median {r.get('median')} "
          f"(p25 {r.get('p25')}, p75 {r.get('p75')}, min {r.get('min')}, max {r.get('max')})")
    print(f"  medians: {result['ttft_ms']}; prompt tokens {result['prompt_tokens_median']}; "
          f"{len(differ)} pairs had different prompts and are left out")
    rr = result["retrieval_ratio"]
    print(f"retrieval scoped/unscoped: median {rr.get('median')} (p25 {rr.get('p25')}, p75 {rr.get('p75')}); "
          f"medians {result['retrieval_ms']} ms")
    write_json("scope_ttft", result)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    main()
