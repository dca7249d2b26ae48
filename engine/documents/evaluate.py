"""Evaluation over a user's own question set: retrieval recall@k and MRR, answer accuracy, refusals,
per language; and the per-language fits of the refusal bar and the extractive weights.

Answering a question set takes minutes (the model writes each answer), so it is the `answers_eval` job:
progress per question, a cancel between questions, and a resume that keeps the answers already scored."""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import unicodedata
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path

from engine import jobs
from engine.documents.ingest.text import language
from engine.documents.search import MODES
from engine.errors import QuarryError


@dataclass
class Question:
    """One line of a questions file; `expected_file` None means the documents do not answer it."""

    question: str
    expected_file: str | None = None
    answer: str | None = None
    lang: str = "en"
    scope: dict | None = None  # a rated question's chat scope (documents/scope.Scope.record), asked in it again


def read_questions(path: Path) -> list[Question]:
    """Gives the questions of a JSONL file; a bad line is an error naming the file and line."""
    out = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise QuarryError(f"{path}:{line}: not UTF-8 (JSON lines are UTF-8); save the file as UTF-8") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            text = raw["question"].strip()
        except (ValueError, KeyError, AttributeError, TypeError):
            raise QuarryError(f"{path}:{number}: expected a JSON object with a 'question' field") from None
        out.append(Question(text, raw.get("expected_file"), raw.get("answer"), raw.get("lang") or language(text)))
    if not out:
        raise QuarryError(f"{path}: no questions in the file")
    return out


def split_halves(questions: list[Question]) -> tuple[list[Question], list[Question]]:
    """Gives (fit, report) halves: within each language, answerable and unanswerable questions are
    ordered by a hash of their text and dealt alternately, so a question keeps its half as a set grows."""
    fit, report = [], []
    groups: dict[tuple[str, bool], list[Question]] = {}
    for q in questions:
        groups.setdefault((q.lang, bool(q.expected_file)), []).append(q)
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda q: zlib.crc32(q.question.encode("utf-8")))
        fit += ordered[0::2]
        report += ordered[1::2]
    return fit, report


def normalized(text: str) -> str:
    """Gives text compared loosely: NFKC (full- and half-width marks alike), lowercased, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def contains(answer: str, expected: str) -> bool:
    """Tells whether an answer holds the expected span, whatever its width of punctuation or spacing."""
    return normalized(expected) in normalized(answer)


def matches(path: str, expected: str) -> bool:
    """Tells whether a hit's file is the expected one (expected may be a relative path or a name)."""
    return path == expected or path.endswith("/" + expected.lstrip("/"))


def first_rank(paths: list[str], expected: str) -> int | None:
    for rank, path in enumerate(paths, start=1):
        if matches(path, expected):
            return rank
    return None


def evaluate_retrieval(ws, questions: list[Question], k: int = 5, modes=MODES) -> dict:
    """Gives recall@k and MRR (over distinct files) per mode and language, with per-question ranks."""
    searcher = ws.searcher()
    answerable = [q for q in questions if q.expected_file]
    per_question = []
    rows = []
    for mode in modes:
        ranks: dict[str, list[int | None]] = {}
        for q in answerable:
            result = searcher.search(q.question, max(k, 20), mode)
            paths = list(dict.fromkeys(h.path for h in result.hits))
            rank = first_rank(paths, q.expected_file)
            ranks.setdefault(q.lang, []).append(rank)
            per_question.append({"mode": mode, "question": q.question, "rank": rank})
        for lang in sorted(ranks) + ["all"]:
            values = [r for v in ranks.values() for r in v] if lang == "all" else ranks[lang]
            if not values:
                continue
            rows.append({"mode": mode, "lang": lang, "n": len(values),
                         "recall": sum(1 for r in values if r and r <= k) / len(values),
                         "mrr": sum(1 / r for r in values if r) / len(values)})
    return {"k": k, "rows": rows, "questions": per_question,
            "unanswerable": len(questions) - len(answerable)}


