"""Document answers: question -> hybrid search -> numbered sources within the context budget ->
streamed answer -> checked citations. Refuses without calling the model when nothing relevant is found."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from engine.documents import extractive, modes, per_document, refusal
from engine.documents.citations import Citation, SentenceCheck, Source, SupportScorer, best_quote, check
from engine.documents.phrases import answer_language, phrase
from engine.documents.search import Filters, Hit
from engine.documents.terms import content_terms, coverage
from engine.models import catalog
from engine.runtime import llama, pool
from engine.runtime.generation import CancelCheck, GenerationParams, RunStats

# A question is answerable when some retrieved passage clears this relevance (the mean of the query's
# cosine to the passage and the share of the query's content words the passage holds). Calibrated by
# bench/rag.py on the retrieval bench's answerable and unanswerable questions.
RELEVANCE_BAR = 0.41
# Per language: (the share of cosine in relevance, the default bar; a workspace may hold its own bar,
# refusal.bar_for). English: fitted by `bench/rag.py --fit` on the fit half of bench/questions.jsonl.
# Chinese relevance is refusal.evidence (the English encoder's cosine says nothing about Chinese,
# field notes), its bar fitted by `bench/refusals.py --fit`.
RELEVANCE = {"en": (0.5, RELEVANCE_BAR), "zh": (0.0, refusal.DEFAULT_BARS["zh"])}
CANDIDATES = 8
MAX_CARRIED = 300  # characters of earlier searches a follow-up carries, so chains stay focused
SOURCE_BUDGET_TOKENS = 1200  # sources beyond this cost TTFT on 2 cores without helping a small model

SYSTEM = (
    "You answer questions using only the numbered sources given with each question. "
    "Cite the source of each fact like [1]. "
    "If the sources do not contain the answer, say that the documents do not say. Be brief. "
    "Answer in the language of the question."
)
REFUSAL = phrase("refusal", "en")
EMPTY_LIBRARY = phrase("empty_library", "en")
_FOLLOW_UP = re.compile(r"\b(it|its|that|this|those|these|they|them|their|there|he|she|and|also|what about|how about)\b"
                        r"|^(and|or|but|what about|how about)|它|这个|那个|他们|那么|呢", re.IGNORECASE)


@dataclass
class Answer:
    """A finished document answer, as stored and as the fronts show it."""

    question: str
    search_query: str
    text: str = ""
    refused: bool = False
    citations: list[Citation] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    nearest: list[Hit] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    relevance: float = 0.0
    stats: RunStats | None = None
    chat_id: int | None = None
    message_id: int | None = None
    raw_text: str = ""
    lang: str = "en"  # the question's language, which the answer's own words use
    extractive: bool = False  # quoted sentences of the documents rather than the model's words
    per_document: dict | None = None  # how several documents answer (per_document.Split.record), if they do
    quoted_instead: bool = False  # the model wrote, none of it was supported: its best passage is quoted

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if not s.supported]

    def record(self) -> dict:
        """Gives what is stored with the message (and what fronts render): citations, the sources the
        model saw, unsupported sentences, refusal and nearest passages, the model's raw words."""
        return {"citations": [asdict(c) for c in self.citations], "raw_text": self.raw_text,
                "sources": [{"chunk_id": s.chunk_id, "path": s.path, "page": s.page} for s in self.sources],
                "unsupported": self.unsupported, "refused": self.refused,
                "nearest": [{"chunk_id": h.chunk_id, "path": h.path, "page": h.page, "text": h.text}
                            for h in self.nearest],
                "sentences": [asdict(s) for s in self.sentences], "lang": self.lang, "extractive": self.extractive,
                "per_document": self.per_document, "mode": modes.mode_of(self)}


def standalone_question(question: str, previous: list[str]) -> str:
    """Gives the question to search with: a follow-up borrows the words of the previous search.

    A 135M model cannot reliably rewrite questions, so the rewrite is lexical: a short question or
    one that points back ("it", "that", "what about") is searched together with the last question.
    """
    if not previous:
        return question
    if len(content_terms(question)) <= 3 or points_back(question):
        return f"{previous[-1][-MAX_CARRIED:]} {question}"
    return question


def points_back(question: str) -> bool:
    """Tells whether a question refers to an earlier one ("and abroad?", "what about it")."""
    return bool(_FOLLOW_UP.search(question))


