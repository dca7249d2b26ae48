"""Support-check bench: how often the citation checker passes a sentence the passage does not state.

bench/questions/support_en.jsonl holds English sentences over the demo documents, each with the file it
is on-topic with: some written to be unsupported (the model's own voice, a negation the passage does not
make, an invented or swapped fact) and true paraphrases (some of them negated as the passage is). Each is
scored against that file's passages, as an answer sentence is against its sources; verbatim sentences of
the same passages are checked too (they must pass).

- before: the checker as it was (overlap and cosine only), at the bar in the code, and at a bar refitted;
- after: with support_rules (negation, first-person voice), its bar fitted;
bars are fitted on one half of the sentences (the most true support with false support <= 10%, else the
best true minus false) and reported on the other half.

bench/questions/support_en_heldout.jsonl was written after the first run, before the rules were tuned
further, and is only reported (at the bars fitted on the fit half of the first set).

Usage: python bench/support_check.py
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zlib
from pathlib import Path

from common import ROOT, print_table, write_json  # noqa: I001

from engine import locations
from engine.documents.citations import SUPPORT_BAR, Source, SupportScorer
from engine.documents.evaluate import matches
from engine.documents.ingest import ingest_paths
from engine.documents.support_rules import conflict
from engine.workspace import Workspace

SET = ROOT / "bench" / "questions" / "support_en.jsonl"
HELDOUT = ROOT / "bench" / "questions" / "support_en_heldout.jsonl"
GRID = [round(0.30 + i / 100, 2) for i in range(51)]
BAR_BEFORE = 0.5  # the bar before support_rules (engine/documents/citations.py SUPPORT_BAR now holds the fitted one)
MAX_FALSE = 0.10


def read_set(path: Path = SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def halves(items: list[dict]) -> tuple[list[dict], list[dict]]:
    """Gives (fit, report): within each (supported, kind) group, ordered by a hash of the sentence and dealt
    alternately."""
    groups: dict[tuple, list[dict]] = {}
    for it in items:
        groups.setdefault((it["supported"], it["kind"]), []).append(it)
    fit, report = [], []
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda it: zlib.crc32(it["sentence"].encode("utf-8")))
        fit += ordered[0::2]
        report += ordered[1::2]
    return fit, report


def sources_of(ws, file: str) -> list[Source]:
    chunks = [c for batch in ws.store.iter_chunks() for c in batch if matches(c.path, file)]
    if not chunks:
        raise SystemExit(f"{file}: not in the demo workspace")
    return [Source(i, c.id, c.path, c.page, c.heading, c.text) for i, c in enumerate(chunks, start=1)]


def score(ws, items: list[dict]) -> None:
    """Adds to each item its support before (no rules) and after (rules), and the rule that fired."""
    encoder = ws.encoder()
    for it in items:
        sources = sources_of(ws, it["file"])
        scorer = SupportScorer(encoder, sources)
        after = scorer.score(it["sentence"])
        before = scorer.score(it["sentence"], strict=False)
        it["before"] = round(max(s for s, _ in before.values()), 4)
        it["after"] = round(max(s for s, _ in after.values()), 4)
        best = max(before, key=lambda n: before[n][0])
        it["rule"] = conflict(it["sentence"], before[best][1][2], scorer.sources[best].text)
        it["best_span"] = before[best][1][2]


def rates(items: list[dict], key: str, bar: float) -> dict:
    true = [it for it in items if it["supported"]]
    false = [it for it in items if not it["supported"]]
    return {"n_true": len(true), "n_false": len(false),
            "true_support": round(sum(it[key] >= bar for it in true) / max(len(true), 1), 3),
            "false_support": round(sum(it[key] >= bar for it in false) / max(len(false), 1), 3)}


def fit_bar(items: list[dict], key: str) -> float:
    """Gives the bar with the most true support at false support <= MAX_FALSE (else the best true - false);
    ties go to the middle of the tied bars."""
    scored = []
    for bar in GRID:
        r = rates(items, key, bar)
        ok = r["false_support"] <= MAX_FALSE
        scored.append(((ok, r["true_support"] if ok else r["true_support"] - r["false_support"]), bar))
    best = max(k for k, _ in scored)
    tied = [bar for k, bar in scored if k == best]
    return tied[len(tied) // 2]


def by_kind(items: list[dict], key: str, bar: float) -> dict:
    out = {}
    for supported, kind in sorted({(it["supported"], it["kind"]) for it in items}):
        group = [it for it in items if it["kind"] == kind and it["supported"] == supported]
        out[("true " if supported else "false ") + kind] = round(sum(it[key] >= bar for it in group) / len(group), 3)
    return out


def verbatim(ws, files: list[str]) -> dict:
    """Gives how many verbatim sentences (over 30 characters) of the files' passages pass, before (no rules,
    the bar before) and after (rules, the code's bar)."""
    encoder = ws.encoder()
    passed = {"before": 0, "after": 0}
    total = 0
    for file in files:
        sources = sources_of(ws, file)
        scorer = SupportScorer(encoder, sources)
        for source in sources:
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", source.text):
                if len(sentence.strip()) <= 30:
                    continue
                total += 1
                passed["before"] += max(s for s, _ in scorer.score(sentence, strict=False).values()) >= BAR_BEFORE
                passed["after"] += max(s for s, _ in scorer.score(sentence).values()) >= SUPPORT_BAR
    return {"sentences": total} | {k: round(v / max(total, 1), 3) for k, v in passed.items()}


def main() -> None:
    items = read_set()
    heldout = read_set(HELDOUT)
    files = sorted({it["file"] for it in items + heldout})
    tmp = Path(tempfile.mkdtemp(prefix="quarry-support-"))
    try:
        with Workspace(tmp / "demo") as ws:
            list(ingest_paths(ws, [locations.demo_corpus() / f for f in files]))
            score(ws, items)
            score(ws, heldout)
            fit, report = halves(items)
            bars = {"before: no rules, bar 0.50": ("before", BAR_BEFORE),
                    "no rules, bar refitted": ("before", fit_bar(fit, "before")),
                    "rules, bar 0.50": ("after", BAR_BEFORE),
                    "after: rules, bar refitted": ("after", fit_bar(fit, "after"))}
            rows = []
            for name, (key, bar) in bars.items():
                for half, part in (("fit", fit), ("report", report), ("held-out set", heldout)):
                    rows.append({"checker": name, "half": half, "bar": bar} | rates(part, key, bar))
            print_table(f"Support check on {len(items)} on-topic sentences ({SET.relative_to(ROOT)}): "
                        "share judged supported", rows, list(rows[0]))
            kinds = [{"checker": name, "half": half} | by_kind(part, key, bar)
                     for half, part in (("report", report), ("held-out set", heldout))
                     for name, (key, bar) in bars.items()]
            print_table("Report half and held-out set by kind (share judged supported)", kinds,
                        list(dict.fromkeys(k for row in kinds for k in row)))
            plain = verbatim(ws, files)
            print_table("Verbatim sentences of the same passages (share passing)", [plain],
                        list(plain))
            bar = bars["after: rules, bar refitted"][1]
            print(f"\nbar fitted with the rules: {bar} (in the code: SUPPORT_BAR = {SUPPORT_BAR})")
            misses = []
            for name, part in (("Fit half", fit), ("Report half", report), ("Held-out set", heldout)):
                misses += [(f"{name}, unsupported still passing", [it for it in part if not it["supported"]
                                                                   and it["after"] >= bar]),
                           (f"{name}, true sentences failing", [it for it in part if it["supported"]
                                                                and it["after"] < bar])]
            for title, group in misses:
                print(f"\n{title}:")
                for it in group:
                    print(f"  {it['after']:.3f} [{it['kind']}] {it['sentence']}  (nearest: {it['best_span'][:80]})")
            write_json("support_check", {"set": str(SET.relative_to(ROOT)), "max_false": MAX_FALSE,
                                         "rows": rows, "by_kind_report": kinds, "verbatim": plain,
                                         "items": [{**it, "half": "fit" if it in fit else "report"}
                                                   for it in items] + [{**it, "half": "held-out set"}
                                                                       for it in heldout]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
