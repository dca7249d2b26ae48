"""The baseline the LLM benches compare with: a bare llama.cpp loop (decode + sample) over the same loaded
model and context as Quarry, with no detokenising, stop handling or stats."""

from __future__ import annotations

import time

import numpy as np


def _clear(model) -> None:
    import llama_cpp as lib

    lib.llama_memory_seq_rm(lib.llama_get_memory(model._ctx), -1, 0, -1)
    model._cached.clear()


def bare_generate(model, tokens: list[int], n_gen: int, params=None) -> dict:
    """Gives TTFT and decode tokens/s of a bare loop over `model` (an engine.runtime.llama.LLM), cache cleared.

    Without `params`, greedy argmax over the logits; with them, the same llama.cpp sampler chain Quarry
    builds from those params (penalties, top-k, top-p, temperature, seeded dist), sampled directly.
    """
    import llama_cpp as lib

    with model._pinned():
        ctx = model._ctx
        vocab = model._vocab
        n_vocab = lib.llama_vocab_n_tokens(vocab)
        _clear(model)
        sampler = model._sampler(params) if params is not None else None
        started = time.perf_counter()
        n_batch = model.n_batch
        for start in range(0, len(tokens), n_batch):
            part = tokens[start : start + n_batch]
            array = (lib.llama_token * len(part))(*part)  # must outlive the decode call
            if lib.llama_decode(ctx, lib.llama_batch_get_one(array, len(part))) != 0:
                raise RuntimeError("llama_decode failed on the prompt")
        produced, first_at = 0, None
        one = (lib.llama_token * 1)()
        try:
            for _ in range(n_gen):
                if sampler is None:
                    logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
                    token = int(np.argmax(logits))
                else:
                    token = lib.llama_sampler_sample(sampler, ctx, -1)
                if first_at is None:
                    first_at = time.perf_counter()
                if lib.llama_vocab_is_eog(vocab, token):
                    break
                produced += 1
                one[0] = token
                if lib.llama_decode(ctx, lib.llama_batch_get_one(one, 1)) != 0:
                    raise RuntimeError("llama_decode failed")
            ended = time.perf_counter()
        finally:
            if sampler is not None:
                lib.llama_sampler_free(sampler)
        _clear(model)
    return {"ttft_ms": (first_at - started) * 1000, "tokens": produced,
            "tokens_per_s": (produced - 1) / (ended - first_at) if produced > 1 else 0.0}


def quarry_generate(model, tokens: list[int], n_gen: int, params=None) -> dict:
    """Gives the same figures through Quarry's generation loop, cache cleared (greedy without `params`)."""
    from dataclasses import replace

    from engine.runtime.generation import GenerationParams, RunStats
    params = (replace(params, max_tokens=n_gen) if params is not None
              else GenerationParams(max_tokens=n_gen, temperature=0, repeat_penalty=1.0))
    model._forget_from(0)
    stats = RunStats(model.model_id)
    for _ in model.stream_tokens(tokens, params, stats=stats):
        pass
    model._forget_from(0)
    return {"ttft_ms": stats.ttft_ms, "tokens": stats.completion_tokens, "tokens_per_s": stats.tokens_per_s}
