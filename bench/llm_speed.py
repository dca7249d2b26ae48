"""LLM and encoder speed, each side against its baseline over interleaved rounds (median and spread of
the per-round ratio; a single run of each side is noise on a shared machine):
- decode tokens/s of Quarry's `llm` loop vs a bare llama.cpp loop, same model, context, threads, prompt
  and tokens: greedy, and with the app's own sampler settings (penalties, top-k/p, temperature);
- time to first token per prompt size (cold cache), Quarry vs bare;
- encode throughput of the ONNX variants vs sentence-transformers on torch, with cosine agreement to
  torch and retrieval recall@5 / MRR on the bench questions (vector and hybrid) against ONNX fp32.

Usage: python bench/llm_speed.py [--tokens 200] [--rounds 5] [--texts 512] [--skip-llm] [--skip-encoder]
"""

from __future__ import annotations

import argparse
import time

from bare_llama import bare_generate, quarry_generate
from common import ROOT, interleave, print_table, write_json  # noqa: I001

from engine.models import catalog
from engine.runtime import llama

PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."
FILLER = ("The quarterly report covers revenue, churn, hiring and the new returns policy for opened "
          "electronics, with figures for each region and notes from the finance team. ")
PROMPT_SIZES = (32, 256, 1024)


def app_params():
    """Gives the generation params the app uses by default (its settings' sampler)."""
    from engine.settings import Settings

    return Settings().generation()


def prompt_of_size(model, n: int) -> list[int]:
    """Gives chat-template prompt tokens of about n tokens."""
    text = ""
    while True:
        tokens = model.prompt_tokens(model.render([{"role": "user", "content": text + PROMPT}]))
        if len(tokens) >= n or len(text) > 40 * n:
            return tokens
        text += FILLER


def llm_rows(n_gen: int, rounds: int) -> tuple[list[dict], list[dict], dict]:
    rows, ttft_rows, raw = [], [], {}
    for entry in catalog.load().values():
        if entry.kind != "llm" or catalog.status(entry).state != "ready":
            continue
        model = llama.LLM(entry.id)
        tokens = model.prompt_tokens(model.render([{"role": "user", "content": PROMPT}]))
        app = app_params()
        for sampler, params in (("greedy", None), ("app", app)):
            last = {}

            def ours(params=params, last=last, model=model, tokens=tokens):
                last["quarry"] = quarry_generate(model, tokens, n_gen, params)
                return last["quarry"]["tokens_per_s"]

            def bare(params=params, last=last, model=model, tokens=tokens):
                last["bare"] = bare_generate(model, tokens, n_gen, params)
                return last["bare"]["tokens_per_s"]

            result = interleave({"quarry": ours, "bare": bare}, rounds)
            raw[f"{entry.id}/{sampler}"] = result
            rows.append({"model": entry.id, "sampler": sampler, "threads": model.threads,
                         "prompt_tokens": len(tokens), "gen_tokens": last["quarry"]["tokens"],
                         "bare_gen_tokens": last["bare"]["tokens"],
                         "bare_tok_s": result["bare"]["median"], "quarry_tok_s": result["quarry"]["median"],
                         "decode_ratio": result["ratio"]["median"], "ratio_min": result["ratio"]["min"],
                         "ratio_max": result["ratio"]["max"], "load_ms": round(model.load_ms, 1)})
        for size in PROMPT_SIZES:
            sized = prompt_of_size(model, size)
            result = interleave({"quarry": lambda t=sized, m=model: quarry_generate(m, t, 2)["ttft_ms"],
                                 "bare": lambda t=sized, m=model: bare_generate(m, t, 2)["ttft_ms"]}, rounds)
            raw[f"{entry.id}/ttft/{len(sized)}"] = result
            ttft_rows.append({"model": entry.id, "prompt_tokens": len(sized),
                              "bare_ttft_ms": result["bare"]["median"], "quarry_ttft_ms": result["quarry"]["median"],
                              "ttft_ratio": result["ratio"]["median"], "ratio_min": result["ratio"]["min"],
                              "ratio_max": result["ratio"]["max"]})
        model.close()
    return rows, ttft_rows, raw


def demo_chunks(tmp) -> tuple[object, list[str]]:
    """Gives a demo workspace (ingested with ONNX fp32) and its chunk texts as the encoder sees them."""
    from engine import locations
    from engine.documents.ingest import ingest_paths
    from engine.documents.search import searchable_text
    from engine.workspace import Workspace

    ws = Workspace(tmp)
    for _ in ingest_paths(ws, [locations.demo_corpus()]):
        pass
    texts = [searchable_text(c.title, c.heading, c.text) for batch in ws.store.iter_chunks() for c in batch]
    return ws, texts


