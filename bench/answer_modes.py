"""Answer-mode bench: quoted (the documents' own sentences) vs written (the chat model's words) on the
English questions of bench/questions.jsonl, per default chat model, both modes asked of every question in
turn (the order alternating), so drift on a busy machine hits both alike.

Per model, mode and half of the questions: contains the answer, cites the expected file, citation
precision (cited passages from the expected file), supported share (answer sentences that pass the
support check, with support_rules and without), refusals, and TTFT from the call (retrieval included).
The mode each model gets by default per language is chosen on the fit half (higher contains-the-answer,
then citation precision) and reported on the other half; `--fit` first fits the English extractive
weights on the fit half (engine/documents/evaluate.fit_extractive) and answers with them.

Usage: python bench/answer_modes.py [--models smollm2-135m,gemma3-270m] [--max-tokens 96] [--fit] [--limit N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import ROOT, print_table, write_json  # noqa: I001

from engine import locations
from engine.documents import extractive
from engine.documents.citations import SupportScorer, check
from engine.documents.evaluate import (
    contains,
    fit_extractive,
    fit_relevance,
    matches,
    read_questions,
    retrieved,
    split_halves,
)
from engine.documents.ingest import ingest_paths
from engine.documents.modes import QUOTED, WRITTEN, default_mode
from engine.documents.rag import Ask
from engine.runtime.generation import GenerationParams
from engine.workspace import Workspace

MODES = (QUOTED, WRITTEN)
KEYS = ("n", "contains_answer", "cites_expected_file", "citation_precision", "supported_share",
        "supported_share_no_rules", "refused_answerable", "refused_unanswerable", "ttft_ms_median")


def ask_once(ws, question, model_id: str, mode: str, max_tokens: int) -> dict:
    """Asks one question in one mode; gives its scored row (TTFT from the call, retrieval included)."""
    job = Ask(ws, question.question, model_id=model_id, extractive=mode == QUOTED)
    started = time.perf_counter()
    first = None
    for _ in job.stream(GenerationParams(max_tokens=max_tokens, temperature=0)):
        first = first or time.perf_counter()
    done = time.perf_counter()
    answer = job.answer
    files = [c.path for c in answer.citations]
    shares = supported_shares(ws, answer)
    return {"model": model_id, "mode": mode, "question": question.question, "expected_file": question.expected_file,
            "expected": question.answer, "refused": answer.refused, "made": "refused" if answer.refused else (
                QUOTED if answer.extractive else "quoted instead" if answer.quoted_instead else WRITTEN),
            "answer": answer.text, "raw_text": answer.raw_text,
            "contains_answer": bool(question.answer) and contains(answer.text, question.answer),
            "cites_expected": bool(question.expected_file) and any(matches(f, question.expected_file) for f in files),
            "citations": len(files),
            "correct_citations": sum(1 for f in files if question.expected_file and matches(f, question.expected_file)),
            "supported": shares[0], "supported_no_rules": shares[1], "sentences": shares[2],
            "ttft_ms": round(((first or done) - started) * 1000, 1)}


def supported_shares(ws, answer) -> tuple[int, int, int]:
    """Gives (sentences supported with the rules, without them, sentences checked) of an answer: the
    model's own sentences for a written answer (before any quote replaced them); for a quoted one, its
    sentences found word for word in the passage it cites."""
    if answer.refused or not answer.sources:
        return 0, 0, 0
    if answer.extractive:
        texts = {s.chunk_id: s.text for s in answer.sources}
        verbatim = sum(c.span_text in texts.get(c.chunk_id, "") for c in answer.citations)
        return verbatim, verbatim, len(answer.citations)
    encoder = ws.encoder()
    text = answer.raw_text
    out = []
    for strict in (True, False):
        _, _, sentences = check(text, answer.sources, encoder, scorer=SupportScorer(encoder, answer.sources, strict))
        out.append((sum(s.supported for s in sentences), len(sentences)))
    return out[0][0], out[1][0], out[0][1]


def summary(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["expected_file"]]
    with_text = [r for r in answerable if r["expected"]]
    unanswerable = [r for r in rows if not r["expected_file"]]
    cited = sum(r["citations"] for r in answerable)
    sentences = sum(r["sentences"] for r in rows)
    answered = [r["ttft_ms"] for r in rows if not r["refused"]]

    def share(part, whole):
        return round(part / len(whole), 3) if whole else None

    return {"n": len(rows),
            "contains_answer": share(sum(r["contains_answer"] for r in with_text), with_text),
            "cites_expected_file": share(sum(r["cites_expected"] for r in answerable), answerable),
            "citation_precision": round(sum(r["correct_citations"] for r in answerable) / cited, 3) if cited else None,
            "supported_share": round(sum(r["supported"] for r in rows) / sentences, 3) if sentences else None,
            "supported_share_no_rules": round(sum(r["supported_no_rules"] for r in rows) / sentences, 3)
            if sentences else None,
            "refused_answerable": share(sum(r["refused"] for r in answerable), answerable),
            "refused_unanswerable": share(sum(r["refused"] for r in unanswerable), unanswerable),
            "ttft_ms_median": round(statistics.median(answered), 1) if answered else None}


def choose(fit_rows: dict[str, dict]) -> str:
    """Gives the mode that did better on the fit half: more answers holding the expected text, then higher
    citation precision."""
    def key(mode):
        s = fit_rows[mode]
        return (s["contains_answer"] or 0.0, s["citation_precision"] or 0.0)
    return max(fit_rows, key=key)


def fit_weights(ws, fit_half) -> dict:
    """Fits the English extractive weights on the fit half (as `bench/rag.py --fit` does) and uses them."""
    items = retrieved(ws, fit_half)
    relevance = fit_relevance(items)
    fitted = fit_extractive(items, "en", relevance, ws.encoder())
    weights = replace(extractive.weights_for("en"), **fitted["weights"], floor=fitted["floor"], second=fitted["second"])
    extractive.WEIGHTS["en"] = weights
    print_table("English extractive weights fitted on the fit half", [fitted["weights"] | {
        k: v for k, v in fitted.items() if k != "weights"}], list(fitted["weights"]) + [
        k for k in fitted if k != "weights"])
    return fitted


def report(rows: list[dict], models: list[str], fit_half, report_half, args, fitted) -> None:
    """Prints the figures of the models answered so far and writes them (after each model, so a long run
    that is stopped keeps what it measured)."""
    table, choices = [], {}
    for model_id in models:
        asked = [m for m in MODES if any(r["mode"] == m for r in rows)]
        figures = {(mode, half): summary([r for r in rows if r["model"] == model_id and r["mode"] == mode
                                          and r["half"] == half])
                   for mode in asked for half in ("fit", "report")}
        chosen = choose({mode: figures[(mode, "fit")] for mode in asked})
        choices[model_id] = {"en": chosen, "catalog_default_now": default_mode(model_id, "en")}
        for (mode, half), figs in figures.items():
            table.append({"model": model_id, "mode": mode, "half": half,
                          "chosen": "yes" if mode == chosen else ""} | figs)
    print_table(f"Answer modes on English questions ({len(fit_half)} fit, {len(report_half)} report; "
                f"greedy, {args.max_tokens} tokens)", table, ["model", "mode", "half", "chosen", *KEYS])
    print_table("Default mode per model, chosen on the fit half", [
        {"model": m} | c for m, c in choices.items()], ["model", "en", "catalog_default_now"])
    write_json("answer_modes" + (f"_{args.tag}" if args.tag else ""),
               {"questions": "bench/questions.jsonl (English)", "max_tokens": args.max_tokens,
                "fitted_weights": fitted, "weights_en": extractive.weights_for("en").__dict__,
                "table": table, "choices": choices, "rows": rows})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="smollm2-135m,gemma3-270m")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--fit", action="store_true", help="fit the English extractive weights on the fit half")
    parser.add_argument("--limit", type=int, default=0, help="questions per half (0 = all), for a quick look")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--modes", default="quoted,written",
                        help="modes to ask in (quoted answers do not depend on the model: `--modes quoted` re-measures "
                             "them alone after a change to the extractive path)")
    args = parser.parse_args()
    questions = [q for q in read_questions(ROOT / "bench" / "questions.jsonl") if q.lang == "en"]
    fit_half, report_half = split_halves(questions)
    if args.limit:
        fit_half, report_half = fit_half[: args.limit], report_half[: args.limit]
    tmp = Path(tempfile.mkdtemp(prefix="quarry-modes-"))
    try:
        with Workspace(tmp / "demo") as ws:
            list(ingest_paths(ws, [locations.demo_corpus()]))
            fitted = fit_weights(ws, fit_half) if args.fit else None
            rows = []
            models = [m.strip() for m in args.models.split(",") if m.strip()]
            modes = [m for m in MODES if m in args.modes.split(",")]
            for model_id in models:
                for i, q in enumerate(fit_half + report_half):
                    half = "fit" if i < len(fit_half) else "report"
                    for mode in (modes if i % 2 == 0 else modes[::-1]):
                        rows.append(ask_once(ws, q, model_id, mode, args.max_tokens) | {"half": half})
                    print(f"  {model_id}: {i + 1}/{len(fit_half) + len(report_half)}", file=sys.stderr, flush=True)
                report(rows, models[: models.index(model_id) + 1], fit_half, report_half, args, fitted)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
