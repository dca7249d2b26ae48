"""Document-answer bench. Baselines measured in the same run:
- TTFT and tokens/s of `ask` (retrieval and prompt building included) vs a bare llama.cpp call on
  the same prompt tokens and threads, cold cache, interleaved;
- TTFT of a follow-up question whose system prompt and sources are already in the KV cache;
- refusal-bar calibration over the retrieval bench's answerable and unanswerable questions;
- citation precision, answer accuracy and refusal rate over the same questions;
- support-check accuracy on planted sentences (true, number changed, from another document);
- answers per language (English bench/questions.jsonl, Chinese bench/questions_zh.jsonl over the demo
  and, when ../shared/data/seeds-zh is there, the seed articles) on the report half of each set;
  `--fit` fits the per-language refusal bar and extractive weights on the other half.

Usage: python bench/rag.py [--rounds 3] [--questions N] [--answers-only] [--fit] [--before]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bare_llama import bare_generate
from common import ROOT, print_table, write_json  # noqa: I001

from engine import locations
from engine.documents import rag
from engine.documents.citations import SUPPORT_BAR, Source, SupportScorer
from engine.documents.evaluate import (
    answer_steps,
    evaluate_answers,
    fit_extractive,
    fit_relevance,
    read_questions,
    retrieved,
    split_halves,
)
from engine.documents.ingest import ingest_paths
from engine.runtime import pool
from engine.runtime.generation import GenerationParams
from engine.workspace import Workspace

SPEED_QUESTIONS = [
    "What is the return window for opened electronics?",
    "What is the hotel cap per night in New York?",
    "How long must passwords be?",
    "员工每年有几天年假？",
]


def ask_ttft(ws, question: str, n_gen: int) -> tuple[dict, list[int]]:
    """Gives ask's wall TTFT (from the call) and decode speed, cold cache, and the prompt tokens it used."""
    model = pool.get("smollm2-135m", slot="rag")
    model._forget_from(0)
    job = rag.Ask(ws, question)
    started = time.perf_counter()
    first = None
    for _ in job.stream(GenerationParams(max_tokens=n_gen, temperature=0, repeat_penalty=1.0)):
        first = first or time.perf_counter()
    answer = job.answer
    messages = rag.build_messages(answer.sources, [], question)  # the very prompt ask decoded
    tokens = model.prompt_tokens(model.render(messages))
    return {"ttft_ms": (first - started) * 1000, "tokens_per_s": answer.stats.tokens_per_s,
            "prompt_tokens": answer.stats.prompt_tokens}, tokens


def speed(ws, rounds: int, n_gen: int) -> tuple[list[dict], dict]:
    model = pool.get("smollm2-135m", slot="rag")
    rows = []
    for question in SPEED_QUESTIONS:
        ours, bare = [], []
        _, tokens = ask_ttft(ws, question, n_gen)  # warm-up, and the prompt the bare loop replays
        for i in range(rounds):
            # alternate which side runs first, so drift on a busy machine does not favour one
            if i % 2:
                bare.append(bare_generate(model, tokens, n_gen))
                ours.append(ask_ttft(ws, question, n_gen)[0])
            else:
                ours.append(ask_ttft(ws, question, n_gen)[0])
                bare.append(bare_generate(model, tokens, n_gen))
        o_ttft = statistics.median(r["ttft_ms"] for r in ours)
        b_ttft = statistics.median(r["ttft_ms"] for r in bare)
        rows.append({"question": question[:40], "prompt_tokens": ours[0]["prompt_tokens"],
                     "ask_ttft_ms": round(o_ttft, 1), "bare_ttft_ms": round(b_ttft, 1),
                     "ttft_ratio": round(o_ttft / b_ttft, 3),
                     "ask_tok_s": round(statistics.median(r["tokens_per_s"] for r in ours), 1),
                     "bare_tok_s": round(statistics.median(r["tokens_per_s"] for r in bare), 1)})
    for row, question in zip(rows, SPEED_QUESTIONS):
        # As in the app: the system prompt was decoded at start-up (rag.warm), the rest is new.
        samples = []
        for _ in range(rounds):
            model._forget_from(0)
            rag.warm(model)
            job = rag.Ask(ws, question)
            started = time.perf_counter()
            for _ in job.stream(GenerationParams(max_tokens=1, temperature=0, repeat_penalty=1.0)):
                samples.append((time.perf_counter() - started) * 1000)
                break
        row["warm_ask_ttft_ms"] = round(statistics.median(samples), 1)
        row["warm_ratio"] = round(row["warm_ask_ttft_ms"] / row["bare_ttft_ms"], 3)
    model._forget_from(0)
    first = rag.Ask(ws, "What is the hotel cap per night in New York?")
    first.run(GenerationParams(max_tokens=48, temperature=0))
    follow = rag.Ask(ws, "And what is the per diem for international travel?", chat_id=first.answer.chat_id)
    follow.run(GenerationParams(max_tokens=48, temperature=0))
    f = follow.answer.stats
    cached = {"first_ttft_ms": round(first.answer.stats.ttft_ms, 1), "follow_up_ttft_ms": round(f.ttft_ms, 1),
              "follow_up_prompt_tokens": f.prompt_tokens, "follow_up_cached_tokens": f.cached_tokens}
    return rows, cached