def evaluate_answers(ws, questions: list[Question], model_id: str | None = None, max_tokens: int = 128,
                     extractive: bool | None = None) -> dict:
    """Gives, over a question set and per language, the share of answers that contain the expected
    text (and also cite the expected file), citation precision, answer length, the refusal rate on
    questions marked as having no answer and the false refusals on the others (outside a job).

    `extractive` None answers as `quarry ask` does (quoted sentences for a language the chat model
    does not read); True or False forces one way for every question.
    """
    return jobs.drain(answer_steps(ws, questions, model_id, max_tokens, extractive))


def answer_steps(ws, questions: list[Question], model_id: str | None = None, max_tokens: int = 128,
                 extractive: bool | None = None, cancelled: Callable[[], bool] = lambda: False,
                 rows: list[dict] | None = None) -> Generator[jobs.Step, None, dict | None]:
    """Answers the questions one by one, yielding a Step after each; gives `evaluate_answers`' figures, or
    None when cancelled. `rows` holds rows already made (a resumed job's): their questions are skipped, and
    each new row is appended to it."""
    from engine.documents.rag import Ask
    from engine.runtime.generation import GenerationParams

    rows = rows if rows is not None else []
    answered = {r["question"] for r in rows}
    for q in questions:
        if q.question in answered:
            continue
        if cancelled():
            return None
        options = {} if extractive is None else {"extractive": extractive}
        text, filters = _scoped(ws, q)
        answer = Ask(ws, text, model_id=model_id, keep=False, filters=filters, **options).run(
            GenerationParams(max_tokens=max_tokens, temperature=0))
        files = [c.path for c in answer.citations]
        rows.append({
            "question": q.question, "lang": q.lang, "expected_file": q.expected_file, "expected": q.answer,
            "refused": answer.refused, "extractive": getattr(answer, "extractive", False), "answer": answer.text,
            "contains_answer": bool(q.answer) and contains(answer.text, q.answer),
            "cites_expected": bool(q.expected_file) and any(matches(f, q.expected_file) for f in files),
            "citations": len(files), "cited_files": files, "cited_chunks": [c.chunk_id for c in answer.citations],
            "correct_citations": sum(1 for f in files if q.expected_file and matches(f, q.expected_file)),
            "chars": len(answer.text),
            "ttft_ms": answer.stats.ttft_ms if answer.stats else 0.0,
        })
        yield jobs.Step(len(rows), len(questions), q.question[:80])
    wanted = {q.question for q in questions}
    rows = [r for r in rows if r["question"] in wanted]
    by_lang = {lang: summarize([r for r in rows if r["lang"] == lang])
               for lang in sorted({r["lang"] for r in rows})}
    return {**summarize(rows), "by_lang": by_lang, "rows": rows}


def _scoped(ws, q: Question):
    """Gives the question to ask and its documents' filters: its @names, else the scope it was asked in (a
    rated answer's); asked unscoped when those documents are gone (the rating still says what came back)."""
    from engine.documents import scope

    try:
        text, resolved = scope.for_question(ws.store, q.question, scope.Scope.from_record(q.scope), stored=True)
    except scope.ScopeError:
        return q.question, None
    return text, resolved.filters() if resolved else None


def answers_params(questions: Path, model_id: str | None = None, max_tokens: int = 128,
                   extractive: bool | None = None) -> dict:
    """Gives the params of an `answers_eval` job; the questions file is read (and checked) now."""
    read_questions(Path(questions))
    return {"questions": str(Path(questions).resolve()), "model_id": model_id, "max_tokens": max_tokens,
            "extractive": extractive}


def start_answers(ws, params: dict, cancel: threading.Event | None = None) -> jobs.JobRun:
    """Starts an answer evaluation job; iterate it for progress. Its result is the figures (None if cancelled)."""
    return jobs.start(ws, "answers_eval", params, cancel)


@jobs.register("answers_eval", unit="questions", reads_only=True)
def answers_job(ws, job):
    """Answers the params' question file and scores the answers; a resume keeps the answers made before."""
    p = job.params
    if "ratings" in p:  # `--from-ratings`: the rated questions, compared with their ratings at the end
        from engine.documents import ratings

        questions = ratings.rated_questions(ws, p["ratings"])
    else:
        questions = read_questions(Path(p["questions"]))
    rows = list((job.saved or {}).get("rows", []))
    steps = answer_steps(ws, questions, p.get("model_id"), int(p.get("max_tokens", 128)), p.get("extractive"),
                         job.cancelled, rows)
    kept = len(rows)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            report, step = stop.value, None
        if len(rows) > kept:  # an answer was just scored: a resume keeps it
            kept = len(rows)
            job.checkpoint({"rows": rows})
        if step is None:
            if report is not None and "ratings" in p:
                report = ratings.compare(ws, p["ratings"], report)
            return report
        yield job.progress(step.done, step.total, step.message)


