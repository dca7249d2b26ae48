"""Per-document answers: when the passages that clear the relevance bar come from two or more documents that
answer a question differently (look-alike documents: a returns policy per vendor, a price list per year),
the answer says so and gives each document's own answer, quoted and cited, instead of blending them; when
they agree, one answer cites them all.

How it is decided (bench/lookalike.py fits the constants on one half of its questions and reports the
other, with the demo question set as the cases where one document answers):
- each document's answer is its best sentence, ranked by extractive.rank_sentences over the passages of
  all the documents together (so scores compare across documents); a document answers when its best
  sentence clears the extractive word floor and scores at least STRENGTH of the best document's;
- two answers differ when each states numbers and neither's numbers hold the other's (30 days / 15
  days), or when they are one sentence but for a few terms (terms swapped per term shared above 0 and at
  most SUBSTITUTION: "… inspected at our Reno warehouse" / "… at our Austin warehouse"); sentences further
  apart than that say a thing in other words, or other things, and are not set against each other;
- the words of the documents' own names (vendor names in file names and titles) are no difference;
- a question that names documents by a word of their names ("… at Brightline?") is answered from those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.documents import extractive
from engine.documents.citations import Citation, Source
from engine.documents.extractive import Scored
from engine.documents.phrases import phrase
from engine.documents.search import Hit
from engine.documents.terms import STOP, content_terms, stem

# Fitted by `python bench/lookalike.py --fit` on the fit half of its questions (see bench/results/lookalike.json).
DOC_SHARE = 1.0  # a document takes part when its best passage's relevance reaches this share of the bar
STRENGTH = 0.6  # a document answers when its best sentence scores this share of the best document's
SUBSTITUTION = 0.2  # most terms swapped per term shared at which two sentences are one with terms swapped
WIDE = 40  # passages searched once two documents take part, so every look-alike is seen
PASSAGES = 2  # passages per document whose sentences compete
MAX_DOCUMENTS = 12  # most documents an answer lists
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Params:
    """What decides a per-document answer."""

    doc_share: float
    strength: float
    substitution: float


def fitted() -> Params:
    """Gives the module's fitted constants (read at each call: the bench sets them to report a fit)."""
    return Params(DOC_SHARE, STRENGTH, SUBSTITUTION)


@dataclass
class Candidate:
    """One document whose passages clear the bar: its passages (best first), its best passage's relevance,
    its best sentence and the words of its name."""

    path: str
    hits: list[Hit]
    relevance: float
    best: Scored | None = None
    names: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class Split:
    """The documents that answer a question, grouped by the answer they give (one group: they agree), and
    those the question names (their passages alone answer it)."""

    groups: list[list[Candidate]]
    named: list[Candidate] = field(default_factory=list)

    @property
    def differ(self) -> bool:
        return len(self.groups) > 1

    @property
    def agree(self) -> bool:
        return len(self.groups) == 1 and len(self.groups[0]) > 1

    def passages(self) -> list[Hit]:
        """Gives the named documents' passages, best first (what answers a question that names them)."""
        return sorted((h for c in self.named for h in c.hits), key=lambda h: h.rank)

    def record(self, citations: dict[str, int] | None = None, replaced_model: bool = False) -> dict:
        """Gives what is stored with the answer (and what fronts and --json show): each group's documents
        with the sentence each quotes and its citation number, and whether this took the model's place."""
        citations = citations or {}
        return {"differ": self.differ, "agree": self.agree, "replaced_model": replaced_model,
                "named": [c.path for c in self.named],
                "groups": [{"text": " ".join(group[0].best.text.split()),
                            "documents": [{"path": c.path, "name": c.name, "citation": citations.get(c.path),
                                           "text": " ".join(c.best.text.split())} for c in group]}
                           for group in self.groups]}


def split(ask, query: str, hits: list[Hit], scores: list[float], bar: float,
          params: Params | None = None) -> Split | None:
    """Gives how the documents answer an ask's question, or None when the passages that clear the bar come
    from one document (then nothing changes)."""
    params = params or fitted()
    candidates = gather(ask, query, hits, scores, bar, params.doc_share)
    return decide(ask.question, candidates, ask.lang, params) if candidates else None