def relevance(searcher, query: str, hits: list[Hit], query_vector=None, lang: str = "en") -> list[float]:
    """Gives each hit's relevance to the query: a mix of cosine and content-word coverage.

    Neither alone separates answerable from unanswerable questions: coverage is fooled by common words
    ("days", "employees"), the English encoder by Chinese; together they are (bench/rag.py). The mix
    is per language (RELEVANCE); Chinese relevance is refusal.evidence (jieba words weighted by rarity,
    per sentence window, with answer-type and quoted-term checks).
    """
    if not hits:
        return []
    if lang.split("-")[0] == "zh":
        return refusal.searcher_evidence(searcher, query, hits)
    weight = relevance_weights(lang)[0]
    cosines = {}
    if weight > 0:
        qv = query_vector if query_vector is not None else searcher.ws.encoder().encode([query])[0]
        cosines = searcher.vector_scores(qv, [h.chunk_id for h in hits])
    return [weight * max(cosines.get(h.chunk_id, 0.0), 0.0)
            + (1 - weight) * coverage(query, f"{h.title} {h.heading or ''} {h.text}") for h in hits]


def relevance_weights(lang: str) -> tuple[float, float]:
    """Gives (share of cosine, bar) for a question language."""
    return RELEVANCE.get(lang.split("-")[0], RELEVANCE["en"])


def select_sources(model: llama.LLM, hits: list[Hit], budget: int) -> list[Source]:
    """Gives numbered sources that fit the token budget, best first."""
    sources, used = [], 0
    for hit in hits:
        body = format_source(len(sources) + 1, hit.path, hit.page, hit.text)
        cost = model.count_tokens(body)
        if used + cost > budget:
            continue
        used += cost
        sources.append(Source(len(sources) + 1, hit.chunk_id, hit.path, hit.page, hit.heading, hit.text))
    return sources


def format_source(number: int, path: str, page: int | None, text: str) -> str:
    name = path.rsplit("/", 1)[-1]
    where = f"{name}, page {page}" if page else name
    return f"[{number}] ({where}) {' '.join(text.split())}\n"


def user_turn(sources: list[Source], question: str) -> str:
    """Gives the user message of a document question: its sources, then the question.

    Sources travel in the user turn, not the system prompt, so the system prompt and every earlier
    turn (rebuilt from stored sources) form a prefix that llama.cpp already holds in its KV cache.
    """
    block = "".join(format_source(s.number, s.path, s.page, s.text) for s in sources)
    return f"Sources:\n{block}\nQuestion: {question}"


def warm(model: llama.LLM) -> int:
    """Decodes the document-answer system prompt into the model's KV cache (done once at start-up, so
    the first question does not pay for it); gives the tokens decoded."""
    rendered = model.render([{"role": "system", "content": SYSTEM}, {"role": "user", "content": ""}])
    return model.prefill(model.prompt_tokens(rendered))


def build_messages(sources: list[Source], history: list[dict], question: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, *history, {"role": "user", "content": user_turn(sources, question)}]


