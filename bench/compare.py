"""Compare's speed and the chat-model choice for Chinese documents. Baselines measured in the same run:

- decode: tokens/s of each model through a Compare run vs the bare llama.cpp loop (bench/bare_llama.py),
  same model object, threads, prompt tokens and greedy decoding, alternated over rounds;
- switch: a Compare run alternating two loaded models: pool loads and the load time each column reports;
- evict: a third model past a budget that holds two: which one the pool releases (least recently used),
  the third's load time and the evicted one's reload time;
- remote: TTFT and tokens/s through Quarry's OpenAI-compatible client vs a direct minimal HTTP client to
  the same llama-cpp-python server on loopback, alternated;
- zh: SmolLM2 and Gemma through Compare on the demo's Chinese documents (bench/questions.jsonl's Chinese
  questions, with their reference answers): answer holds the reference, sentences supported, answers
  written in Chinese, tokens/s; the English questions beside them for contrast.

Usage: python bench/compare.py [--rounds 5] [--tokens 128] [--sections decode,switch,evict,remote,zh]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bare_llama import bare_generate
from common import ROOT, print_table, write_json  # noqa: I001

from engine import locations
from engine.compare import CompareSettings, Comparison
from engine.compare.run import DEFAULT_SYSTEM
from engine.models import catalog
from engine.runtime import pool

PAIR = ["smollm2-135m", "gemma3-270m"]
PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def greedy(n_gen: int, **kw) -> CompareSettings:
    return CompareSettings(temperature=0.0, max_tokens=n_gen, repeat_penalty=1.0, **kw)


def decode_section(ws, rounds: int, n_gen: int) -> dict:
    messages = [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": PROMPT}]
    models = {m: pool.get(m, slot="compare") for m in PAIR}
    tokens = {m: model.prompt_tokens(model.render(messages)) for m, model in models.items()}
    Comparison(ws, PROMPT, PAIR, greedy(16)).run_all()  # warm-up
    samples = {m: {"bare": [], "compare": [], "ratio": []} for m in PAIR}
    for _ in range(rounds):
        bare = {m: bare_generate(models[m], tokens[m], n_gen) for m in PAIR}
        run = Comparison(ws, PROMPT, PAIR, greedy(n_gen)).run_all()
        for column in run.columns:
            ours = column.stats["tokens_per_s"]
            s = samples[column.model]
            s["bare"].append(bare[column.model]["tokens_per_s"])
            s["compare"].append(ours)
            s["ratio"].append(ours / bare[column.model]["tokens_per_s"])
    rows = []
    for m in PAIR:
        s = samples[m]
        rows.append({"model": m, "threads": models[m].threads, "prompt_tokens": len(tokens[m]),
                     "bare_tok_s": round(statistics.median(s["bare"]), 1),
                     "compare_tok_s": round(statistics.median(s["compare"]), 1),
                     "ratio_median": spread(s["ratio"])["median"], "ratio_min": spread(s["ratio"])["min"],
                     "ratio_max": spread(s["ratio"])["max"]})
    print_table(f"Decode through Compare vs bare llama.cpp loop ({rounds} rounds, {n_gen} tokens, greedy)",
                rows, list(rows[0]))
    return {"rows": rows, "rounds": rounds, "tokens": n_gen}


def switch_section(ws, rounds: int) -> dict:
    for m in PAIR:
        pool.get(m, slot="compare")
    before = pool.current().loads
    load_ms, get_us = [], []
    for i in range(rounds):
        order = PAIR if i % 2 == 0 else PAIR[::-1]
        for m in order:
            t0 = time.perf_counter()
            pool.get(m, slot="compare")
            get_us.append((time.perf_counter() - t0) * 1e6)
        run = Comparison(ws, "Say hello.", order, greedy(8)).run_all()
        load_ms += [c.stats["load_ms"] for c in run.columns]
    out = {"rounds": rounds, "reloads": pool.current().loads - before,
           "column_load_ms": spread(load_ms), "pool_get_us": spread(get_us),
           "first_load_ms": {r.model_id: r.load_ms for r in pool.loaded() if r.slot == "compare"}}
    print(f"\nSwitching between two loaded models: {out['reloads']} reloads in {rounds} alternating runs; "
          f"load time per column median {out['column_load_ms']['median']} ms; pool.get "
          f"{out['pool_get_us']['median']} µs (first loads: {out['first_load_ms']})")
    return out


def evict_section(ws) -> dict:
    """A budget that holds two compare slots; a third model (SmolLM2's file under another id) evicts the LRU."""
    copy_id = "smollm2-copy"
    catalog.add(catalog.get("smollm2-135m").model_path, copy_id)
    p = pool.current()
    for m in PAIR:
        p.get(m, slot="compare")
    p.get(PAIR[0], slot="compare")  # PAIR[1] is now least recently used
    two = p.resident_bytes()
    pool.configure(two + (8 << 20))
    run = Comparison(ws, "Say hello.", [PAIR[0], copy_id], greedy(8)).run_all()
    resident = [(r.model_id, r.slot) for r in pool.loaded()]
    third_load = run.columns[1].stats["load_ms"]
    again = Comparison(ws, "Say hello.", [PAIR[1], copy_id], greedy(8)).run_all()
    out = {"budget_mb": round((two + (8 << 20)) / 2**20, 1), "resident_after_third": resident,
           "evicted": PAIR[1] if (PAIR[1], "compare") not in resident else None,
           "third_load_ms": third_load, "evicted_reload_ms": again.columns[0].stats["load_ms"]}
    print(f"\nPast the budget ({out['budget_mb']} MB): loading {copy_id} ({third_load} ms) released "
          f"{out['evicted']}; using it again reloaded it in {out['evicted_reload_ms']} ms")
    pool.configure(None)
    return out


def _direct(url: str, key: str, body: dict) -> dict:
    """A minimal direct client: POST, read SSE lines, time the first content and count deltas."""
    from urllib.parse import urlsplit

    parts = urlsplit(url + "/chat/completions")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    started = time.perf_counter()
    conn.request("POST", parts.path, json.dumps(body), {"Content-Type": "application/json",
                                                        "Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    first, n = None, 0
    while line := response.readline():
        if not line.startswith(b"data: "):
            continue
        if line.startswith(b"data: [DONE]"):
            break
        delta = json.loads(line[6:])["choices"]
        if delta and delta[0]["delta"].get("content"):
            n += 1
            first = first or time.perf_counter()
    ended = time.perf_counter()
    conn.close()
    return {"ttft_ms": (first - started) * 1000, "tokens": n,
            "tokens_per_s": (n - 1) / (ended - first) if n > 1 else 0.0}


def remote_section(rounds: int, n_gen: int, threads: int) -> dict:
    from engine.runtime.generation import GenerationParams, RunStats
    from engine.runtime.remote import RemoteLLM

    sys.path.insert(0, str(ROOT))
    from tests.remote_server import llama_server

    with tempfile.TemporaryDirectory() as tmp, llama_server(catalog.get("smollm2-135m").model_path,
                                                            Path(tmp) / "server.log", n_ctx=4096,
                                                            threads=threads) as server:
        catalog.add_remote(server["url"], "smollm2", "smollm2-served", api_key_env=server["key_env"])
        client = RemoteLLM("smollm2-served")
        messages = [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": PROMPT}]
        params = GenerationParams(max_tokens=n_gen, temperature=0.0, repeat_penalty=1.0)
        body = {"model": "smollm2", "messages": messages, "stream": True, "max_tokens": n_gen,
                "temperature": 0.0, "repeat_penalty": 1.0, "top_k": 40, "top_p": 0.95, "seed": 42}
        _direct(server["url"], server["key"], body)  # warm-up
        ours, direct = [], []
        for _ in range(rounds):
            direct.append(_direct(server["url"], server["key"], body))
            stats = RunStats("smollm2-served")
            for _piece in client.stream_chat(messages, params, stats=stats):
                pass
            ours.append({"ttft_ms": stats.ttft_ms, "tokens": stats.completion_tokens,
                         "tokens_per_s": stats.tokens_per_s})
    ratio = [o["tokens_per_s"] / d["tokens_per_s"] for o, d in zip(ours, direct)]
    ttft_extra = [o["ttft_ms"] - d["ttft_ms"] for o, d in zip(ours, direct)]
    out = {"rounds": rounds, "tokens": n_gen,
           "direct_tok_s": spread([d["tokens_per_s"] for d in direct]),
           "quarry_tok_s": spread([o["tokens_per_s"] for o in ours]),
           "tok_s_ratio": spread(ratio), "direct_ttft_ms": spread([d["ttft_ms"] for d in direct]),
           "quarry_ttft_ms": spread([o["ttft_ms"] for o in ours]), "ttft_extra_ms": spread(ttft_extra)}
    print(f"\nRemote path vs direct HTTP to the same server: tok/s ratio {out['tok_s_ratio']}; "
          f"TTFT {out['quarry_ttft_ms']['median']} vs {out['direct_ttft_ms']['median']} ms "
          f"(extra {out['ttft_extra_ms']})")
    return out


def _cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff") / len(letters) if letters else 0.0


def zh_section(ws, n_gen: int) -> dict:
    questions = [json.loads(line) for line in (ROOT / "bench" / "questions.jsonl").read_text().splitlines()
                 if line.strip()]
    zh = [q for q in questions if q["answer"] and _cjk_share(q["question"]) > 0.5]
    en = [q for q in questions if q["answer"] and _cjk_share(q["question"]) == 0][: len(zh)]
    out = {}
    for name, subset in (("zh", zh), ("en", en)):
        per = {m: {"contains": [], "supported": [], "chinese": [], "tok_s": [], "refused": 0} for m in PAIR}
        for q in subset:
            comparison = Comparison(ws, q["question"], PAIR, greedy(n_gen, rag=True), reference=q["answer"])
            run = comparison.run_all()
            for c in run.columns:
                p = per[c.model]
                if run.refused:
                    p["refused"] += 1
                p["contains"].append(float(c.checks.get("contains", False)))
                p["supported"].append(c.checks.get("supported_share", 0.0))
                p["chinese"].append(_cjk_share(c.raw_text))
                if c.stats.get("completion_tokens"):
                    p["tok_s"].append(c.stats["tokens_per_s"])
        rows = [{"model": m, "questions": len(subset), "holds_reference": round(statistics.fmean(p["contains"]), 3),
                 "supported_share": round(statistics.fmean(p["supported"]), 3),
                 "chinese_share": round(statistics.fmean(p["chinese"]), 3),
                 "refused": p["refused"], "tok_s": round(statistics.median(p["tok_s"]), 1) if p["tok_s"] else None}
                for m, p in per.items()]
        print_table(f"Document questions in {'Chinese' if name == 'zh' else 'English'} through Compare "
                    f"(greedy, {n_gen} tokens)", rows, list(rows[0]))
        out[name] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--sections", default="decode,switch,evict,remote,zh")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace

    result: dict = {"rounds": args.rounds, "tokens": args.tokens}
    with tempfile.TemporaryDirectory() as tmp:
        user_models = Path(tmp) / "user-models.toml"
        locations.user_models_file = lambda: user_models  # the bench's extra ids never reach the user's file
        with Workspace(Path(tmp) / "ws") as ws:
            if "decode" in sections:
                result["decode"] = decode_section(ws, args.rounds, args.tokens)
            if "switch" in sections:
                result["switch"] = switch_section(ws, args.rounds)
            if "evict" in sections:
                result["evict"] = evict_section(ws)
            if "remote" in sections:
                threads = pool.get(PAIR[0], slot="compare").threads
                result["remote"] = remote_section(args.rounds, args.tokens, threads)
            if "zh" in sections:
                for _ in ingest_paths(ws, [locations.demo_corpus()]):
                    pass
                result["zh"] = zh_section(ws, args.tokens)
    write_json("compare", result)


if __name__ == "__main__":
    main()
