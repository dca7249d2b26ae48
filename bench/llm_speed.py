"""LLM and encoder speed. Baselines measured in the same run:
- decode tokens/s and TTFT of Quarry's `llm` loop vs a bare llama.cpp greedy loop, same model, threads,
  prompt and tokens, runs interleaved;
- encode throughput of ONNX fp32 and int8 vs sentence-transformers on torch, with cosine agreement.

Usage: python bench/llm_speed.py [--tokens 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bare_llama import bare_generate, quarry_generate
from common import print_table, write_json  # noqa: I001

from engine import catalog, llm

PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."


def llm_rows(n_gen: int, rounds: int) -> list[dict]:
    rows = []
    for entry in catalog.load().values():
        if entry.kind != "llm" or catalog.status(entry).state != "ready":
            continue
        model = llm.LLM(entry.id)
        tokens = model.prompt_tokens(model.render([{"role": "user", "content": PROMPT}]))
        quarry_generate(model, tokens, 16)  # warm-up
        bare, ours = [], []
        for _ in range(rounds):
            bare.append(bare_generate(model, tokens, n_gen))
            ours.append(quarry_generate(model, tokens, n_gen))
        b_tps = statistics.median(r["tokens_per_s"] for r in bare)
        q_tps = statistics.median(r["tokens_per_s"] for r in ours)
        rows.append({"model": entry.id, "threads": model.threads, "prompt_tokens": len(tokens),
                     "gen_tokens": statistics.median(r["tokens"] for r in ours),
                     "bare_tok_s": round(b_tps, 1), "quarry_tok_s": round(q_tps, 1),
                     "decode_ratio": round(q_tps / b_tps, 3),
                     "bare_ttft_ms": round(statistics.median(r["ttft_ms"] for r in bare), 1),
                     "quarry_ttft_ms": round(statistics.median(r["ttft_ms"] for r in ours), 1),
                     "load_ms": round(model.load_ms, 1)})
        model.close()
    return rows


def encoder_rows(n_texts: int) -> list[dict]:
    import tempfile

    import numpy as np
    from sentence_transformers import SentenceTransformer

    from engine import locations
    from engine.encode import Encoder
    from engine.ingest import chunk_blocks, discover, load
    from engine.workspace import Workspace

    texts = []
    with tempfile.TemporaryDirectory() as tmp, Workspace(tmp) as ws:
        enc = Encoder()
        for path in discover([locations.demo_corpus()])[0]:
            loaded, records = load(path, ws.store)
            pieces = chunk_blocks(loaded.blocks, enc.token_offsets, records=records)
            texts.extend(p.text for p in pieces)
    texts = (texts * (n_texts // len(texts) + 1))[:n_texts]
    source = catalog.get("minilm-l6").folder / "source"
    st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    st.encode(texts[:32])
    t0 = time.perf_counter()
    reference = st.encode(texts, batch_size=32, normalize_embeddings=True)
    torch_s = time.perf_counter() - t0
    rows = [{"encoder": "sentence-transformers (torch)", "texts_per_s": round(len(texts) / torch_s, 1),
             "speedup_vs_torch": 1.0, "min_cosine": 1.0, "mean_cosine": 1.0}]
    for variant in ("fp32", "int8"):
        enc = Encoder("minilm-l6", variant)
        enc.encode(texts[:32])
        t0 = time.perf_counter()
        vecs = enc.encode(texts, batch_size=32)
        secs = time.perf_counter() - t0
        cos = (vecs * reference).sum(1)
        rows.append({"encoder": f"onnxruntime {variant} ({enc.info.provider})",
                     "texts_per_s": round(len(texts) / secs, 1), "speedup_vs_torch": round(torch_s / secs, 2),
                     "min_cosine": round(float(np.min(cos)), 4), "mean_cosine": round(float(np.mean(cos)), 4)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--texts", type=int, default=512)
    args = parser.parse_args()
    rows = llm_rows(args.tokens, args.rounds)
    print_table("Decode speed: Quarry llm vs bare llama.cpp loop (greedy, same prompt/threads)", rows, list(rows[0]))
    enc = encoder_rows(args.texts)
    print_table(f"Encoder throughput on {args.texts} demo chunks (batch 32)", enc, list(enc[0]))
    write_json("llm_speed", {"llm": rows, "encoder": enc, "tokens": args.tokens, "rounds": args.rounds})


if __name__ == "__main__":
    main()