class Ask:
    """One document question; `stream()` yields answer text, then `answer` holds the checked result."""

    def __init__(self, workspace, question: str, chat_id: int | None = None, model_id: str | None = None,
                 k: int = 3, mode: str = "hybrid", extractive: bool | None = None,
                 filters: Filters | None = None, keep: bool = True) -> None:
        self.ws = workspace
        self.keep = keep  # False: an evaluation's question, answered and not stored as the user's chat
        self.filters = filters  # the documents it may be answered from (a scope: engine/documents/scope.py)
        self.question = question.strip()
        self.chat_id = chat_id
        self.model_id = model_id or catalog.DEFAULTS["llm"]
        self.k = k
        self.mode = mode
        self.lang = answer_language(self.question)
        self.extractive = extractive  # None: the catalog's default for the model and language (modes.py)
        self.answer: Answer | None = None

    def bar(self) -> float:
        """Gives the relevance this question's best passage must reach to be answered: the workspace's
        own bar for its language when one was fitted (refusal.fit_refusal_bar), else the default."""
        return refusal.bar_for(self.ws, self.lang, relevance_weights(self.lang)[1])

    def extracts(self) -> bool:
        """Tells whether this question gets quoted sentences rather than the chat model's words."""
        if self.extractive is not None:
            return self.extractive
        return modes.quotes_by_default(self.model_id, self.lang)

    def _history(self) -> tuple[list[dict], list[str]]:
        """Gives the chat's earlier turns as the model saw them (sources and raw answers), and what each
        earlier turn searched for (a follow-up's search already carries the question it follows)."""
        if self.chat_id is None:
            return [], []
        store = self.ws.store
        turns, questions, pending = [], [], None
        for m in store.messages(self.chat_id):
            if m.role == "user":
                pending = m.content
            elif m.role == "assistant" and pending is not None:
                record = m.citations or {}
                refs = record.get("sources", [])
                rows = store.chunks_by_ids([r["chunk_id"] for r in refs])
                if refs and len(rows) == len(refs):
                    sources = [Source(i, r["chunk_id"], rows[r["chunk_id"]].path, rows[r["chunk_id"]].page, None,
                                      rows[r["chunk_id"]].text) for i, r in enumerate(refs, start=1)]
                    content = user_turn(sources, pending)
                else:
                    content = pending
                turns += [{"role": "user", "content": content},
                          {"role": "assistant", "content": record.get("raw_text", m.content)}]
                if not record.get("refused"):
                    questions.append((m.stats or {}).get("search_query", pending))
                pending = None
        return turns, questions

    def retrieve(self, questions: list[str] | None = None) -> tuple[Answer, list[Hit], list[float]]:
        """Gives the answer's frame, the candidate passages and their relevance."""
        if questions is None:
            _, questions = self._history()
        query = standalone_question(self.question, questions)
        searcher = self.ws.searcher()
        result = searcher.search(query, max(CANDIDATES, self.k), self.mode, self.filters)
        self._query_vector = result.query_vector  # the quote fallback reuses it: one encode per question
        scores = relevance(searcher, query, result.hits, result.query_vector, self.lang)
        return Answer(self.question, query, lang=self.lang), result.hits, scores

    def stream(self, params: GenerationParams | None = None, cancel: CancelCheck | None = None) -> Iterator[str]:
        params = params or GenerationParams(temperature=0.0)
        history, questions = self._history()
        answer, hits, scores = self.retrieve(questions)
        answer.relevance = max(scores, default=0.0)
        if answer.search_query != self.question and not points_back(self.question):
            # A short question is searched with the previous one, but unless it points back its own
            # words must be about the documents, or "S-Tab" after a returns question would borrow them.
            own = max(relevance(self.ws.searcher(), self.question, hits, lang=self.lang), default=0.0)
            answer.relevance = min(answer.relevance, 2 * own)
        bar = self.bar()
        if answer.relevance < bar:
            yield self._refuse(answer, hits)
            return
        # Once the best passage clears the bar, passages a little below it still help the answer.
        relevant = [h for h, s in zip(hits, scores) if s >= bar * 0.8]
        # Documents that answer differently get an answer each, quoted, in either mode: a small model
        # would blend them. A question that names documents is answered from their passages.
        started = time.perf_counter()
        split = per_document.split(self, answer.search_query, hits, scores, bar)
        if split is not None and split.differ:
            yield self._per_document(answer, split, started)
            return
        if split is not None:
            answer.per_document = split.record()
            if split.named:
                relevant = split.passages()
        if self.extracts():
            yield self._extract(answer, relevant, split)
            return
        relevant = relevant[: self.k]
        model = pool.get(self.model_id, slot="rag")
        answer.sources = select_sources(model, relevant, SOURCE_BUDGET_TOKENS)
        tokens = self._fit(model, answer.sources, history, params.max_tokens)
        params = replace(params, max_tokens=min(params.max_tokens, model.n_ctx - len(tokens) - 1))
        model.ensure_fits(len(tokens) + 1)  # before anything is stored: a failed ask leaves no trace
        stats = RunStats(self.model_id, load_ms=model.load_ms)
        pieces = []
        error = None
        try:
            for piece in model.stream_tokens(tokens, params, cancel, stats):
                pieces.append(piece)
                yield piece
                # The question is stored once the first token is out: a DuckDB commit is ~10 ms of TTFT.
                self._open_turn(answer)
        except Exception as exc:
            error = exc
            raise
        finally:
            if error is None:
                self._finish(answer, stats, pieces)

    def _finish(self, answer: Answer, stats: RunStats, pieces: list[str]) -> None:
        """Checks the streamed answer's citations and stores the turn."""
        self._open_turn(answer)
        answer.stats = stats
        answer.raw_text = "".join(pieces).strip()
        scorer = SupportScorer(self.ws.encoder(), answer.sources)  # sources encoded once for both checks
        answer.text, answer.citations, answer.sentences = check(
            answer.raw_text, answer.sources, self.ws.encoder(), scorer=scorer)
        if not answer.citations and stats.stop_reason != "cancelled":
            self._quote_instead(answer, scorer)
        self._store(answer)

    def _refuse(self, answer: Answer, hits: list[Hit], stats: RunStats | None = None) -> str:
        """Stores and gives a refusal, in the question's language, with the nearest passages."""
        answer.refused = True
        answer.text = phrase("refusal" if hits else "empty_library", self.lang)
        answer.nearest = hits[:3]
        answer.stats = stats or RunStats(self.model_id)
        self._open_turn(answer)
        self._store(answer)
        return answer.text

    def _per_document(self, answer: Answer, split: per_document.Split, started: float) -> str:
        """Answers with each document's own answer, quoted and cited (instead of the model's words when the
        mode is written: the record says so); gives the answer text."""
        per_document.fill(answer, split, self.lang, replaced_model=not self.extracts())
        elapsed = (time.perf_counter() - started) * 1000
        answer.stats = RunStats("per-document", ttft_ms=elapsed, total_ms=elapsed, stop_reason="per_document")
        self._open_turn(answer)
        self._store(answer)
        return answer.text

    def _extract(self, answer: Answer, hits: list[Hit], split: per_document.Split | None = None) -> str:
        """Answers with the passages' own sentences (extractive.py), cited, each agreeing document cited too;
        gives the answer text."""
        started = time.perf_counter()
        answer.extractive = True
        sources = [Source(i, h.chunk_id, h.path, h.page, h.heading, h.text)
                   for i, h in enumerate(hits[: extractive.PASSAGES], start=1)]
        encoder = self.ws.encoder() if extractive.weights_for(self.lang).cosine > 0 else None
        question = per_document.unnamed(self.question, split) if split is not None and split.named else self.question
        picked = extractive.extract(question, sources, self.lang, encoder)
        elapsed = (time.perf_counter() - started) * 1000
        stats = RunStats("extractive", ttft_ms=elapsed, total_ms=elapsed, stop_reason="extract")
        if not picked:
            return self._refuse(answer, hits, stats)
        if split is not None:
            picked = per_document.once(picked, split)
        answer.sources = sources
        answer.citations = extractive.citations(picked)
        answer.text = answer.raw_text = extractive.render(picked, self.lang)
        if split is not None:
            per_document.cite_agreeing(answer, split)
        answer.stats = stats
        self._open_turn(answer)
        self._store(answer)
        return answer.text

    def _open_turn(self, answer: Answer) -> None:
        """Stores the question (and creates the chat) once per ask; nothing in a read-only workspace (the
        answer is given, not stored: the fronts say so)."""
        if answer.chat_id is not None or self.ws.store.read_only or not self.keep:
            return
        store = self.ws.store
        if self.chat_id is None:
            from engine.documents.chat import title_from

            self.chat_id = store.create_chat(title_from(self.question), self.model_id, mode="docs")
        store.add_message(self.chat_id, "user", self.question)
        answer.chat_id = self.chat_id

    def _fit(self, model: llama.LLM, sources: list[Source], history: list[dict], reserve: int) -> list[int]:
        """Gives the prompt tokens, dropping the oldest turns until prompt and answer fit the context
        (the fewest turns, found by binary search: O(log n) renders, not one per dropped turn)."""
        from engine.documents.chat import fewest_to_drop

        def tokens_without(drop: int) -> list[int]:
            return model.prompt_tokens(model.render(build_messages(sources, history[drop:], self.question)))

        drop = fewest_to_drop(lambda d: len(tokens_without(d)) + min(reserve, 64) < model.n_ctx,
                              len(history) - len(history) % 2, step=2)
        return tokens_without(drop)

    def _quote_instead(self, answer: Answer, scorer: SupportScorer | None = None) -> None:
        """When none of the model's sentences is supported, answer with the best passage, quoted and
        cited; the model's words stay in the record (raw text, unsupported sentences), not in the answer."""
        quote = best_quote(answer.search_query, answer.sources, self.ws.encoder(), scorer,
                           getattr(self, "_query_vector", None))
        if quote is None:
            return
        answer.citations = [quote]
        answer.quoted_instead = True
        answer.text = f"{phrase('quote_header', self.lang)} “{quote.span_text}” [1]"

    def _store(self, answer: Answer) -> None:
        if self.ws.store.read_only or not self.keep:
            self.answer = answer
            return
        stats = (answer.stats.to_dict() if answer.stats else {}) | {"relevance": answer.relevance,
                                                                   "search_query": answer.search_query}
        answer.message_id = self.ws.store.add_message(self.chat_id, "assistant", answer.text, stats, answer.record())
        self.answer = answer

    def run(self, params: GenerationParams | None = None) -> Answer:
        for _ in self.stream(params):
            pass
        return self.answer


def nearest_relevance(workspace, question: str) -> float:
    """Gives the best relevance among retrieved passages (for calibrating the refusal bar)."""
    ask = Ask(workspace, question)
    _, _, scores = ask.retrieve()
    return float(np.max(scores)) if scores else 0.0