def gather(ask, query: str, hits: list[Hit], scores: list[float], bar: float, share: float) -> list[Candidate]:
    """Gives the documents whose passages reach `share` of the bar, each with its best sentence, searched
    again wider (WIDE passages) once two of them are among the ask's own passages; [] when fewer than two."""
    if len({h.path for h, s in zip(hits, scores) if s >= bar * share}) < 2:
        return []
    from engine.documents.rag import relevance

    searcher = ask.ws.searcher()
    result = searcher.search(query, WIDE, ask.mode, ask.filters)
    wide = relevance(searcher, query, result.hits, result.query_vector, ask.lang)
    by_path: dict[str, Candidate] = {}
    for hit, score in zip(result.hits, wide):
        if score < bar * share:
            continue
        found = by_path.setdefault(hit.path, Candidate(hit.path, [], score))
        found.relevance = max(found.relevance, score)
        if len(found.hits) < PASSAGES:
            found.hits.append(hit)
    candidates = list(by_path.values())[:MAX_DOCUMENTS]
    if len(candidates) < 2:
        return []
    rank_best(ask.question, candidates, ask.lang)
    _name_words(candidates)
    return candidates


def rank_best(question: str, candidates: list[Candidate], lang: str) -> None:
    """Sets each document's best sentence, ranked over all the documents' passages together."""
    sources = [Source(i, h.chunk_id, h.path, h.page, h.heading, h.text)
               for i, h in enumerate((h for c in candidates for h in c.hits), start=1)]
    for scored in extractive.rank_sentences(question, sources, lang):  # best first
        for c in candidates:
            if c.best is None and c.path == scored.source.path:
                c.best = scored


def decide(question: str, candidates: list[Candidate], lang: str, params: Params | None = None) -> Split | None:
    """Gives the documents that answer, grouped by their answer; None when one document (or none) does."""
    params = params or fitted()
    candidates = [c for c in candidates if c.best is not None]
    named = names_in(question, candidates)
    pool = named or candidates
    weights = extractive.weights_for(lang)
    top = max((c.best.score for c in pool), default=0.0)
    answering = [c for c in pool if c.best.words >= weights.floor and c.best.score >= params.strength * top]
    answering.sort(key=lambda c: -c.best.score)
    if len(answering) < 2:
        return Split([answering] if answering else [], named) if named else None
    ignore = set().union(*(c.names for c in candidates))
    groups: list[list[Candidate]] = []
    for c in answering:
        for group in groups:
            if not differ(group[0].best.text, c.best.text, ignore, params.substitution):
                group.append(c)
                break
        else:
            groups.append([c])
    return Split(groups, named)


def differ(a: str, b: str, ignore: set[str] | frozenset = frozenset(), substitution: float | None = None) -> bool:
    """Tells whether two documents' answering sentences say different things: different numbers (neither
    holding the other's), or the same sentence with a few terms swapped; words in `ignore` (the
    documents' names) do not count."""
    na, nb = numbers(a) - ignore, numbers(b) - ignore
    if na and nb and not (na <= nb or nb <= na):
        return True
    swap = swapped(a, b, ignore)
    return 0 < swap <= (SUBSTITUTION if substitution is None else substitution)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def swapped(a: str, b: str, ignore: set[str] | frozenset = frozenset()) -> float:
    """Gives how far two sentences are one sentence with terms swapped: the content terms either holds and
    the other lacks (the larger side), per term they share (numbers and `ignore` left out); 0 when they
    hold the same terms, large when they share few."""
    ta = {t for t in content_terms(a) if not t[0].isdigit()} - ignore
    tb = {t for t in content_terms(b) if not t[0].isdigit()} - ignore
    return max(len(ta - tb), len(tb - ta)) / max(len(ta & tb), 1)


def _name_words(candidates: list[Candidate]) -> None:
    """Sets each document's distinguishing name words: words of its file name and title that the other
    documents' names do not all share ("brightline" in returns-policy-brightline.md, not "returns")."""
    words = {}
    for c in candidates:
        stem_name = c.name.rsplit(".", 1)[0]
        title = c.hits[0].title if c.hits else ""
        words[c.path] = {_word(w) for w in _NAME_WORD.findall(f"{stem_name} {title or ''}".lower())
                         if len(w) > 2 or _CJK.match(w)} - STOP
    common = set.intersection(*words.values()) if words else set()
    for c in candidates:
        c.names = words[c.path] - common