def calibrate_refusal(ws, questions) -> dict:
    scores = [(rag.nearest_relevance(ws, q.question), bool(q.expected_file)) for q in questions]
    best = max((sum((s >= bar) == ans for s, ans in scores) / len(scores), bar)
               for bar in [i / 100 for i in range(20, 80)])
    at_bar = rag.RELEVANCE_BAR
    return {"bar_in_code": at_bar, "best_bar": best[1], "accuracy_at_best": round(best[0], 3),
            "refused_unanswerable": sum(1 for s, a in scores if not a and s < at_bar),
            "unanswerable": sum(1 for _, a in scores if not a),
            "refused_answerable": sum(1 for s, a in scores if a and s < at_bar),
            "answerable": sum(1 for _, a in scores if a)}


def planted(ws, n: int, seed: int = 3) -> dict:
    """Support-check accuracy: chunk sentences as true claims, the same with a number changed, and a
    sentence from another document, each checked against the chunk."""
    rng = random.Random(seed)
    tables = ("csv", "json", "parquet", "xlsx")
    chunks = [c for batch in ws.store.iter_chunks() for c in batch if c.doctype not in tables]
    with_numbers = [c for c in chunks if re.search(r"\d", c.text) and len(c.text) > 80]
    rng.shuffle(with_numbers)
    encoder = ws.encoder()
    correct = {"true": 0, "number_changed": 0, "other_document": 0}
    total = 0
    for chunk in with_numbers[:n]:
        sentences = [s for s in re.split(r"(?<=[.!?。])\s+", chunk.text) if re.search(r"\d", s) and len(s) > 30]
        if not sentences:
            continue
        claim = rng.choice(sentences)
        changed = re.sub(r"\d+", lambda m: str(int(m.group()) + 7), claim, count=1)
        other = rng.choice([c for c in chunks if c.document_id != chunk.document_id]).text.split(". ")[0]
        scorer = SupportScorer(encoder, [Source(1, chunk.id, chunk.path, chunk.page, None, chunk.text)])
        total += 1
        correct["true"] += scorer.score(claim)[1][0] >= SUPPORT_BAR
        correct["number_changed"] += scorer.score(changed)[1][0] < SUPPORT_BAR
        correct["other_document"] += scorer.score(other)[1][0] < SUPPORT_BAR
    return {"claims": total, "bar": SUPPORT_BAR} | {k: round(v / total, 3) for k, v in correct.items()}


SEEDS = ROOT.parent / "shared" / "data" / "seeds-zh"
ANSWER_KEYS = ("n", "contains_answer", "answered_correctly", "cites_expected_file", "citation_precision",
               "refusal_rate_unanswerable", "false_refusal_rate", "median_chars", "extract_ms_median")


def all_questions() -> list:
    """Gives the English and Chinese question sets (the Chinese seed questions only when the seeds are here)."""
    questions = read_questions(ROOT / "bench" / "questions.jsonl")
    zh = read_questions(ROOT / "bench" / "questions_zh.jsonl")
    if not SEEDS.is_dir():
        zh = [q for q in zh if not q.expected_file or q.expected_file.startswith("zh/")]
    return questions + zh


