"""Ratings of chat answers, which become tests: each rating keeps what the user saw (question, answer,
sources) and, for a bad answer, the passage that does answer it. `quarry eval answers --from-ratings` asks
the rated questions again and reports what changed; a bad answer with its passage is a retrieval gold for
`quarry eval retrieval --from-ratings`."""

from __future__ import annotations

from engine.documents.evaluate import Question, matches, normalized
from engine.documents.ingest.text import language
from engine.errors import FeedbackError
from engine.store.feedback import Feedback

VALUES = ("good", "bad")
PASSAGE_CHARS = 4000  # a passage's text kept with its rating (chunks are shorter; a bound all the same)

# What each outcome of a rerun means, for the fronts.
OUTCOMES = {
    "same": "the same answer as the rated one",
    "changed": "a different answer",
    "refused": "now refused",
    "fixed": "now cites the passage that answers it",
    "right_file": "now cites the passage's file, not the passage",
    "missed": "still misses the passage",
}


def _passage(ws, chunk_id: int) -> dict:
    row = ws.store.chunks_by_ids([chunk_id]).get(chunk_id)
    if row is None:
        raise FeedbackError(f"passage {chunk_id}: no such passage in the library (re-ingested or removed?);"
                            " `quarry search TEXT --json` gives chunk ids; nothing stored")
    return {"chunk_id": row.id, "path": row.path, "page": row.page, "heading": row.heading,
            "text": row.text[:PASSAGE_CHARS]}


def rating_detail(ws, message_id: int, value: str, passage: int | None = None) -> tuple[int, dict]:
    """Gives (chat id, detail) of a rating of an assistant message, checked: the answer must still exist
    (its chat not deleted), a passage goes with a bad rating only and must be in the library."""
    if value not in VALUES:
        raise FeedbackError(f"{value!r}: rate an answer good or bad")
    message = ws.store.message(message_id)
    if message is None:
        raise FeedbackError(f"answer {message_id}: no such answer (its chat was deleted, or the answer"
                            " regenerated); nothing stored")
    if message.role != "assistant":
        raise FeedbackError(f"message {message_id} is a question, not an answer; rate the answer's id"
                            " (`quarry ask --json` prints it as message_id)")
    if passage is not None and value != "bad":
        raise FeedbackError("a passage goes with a bad rating: it is the passage that does answer the question")
    chat = ws.store.chat(message.chat_id)
    earlier = [m for m in ws.store.messages(message.chat_id) if m.id < message.id and m.role == "user"]
    record = message.citations or {}
    sources = [{"chunk_id": c.get("chunk_id"), "path": c.get("path"), "page": c.get("page")}
               for c in record.get("citations") or []]
    detail = {"question": earlier[-1].content if earlier else "", "answer": message.content,
              "mode": chat.mode if chat else "chat", "refused": bool(record.get("refused")),
              "sources": sources, "passage": _passage(ws, passage) if passage is not None else None,
              "scope": chat.scope if chat else None}  # re-asked in it: unscoped, another document may answer
    return message.chat_id, detail


def rate_answer(ws, message_id: int, value: str, passage: int | None = None) -> int:
    """Stores a rating of an answer (good or bad, with the passage that answers it for a bad one); gives
    its feedback id. A later rating of the same answer replaces the earlier one when ratings are read."""
    chat_id, detail = rating_detail(ws, message_id, value, passage)
    return ws.store.add_feedback("rating", chat_id, message_id, value, detail)


def ratings(ws) -> list[Feedback]:
    """Gives the latest rating of each rated answer, oldest first."""
    latest: dict[str, Feedback] = {}
    for item in ws.store.feedback("rating"):
        latest[item.target] = item
    return sorted(latest.values(), key=lambda f: f.id)


def _testable(item: Feedback) -> bool:
    """Tells whether a rating can be asked again as a document question (plain chat is not evaluated)."""
    detail = item.detail or {}
    return detail.get("mode") == "docs" and bool((detail.get("question") or "").strip())


def question_of(item: Feedback) -> Question:
    """Gives a rated answer's question, with the file that answers it where the rating says: the passage's
    for a bad answer, the first cited file for a good one; None for a good refusal."""
    detail = item.detail or {}
    text = detail["question"].strip()
    expected = None
    if detail.get("passage"):
        expected = detail["passage"]["path"]
    elif item.value == "good" and not detail.get("refused") and detail.get("sources"):
        expected = detail["sources"][0]["path"]
    return Question(text, expected, None, language(text), detail.get("scope"))


def answer_params(ws, model_id: str | None = None, max_tokens: int = 128, extractive: bool | None = None) -> dict:
    """Gives the params of an `answers_eval` job over the rated questions (their ids, fixed now, so a
    resumed job asks the same ones); no rated document answer is an error saying how to rate one."""
    chosen = [r.id for r in ratings(ws) if _testable(r)]
    if not chosen:
        raise FeedbackError("no rated document answers yet; rate one in Chat (+ or - on an answer) or with"
                            " `quarry feedback rate MESSAGE_ID good|bad`")
    return {"ratings": chosen, "model_id": model_id, "max_tokens": max_tokens, "extractive": extractive}


def rated_items(ws, ids: list[int]) -> list[Feedback]:
    """Gives the ratings with these ids that are still stored."""
    found = [ws.store.feedback_item(int(i)) for i in ids]
    return [f for f in found if f is not None]


def rated_questions(ws, ids: list[int]) -> list[Question]:
    """Gives the questions of the ratings with these ids, once each."""
    questions = {}
    for item in rated_items(ws, ids):
        q = question_of(item)
        questions.setdefault(q.question, q)
    if not questions:
        raise FeedbackError("the rated answers of this evaluation were removed; run it again")
    return list(questions.values())


