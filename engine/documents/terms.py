"""Content terms of a text for overlap scores: stemmed English words, numbers and Chinese bigrams."""

from __future__ import annotations

import re

_LATIN = re.compile(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
STOP = frozenset("""
a an the and or but if of to in on at for from by with without about as is are was were be been
being do does did done have has had having i you he she it we they me him her us them my your his
its our their this that these those there here what which who whom whose when where why how can
could should would will shall may might must not no yes so than then too very just also any all each
every some such only own same other into over under again further once more most much many few both
either neither get got please tell know want need like one
""".split())
ZH_STOP_CHARS = set("的了吗呢是在和与或有我你他她它们这那什么怎哪吧啊及之对为被把会要可以如何请能多少几")


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    """Gives the terms that carry meaning: English stems, numbers, and bigrams of Chinese runs."""
    lowered = text.lower()
    terms = {stem(w.strip(".-")) for w in _LATIN.findall(lowered) if w not in STOP and len(w) > 1 or w.isdigit()}
    for run in _CJK_RUN.findall(text):
        chars = [c for c in run if c not in ZH_STOP_CHARS]
        if len(chars) == 1:
            terms.add(chars[0])
        terms.update(a + b for a, b in zip(chars, chars[1:]))
    return {t for t in terms if t}


def coverage(query: str, text: str) -> float:
    """Gives the share of the query's content terms that appear in the text (0 when it has none)."""
    wanted = content_terms(query)
    if not wanted:
        return 0.0
    return len(wanted & content_terms(text)) / len(wanted)
