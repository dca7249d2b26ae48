"""Extractive answers: the one to three sentences of the retrieved passages that answer a question,
each cited with its file, page and span. Used when the chat model does not read the question's
language (SmolLM2 on Chinese), or when the user asks for them.

A sentence's score adds up, with weights fitted per language on half of a question set
(`bench/rag.py`, the other half reported):
- the share of the question's words the sentence holds, each word weighted by its rarity among the
  candidate sentences (jieba words for Chinese, stems for English);
- the share of the question's content terms (Chinese character bigrams, English stems);
- the encoder's cosine to the question, only for a language the encoder reads;
- the passage's own rank;
- for a question asking how much, how long or when, whether the sentence states a number or date;
- the same word share over the passage heading and the sentence before (a heading or FAQ question
  often carries the words, the sentence after it the answer);
- minus a penalty for a sentence that is itself a question or says nothing beyond the question.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from engine.documents.citations import Citation, Source, sentence_spans
from engine.documents.ingest.text import has_cjk
from engine.documents.phrases import phrase
from engine.documents.terms import STOP, content_terms, stem


@dataclass(frozen=True)
class Weights:
    """How sentence scores are made and used for one language."""

    terms: float = 1.0  # rarity-weighted share of the question's words in the sentence
    bigrams: float = 0.3  # share of the question's content terms (lexical.content_terms)
    cosine: float = 0.0  # encoder cosine to the question
    rank: float = 0.1  # 1 / the passage's rank
    number: float = 0.2  # a how-much/how-long/when question, and the sentence states a number
    context: float = 0.1  # word share over the heading and the sentence before
    asks: float = 0.3  # penalty: the sentence is a question, or holds nothing but the question's words
    second: float = 0.85  # another sentence joins when it scores at least this share of the best
    floor: float = 0.3  # the best sentence's word share below this: the documents do not answer
    max_chars: int = 150  # most characters of quoted sentences
    one_file: bool = False  # sentences after the best come from its file only (a second file's is off-topic)


# Fitted by `python bench/rag.py --fit` on the fit half of bench/questions*.jsonl (see its output).
WEIGHTS = {
    "zh": Weights(bigrams=0.0, cosine=0.0, rank=0.1, number=0.2, context=0.3, asks=0.0, second=0.7, floor=0.0),
    # `python bench/answer_modes.py --fit` (the fit half of bench/questions.jsonl's English questions)
    "en": Weights(bigrams=0.0, cosine=0.0, rank=0.3, number=0.0, context=0.15, asks=0.0, second=0.7, floor=0.0,
                  one_file=True),
}
MAX_SENTENCES = 3


def weights_for(lang: str) -> Weights:
    """Gives the fitted weights for a question language ('zh-Hant' uses 'zh')."""
    return WEIGHTS.get(lang.split("-")[0], WEIGHTS["en"])

PASSAGES = 4  # passages whose sentences compete

_ZH_QUESTION_WORDS = frozenset(
    "多少 几 几天 几个 几年 几点 几名 几组 几折 几倍 什么 什么样 怎么 怎样 怎么样 如何 哪 哪些 哪个 哪里 哪一天 哪家"
    " 是否 吗 呢 吧 啊 多久 多长 多大 多高 多远 谁 何时 为什么 是 的 了 有 在 和 与 及 或 要 会 能 可以 可 请问 请"
    " 么 啥 之 对 把 被 将 还 都 也 就 这 那 这个 那个 我 你 您 他 她 它 我们 你们 他们 公司 一下 时候 情况".split())
_QUANTITY = re.compile(r"多少|几|多久|多长|多大|多高|多重|多远|比例|何时|什么时候|哪一?天|哪年|日期|价格|费用"
                       r"|\bhow (?:many|much|long|often|far|fast|old|big|large|soon)\b|\bwhen\b"
                       r"|\bwhat (?:percent|share|date|time)",
                       re.IGNORECASE)
_NUMBERISH = re.compile(r"\d|[一二两三四五六七八九十百千万半][个天年月日周次倍折元名人小时分钟点公斤厘米平方组%项条层]"
                        r"|[一二两三四五六七八九十]{2,}")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# "how long", "how much": the word after "how" asks for a kind of answer (the number feature looks for it);
# as a topic word it finds "as long as" and "much of"
_HOW = re.compile(r"\bhow\s+(?:long|much|many|often|far|fast|quickly|soon|big|large|old|early|late)\b",
                  re.IGNORECASE)
# A table row as ingest writes it ("name: Seattle showroom; city: Seattle; hours: 10:00-19:00"): quoted
# whole, not field by field (the field that matches the question is rarely the one that answers it)
_ROW = re.compile(r"^\s*[^\s:;][^:;\n]{0,39}: [^;\n]*; [^\s:;][^:;\n]{0,39}: ")
PREFIX = 6  # English stems this long match on their first PREFIX letters ("approves" finds "approval")
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
# ASCII punctuation that ingest's NFKC made of full-width marks, restored beside Chinese characters.
_FULL_WIDTH = {",": "，", "?": "？", "!": "！", ";": "；", ":": "：", "(": "（", ")": "）"}


@dataclass
class Scored:
    """One candidate sentence: its passage, span, text and score."""

    source: Source
    span: tuple[int, int]
    text: str
    score: float
    words: float  # the rarity-weighted word share alone (used for refusal)


def question_words(question: str) -> list[str]:
    """Gives the words of a question that can be looked for in sentences: jieba words of its Chinese
    (question words and particles left out) and stemmed English content words."""
    words = []
    for piece in re.split(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)", question.lower()):
        if not piece:
            continue
        if has_cjk(piece):
            from engine.documents.keyword import jieba

            for word in jieba().cut(piece):
                if word not in _ZH_QUESTION_WORDS and not (len(word) == 1 and word in "的了吗呢是在和与或有"):
                    words.append(word)
        else:
            words += [stem(w.strip(".-")) for w in _LATIN_WORD.findall(_HOW.sub("how", piece))
                      if w not in STOP and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(w for w in words if w.strip()))


def _holds(word: str, text: str, stems: set[str]) -> bool:
    if has_cjk(word):
        return word in text
    return word in stems or (len(word) >= PREFIX and word[:PREFIX] + "…" in stems)


def _stems(text: str) -> set[str]:
    """Gives a text's English stems, and each long stem's first PREFIX letters (marked with …)."""
    stems = {stem(w.strip(".-")) for w in _LATIN_WORD.findall(text)}
    return stems | {w[:PREFIX] + "…" for w in stems if len(w) >= PREFIX}


def rank_sentences(question: str, sources: list[Source], lang: str, encoder=None,
                   weights: Weights | None = None, features: bool = False) -> list[Scored] | list[dict]:
    """Gives every sentence of the sources, best first (or, with `features`, each sentence's raw
    features, for fitting the weights)."""
    w = weights or weights_for(lang)
    words = question_words(question)
    rows = []
    for rank, source in enumerate(sources, start=1):
        heading = (source.heading or "").lower()
        previous = heading
        for start, end, text in quote_spans(source.text):
            low = text.lower()
            rows.append({"source": source, "span": (start, end), "text": text, "low": low, "stems": _stems(low),
                         "context": f"{heading} {previous}", "rank": rank})
            previous = low
    if not rows or not words:
        return []
    df = {word: sum(1 for r in rows if _holds(word, r["low"], r["stems"])) for word in words}
    n = len(rows)
    idf = {word: math.log((n + 1) / (df[word] + 0.5)) for word in words}
    total = sum(idf.values()) or 1.0
    wanted = content_terms(question)
    quantity = bool(_QUANTITY.search(question))
    asked_chars = set(_CJK.findall(question)) | set(_stems(question.lower()))
    cosines = np.zeros(n, dtype=np.float32)
    if encoder is not None and w.cosine > 0:
        vectors = encoder.encode([question] + [r["text"] for r in rows])
        cosines = vectors[1:] @ vectors[0]
    out = []
    for r, cosine in zip(rows, cosines):
        share = sum(idf[word] for word in words if _holds(word, r["low"], r["stems"])) / total
        context_stems = _stems(r["context"])
        context = sum(idf[word] for word in words if _holds(word, r["context"], context_stems)) / total
        bigrams = len(wanted & content_terms(r["text"])) / len(wanted) if wanted else 0.0
        own = [c for c in _CJK.findall(r["text"])] + [w for w in r["stems"] if not w.endswith("…")]
        fresh = sum(1 for c in own if c not in asked_chars)
        # a table row's field ends in ";": "text: Is the RAM upgradeable?;" is a question too
        asks = float(r["text"].rstrip(" ;,").endswith(("?", "？")) or fresh < 4)
        number = float(quantity and bool(_NUMBERISH.search(r["text"])))
        feats = {"terms": share, "bigrams": bigrams, "cosine": max(float(cosine), 0.0), "rank": 1.0 / r["rank"],
                 "number": number, "context": context, "asks": asks}
        if features:
            out.append({**feats, "chars": len(r["text"]), "source": r["source"], "span": r["span"],
                        "text": r["text"]})
            continue
        score = (w.terms * share + w.bigrams * bigrams + w.cosine * feats["cosine"] + w.rank * feats["rank"]
                 + w.number * number + w.context * context - w.asks * asks)
        out.append(Scored(r["source"], r["span"], r["text"], score, share))
    if not features:
        out.sort(key=lambda s: -s.score)
    return out


def quote_spans(text: str) -> list[tuple[int, int, str]]:
    """Gives (start, end, sentence) for each sentence of a passage that may be quoted: its sentences, and
    each table row whole."""
    out: list[tuple[int, int, str]] = []
    for start, end, sentence in sentence_spans(text):
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if out and out[-1][0] >= line_start and _ROW.match(text[line_start:line_end if line_end >= 0 else None]):
            first = out[-1][0]
            out[-1] = (first, end, text[first:end])
        else:
            out.append((start, end, sentence))
    return out


def pick(ranked: list[Scored], weights: Weights) -> list[Scored]:
    """Gives the one to three sentences that answer: the best, and those close to it that fit."""
    if not ranked or ranked[0].words < weights.floor:
        return []
    best = ranked[0]
    chosen, used = [best], len(best.text)
    for s in ranked[1:]:
        if len(chosen) >= MAX_SENTENCES or s.score < weights.second * best.score:
            break
        if used + len(s.text) > weights.max_chars or any(_overlaps(s, c) for c in chosen):
            continue
        if weights.one_file and s.source.path != best.source.path:
            continue
        chosen.append(s)
        used += len(s.text)
    # In reading order within a passage, passages in rank order.
    return sorted(chosen, key=lambda s: (s.source.number, s.span[0]))


def _overlaps(a: Scored, b: Scored) -> bool:
    return a.source.chunk_id == b.source.chunk_id and a.span[0] < b.span[1] and b.span[0] < a.span[1]


def extract(question: str, sources: list[Source], lang: str, encoder=None,
            weights: Weights | None = None) -> list[Scored]:
    """Gives the sentences that answer a question from the sources (none: the sources do not)."""
    w = weights or weights_for(lang)
    return pick(rank_sentences(question, sources[:PASSAGES], lang, encoder, w), w)


def full_width(text: str) -> str:
    """Gives text with , ? ! ; : ( ) beside Chinese characters written full-width again, character for
    character, so offsets into the stored passage still hold."""
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in _FULL_WIDTH:
            before = chars[i - 1] if i else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if _CJK.match(before) or _CJK.match(after) or (ch == ")" and "（" in chars[:i]):
                chars[i] = _FULL_WIDTH[ch]
    return "".join(chars)


def citations(picked: list[Scored]) -> list[Citation]:
    """Gives one citation per quoted sentence, numbered in the order they are quoted."""
    return [Citation(i, s.source.chunk_id, s.source.path, s.source.page, s.span, s.text, round(s.score, 3))
            for i, s in enumerate(picked, start=1)]


def render(picked: list[Scored], lang: str) -> str:
    """Gives the answer text: a header in the question's language, then each sentence quoted and cited."""
    quotes = []
    for i, s in enumerate(picked, start=1):
        text = " ".join(s.text.split())
        if lang.startswith("zh"):
            quotes.append(f"“{full_width(text)}”[{i}]")
        else:
            quotes.append(f"“{text}” [{i}]")
    return phrase("extract_header", lang) + "\n\n" + "\n\n".join(quotes)
