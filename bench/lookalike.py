"""Look-alike bench: answers in a library that holds eight vendors' returns policies, alike but for their
figures and terms (made from the demo's returns policy), beside the rest of the demo documents.

Measured on the report half of its questions (each aspect's two phrasings are dealt one to each half; the
questions that name a vendor or are scoped follow their phrasing's half):
- scoped: each question asked within one variant (`--doc ID`, resolved by engine/documents/scope.py): the answer
  contains that variant's figure (goal >= 0.85);
- unscoped, naming no variant: when the variants answer differently, every variant is named on a line
  that holds its own figure; when they all agree, one answer that holds it (goal with the next >= 0.9);
- unscoped, naming a variant ("… at Brightline?"): the answer cites that variant and holds its figure;
- the demo question set (bench/questions.jsonl over demo/docs, one right document each): how often a
  per-document answer appears (it should not), and contains-the-answer with and without them.
`--fit` fits per_document's DOC_SHARE, STRENGTH, SUBSTITUTION and ALIKE on the fit halves (look-alike and demo),
then reports the report halves with the fitted values; without it the module's constants are reported.

Usage: python bench/lookalike.py [--fit] [--generated N]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, print_table, write_json  # noqa: I001

from demo import corpus_text as T
from engine import locations
from engine.documents import per_document, rag, scope
from engine.documents.evaluate import contains, read_questions, split_halves
from engine.documents.ingest import ingest_paths
from engine.documents.search import Filters
from engine.workspace import Workspace

VENDORS = ["Brightline", "Northwind", "Kestrel", "Halden", "Marlowe", "Tessera", "Juniper", "Pellucid"]
# Per aspect: the figure each vendor's policy states (index as VENDORS), how its answer is written.
FIGURES = {
    "unopened": ([30, 45, 30, 60, 21, 30, 14, 90], "{} days"),
    "electronics": ([15, 14, 30, 15, 10, 7, 21, 30], "{} days"),
    "fee": ([10, 15, 20, 10, 5, 25, 12, 8], "{}%"),
    "furniture": ([14, 30, 7, 21, 14, 10, 28, 60], "{} days"),
    "pickup": ([49, 79, 35, 49, 99, 59, 25, 65], "${}"),
    "refund": ([5, 7, 10, 3, 5, 14, 2, 6], "{} business days"),
    "damaged": ([48, 72, 24, 48, 96, 36, 12, 120], "{} hours"),
    "warehouse": (["Reno", "Austin", "Columbus", "Denver", "Raleigh", "Tucson", "Boise", "Omaha"], "{}"),
}
QUESTIONS = {
    "unopened": ["How long do I have to return an unopened item?",
                 "What is the return window for unopened items in their original packaging?"],
    "electronics": ["What is the return window for opened electronics?",
                    "How many days do I have to return an opened laptop?"],
    "fee": ["How much is the restocking fee on opened electronics?",
            "Is there a restocking fee on opened laptops?"],
    "furniture": ["How long can assembled furniture be returned?",
                  "Within how many days can I return assembled furniture?"],
    "pickup": ["How much is the pickup fee for returning furniture?",
               "What does a furniture return pickup cost?"],
    "refund": ["How fast are refunds issued after a return is received?",
               "How many business days until my refund is issued?"],
    "damaged": ["How quickly must damaged deliveries be reported?",
                "Within how many hours must I report an item that arrived damaged?"],
    "warehouse": ["At which warehouse are returned items received and inspected?",
                  "Where are returned items inspected?"],
}
# Every variant says the same: one answer, citing them.
AGREE = [("Is proof of purchase required for a return?", "order number or receipt"),
         ("What do I need to show as proof of purchase for every return?", "order number or receipt"),
         ("How do gift recipients return items?", "gift receipt"),
         ("Can a gift recipient return an item without a receipt from the buyer?", "gift receipt")]
GRID_SHARE = [0.8, 0.9, 1.0]
GRID_STRENGTH = [round(0.3 + 0.1 * i, 2) for i in range(7)]
GRID_SUBSTITUTION = [round(0.05 * i, 2) for i in range(7)]
GRID_ALIKE = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]


REWORDED = {2, 5, 7}  # vendors whose policy says the same in other words (look-alikes rarely match word for word)


def variant_text(i: int) -> str:
    """Gives vendor i's returns policy: the demo's, with its name, figures and terms (some reworded)."""
    vendor = VENDORS[i]
    text = "\n\n".join(T.RETURNS_PAGES)
    f = {k: v[0][i] for k, v in FIGURES.items()}
    rewording = [
        ("Unopened items in their original packaging may be returned within 30 days of delivery for a full refund.",
         f"You can return unopened items in the original packaging for a full refund up to {f['unopened']} days "
         "after delivery."),
        ("may\nbe returned within 15 days of delivery.",
         f"can\ncome back up to {f['electronics']} days after delivery."),
        ("A 10% restocking fee applies to opened electronics unless the item\nis defective.",
         f"Opened electronics that are not defective carry a restocking fee of {f['fee']}%."),
        ("Refunds are issued to the original payment method within 5 business days after the returned item is\n"
         "received and inspected at our Reno warehouse.",
         f"We refund the original payment method {f['refund']} business days after our {f['warehouse']} warehouse "
         "has received and inspected the returned item."),
    ]
    for old, new in rewording if i in REWORDED else []:
        assert old in text, old
        text = text.replace(old, new)
    swaps = [("Corvid Home & Office", f"{vendor} Home"), ("Version 4.2", f"Version {i + 1}.1"),
             ("within 30 days of delivery for a full", f"within {f['unopened']} days of delivery for a full"),
             ("within 15 days of delivery", f"within {f['electronics']} days of delivery"),
             ("A 10% restocking fee", f"A {f['fee']}% restocking fee"),
             ("within 14 days if it is undamaged", f"within {f['furniture']} days if it is undamaged"),
             ("$49", f"${f['pickup']}"), ("within 5 business days", f"within {f['refund']} business days"),
             ("our Reno warehouse", f"our {f['warehouse']} warehouse"),
             ("within 48 hours", f"within {f['damaged']} hours"),
             ("returns@corvid.example, +1 775 555 0142", f"returns@{vendor.lower()}.example, +1 775 555 01{i:02d}")]
    for old, new in swaps:
        text = text.replace(old, new)
    for aspect, (values, form) in FIGURES.items():
        assert form.format(values[i]) in text, (vendor, aspect)
    return text


def variant_name(i: int) -> str:
    return f"returns-policy-{VENDORS[i].lower()}." + ("md" if i % 2 == 0 else "txt")


def build_library(folder: Path) -> Path:
    """Gives a folder holding the demo documents (its returns policy left out) and the eight variants."""
    shutil.copytree(locations.demo_corpus(), folder)
    (folder / "policies" / "returns-policy.pdf").unlink()
    for i in range(len(VENDORS)):
        text = variant_text(i)
        if i % 2 == 0:
            title, rest = text.split("\n", 1)
            text = f"# {title}\n{rest}"
        (folder / "policies" / variant_name(i)).write_text(text, encoding="utf-8")
    return folder


@dataclass
class Item:
    """One look-alike question: its kind, the variant it names or is scoped to, what each variant answers."""

    question: str
    kind: str  # scoped | unscoped | named | agree
    half: str  # fit | report
    answers: dict[str, str]  # variant file name -> expected answer
    variant: str | None = None


def items() -> list[Item]:
    out = []
    for aspect, phrasings in QUESTIONS.items():
        values, form = FIGURES[aspect]
        answers = {variant_name(i): form.format(v) for i, v in enumerate(values)}
        ordered = sorted(phrasings, key=lambda q: zlib.crc32(q.encode()))
        for j, (question, half) in enumerate(zip(ordered, ["fit", "report"])):
            out.append(Item(question, "unscoped", half, answers))
            for name in answers:
                out.append(Item(question, "scoped", half, {name: answers[name]}, name))
            for k in range(2):
                i = (list(QUESTIONS).index(aspect) + 4 * j + k) % len(VENDORS)
                vendor, name = VENDORS[i], variant_name(i)
                named = (f"{question[:-1]} at {vendor}?" if k == 0
                         else f"Under {vendor}'s returns policy, {question[0].lower()}{question[1:]}")
                out.append(Item(named, "named", half, {name: answers[name]}, name))
    ordered = sorted(AGREE, key=lambda qa: zlib.crc32(qa[0].encode()))
    for j, (question, answer) in enumerate(ordered):
        half = "fit" if j % 2 == 0 else "report"
        out.append(Item(question, "agree", half, {variant_name(i): answer for i in range(len(VENDORS))}))
    return out


def line_of(text: str, name: str) -> str:
    for line in text.splitlines():
        if name in line:
            return line
    return ""


def judge(item: Item, text: str, split: dict | None, cited: list[str]) -> bool:
    """Tells whether an answer does what the item asks (see the module docstring)."""
    names = [p.rsplit("/", 1)[-1] for p in cited]
    if item.kind == "scoped":
        return contains(text, item.answers[item.variant])
    if item.kind == "named":
        return item.variant in names and contains(text, item.answers[item.variant])
    if len(set(item.answers.values())) == 1:
        return not (split or {}).get("differ") and contains(text, next(iter(item.answers.values())))
    return bool((split or {}).get("differ")) and all(contains(line_of(text, name), answer)
                                                     for name, answer in item.answers.items())


def ask(ws, question: str, filters: Filters | None = None, extractive: bool = True) -> tuple[rag.Answer, float]:
    started = time.perf_counter()
    job = rag.Ask(ws, question, extractive=extractive, filters=filters)
    answer = job.run(rag.GenerationParams(max_tokens=96, temperature=0.0))
    return answer, (time.perf_counter() - started) * 1000


@dataclass
class Features:
    """What the fit needs of one unscoped question: its passages' relevance, the bar, the candidates."""

    question: str
    lang: str
    paths_scores: list[tuple[str, float]]
    bar: float
    candidates: list  # from the wide search
    first: list  # from the ask's own passages (the gate before the wide search)