def fit(ws, questions) -> dict:
    """Fits, per language, the refusal bar and the extractive weights on the fit half of the questions."""
    fit_half, _ = split_halves(questions)
    out = {}
    for lang in sorted({q.lang for q in fit_half}):
        items = retrieved(ws, [q for q in fit_half if q.lang == lang])
        relevance_fit = fit_relevance(items)
        out[lang] = {"relevance": relevance_fit,
                     "extractive": fit_extractive(items, lang, relevance_fit, ws.encoder())}
        print_table(f"Fit on {len(items)} {lang} questions: refusal", [relevance_fit], list(relevance_fit))
        ext = out[lang]["extractive"]
        print_table(f"Fit on {len(items)} {lang} questions: extractive", [ext["weights"] | {
            k: v for k, v in ext.items() if k != "weights"}], list(ext["weights"]) + [k for k in ext if k != "weights"])
    return out


def answers_by_language(ws, questions, max_tokens: int = 96,
                        extractive: bool | None = None) -> tuple[list[dict], dict]:
    """Gives per-language answer figures on the report half of the questions (the half not fitted on)."""
    _, report_half = split_halves(questions)
    steps = answer_steps(ws, report_half, max_tokens=max_tokens, extractive=extractive)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            report = stop.value
            break
        print(f"  answered {step.done}/{step.total}", file=sys.stderr, flush=True)
    rows = [{"lang": lang} | {k: report["by_lang"][lang][k] for k in ANSWER_KEYS}
            for lang in sorted(report["by_lang"])]
    print_table(f"Answers per language on the report half ({len(report_half)} questions; SmolLM2, greedy)",
                rows, ["lang", *ANSWER_KEYS])
    return rows, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--questions", type=int, default=0, help="limit the accuracy run (0 = all)")
    parser.add_argument("--answers-only", action="store_true", help="only the per-language answer figures")
    parser.add_argument("--fit", action="store_true", help="fit per-language constants on the fit half first")
    parser.add_argument("--tag", default="", help="suffix of the results file, e.g. 'before'")
    parser.add_argument("--before", action="store_true",
                        help="also answer the non-English questions the way before extractive answers (the model "
                             "writes every answer); English answers are generated either way")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="quarry-rag-"))
    try:
        with Workspace(tmp / "demo") as ws:
            list(ingest_paths(ws, [locations.demo_corpus()] + ([SEEDS] if SEEDS.is_dir() else [])))
            both = all_questions()
            fitted = fit(ws, both) if args.fit else None
            by_lang, report = answers_by_language(ws, both)
            before = None
            if args.before:  # the halves are dealt per language, so leaving English out keeps them
                print("Before: the model writes the answer in every language", flush=True)
                rows_before, report_before = answers_by_language(ws, [q for q in both if q.lang != "en"],
                                                                 extractive=False)
                before = {"answers_by_language": rows_before, "answer_rows": report_before["rows"]}
            if args.answers_only:
                write_json("rag_languages" + (f"_{args.tag}" if args.tag else ""),
                           {"fit": fitted, "answers_by_language": by_lang, "answer_rows": report["rows"],
                            "before": before})
                return
            questions = read_questions(ROOT / "bench" / "questions.jsonl")
            rows, cached = speed(ws, args.rounds, args.tokens)
            print_table("ask vs bare llama.cpp on the same prompt (SmolLM2, medians; cold cache, and warm = system "
                "prompt decoded at start-up as the app does)", rows, list(rows[0]))
            print_table("Follow-up with the cached prefix", [cached], list(cached))
            calibration = calibrate_refusal(ws, questions)
            print_table("Refusal bar calibration", [calibration], list(calibration))
            plant = planted(ws, 60)
            print_table("Support check on planted sentences (share judged right)", [plant], list(plant))
            subset = questions[: args.questions] if args.questions else questions
            report = evaluate_answers(ws, subset, max_tokens=96)
            summary = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in report.items()
                       if k not in ("rows", "by_lang")}
            print_table(f"Answers over {len(subset)} questions (SmolLM2, greedy)", [summary], list(summary))
            write_json("rag", {"speed": rows, "follow_up": cached, "refusal_calibration": calibration,
                               "planted": plant, "answers": summary, "answer_rows": report["rows"],
                               "fit": fitted, "answers_by_language": by_lang})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