def recall(ws, vectors, encoder, questions, k: int = 5) -> dict:
    """Gives recall@k and MRR over distinct files, vector-only and hybrid, with chunk vectors `vectors`
    (row i = the i-th chunk in id order) and questions encoded by `encoder`."""
    import numpy as np

    from engine.documents.evaluate import first_rank
    from engine.documents.search import fuse, trust_weights

    chunks = [c for batch in ws.store.iter_chunks() for c in batch]
    answerable = [q for q in questions if q.expected_file]
    qv = encoder.encode([q.question for q in answerable])
    scores = qv @ vectors.T
    searcher = ws.searcher()
    out = {"vector": [], "hybrid": []}
    for q, row in zip(answerable, scores):
        top = np.argsort(-row)[:50]
        vector_hits = [(chunks[i].id, float(row[i])) for i in top]
        keyword_hits = searcher.keywords.search(q.question, 50)
        hybrid = fuse(vector_hits, keyword_hits, trust_weights(q.question, vector_hits, keyword_hits))
        paths = {c.id: c.path for c in chunks}
        for mode, ranked in (("vector", vector_hits), ("hybrid", hybrid)):
            files = list(dict.fromkeys(paths[cid] for cid, _ in ranked))
            out[mode].append(first_rank(files, q.expected_file))
    return {f"{mode}_recall@{k}": round(sum(1 for r in ranks if r and r <= k) / len(ranks), 4)
            for mode, ranks in out.items()} | {
            f"{mode}_mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 4) for mode, ranks in out.items()}


def encoder_rows(n_texts: int, rounds: int) -> tuple[list[dict], dict]:
    import tempfile

    import numpy as np
    from sentence_transformers import SentenceTransformer

    from engine.documents.evaluate import read_questions
    from engine.runtime.encoder import Encoder, available_variants

    questions = read_questions(ROOT / "bench" / "questions.jsonl")
    zh = ROOT / "bench" / "questions_zh.jsonl"
    if zh.exists():
        questions += [q for q in read_questions(zh) if not q.expected_file or "/" not in q.expected_file
                      or (ROOT / "demo" / "docs" / q.expected_file).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        ws, all_texts = demo_chunks(tmp)
        texts = (all_texts * (n_texts // len(all_texts) + 1))[:n_texts]
        source = catalog.get("minilm-l6").folder / "source"
        st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
        reference = st.encode(texts, batch_size=32, normalize_embeddings=True)
        encoders = {v: Encoder("minilm-l6", v) for v in available_variants("minilm-l6")}
        sides = {"torch": lambda: len(texts) / _timed(lambda: st.encode(texts, batch_size=32,
                                                                          normalize_embeddings=True))}
        for variant, enc in encoders.items():
            sides[variant] = lambda enc=enc: len(texts) / _timed(lambda: enc.encode(texts, batch_size=32))
        speed = interleave(sides, rounds, baseline="torch")
        fp32_vectors = encoders["fp32"].encode(all_texts)
        base = recall(ws, fp32_vectors, encoders["fp32"], questions)
        rows = [{"encoder": "sentence-transformers (torch)", "texts_per_s": speed["torch"]["median"],
                 "speedup_vs_torch": 1.0}]
        for variant, enc in encoders.items():
            vecs = enc.encode(texts)
            cos = (vecs * reference).sum(1)
            quality = recall(ws, enc.encode(all_texts), enc, questions) if variant != "fp32" else base
            ratio = speed["ratios"][variant]
            rows.append({"encoder": f"onnxruntime {variant} ({enc.info.provider})",
                         "texts_per_s": speed[variant]["median"], "speedup_vs_torch": ratio["median"],
                         "speedup_min": ratio["min"], "speedup_max": ratio["max"],
                         "min_cosine": round(float(np.min(cos)), 4), "mean_cosine": round(float(np.mean(cos)), 4)}
                        | quality
                        | {"vector_recall_delta": round(quality["vector_recall@5"] - base["vector_recall@5"], 4),
                           "hybrid_recall_delta": round(quality["hybrid_recall@5"] - base["hybrid_recall@5"], 4)})
        ws.close()
    return rows, {"speed": speed, "questions": len(questions)}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--skip-encoder", action="store_true")
    args = parser.parse_args()
    out: dict = {"tokens": args.tokens, "rounds": args.rounds}
    if not args.skip_llm:
        rows, ttft, raw = llm_rows(args.tokens, args.rounds)
        print_table(f"Decode: Quarry llm vs bare llama.cpp loop (medians of {args.rounds} interleaved rounds)",
                    rows, list(rows[0]))
        print_table("Time to first token per prompt size (cold cache)", ttft, list(ttft[0]))
        out |= {"llm": rows, "ttft": ttft, "llm_rounds": raw}
    if not args.skip_encoder:
        enc, raw = encoder_rows(args.texts, args.rounds)
        print_table(f"Encoder throughput on {args.texts} demo chunks (batch 32) and retrieval quality "
                    f"({raw['questions']} bench questions)", enc, list(enc[-1]))
        out |= {"encoder": enc, "encoder_rounds": raw}
    write_json("llm_speed", out)


if __name__ == "__main__":
    main()