def features(ws, question: str) -> Features:
    job = rag.Ask(ws, question)
    answer, hits, scores = job.retrieve([])
    bar = job.bar()
    loosest = per_document.Params(min(GRID_SHARE), min(GRID_STRENGTH), max(GRID_SUBSTITUTION), max(GRID_ALIKE))
    cands = per_document.gather(job, answer.search_query, hits, scores, bar, loosest) \
        if max(scores, default=0) >= bar else []
    first = per_document.candidates_of(question, list(zip(hits, scores)), bar * min(GRID_SHARE), job.lang)
    return Features(question, job.lang, [(h.path, s) for h, s in zip(hits, scores)], bar, cands, first)


def simulate(f: Features, params: per_document.Params) -> per_document.Split | None:
    """Gives the split Ask would make with these parameters (from the features alone)."""
    if max((s for _, s in f.paths_scores), default=0) < f.bar:
        return None
    first = [c for c in f.first if c.relevance >= f.bar * params.doc_share]
    if len(first) < 2 or per_document.decide(f.question, first, f.lang, params) is None:
        return None
    cands = [c for c in f.candidates if c.relevance >= f.bar * params.doc_share]
    return per_document.decide(f.question, cands, f.lang, params) if len(cands) >= 2 else None


def simulated_ok(item: Item | None, f: Features, params: per_document.Params) -> bool:
    split = simulate(f, params)
    if item is None:  # a demo question: one right document
        return split is None or not split.differ
    if item.kind == "named":
        return split is not None and [c.name for c in split.named] == [item.variant]
    if item.kind == "agree":
        return max((s for _, s in f.paths_scores), default=0) >= f.bar and (split is None or not split.differ)
    if split is None or not split.differ:
        return False
    answer = rag.Answer(item.question, item.question)
    per_document.fill(answer, split, f.lang, False)
    return all(contains(line_of(answer.text, n), a) for n, a in item.answers.items())