def summarize(rows: list[dict]) -> dict:
    """Gives the answer figures over some rows of `evaluate_answers` (None where no row counts)."""
    answerable = [r for r in rows if r["expected_file"]]
    with_text = [r for r in answerable if r.get("expected")]
    unanswerable = [r for r in rows if not r["expected_file"]]
    answered = [r for r in answerable if not r["refused"]]
    cited = sum(r["citations"] for r in answerable)
    extracted = [r["ttft_ms"] for r in rows if r.get("extractive") and not r["refused"]]

    def share(part: int, whole: list) -> float | None:
        return part / len(whole) if whole else None

    return {
        "n": len(rows),
        "contains_answer": share(sum(1 for r in with_text if r["contains_answer"]), with_text),
        "answered_correctly": share(sum(1 for r in with_text if r["contains_answer"] and r["cites_expected"]),
                                    with_text),
        "cites_expected_file": share(sum(1 for r in answerable if r["cites_expected"]), answerable),
        "citation_precision": sum(r["correct_citations"] for r in answerable) / cited if cited else None,
        "refusal_rate_unanswerable": share(sum(1 for r in unanswerable if r["refused"]), unanswerable),
        "false_refusal_rate": share(sum(1 for r in answerable if r["refused"]), answerable),
        "median_chars": statistics.median(r["chars"] for r in answered) if answered else None,
        "extract_ms_median": round(statistics.median(extracted), 2) if extracted else None,
    }


# -- per-language fits (bench/rag.py --fit): on one half of the questions, reported on the other -----

def retrieved(ws, questions: list[Question]) -> list[dict]:
    """Gives, per question, what the fits need: its retrieved passages with cosine and coverage apart."""
    from engine.documents.rag import Ask
    from engine.documents.terms import coverage

    searcher = ws.searcher()
    out = []
    for q in questions:
        ask = Ask(ws, q.question)
        _, hits, _ = ask.retrieve([])
        result_vector = ws.encoder().encode([q.question])[0]
        cos = searcher.vector_scores(result_vector, [h.chunk_id for h in hits])
        out.append({"q": q, "hits": hits,
                    "cosine": [max(cos.get(h.chunk_id, 0.0), 0.0) for h in hits],
                    "coverage": [coverage(q.question, f"{h.title} {h.heading or ''} {h.text}") for h in hits]})
    return out


def fit_relevance(items: list[dict], max_false_refusals: float = 0.05) -> dict:
    """Gives the cosine share and bar that refuse the most unanswerable questions while refusing at
    most `max_false_refusals` of the answerable ones (or, if none does, the best balanced accuracy)."""
    best = None
    for weight in (0.0, 0.25, 0.5, 0.75):
        scores = [(max((weight * c + (1 - weight) * v for c, v in zip(it["cosine"], it["coverage"])), default=0.0),
                   bool(it["q"].expected_file)) for it in items]
        n_ans = sum(1 for _, a in scores if a) or 1
        n_un = sum(1 for _, a in scores if not a) or 1
        for bar in [i / 100 for i in range(10, 81)]:
            false = sum(1 for s, a in scores if a and s < bar) / n_ans
            right = sum(1 for s, a in scores if not a and s < bar) / n_un
            key = (false <= max_false_refusals, right if false <= max_false_refusals else (right + 1 - false) / 2,
                   -false)
            if best is None or key > best[0]:
                best = (key, {"cosine_share": weight, "bar": bar, "false_refusals": round(false, 3),
                              "right_refusals": round(right, 3)})
    return best[1]


def _sources(hits, bar_scores, bar):
    from engine.documents.citations import Source
    from engine.documents.extractive import PASSAGES

    kept = [h for h, s in zip(hits, bar_scores) if s >= bar * 0.8][:PASSAGES]
    return [Source(i, h.chunk_id, h.path, h.page, h.heading, h.text) for i, h in enumerate(kept, start=1)]


