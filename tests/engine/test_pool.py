"""The model pool: one context and KV cache per (model, slot), a memory budget, LRU release, reports."""

import pytest

from engine.documents import rag
from engine.runtime import pool
from engine.runtime.generation import GenerationParams, RunStats
from engine.runtime.pool import Pool
from tests.conftest import require_models

SMOL, GEMMA = "smollm2-135m", "gemma3-270m"
GREEDY = GenerationParams(max_tokens=4, temperature=0, repeat_penalty=1.0)
N_CTX = 512


def ask_tokens(model, question: str) -> list[int]:
    """Gives the prompt of a document question with no sources: the warm system prompt, then new text."""
    return model.prompt_tokens(model.render(rag.build_messages([], [], question)))


def shared_with_warm(model, tokens: list[int]) -> int:
    """Gives how many leading tokens a prompt shares with the warm prefix (which ends in an empty user turn)."""
    messages = [{"role": "system", "content": rag.SYSTEM}, {"role": "user", "content": ""}]
    warm = model.prompt_tokens(model.render(messages))
    n = 0
    while n < min(len(warm), len(tokens)) and warm[n] == tokens[n]:
        n += 1
    return n


def turn(model, tokens: list[int]) -> RunStats:
    stats = RunStats(model.model_id)
    for _ in model.stream_tokens(tokens, GREEDY, stats=stats):
        pass
    return stats


@pytest.fixture(scope="module")
def two_models():
    require_models(SMOL, GEMMA)


def test_two_models_warm_prefixes_survive_alternating_turns(two_models):
    models = Pool(budget_bytes=8 << 30)
    smol = models.get(SMOL, "rag", n_ctx=N_CTX)
    gemma = models.get(GEMMA, "rag", n_ctx=N_CTX)
    warmed = {SMOL: rag.warm(smol), GEMMA: rag.warm(gemma)}
    assert min(warmed.values()) > 10
    for question in ("How long must passwords be?", "What is the hotel cap?", "Who approves expenses?"):
        for model in (smol, gemma):
            tokens = ask_tokens(model, question)
            stats = turn(model, tokens)
            # the other model's turn in between did not touch this one's cache: all it shares with the warm
            # prefix (the system prompt, up to the user turn) came from the cache
            assert stats.cached_tokens >= shared_with_warm(model, tokens) > 10, (model.model_id, question)
    assert models.loads == 2
    models.close()


def test_slots_of_one_model_share_weights_and_keep_their_own_cache(two_models):
    models = Pool(budget_bytes=8 << 30)
    answers = models.get(SMOL, "rag", n_ctx=N_CTX)
    labels = models.get(SMOL, "classify", n_ctx=N_CTX)
    assert answers is not labels and answers._weights is labels._weights
    warmed = rag.warm(answers)
    label_prompt = labels.prompt_tokens(labels.render([{"role": "system", "content": "Label the review."},
                                                        {"role": "user", "content": "Great phone, bad battery."}]))
    turn(labels, label_prompt)
    asked = ask_tokens(answers, "How long must passwords be?")
    assert warmed > 10 and turn(answers, asked).cached_tokens >= shared_with_warm(answers, asked) > 10
    assert turn(labels, label_prompt).cached_tokens == len(label_prompt) - 1
    rows = {(r.model_id, r.slot): r for r in models.loaded()}
    assert set(rows) == {(SMOL, "rag"), (SMOL, "classify")}
    # the weights are counted once, with the first slot listed
    assert sum(r.weights_bytes for r in rows.values()) == answers._weights.bytes
    assert all(r.load_ms > 0 and r.context_bytes > 0 for r in rows.values())
    models.close()


def test_past_the_budget_the_least_recently_used_slot_is_released(two_models):
    probe = Pool(budget_bytes=8 << 30)
    first = probe.get(SMOL, "a", n_ctx=N_CTX)
    one_slot = probe.resident_bytes()
    probe.close()
    # room for the weights and one context, not two
    models = Pool(budget_bytes=one_slot + first.context_bytes // 2)
    a = models.get(SMOL, "a", n_ctx=N_CTX)
    warmed = rag.warm(a)
    b = models.get(SMOL, "b", n_ctx=N_CTX)
    assert not a.resident and b.resident
    assert [(r.model_id, r.slot) for r in models.loaded()] == [(SMOL, "b")]
    assert models.resident_bytes() <= models.budget_bytes
    # using a released slot loads it again (and releases the other); its cache starts empty
    stats = turn(a, ask_tokens(a, "How long must passwords be?"))
    assert a.resident and not b.resident and stats.cached_tokens < warmed and models.loads == 3
    models.close()


def test_a_generating_slot_is_not_released(two_models):
    models = Pool(budget_bytes=1)  # everything is over budget
    a = models.get(SMOL, "a", n_ctx=N_CTX)
    stream = a.stream_tokens(ask_tokens(a, "Write a long story."), GenerationParams(max_tokens=20))
    next(stream)  # mid-generation
    b = models.get(SMOL, "b", n_ctx=N_CTX)
    assert a.resident and b.resident
    assert models.evict(SMOL, "a") == 0
    rest = list(stream)
    assert rest is not None and models.evict(SMOL) == 2
    assert not a.resident and not b.resident and models.resident_bytes() == 0
    models.close()


def test_configure_releases_what_no_longer_fits(two_models):
    models = Pool(budget_bytes=8 << 30)
    models.get(SMOL, "a", n_ctx=N_CTX)
    models.get(GEMMA, "a", n_ctx=N_CTX)
    models.get(SMOL, "a", n_ctx=N_CTX)  # smollm2 is now the most recently used
    models.configure(models.resident_bytes() - 1)
    assert [r.model_id for r in models.loaded()] == [SMOL]
    models.close()


def test_the_process_pool_gives_one_model_per_slot(chat_model):
    assert pool.get(SMOL, slot="chat") is chat_model
    assert any(r.model_id == SMOL and r.slot == "chat" for r in pool.loaded())


def test_default_budget_comes_from_ram():
    assert pool.default_budget() >= min(1 << 30, pool.machine_ram())
    assert Pool(budget_bytes=123).budget_bytes == 123
