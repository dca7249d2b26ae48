"""Held-out English answers: 20 questions over the demo documents written on 2026-12-03 after every answer
constant was fitted (bench/questions/en_heldout.jsonl), asked in the default mode (quoted for English with
SmolLM2) and written: contains-the-answer, citation precision (cited passages from the expected file),
refusals. Nothing is fitted on them; they are the out-of-sample check of bench/answer_modes.py's choice.

    python bench/answers_heldout.py      # writes bench/results/answer_modes_heldout.json
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import locations
from engine.documents.evaluate import contains, read_questions
from engine.documents.ingest import ingest_paths
from engine.documents.rag import Ask
from engine.runtime.generation import GenerationParams
from engine.workspace import Workspace


def main():
    qs = read_questions(Path(__file__).parent / "questions" / "en_heldout.jsonl")
    tmp = Path(tempfile.mkdtemp())
    out = {}
    with Workspace(tmp / "ws") as ws:
        list(ingest_paths(ws, [locations.demo_corpus()]))
        for mode, extractive in (("quoted (default)", None), ("written", False)):
            rows = []
            for q in qs:
                a = Ask(ws, q.question, extractive=extractive).run(GenerationParams(max_tokens=96, temperature=0))
                cited = [c.path for c in a.citations]
                rows.append({"q": q.question, "contains": bool(contains(a.text, q.answer)), "refused": a.refused,
                             "extractive": a.extractive,
                             "precision": sum(p.endswith(q.expected_file) for p in cited) / len(cited)
                             if cited else None})
            prec = [r["precision"] for r in rows if r["precision"] is not None]
            out[mode] = {"n": len(rows), "contains": round(sum(r["contains"] for r in rows) / len(rows), 3),
                         "citation_precision": round(sum(prec) / len(prec), 3) if prec else None,
                         "refused": sum(r["refused"] for r in rows), "quoted": sum(r["extractive"] for r in rows),
                         "misses": [r["q"] for r in rows if not r["contains"]]}
            print(mode, {k: v for k, v in out[mode].items()})
    (Path(__file__).parent / "results" / "answer_modes_heldout.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