def outcome(item: Feedback, row: dict) -> str:
    """Gives what a rerun did with a rated answer: see OUTCOMES."""
    detail = item.detail or {}
    passage = detail.get("passage")
    if passage:
        if passage["chunk_id"] in (row.get("cited_chunks") or []):
            return "fixed"
        if any(matches(f, passage["path"]) for f in row.get("cited_files") or []):
            return "right_file"
        return "refused" if row["refused"] and not detail.get("refused") else "missed"
    if row["refused"] and not detail.get("refused"):
        return "refused"
    return "same" if normalized(row["answer"]) == normalized(detail.get("answer") or "") else "changed"


def compare(ws, ids: list[int], report: dict) -> dict:
    """Gives the report of a rerun of rated questions: per rating, what it was and what it is now, and
    the count of each outcome per rating."""
    by_question = {r["question"]: r for r in report["rows"]}
    items = rated_items(ws, ids)
    out, counts = [], {}
    for item in items:
        detail = item.detail or {}
        row = by_question.get(detail.get("question", "").strip())
        if row is None:
            continue
        result = outcome(item, row)
        key = f"{item.value}:{result}"
        counts[key] = counts.get(key, 0) + 1
        passage = detail.get("passage")
        out.append({"feedback_id": item.id, "message_id": int(item.target), "question": row["question"],
                    "was": item.value, "outcome": result, "passage": passage and {
                        k: passage[k] for k in ("chunk_id", "path", "page")},
                    "before": detail.get("answer", ""), "now": row["answer"], "refused": row["refused"]})
    return {"from_ratings": True, "n": len(out), "outcomes": counts, "ratings": out, "rows": report["rows"]}


def retrieval_questions(ws) -> list[Question]:
    """Gives the retrieval golds from ratings: each bad answer's question with its passage's file."""
    golds = {}
    for item in ratings(ws):
        if item.value == "bad" and (item.detail or {}).get("passage") and _testable(item):
            q = question_of(item)
            golds.setdefault(q.question, q)
    if not golds:
        raise FeedbackError("no retrieval golds from ratings yet: rate an answer bad and point at the passage"
                            " that answers it (Chat: - on an answer; or `quarry feedback rate MESSAGE_ID bad"
                            " --passage CHUNK_ID`)")
    return list(golds.values())


def retrieval_golds(ws) -> tuple[list[Question], int]:
    """Gives the retrieval golds whose passage's document is still in the library, and how many were left
    out: a removed document cannot be found, and counted as a miss it read as a retrieval that got worse."""
    golds = retrieval_questions(ws)
    present = [q for q in golds if ws.store.document_by_path(q.expected_file) is not None]
    if not present:
        raise FeedbackError(f"the passages your {len(golds)} bad rating(s) point at are in documents no longer in"
                            " the library (removed, or moved?); ingest them again, or `quarry feedback remove ID`"
                            " the old ratings (`quarry feedback list --kind rating`)")
    return present, len(golds) - len(present)


# -- a workspace's own refusal bar, refitted from its ratings ------------------------------------------

MIN_FIT_ANSWERABLE = 4  # answerable rated questions the fit half needs before a bar means anything


def should_answer(item: Feedback) -> bool:
    """Reads a rating as whether the documents answer its question: a good answer, a bad answer with the
    passage that answers it, and a refusal rated bad say yes; a good refusal, and a bad answer with no
    passage pointed at (the documents do not answer it), say no."""
    detail = item.detail or {}
    if item.value == "good":
        return not detail.get("refused")
    return bool(detail.get("passage")) or bool(detail.get("refused"))


def refit_refusal_bar(ws, lang: str, apply: bool = False) -> dict:
    """Fits the workspace's refusal bar for `lang` on one half of its rated document questions and reports
    false and right refusals on the other half (the halves of evaluate.split_halves); stores the bar with
    `apply`. Scores are today's relevance of each question, so a bar fitted before re-ingesting still fits."""
    from engine.documents import refusal
    from engine.documents.evaluate import split_halves
    from engine.documents.rag import nearest_relevance, relevance_weights

    lang = lang.split("-")[0]
    rated = {}
    for item in ratings(ws):
        if _testable(item) and language(item.detail["question"]) == lang:
            q = question_of(item)
            # split_halves deals answerable (expected_file set) and unanswerable questions apart
            rated[q.question] = Question(q.question, "answerable" if should_answer(item) else None, None, lang)
    fit, report = split_halves(list(rated.values()))
    if sum(1 for q in fit if q.expected_file) < MIN_FIT_ANSWERABLE:
        raise FeedbackError(f"too few rated {lang} document answers to fit a refusal bar ({len(rated)} rated;"
                            f" the fit half needs {MIN_FIT_ANSWERABLE} the documents answer): rate more answers"
                            " good or bad in Chat")

    def pairs(questions: list[Question]) -> list[tuple[float, bool]]:
        return [(nearest_relevance(ws, q.question), bool(q.expected_file)) for q in questions]

    fit_pairs, report_pairs = pairs(fit), pairs(report)
    bar = refusal.fit_refusal_bar(fit_pairs)
    before = refusal.bar_for(ws, lang, relevance_weights(lang)[1])
    if apply:
        refusal.set_workspace_bar(ws, lang, bar)
    return {"lang": lang, "rated": len(rated), "bar": bar, "bar_before": before, "applied": apply,
            "set_aside": refusal.set_aside_bar(ws, lang) if not apply else None,
            "fit": refusal.refusal_rates(fit_pairs, bar),
            "report": refusal.refusal_rates(report_pairs, bar),
            "report_before": refusal.refusal_rates(report_pairs, before)}