def _word(word: str) -> str:
    return word if _CJK.match(word) else stem(word)


def names_in(question: str, candidates: list[Candidate]) -> list[Candidate]:
    """Gives the documents a question names: those with a name word in the question that the other
    documents' passages do not hold (so "warranty" names no document when others speak of warranties)."""
    low = question.lower()
    asked = {_word(w) for w in _NAME_WORD.findall(low)}
    named = []
    for c in candidates:
        for word in c.names:
            said = word in low if _CJK.match(word) else word in asked
            if not said:
                continue
            others = [o for o in candidates if word not in o.names]
            if not any(word in content_terms(h.text) or word in h.text.lower() for o in others for h in o.hits):
                named.append(c)
                break
    return named if len(named) < len(candidates) else []


def fill(answer, found: Split, lang: str, replaced_model: bool) -> None:
    """Makes a per-document answer: a line per group of documents that agree, their names and the first
    one's sentence quoted, each document cited with its own sentence."""
    citations, sources, lines = [], [], []
    for group in found.groups:
        numbers_of = []
        for c in group:
            n = len(citations) + 1
            s = c.best
            citations.append(Citation(n, s.source.chunk_id, s.source.path, s.source.page, s.span, s.text,
                                      round(s.score, 3)))
            sources.append(Source(n, s.source.chunk_id, s.source.path, s.source.page, s.source.heading,
                                  s.source.text))
            numbers_of.append(n)
        lines.append(group_line([c.name for c in group], group[0].best.text, numbers_of, lang))
    answer.citations, answer.sources, answer.extractive = citations, sources, True
    answer.text = answer.raw_text = phrase("per_document_header", lang, n=len(citations)) + "\n\n" + "\n".join(lines)
    answer.per_document = found.record({c.path: c.number for c in citations}, replaced_model)


def group_line(names: list[str], sentence: str, numbers_of: list[int], lang: str) -> str:
    """Gives one line of a per-document answer: 'a.pdf, b.pdf: “sentence” [1] [2]'."""
    text = " ".join(sentence.split())
    if lang.startswith("zh"):
        return f"{'、'.join(names)}：“{extractive.full_width(text)}”" + "".join(f"[{n}]" for n in numbers_of)
    return f"{', '.join(names)}: “{text}” " + " ".join(f"[{n}]" for n in numbers_of)


def once(picked: list[Scored], found: Split) -> list[Scored]:
    """Gives an extractive answer's sentences with each one the agreeing documents share quoted once (the
    documents that say it are cited after it instead, cite_agreeing)."""
    if not found.agree:
        return picked
    ignore = set().union(*(c.names for c in found.groups[0]))
    kept: list[Scored] = []
    for s in picked:
        if not any(k.source.path != s.source.path and numbers(k.text) == numbers(s.text)
                   and swapped(k.text, s.text, ignore) == 0 for k in kept):
            kept.append(s)
    return kept


def cite_agreeing(answer, found: Split) -> None:
    """Cites, after the first quote of an extractive answer, each agreeing document it does not cite yet
    (with that document's own sentence), so one answer cites every document that says it."""
    if not found.agree or not answer.citations:
        return
    cited = {c.path for c in answer.citations}
    added = []
    for c in found.groups[0]:
        if c.path in cited:
            continue
        s = c.best
        n = len(answer.citations) + 1
        answer.citations.append(Citation(n, s.source.chunk_id, s.source.path, s.source.page, s.span, s.text,
                                         round(s.score, 3)))
        answer.sources.append(Source(len(answer.sources) + 1, s.source.chunk_id, s.source.path, s.source.page,
                                     s.source.heading, s.source.text))
        added.append(n)
    if added:
        mark = "[1]"
        extra = "".join(f"[{n}]" for n in added) if answer.lang.startswith("zh") else "".join(f" [{n}]" for n in added)
        at = answer.text.find(mark)
        if at >= 0:
            answer.text = answer.text[: at + len(mark)] + extra + answer.text[at + len(mark):]
            answer.raw_text = answer.text
    answer.per_document = found.record({c.path: c.number for c in answer.citations})
