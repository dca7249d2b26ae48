"""The LLM method: a llama.cpp grammar admits only label names; the cached prefix changes speed, not labels."""

from __future__ import annotations

import random

import pytest

from engine.classify.base import Examples
from engine.classify.llm_method import LLMMethod, gbnf
from tests.conftest import require_models

EN = ["where is my parcel", "refund please", "cannot log in", "charged twice", "great desk", "it broke",
      "is it white", "cancel my order", "box was crushed", "thanks team"]
ZH = ["物流太慢了", "质量很好", "退款", "登录不了", "扣了两次钱", "很喜欢", "坏了", "换个颜色", "包装破了", "谢谢"]


@pytest.fixture(scope="module")
def method():
    require_models("smollm2-135m")
    labels = ["好评", "中评", "差评", "account_access", "account_billing", "shipping", "refund \"fast\""]
    data = Examples(labels, ["好评", "差评", "account_access", "shipping"],
                    texts=["很好用", "太差了", "I cannot log in", "where is my box"],
                    descriptions={"shipping": "where a parcel is"})
    return LLMMethod("smollm2-135m").fit(data)


def test_grammar_text_quotes_labels():
    assert gbnf(["a", 'b "c"']) == 'root ::= "a" | "b \\"c\\""'


def test_grammar_never_yields_an_invalid_label_over_mixed_texts(method):
    # 24 distinct texts (a repeated text is decoded once): English and Chinese texts alone and in a mix each
    # way. The grammar admits label names by construction, so more texts add time, not proof; the LLM
    # method over more texts runs in bench/classify.py (--llm-test, 90 a set, where a wrong label scores 0).
    en, zh = EN[:4], ZH[:4]
    texts = en + zh + [f"{e} {z}" for e, z in zip(en, zh)] + [f"{z}{e}" for z, e in zip(zh, en[::-1])]
    texts += [f"{e}, {z}" for e, z in zip(en[::-1], zh)] + [f"{z}：{e}" for z, e in zip(zh[::-1], en)]
    random.Random(0).shuffle(texts)
    assert len(set(texts)) == 24
    predictions = method.predict(texts)
    assert len(predictions) == 24
    valid = set(method.labels)
    assert all(p.label in valid and p.runner_up in valid for p in predictions)
    assert all(0 < p.confidence <= 1 for p in predictions)
    assert len({p.label for p in predictions}) >= 2  # the model's choice, not a constant


def test_a_repeated_text_is_decoded_once_and_gets_the_same_scores(method, monkeypatch):
    calls = []
    classify = method._classify
    monkeypatch.setattr(method, "_classify", lambda text: calls.append(text) or classify(text))
    scores = method.scores(["refund please", "退款", "refund please", "退款", "refund please"])
    assert calls == ["refund please", "退款"]
    assert (scores[0] == scores[2]).all() and (scores[1] == scores[3]).all() and (scores[0] == scores[4]).all()


def test_cached_prefix_gives_the_same_labels(method):
    texts = EN[:3] + ZH[:3]
    cached = method.scores(texts)
    method.use_cache = False
    try:
        fresh = method.scores(texts)
    finally:
        method.use_cache = True
    assert (cached.argmax(1) == fresh.argmax(1)).all()
    assert abs(cached - fresh).max() < 0.05
