"""The refusal decision for Chinese questions (engine/documents/refusal.py), on a small handbook written
for this test: a question asked in other words than the passage's is answered, one the handbook does
not answer is refused, and a workspace's own bar, refitted from (score, should_answer) pairs, is used."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from engine.documents import refusal
from engine.documents.extractive import question_words
from engine.documents.ingest import ingest_paths
from engine.documents.phrases import phrase
from engine.documents.rag import Ask
from engine.documents.terms import coverage
from engine.errors import QuarryError
from engine.workspace import Workspace
from tests.conftest import require_models

HANDBOOK = """# 门店运营手册

## 会员与称呼

在我们的社区门店里，“回头客”这一说法专指一个月内到店消费三次以上的顾客。店员对回头客要主动问候，并为其保留当季新品的试用装。

“孔雀女”是一个网络流行语，指在城市里长大、家境优越、从小被父母宠爱的女孩子。本店的导购培训提到这个词，是为了提醒店员不要用标签去评判顾客。

## 退换与配送

顾客买的鲜花如果在送达后二十四小时内枯萎，可以免费补送一束。同城配送一般在下单后三小时内送达，超过五公里的地址加收八元运费。

## 新员工

每位新员工入职后要参加为期两周的带教，由店长指定一名老员工负责。
"""


@pytest.fixture(scope="module")
def handbook(tmp_path_factory):
    require_models("minilm-l6")
    root = tmp_path_factory.mktemp("handbook")
    (root / "docs").mkdir()
    (root / "docs" / "门店运营手册.md").write_text(HANDBOOK, encoding="utf-8")
    ws = Workspace(root / "ws")
    list(ingest_paths(ws, [root / "docs"]))
    yield ws
    ws.close()


def test_a_definition_asked_in_other_words_is_answered(handbook):
    question = "“孔雀女”这一称呼的所指是什么？"
    hits = handbook.searcher().search(question, 8).hits
    # The old decision (character-bigram coverage under 0.45) refused it: the question's framing
    # (这一称呼的所指) counted as terms the passage lacks.
    assert max(coverage(question, h.text) for h in hits) < 0.45
    answer = Ask(handbook, question).run()
    assert not answer.refused and "家境优越" in answer.text and answer.citations


def test_a_paraphrased_how_long_question_is_answered(handbook):
    answer = Ask(handbook, "新人入职要跟着老员工学多久？").run()
    assert not answer.refused and "两周" in answer.text


@pytest.mark.parametrize("question", [
    "“凤凰男”这一称呼的所指是什么？",  # the quoted term is nowhere in the handbook
    "店长每个月的工资是多少？",  # a sum of money: the handbook states none about pay
    "门店周末几点关门？",  # a time of day: the handbook states none
])
def test_an_unanswerable_question_on_the_same_topic_is_refused(handbook, question):
    answer = Ask(handbook, question).run()
    assert answer.refused and answer.text == phrase("refusal", "zh")


def test_words_are_weighted_by_their_rarity_in_the_library(handbook):
    keywords = handbook.searcher().keywords
    assert keywords.doc_freq("顾客") >= 1 and keywords.doc_freq("蒸馏") == 0 and keywords.doc_freq("hello") == 0
    weights = refusal.question_terms("“孔雀女”这一称呼的所指是什么？", keywords.doc_freq, keywords.count())
    assert "称呼" not in weights and "所指" not in weights and weights  # framing words name no topic


def test_words_jieba_guessed_from_question_words_are_cut_again(handbook):
    """jieba's HMM joins characters it does not know into words (中是 in 生成中是怎么, 用大 in 用大模型):
    counted as words the library lacks, they pulled answerable questions under the bar."""
    keywords = handbook.searcher().keywords
    n = keywords.count()
    for question, junk, kept in [("扩散模型在图像生成中是怎么工作的？", "中是", "扩散"),
                                 ("哪家银行最早用大模型识别欺诈？", "用大", "欺诈"),
                                 ("GDPR对大模型训练数据有哪些要求？", "对大", "要求")]:
        assert junk in question_words(question)  # what jieba gives
        weights = refusal.question_terms(question, keywords.doc_freq, n)
        assert junk not in weights and kept in weights, weights


def test_answer_types():
    assert refusal.answer_type("训练GPT-3时一共用了多少块GPU？") == "unit:块"
    assert refusal.answer_type("机器上装了好几块显卡，怎样加快训练？") is None  # 好几块: several, not a count
    assert refusal.answer_type("这本书由哪几位合写？") == "person"
    assert refusal.answer_type("新人要学多久？") == "time" and refusal.answer_type("哪一年发布？") == "date"
    assert refusal.answer_type("次品比例下降了几成？") == "share"
    assert refusal.answer_type("隐私预算一般取多大？") == "number" and refusal.answer_type("塔有多高？") == "number"
    assert refusal.answer_type("这在多大程度上影响结果？") is None  # to what degree: no figure
    assert refusal.answer_type("为什么许多大公司都用它？") is None  # 许多大: many big
    assert refusal.holds_type("time", "为期两周的带教") and refusal.holds_type("time", "通常需要数天甚至数周")
    assert refusal.holds_type("time", "三个工作日内原路退回") and refusal.holds_type("time", "等了两个小时")
    assert refusal.holds_type("unit:块", "用了1024块GPU") and not refusal.holds_type("unit:块", "用了很多GPU")
    assert refusal.holds_type("share", "不良品率降低了30%") and not refusal.holds_type("money", "加收运费")
    assert refusal.quoted_terms("“微调”和《深度学习》") == ["微调", "深度学习"]


def test_numbers_that_order_a_document_state_no_count():
    """A list item's number split off as its own sentence ("3."), a section's (### 3.2.2, 第1章) and the
    article 一 answered "how many" questions over passages that state no figure."""
    for sentence in ["3.", "具体步骤如下： 1.", "##### 3.2.2 零售业案例某零售企业通过大模型实现个性化推荐",
                     "### 第一部分: 大模型应用概述 #### 第1章:", "让我们一起进入这个激动人心的世界吧！"]:
        assert not refusal.holds_type("number", sentence), sentence
    for sentence in ["库存周转率提高了15%。", "共有一百二十家门店", "用了2块GPU", "第3.5版发布"]:
        assert refusal.holds_type("number", sentence), sentence


def test_a_missing_word_costs_more_than_its_share_of_the_weights():
    weights = {"门店": 1.0, "客流量": 1.0}
    holds_topic = "门店的销售额提升了"  # the topic word, not the asked-for one
    words_only = replace(refusal.PARAMS, bigrams=0.0)
    share = refusal.passage_evidence("门店客流量", weights, None, None, None, holds_topic,
                                     replace(words_only, power=1.0))
    assert share == pytest.approx(0.5)
    assert refusal.passage_evidence("门店客流量", weights, None, None, None, holds_topic, words_only) < 0.35
    assert refusal.passage_evidence("门店客流量", weights, None, None, None, "门店客流量增加了") == pytest.approx(1.0)


def test_bigrams_scattered_over_a_passage_do_not_lift_a_window():
    weights = {"门店": 1.0, "客流量": 1.0}
    scattered = "门店的销售额提升了。员工培训了两周。仓库扩建了一倍。周末的客流量很大。"
    assert coverage("门店客流量", scattered) == pytest.approx(0.75)  # the passage holds 3 of its 4 bigrams
    # No window holds both words; the passage's coverage (as before) would have given 0.42.
    with_bigrams = replace(refusal.PARAMS, bigrams=0.25)
    assert refusal.passage_evidence("门店客流量", weights, None, None, None, scattered, with_bigrams) < 0.38


def test_fit_refusal_bar_on_synthetic_pairs():
    rng = random.Random(7)
    answerable = [(rng.uniform(0.3, 1.0), True) for _ in range(200)]
    unanswerable = [(rng.uniform(0.0, 0.5), False) for _ in range(200)]
    pairs = answerable + unanswerable
    rng.shuffle(pairs)
    bar = refusal.fit_refusal_bar(pairs)
    rates = refusal.refusal_rates(pairs, bar)
    assert rates["false_refusal_rate"] <= 0.05
    # Refusing 5% of answerable scores uniform on [0.3, 1] puts the bar near 0.335; everything under it
    # that should not be answered is refused.
    assert 0.3 < bar < 0.37 and rates["right_refusal_rate"] > 0.6
    assert refusal.fit_refusal_bar(pairs, max_false_refusals=0.0) <= min(s for s, a in answerable)
    # Fully separated pairs: the bar sits between the two groups.
    assert 0.4 < refusal.fit_refusal_bar([(0.2, False), (0.3, False), (0.6, True), (0.9, True)]) < 0.6


def test_fit_refusal_bar_bad_inputs():
    with pytest.raises(QuarryError, match="no answer rated good"):
        refusal.fit_refusal_bar([(0.1, False), (0.2, False)])
    with pytest.raises(QuarryError, match="between 0 and 1"):
        refusal.fit_refusal_bar([(0.5, True)], max_false_refusals=1.5)


def test_a_workspace_bar_is_stored_and_used(handbook):
    question = "新人入职要跟着老员工学多久？"
    assert refusal.workspace_bar(handbook, "zh") is None
    score = Ask(handbook, question).run().relevance
    # Ratings say this answer should not have been given and another (scoring 0.9) should: the bar
    # refitted from them refuses it; the default serves again once the stored value is not a number.
    refusal.set_workspace_bar(handbook, "zh", refusal.fit_refusal_bar([(0.9, True), (score, False)]))
    try:
        assert refusal.workspace_bar(handbook, "zh-Hant") == refusal.workspace_bar(handbook, "zh") > score
        assert Ask(handbook, question).run().refused
        handbook.store.set_state("refusal_bar.zh", "not a number")
        assert refusal.workspace_bar(handbook, "zh") is None and not Ask(handbook, question).run().refused
    finally:
        handbook.store.set_state("refusal_bar.zh", "")
    with pytest.raises(QuarryError, match="between 0 and 1"):
        refusal.set_workspace_bar(handbook, "zh", 1.5)