def fit(look: list[tuple[Item, Features]], demo: list[Features]) -> tuple[per_document.Params, list[dict]]:
    """Gives the parameters that do best on the fit halves (look-alike questions right, demo questions with
    no per-document answer, each set weighted alike), and the grid's rows."""
    rows = []
    for share, strength, sub, alike in itertools.product(GRID_SHARE, GRID_STRENGTH, GRID_SUBSTITUTION, GRID_ALIKE):
        params = per_document.Params(share, strength, sub, alike)
        a = statistics.mean(simulated_ok(i, f, params) for i, f in look)
        b = statistics.mean(simulated_ok(None, f, params) for f in demo)
        rows.append({"doc_share": share, "strength": strength, "substitution": sub, "alike": alike,
                     "lookalike": a, "demo": b,
                     "score": (a + b) / 2})
    best = max(r["score"] for r in rows)
    tied = [r for r in rows if r["score"] == best]
    chosen = tied[len(tied) // 2]
    return per_document.Params(chosen["doc_share"], chosen["strength"], chosen["substitution"], chosen["alike"]), rows


def use(params: per_document.Params) -> None:
    per_document.DOC_SHARE, per_document.STRENGTH, per_document.SUBSTITUTION, per_document.ALIKE = (
        params.doc_share, params.strength, params.substitution, params.alike)


def report_lookalike(ws, doc_ids: dict[str, int], chosen: list[Item], extractive: bool = True) -> list[dict]:
    rows = []
    for item in chosen:
        filters = (scope.resolve(ws.store, scope.Scope(doc_ids=(doc_ids[item.variant],))).filters()
                   if item.kind == "scoped" else None)
        answer, ms = ask(ws, item.question, filters, extractive)
        cited = [c.path for c in answer.citations]
        rows.append({"question": item.question, "kind": item.kind, "half": item.half, "variant": item.variant,
                     "ok": judge(item, answer.text, answer.per_document, cited),
                     "per_document": bool((answer.per_document or {}).get("differ")),
                     "replaced_model": bool((answer.per_document or {}).get("replaced_model")),
                     "cited": sorted({p.rsplit("/", 1)[-1] for p in cited}), "ms": round(ms, 1),
                     "answer": answer.text})
    return rows


def report_demo(ws, questions) -> list[dict]:
    rows = []
    for q in questions:
        answer, ms = ask(ws, q.question)
        split = answer.per_document or {}
        rows.append({"question": q.question, "per_document": bool(split.get("differ")),
                     "named": [p.rsplit("/", 1)[-1] for p in split.get("named") or []],
                     "contains": contains(answer.text, q.answer) if q.answer else None,
                     "cites_expected": any(c.path.endswith(q.expected_file) for c in answer.citations),
                     "ms": round(ms, 1)})
    return rows


def share(rows: list[dict], key: str = "ok") -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(values) / len(values), 4) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="fit the constants on the fit halves first")
    parser.add_argument("--generated", type=int, default=0,
                        help="also answer N report-half unscoped questions in written mode")
    args = parser.parse_args()
    all_items = items()
    demo_questions = [q for q in read_questions(ROOT / "bench" / "questions.jsonl") if q.expected_file]
    demo_fit, demo_report = split_halves(demo_questions)
    tmp = Path(tempfile.mkdtemp(prefix="quarry-lookalike-"))
    result: dict = {"what": __doc__.split("\n\n")[0], "variants": [variant_name(i) for i in range(len(VENDORS))],
                    "questions": {k: sum(1 for i in all_items if i.kind == k) for k in
                                  ("scoped", "unscoped", "named", "agree")}}
    try:
        library = build_library(tmp / "library")
        with Workspace(tmp / "look") as look, Workspace(tmp / "demo") as demo:
            started = time.perf_counter()
            list(ingest_paths(look, [library]))
            list(ingest_paths(demo, [locations.demo_corpus()]))
            result["ingest_s"] = round(time.perf_counter() - started, 1)
            doc_ids = {path.rsplit("/", 1)[-1]: doc_id for doc_id, path in look.store.searchable_documents()}
            unscoped = [i for i in all_items if i.kind != "scoped"]
            if args.fit:
                look_feats = [(i, features(look, i.question)) for i in unscoped if i.half == "fit"]
                demo_feats = [features(demo, q.question) for q in demo_fit]
                params, grid = fit(look_feats, demo_feats)
                best = max(grid, key=lambda r: r["score"])
                result["fit"] = {"params": params.__dict__, "fit_half": {k: best[k] for k in ("lookalike", "demo")},
                                 "grid_best_rows": sorted(grid, key=lambda r: -r["score"])[:10],
                                 "n_lookalike": len(look_feats), "n_demo": len(demo_feats)}
                use(params)
                print_table("fit (fit halves; score = mean of look-alike right and demo without per-document)",
                            result["fit"]["grid_best_rows"], ["doc_share", "strength", "substitution",
                                                              "alike", "lookalike", "demo", "score"])
            result["params"] = per_document.fitted().__dict__
            halves = ["report"] if args.fit else ["fit", "report"]
            rows = report_lookalike(look, doc_ids, [i for i in all_items if i.half in halves])
            demo_rows = report_demo(demo, demo_report if args.fit else demo_questions)
            saved = per_document.DOC_SHARE
            per_document.DOC_SHARE = float("inf")  # no document clears the gate: answers as before this module
            before = report_demo(demo, demo_report if args.fit else demo_questions)
            per_document.DOC_SHARE = saved
            generated = []
            if args.generated:
                chosen = [i for i in all_items if i.half == "report" and i.kind in ("unscoped", "agree", "named")]
                generated = report_lookalike(look, doc_ids, chosen[: args.generated], extractive=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    table = []
    for half in halves:
        for kind in ("scoped", "unscoped", "agree", "named"):
            part = [r for r in rows if r["half"] == half and r["kind"] == kind]
            table.append({"half": half, "kind": kind, "n": len(part), "ok": share(part),
                          "per_document": share(part, "per_document"),
                          "median_ms": round(statistics.median(r["ms"] for r in part), 1) if part else None})
        unscoped_rows = [r for r in rows if r["half"] == half and r["kind"] != "scoped"]
        table.append({"half": half, "kind": "all unscoped", "n": len(unscoped_rows), "ok": share(unscoped_rows),
                      "per_document": share(unscoped_rows, "per_document")})
    print_table("look-alike library, quoted answers (ok: scoped contains the variant's figure; unscoped names "
                "every variant with its figure, or agrees; named cites the named variant)", table,
                ["half", "kind", "n", "ok", "per_document", "median_ms"])
    demo_table = [{"answers": "with per_document", "n": len(demo_rows),
                   "per_document": share(demo_rows, "per_document"),
                   "contains": share(demo_rows, "contains"), "cites_expected": share(demo_rows, "cites_expected"),
                   "named": sum(1 for r in demo_rows if r["named"]),
                   "median_ms": round(statistics.median(r["ms"] for r in demo_rows), 1)},
                  {"answers": "before (no per_document)", "n": len(before),
                   "per_document": share(before, "per_document"),
                   "contains": share(before, "contains"), "cites_expected": share(before, "cites_expected"),
                   "named": 0, "median_ms": round(statistics.median(r["ms"] for r in before), 1)}]
    print_table("demo questions (one right document each), quoted answers", demo_table,
                ["answers", "n", "per_document", "contains", "cites_expected", "named", "median_ms"])
    if generated:
        gtable = [{"kind": k, "n": len(p), "ok": share(p), "per_document": share(p, "per_document"),
                   "replaced_model": share(p, "replaced_model")}
                  for k in ("unscoped", "agree", "named") if (p := [r for r in generated if r["kind"] == k])]
        print_table("written mode (report half)", gtable, ["kind", "n", "ok", "per_document", "replaced_model"])
        result["generated"] = {"table": gtable, "rows": generated}
    report = [r for r in table if r["half"] == "report"]
    result |= {"halves": halves, "table": table, "demo": demo_table,
               "goals": {"scoped_contains": next(r["ok"] for r in report if r["kind"] == "scoped"),
                         "unscoped_names_or_cites": next(r["ok"] for r in report if r["kind"] == "all unscoped"),
                         "demo_per_document_rate": demo_table[0]["per_document"]},
               "rows": rows, "demo_rows": demo_rows}
    write_json("lookalike", result)


if __name__ == "__main__":
    main()
