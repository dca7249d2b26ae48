"""The baseline the LLM benches compare with: a bare llama.cpp loop (decode + greedy argmax) over the
same loaded model and context as Quarry, with no sampling chain, detokenising or stop handling."""

from __future__ import annotations

import time

import numpy as np


def bare_generate(model, tokens: list[int], n_gen: int) -> dict:
    """Gives TTFT and decode tokens/s of a greedy loop over `model` (an engine.llm.LLM), cache cleared."""
    import llama_cpp as lib

    ctx = model._ctx
    vocab = model._vocab
    n_vocab = lib.llama_vocab_n_tokens(vocab)
    lib.llama_memory_seq_rm(lib.llama_get_memory(ctx), -1, 0, -1)
    model._cached.clear()
    started = time.perf_counter()
    n_batch = model.llama.n_batch
    for start in range(0, len(tokens), n_batch):
        part = tokens[start : start + n_batch]
        array = (lib.llama_token * len(part))(*part)  # must outlive the decode call
        if lib.llama_decode(ctx, lib.llama_batch_get_one(array, len(part))) != 0:
            raise RuntimeError("llama_decode failed on the prompt")
    produced, first_at = 0, None
    one = (lib.llama_token * 1)()
    for _ in range(n_gen):
        logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        token = int(np.argmax(logits))
        if first_at is None:
            first_at = time.perf_counter()
        if lib.llama_vocab_is_eog(vocab, token):
            break
        produced += 1
        one[0] = token
        if lib.llama_decode(ctx, lib.llama_batch_get_one(one, 1)) != 0:
            raise RuntimeError("llama_decode failed")
    ended = time.perf_counter()
    lib.llama_memory_seq_rm(lib.llama_get_memory(ctx), -1, 0, -1)
    return {"ttft_ms": (first_at - started) * 1000, "tokens": produced,
            "tokens_per_s": (produced - 1) / (ended - first_at) if produced > 1 else 0.0}


def quarry_generate(model, tokens: list[int], n_gen: int) -> dict:
    """Gives the same figures through Quarry's generation loop (greedy, no penalties), cache cleared."""
    from engine.llm import GenerationParams, RunStats

    model._forget_from(0)
    stats = RunStats(model.model_id)
    for _ in model.stream_tokens(tokens, GenerationParams(max_tokens=n_gen, temperature=0, repeat_penalty=1.0),
                                 stats=stats):
        pass
    model._forget_from(0)
    return {"ttft_ms": stats.ttft_ms, "tokens": stats.completion_tokens, "tokens_per_s": stats.tokens_per_s}
