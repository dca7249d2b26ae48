"""Checking an answer's citations: each sentence is scored against the sources, citations are moved to
the source that supports the sentence or dropped, unsupported sentences are flagged, and the sources
are renumbered to the ones actually used, each with its supporting span."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine.documents.ingest.chunking import sentences as split_sentences
from engine.documents.support_rules import conflict, names_numbers
from engine.documents.terms import content_terms, coverage

UNSUPPORTED_MARK = "⚠"
# Fitted with support_rules by bench/support_check.py on one half of on-topic true and unsupported sentences
# (the most true support at <= 10% false support), reported on the other half and a held-out set.
SUPPORT_BAR = 0.72
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITE = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_MARKDOWN_LEAD = re.compile(r"\s*(?:[-*+]|\d{1,3}[.)]|#{1,6}|>)\s+")
_LIST_NUMBER = re.compile(r"\(?\d{1,3}[.)]|[-*+#>]+")  # a list number or marker on its own: never checked or cited
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|\n+")
# Where a source passage splits into sentences: after Chinese sentence ends (ingest's NFKC turns
# full-width ！？； into ASCII, so those count too when no space follows), after . ! ? ; before a
# space, and at line breaks. Offsets are kept, so a sentence is a span of its passage.
_SOURCE_SENTENCE = re.compile(r"[。！？；]+[”’」』)）]?|[!?;]+[”’\"')]?(?=\s|[^\x00-\x7f]|$)"
                              r"|(?<=[\u3400-\u9fff])[!?;]+[”’\"')]?|\.+[”’\"')]?(?=\s)|\n+")


@dataclass
class Source:
    """A numbered passage given to the model."""

    number: int
    chunk_id: int
    path: str
    page: int | None
    heading: str | None
    text: str


@dataclass
class Citation:
    """A source an answer uses, renumbered, with the span of its text that supports the answer."""

    number: int
    chunk_id: int
    path: str
    page: int | None
    span: tuple[int, int]
    span_text: str
    support: float


@dataclass
class SentenceCheck:
    text: str
    cited: list[int] = field(default_factory=list)  # new source numbers
    support: float = 0.0
    supported: bool = False
    note: str = ""  # moved | dropped | added | ""


def answer_sentences(text: str) -> list[str]:
    return [s.strip() for s in _ANSWER_SENTENCE.split(text) if s and s.strip()]


def markdown_sentences(text: str) -> list[tuple[str | None, str]]:
    """Gives (lead, sentence) for each sentence of a Markdown answer. The first sentence of a line has
    as lead the line break(s) before it and the line's list or heading marker ("\n- ", "\n2. ", "\n\n# "),
    so the checked answer keeps its structure; later sentences on the same line have lead None."""
    parts: list[tuple[str | None, str]] = []
    breaks = ""
    for line in text.strip().split("\n"):
        marker = _MARKDOWN_LEAD.match(line)
        prefix = marker.group(0) if marker else ""
        sentences = answer_sentences(line[len(prefix):])
        if not sentences:
            breaks += "\n"
            continue
        parts.append(((breaks + "\n" if parts else "") + prefix, sentences[0]))
        parts.extend((None, s) for s in sentences[1:])
        breaks = ""
    return parts


def join_markdown(parts: list[tuple[str | None, str]]) -> str:
    """Gives checked sentences joined back into their lines (see markdown_sentences)."""
    out = ""
    for lead, part in parts:
        out = join_sentences([out, part]) if lead is None else out + lead + part
    return out.strip()


def _cited_numbers(sentence: str) -> list[int]:
    return [int(n) for group in _CITE.findall(sentence) for n in re.split(r"\s*,\s*", group)]


def strip_citations(sentence: str) -> str:
    return _CITE.sub("", sentence).strip()


def sentence_spans(text: str) -> list[tuple[int, int, str]]:
    """Gives (start, end, sentence) for each sentence of a passage; text[start:end] is the sentence."""
    spans, start = [], 0
    for match in _SOURCE_SENTENCE.finditer(text):
        end = match.end() if match.group()[0] != "\n" else match.start()
        _add_span(spans, text, start, end)
        start = match.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list, text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end, text[start:end]))


class SupportScorer:
    """Scores how well a source supports a sentence: encoder cosine to its best sentence, and word overlap
    (a span's heading and file name count as what it is about), with what they cannot see ruled out
    (support_rules: negation, the model's own voice, always/every); `strict` False scores as the checker
    did before those (bench/support_check.py's "before")."""

    def __init__(self, encoder, sources: list[Source], strict: bool = True) -> None:
        self.encoder = encoder
        self.strict = strict
        self.sources = {s.number: s for s in sources}
        self.spans: dict[int, list[tuple[int, int, str]]] = {}
        texts = []
        for source in sources:
            spans = []
            cursor = 0
            for sent in split_sentences(source.text):
                start = source.text.find(sent, cursor)
                start = start if start >= 0 else cursor
                spans.append((start, start + len(sent), sent))
                cursor = start + len(sent)
            self.spans[source.number] = spans or [(0, len(source.text), source.text)]
            texts.extend(s[2] for s in self.spans[source.number])
        self.vectors = encoder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        self.offsets = {}
        i = 0
        for source in sources:
            n = len(self.spans[source.number])
            self.offsets[source.number] = (i, i + n)
            i += n
        self._encoded: dict[str, np.ndarray] = {}  # sentence (citations stripped) -> its vector

    def prepare(self, sentences: list[str], vectors: np.ndarray | None = None) -> None:
        """Encodes the sentences to be scored in one encoder call (or takes their `vectors`), not one each."""
        clean = list(dict.fromkeys(c for c in (strip_citations(s) for s in sentences) if c not in self._encoded))
        if not clean:
            return
        if vectors is None:
            vectors = self.encoder.encode(clean)
        self._encoded.update(zip(clean, vectors))

    def score(self, sentence: str, strict: bool | None = None) -> dict[int, tuple[float, tuple[int, int, str]]]:
        """Gives, per source number, (support, best span) for a sentence.

        A span's support is the mean of its cosine to the sentence and the share of the sentence's
        content words found in it (or, discounted, anywhere in the source). A sentence stating a number
        that its best span lacks is unsupported, however similar the words: small models turn "$49"
        into "$79" or "15 days" into "14 days" and keep the rest (a number of a name the passage holds,
        "StandPro 60", need not be in the span). A span that support_rules.conflict rules out (negation,
        the model's voice, always/every/all) supports nothing: the next best span is taken. A question
        scored for the best quote (`strict` False) is not a claim: no rule applies to it.
        """
        strict = self.strict if strict is None else strict
        clean = strip_citations(sentence)
        vec = self._encoded.get(clean)
        if vec is None:
            vec = self.encoder.encode([clean])[0]
        numbers = set(_NUMBER.findall(clean))
        out = {}
        for number, (lo, hi) in self.offsets.items():
            cosines = self.vectors[lo:hi] @ vec
            whole = 0.8 * coverage(clean, self.sources[number].text)
            spans = self.spans[number]
            text = self.sources[number].text
            subject = _subject(self.sources[number]) if strict else ""
            scored = [0.0 if _LIST_NUMBER.fullmatch(span[2].strip())
                      or (strict and conflict(clean, span[2], text)) else
                      0.5 * max(float(c), 0.0) + 0.5 * max(coverage(clean, f"{subject} {span[2]}"), whole)
                      for c, span in zip(cosines, spans)]
            best = int(np.argmax(scored))
            support = scored[best]
            missing = numbers - set(_NUMBER.findall(spans[best][2]))
            if missing and (not strict or missing - names_numbers(clean, _named(self.sources[number]))):
                support = 0.0
            out[number] = (support, spans[best])
        return out


def _subject(source: Source) -> str:
    """Gives what names a passage's subject beyond its text: its heading and its file's name in words."""
    stem = source.path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
    return f"{source.heading or ''}\n{stem}"


def _named(source: Source) -> str:
    return f"{_subject(source)}\n{source.text}"


def best_quote(question: str, sources: list[Source], encoder, scorer: SupportScorer | None = None,
               question_vector: np.ndarray | None = None) -> Citation | None:
    """Gives the source sentence that best answers a question (shown when the model's own words are
    not supported by the sources), numbered as source 1. A `scorer` that already encoded the sources
    (the answer check's) and the question's vector from the search are reused, not encoded again."""
    if not sources:
        return None
    if scorer is None or sources[0].number not in scorer.offsets:
        scorer = SupportScorer(encoder, sources[:1])
    if question_vector is not None:
        scorer.prepare([question], np.asarray(question_vector).reshape(1, -1))
    support, (start, end, text) = scorer.score(question, strict=False)[sources[0].number]
    src = sources[0]
    return Citation(1, src.chunk_id, src.path, src.page, (start, end), text, round(max(support, 0.0), 3))


def check(answer: str, sources: list[Source], encoder, bar: float = SUPPORT_BAR,
          scorer: SupportScorer | None = None) -> tuple[str, list[Citation], list[SentenceCheck]]:
    """Gives the answer with checked, renumbered citations, the citations used, and each sentence's check.
    The answer's sentences are encoded in one call; pass a `scorer` to reuse its encoded sources."""
    scorer = scorer or SupportScorer(encoder, sources)
    scorer.prepare([s for _, s in markdown_sentences(answer) if content_terms(strip_citations(s))])
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    checks: list[SentenceCheck] = []
    rewritten: list[tuple[str | None, str]] = []
    for lead, sentence in markdown_sentences(answer):
        body = strip_citations(sentence)
        if not content_terms(body) or _LIST_NUMBER.fullmatch(body):
            rewritten.append((lead, body))
            continue
        scores = scorer.score(sentence)
        cited = [n for n in _cited_numbers(sentence) if n in scores]
        best_number = max(scores, key=lambda n: scores[n][0]) if scores else None
        chosen, note = [], ""
        for n in cited:
            if scores[n][0] >= bar:
                chosen.append(n)
        if cited and not chosen:
            if best_number is not None and scores[best_number][0] >= bar:
                chosen, note = [best_number], "moved"
            else:
                note = "dropped"
        elif not cited and best_number is not None and scores[best_number][0] >= bar:
            chosen, note = [best_number], "added"
        new_numbers = []
        for n in chosen:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                support, (start, end, text) = scores[n]
                src = scorer.sources[n]
                citations.append(Citation(renumber[n], src.chunk_id, src.path, src.page, (start, end), text,
                                          round(support, 3)))
            new_numbers.append(renumber[n])
        support = max((scores[n][0] for n in chosen), default=scores[best_number][0] if best_number else 0.0)
        checks.append(SentenceCheck(body, new_numbers, round(support, 3), bool(chosen), note))
        # An unsupported sentence keeps its place but carries a mark, so no front can pass it off as sourced.
        marks = "".join(f"[{n}]" for n in new_numbers) if new_numbers else UNSUPPORTED_MARK
        gap = "" if _wide_end(_before_end(body)) else " "  # Chinese takes no space before a mark
        rewritten.append((lead, f"{_before_end(body)}{gap}{marks}{_end(body)}"))
    return join_markdown(rewritten), citations, checks


def join_sentences(parts: list[str]) -> str:
    """Gives sentences joined as their language writes them: a space after English, none after Chinese."""
    out = ""
    for part in parts:
        out += ("" if not out or _wide_end(out) else " ") + part
    return out.strip()


def _wide_end(text: str) -> bool:
    return bool(text) and ("\u2e80" <= text[-1] <= "\u9fff" or "\uff00" <= text[-1] <= "\uffef")


def _end(body: str) -> str:
    return body[-1] if body and body[-1] in ".!?。！？" else ""


def _before_end(body: str) -> str:
    return body[:-1] if _end(body) else body
