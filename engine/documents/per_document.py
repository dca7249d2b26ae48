"""Per-document answers: when the passages that clear the relevance bar come from two or more documents that
answer a question differently (look-alike documents: a returns policy per vendor, a price list per year),
the answer says so and gives each document's own answer, quoted and cited, instead of blending them; when
they agree, one answer cites them all.

How it is decided (bench/lookalike.py fits the constants on one half of its questions and reports the
other, with the demo question set as the cases where one document answers):
- each document's answer is its best sentence, ranked by extractive.rank_sentences over the passages of
  all the documents together (so scores compare across documents); a document answers when its best
  sentence clears the extractive word floor and scores at least STRENGTH of the best document's;
- two answers are set against each other only when they are alike: the terms either holds and the other
  lacks (the larger side), per term they share, at most ALIKE; answers less alike say other things (a
  price list's line beside a product sheet's) and stay out of it;
- two alike answers differ when each states numbers and neither's numbers hold the other's (30 days / 15
  days), or when they are one sentence but for a term or two (swapped terms per shared term above 0 and at
  most SUBSTITUTION: "… inspected at our Reno warehouse" / "… at our Austin warehouse"); otherwise they
  agree (the same thing in other words);
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
DOC_SHARE = 0.9  # a document takes part when its best passage's relevance reaches this share of the bar
STRENGTH = 0.5  # a document answers when its best sentence scores this share of the best document's
SUBSTITUTION = 0.2  # most terms swapped per term shared at which two sentences are one with terms swapped
ALIKE = 1.5  # most terms swapped per term shared at which two sentences answer alike (are compared)
# Passages searched once two documents take part, so every look-alike is seen (near-copies rank alike in
# the keyword retriever and may rank low in the other, so fusion can put them below the passages both
# retrievers find: the keyword hits are added).
WIDE = 100
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
    alike: float


def fitted() -> Params:
    """Gives the module's fitted constants (read at each call: the bench sets them to report a fit)."""
    return Params(DOC_SHARE, STRENGTH, SUBSTITUTION, ALIKE)


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
        return [h for c in self.named for h in c.hits]

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
    from one document, or from documents whose answers are not alike (then nothing changes)."""
    params = params or fitted()
    candidates = gather(ask, query, hits, scores, bar, params)
    return decide(ask.question, candidates, ask.lang, params) if candidates else None


def gather(ask, query: str, hits: list[Hit], scores: list[float], bar: float, params: Params) -> list[Candidate]:
    """Gives the documents whose passages reach `doc_share` of the bar, each with its best sentence; [] when
    fewer than two. Once two of the ask's own passages' documents answer alike, the question is searched
    again wider (WIDE passages), so every look-alike is seen; otherwise this costs a sentence ranking."""
    first = candidates_of(ask.question, list(zip(hits, scores)), bar * params.doc_share, ask.lang)
    if len(first) < 2 or decide(ask.question, first, ask.lang, params) is None:
        return []
    from engine.documents.rag import relevance

    searcher = ask.ws.searcher()
    result = searcher.search(query, WIDE, ask.mode, ask.filters)
    found = list(result.hits)
    if ask.mode != "keyword":  # near-copies share their words: the keyword retriever finds every one
        seen = {h.chunk_id for h in found}
        found += [h for h in searcher.search(query, WIDE, "keyword", ask.filters).hits if h.chunk_id not in seen]
    wide = relevance(searcher, query, found, result.query_vector, ask.lang)
    return candidates_of(ask.question, list(zip(found, wide)), bar * params.doc_share, ask.lang)


def candidates_of(question: str, scored: list[tuple[Hit, float]], floor: float, lang: str) -> list[Candidate]:
    """Gives the documents of the passages whose relevance reaches `floor` (the MAX_DOCUMENTS most relevant,
    each with its best PASSAGES passages and its best sentence); [] when fewer than two."""
    by_path: dict[str, Candidate] = {}
    for hit, score in scored:
        if score < floor:
            continue
        doc = by_path.setdefault(hit.path, Candidate(hit.path, [], score))
        doc.relevance = max(doc.relevance, score)
        if len(doc.hits) < PASSAGES:
            doc.hits.append(hit)
    candidates = sorted(by_path.values(), key=lambda c: -c.relevance)[:MAX_DOCUMENTS]
    if len(candidates) < 2:
        return []
    rank_best(question, candidates, lang)
    _name_words(candidates)
    return candidates


def rank_best(question: str, candidates: list[Candidate], lang: str) -> None:
    """Sets each document's best sentence, ranked over all the documents' passages together (word rarity
    counted over all of them), each passage ranked within its own document (the tenth document's best
    passage is no worse an answer for coming tenth)."""
    sources, within = [], {}
    for c in candidates:
        for rank, h in enumerate(c.hits, start=1):
            sources.append(Source(len(sources) + 1, h.chunk_id, h.path, h.page, h.heading, h.text))
            within[len(sources)] = rank
    weight = extractive.weights_for(lang).rank
    ranked = extractive.rank_sentences(question, sources, lang)
    for s in ranked:
        s.score += weight * (1 / within[s.source.number] - 1 / s.source.number)
    by_path = {c.path: c for c in candidates}
    for s in sorted(ranked, key=lambda s: -s.score):
        c = by_path[s.source.path]
        if c.best is None:
            c.best = s


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
        relations = [relation(group[0].best.text, c.best.text, ignore, params) for group in groups]
        if "same" in relations:
            groups[relations.index("same")].append(c)
        elif not groups or "differ" in relations:
            groups.append([c])
    if len(groups) == 1 and len(groups[0]) < 2:
        return Split(groups, named) if named else None
    return Split(groups, named)


def relation(a: str, b: str, ignore: set[str] | frozenset = frozenset(), params: Params | None = None) -> str:
    """Tells how two documents' answering sentences relate: 'differ' (alike, with other numbers or a term or
    two swapped), 'same' (alike otherwise) or 'other' (not alike: they answer other things). Words in
    `ignore` (the documents' names) count for nothing."""
    params = params or fitted()
    swap = swapped(a, b, ignore)
    if swap > params.alike:
        return "other"
    na, nb = numbers(a) - ignore, numbers(b) - ignore
    if na and nb and not (na <= nb or nb <= na):
        return "differ"
    return "differ" if 0 < swap <= params.substitution else "same"


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
    """Sets each document's distinguishing name words: words of its file name and title that at most half
    the documents' names hold ("brightline" in returns-policy-brightline.md, not "returns")."""
    words = {}
    for c in candidates:
        title = c.hits[0].title if c.hits else ""
        text = f"{c.name} {title or ''}".lower()
        words[c.path] = {_word(w) for w in _NAME_WORD.findall(re.sub(r"\.[a-z0-9]{1,5}\b", " ", text))
                         if len(w) > 2 or _CJK.match(w)} - STOP
    counts: dict[str, int] = {}
    for found in words.values():
        for w in found:
            counts[w] = counts.get(w, 0) + 1
    for c in candidates:
        c.names = {w for w in words[c.path] if counts[w] <= max(1, len(candidates) // 2)}


def _word(word: str) -> str:
    return word if _CJK.match(word) else stem(word)


def names_in(question: str, candidates: list[Candidate]) -> list[Candidate]:
    """Gives the documents a question names: those with a name word in the question, written as a name is
    (capitalised past the question's first word, with digits, or Chinese), that the other documents'
    passages do not hold ("travel" or "support" name nothing; "Brightline" does, unless others speak of it)."""
    low = question.lower()
    asked = {_word(w.lower()) for i, w in enumerate(_NAME_WORD.findall(question))
             if (i > 0 and w[0].isupper()) or any(ch.isdigit() for ch in w)}
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


def unnamed(question: str, found: Split) -> str:
    """Gives a question that names documents without the words of their file names, as written (so
    "returns" and "policy" go, "return" stays), to find the sentence that answers it (else "Under Halden's
    returns policy, …" quotes the policy's title line)."""
    words = {w for c in found.named for w in _NAME_WORD.findall(c.name.rsplit(".", 1)[0].lower())}

    def keep(match: re.Match) -> str:
        word = match.group(0)
        return "" if word.lower().removesuffix("'s") in words else word

    left = " ".join(re.sub(r"[A-Za-z0-9]+(?:'s)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", keep, question).split())
    return left if extractive.question_words(left) else question


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
