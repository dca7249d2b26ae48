"""Evaluation over a user's own question set: retrieval recall@k and MRR, answer accuracy, refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.errors import QuarryError
from engine.ingest.text import language
from engine.search import MODES


@dataclass
class Question:
    """One line of a questions file; `expected_file` None means the documents do not answer it."""

    question: str
    expected_file: str | None = None
    answer: str | None = None
    lang: str = "en"


def read_questions(path: Path) -> list[Question]:
    """Gives the questions of a JSONL file; a bad line is an error naming the file and line."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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
                     progress=None) -> dict:
    """Gives, over a question set, the share of answers that contain the expected text and cite the
    expected file, and the refusal rate on questions marked as having no answer."""
    from engine.llm import GenerationParams
    from engine.rag import Ask

    rows = []
    for i, q in enumerate(questions, start=1):
        answer = Ask(ws, q.question, model_id=model_id).run(GenerationParams(max_tokens=max_tokens, temperature=0))
        files = [c.path for c in answer.citations]
        rows.append({
            "question": q.question, "expected_file": q.expected_file, "refused": answer.refused,
            "contains_answer": bool(q.answer) and q.answer.lower() in answer.text.lower(),
            "cites_expected": bool(q.expected_file) and any(matches(f, q.expected_file) for f in files),
            "citations": len(files),
            "correct_citations": sum(1 for f in files if q.expected_file and matches(f, q.expected_file)),
            "ttft_ms": answer.stats.ttft_ms if answer.stats else 0.0,
        })
        if progress:
            progress(i, len(questions))
    answerable = [r for r in rows if r["expected_file"]]
    with_text = [r for r, q in zip(rows, questions, strict=True) if r["expected_file"] and q.answer]
    unanswerable = [r for r in rows if not r["expected_file"]]
    cited = sum(r["citations"] for r in answerable)
    return {
        "answered_correctly": (sum(1 for r in with_text if r["contains_answer"] and r["cites_expected"])
                               / len(with_text)) if with_text else None,
        "cites_expected_file": (sum(1 for r in answerable if r["cites_expected"]) / len(answerable)
                                if answerable else None),
        "citation_precision": sum(r["correct_citations"] for r in answerable) / cited if cited else None,
        "refusal_rate_unanswerable": (sum(1 for r in unanswerable if r["refused"]) / len(unanswerable)
                                      if unanswerable else None),
        "false_refusal_rate": sum(1 for r in answerable if r["refused"]) / len(answerable) if answerable else None,
        "rows": rows,
    }
