
import pytest

from engine.runtime.generation import GenerationParams, RunStats


def test_streams_pieces_with_stats(chat_model):
    stats = RunStats("smollm2-135m")
    messages = [{"role": "user", "content": "Name three ways to reduce customer churn."}]
    pieces = list(chat_model.stream_chat(messages, GenerationParams(max_tokens=40, temperature=0),
                                         stats=stats))
    assert len(pieces) > 5 and "".join(pieces).strip()
    assert stats.completion_tokens > 0 and stats.tokens_per_s > 0 and stats.ttft_ms > 0
    assert stats.prompt_tokens > 10 and stats.stop_reason in ("eos", "length")


def test_uses_the_models_chat_template(chat_model):
    prompt = chat_model.render([{"role": "user", "content": "hi"}])
    assert "<|im_start|>user\nhi<|im_end|>" in prompt and prompt.endswith("<|im_start|>assistant\n")


def test_cancel_stops_generation(chat_model):
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    stats = RunStats("smollm2-135m")
    pieces = list(chat_model.stream_chat([{"role": "user", "content": "Write a long story."}],
                                         GenerationParams(max_tokens=200), cancel=cancel, stats=stats))
    assert stats.stop_reason == "cancelled" and stats.completion_tokens == 3 and len(pieces) <= 3


def test_follow_up_reuses_cached_prefix(chat_model):
    first = [{"role": "system", "content": "You answer in one sentence."},
             {"role": "user", "content": "What is churn?"}]
    reply, _ = chat_model.chat(first, GenerationParams(max_tokens=30, temperature=0))
    follow = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "Why care?"}]
    _, stats = chat_model.chat(follow, GenerationParams(max_tokens=10, temperature=0))
    assert stats.cached_tokens >= 15


def test_greedy_is_deterministic(chat_model):
    messages = [{"role": "user", "content": "Say hello."}]
    a, _ = chat_model.chat(messages, GenerationParams(max_tokens=20, temperature=0))
    chat_model.chat([{"role": "user", "content": "Something else entirely."}],
                    GenerationParams(max_tokens=5))
    b, _ = chat_model.chat(messages, GenerationParams(max_tokens=20, temperature=0))
    assert a == b


def test_stop_strings_end_the_answer(chat_model):
    messages = [{"role": "user", "content": "Name three ways to reduce customer churn."}]
    greedy = GenerationParams(max_tokens=60, temperature=0)
    full, _ = chat_model.chat(messages, greedy)
    stop = full[20:26]
    greedy.stop = (stop,)
    text, stats = chat_model.chat(messages, greedy)
    assert stats.stop_reason == "stop" and text == full[: full.index(stop)]


@pytest.mark.parametrize("model_id,penalty", [("smollm2-135m", 1.0), ("smollm2-135m", 1.1), ("smollm2-135m", 1.5),
                                              ("gemma3-270m", 1.1), ("gemma3-270m", 1.5)])
def test_greedy_picks_the_same_tokens_as_llama_cpps_sampler_chain(model_id, penalty):
    """The numpy greedy pick (engine.runtime.llama.GreedyPicker) against llama.cpp's own penalties + greedy chain, on a
    prompt that makes the model repeat itself, so the penalty decides tokens. 48 tokens hold twenty apples; the
    plain argmax (1.0) is the same code for every vocabulary, so the bigger model runs only the penalties."""
    from engine.runtime import pool
    from tests.conftest import require_models

    require_models(model_id)
    model = pool.get(model_id, slot="test-greedy")
    ask = "Write the word apple twenty times, then list ten fruits, one per line."
    tokens = model.prompt_tokens(model.render([{"role": "user", "content": ask}]))
    params = GenerationParams(max_tokens=48, temperature=0.0, repeat_penalty=penalty)

    def generate(fast: bool) -> tuple[list[str], RunStats]:
        model.fast_greedy = fast
        stats = RunStats(model_id)
        try:
            return list(model.stream_tokens(tokens, params, stats=stats)), stats
        finally:
            del model.fast_greedy  # back to the class default
            model._forget_from(0)

    fast, fast_stats = generate(True)
    chain, chain_stats = generate(False)
    assert fast_stats.completion_tokens >= 8
    assert "".join(fast) == "".join(chain) and fast_stats.completion_tokens == chain_stats.completion_tokens