GRID = {"bigrams": (0.0, 0.3, 0.6), "rank": (0.0, 0.1, 0.3), "number": (0.0, 0.2, 0.4),
        "context": (0.0, 0.15, 0.3), "asks": (0.0, 0.3), "cosine": (0.0, 0.3)}


def fit_extractive(items: list[dict], lang: str, relevance_fit: dict, encoder=None) -> dict:
    """Gives the sentence weights that put an expected span in the quoted sentences most often, then
    the floor and the share for a second sentence, on the given (fit-half) questions."""
    import numpy as np

    from engine.documents.extractive import Weights, pick, rank_sentences

    weight, bar = relevance_fit["cosine_share"], relevance_fit["bar"]
    feats = []
    for it in items:
        scores = [weight * c + (1 - weight) * v for c, v in zip(it["cosine"], it["coverage"])]
        sources = _sources(it["hits"], scores, bar)
        rows = rank_sentences(it["q"].question, sources, lang, encoder, Weights(cosine=0.3), features=True)
        feats.append((it, max(scores, default=0.0) >= bar, rows))
    names = ["terms", "bigrams", "cosine", "rank", "number", "context", "asks"]
    answerable = [(it, rows) for it, passed, rows in feats if it["q"].expected_file and it["q"].answer and rows]
    matrices = [(np.array([[r[n] for n in names] for r in rows]),
                 [contains(r["text"], it["q"].answer) for r in rows],
                 [matches(r["source"].path, it["q"].expected_file) for r in rows]) for it, rows in answerable]
    best = None
    for values in itertools.product(*(GRID[n] for n in names[1:])):
        w = np.array((1.0, *values))
        w[names.index("asks")] *= -1
        tops = [int(np.argmax(m @ w)) for m, _, _ in matrices]
        # the most top sentences holding the answer; among those, the most from the expected file
        hits = (sum(gold[t] for t, (_, gold, _) in zip(tops, matrices)),
                sum(files[t] for t, (_, _, files) in zip(tops, matrices)))
        if best is None or hits > best[0]:
            best = (hits, dict(zip(names[1:], values)))
    fitted = Weights(**best[1])
    # Then the floor (refusal among passages that cleared the bar) and the second-sentence share.
    # The ranking does not depend on the floor or the second-sentence share (only `pick` does): rank once.
    ranked = []
    for it, passed, _ in feats:
        scores = [weight * c + (1 - weight) * v for c, v in zip(it["cosine"], it["coverage"])]
        ranked.append(rank_sentences(it["q"].question, _sources(it["hits"], scores, bar), lang, encoder, fitted)
                      if passed else [])
    choice = None
    for floor, second in itertools.product([i / 20 for i in range(0, 13)], (0.7, 0.8, 0.85, 0.9, 0.95, 1.01)):
        w = replace(fitted, floor=floor, second=second)
        right = correct = false = chars = 0
        n_ans = n_un = 0
        lengths = []
        for (it, passed, _), rows in zip(feats, ranked):
            picked = pick(rows, w) if passed else []
            text = "".join(s.text for s in picked)
            if it["q"].expected_file:
                n_ans += 1
                false += not picked
                correct += bool(picked) and bool(it["q"].answer) and contains(text, it["q"].answer)
                if picked:
                    lengths.append(len(text))
            else:
                n_un += 1
                right += not picked
        chars = statistics.median(lengths) if lengths else 0
        false_rate, right_rate = false / max(n_ans, 1), right / max(n_un, 1)
        key = (false_rate <= 0.05, chars <= 110, correct / max(n_ans, 1) + 0.5 * right_rate)
        if choice is None or key > choice[0]:
            choice = (key, {"floor": floor, "second": second, "contains": round(correct / max(n_ans, 1), 3),
                            "false_refusals": round(false_rate, 3), "right_refusals": round(right_rate, 3),
                            "median_chars": chars})
    return {"weights": best[1], "top_sentence_hits": best[0][0], "top_sentence_files": best[0][1],
            "answerable": len(matrices), **choice[1]}
