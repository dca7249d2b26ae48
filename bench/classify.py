"""Classify bench: texts/s per method, ONNX vs sentence-transformers on torch for the embedding path, the LLM
with its cached prefix vs without, batch throughput vs the bare encoder, and accuracy / macro-F1 per method
and auto on the shared Chinese categories and English banking intents at 10, 50 and all examples per label.

Speed comparisons alternate the two sides over rounds and report the median ratio and its spread. Quality
is out of sample: each set is split in half, stratified; methods fit on one half and are scored on the other.

Usage: python bench/classify.py [--rounds 5] [--batch-rows 20000] [--skip-quality]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, print_table, write_json

sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
TABLES = ROOT / "demo" / "docs" / "tables"


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def speed(ws, rounds: int, batch_rows: int) -> dict:
    import numpy as np

    from engine.classify import batch, heads, sets
    from engine.classify.vectors import Embedder

    reviews = [r["text"] for r in _csv(TABLES / "reviews.csv")]
    texts = (reviews * 10)[:2000]
    found = sets.get(ws, "reviews")
    rows = []
    for name in ("zero-shot", "embedding", "lexical", "stack"):
        head = heads.trained(ws, "reviews", name)
        sample = texts if name == "lexical" else texts[:512]
        rates = []
        for _ in range(rounds if name == "lexical" else 2):
            heads.embedder(ws)._memo.clear()
            started = time.perf_counter()
            head.method.predict(sample * (5 if name == "lexical" else 1))
            rates.append(len(sample) * (5 if name == "lexical" else 1) / (time.perf_counter() - started))
        rows.append({"method": name, "texts": len(sample) * (5 if name == "lexical" else 1),
                     "texts_per_s": round(statistics.median(rates), 1)})
    credit = sets.get(ws, "credit")
    records = [r for _, r, _ in ws.store.examples(credit.id)][:2000]
    head = heads.trained(ws, "credit", "tabular")
    started = time.perf_counter()
    head.method.scores(records)
    rows.append({"method": "tabular (scores)", "texts": len(records),
                 "texts_per_s": round(len(records) / (time.perf_counter() - started), 1)})
    started = time.perf_counter()
    head.method.predict(records[:500])
    rows.append({"method": "tabular (+ reasons)", "texts": 500,
                 "texts_per_s": round(500 / (time.perf_counter() - started), 1)})

    # LLM: the same texts with the instruction prefix cached vs decoded for every text, alternating.
    llm = heads.trained(ws, "reviews", "llm", _chat_model()).method
    llm.warm()
    short = [t[:120] for t in reviews[:24]]
    cached_rates, fresh_rates, ratios = [], [], []
    for _ in range(rounds):
        llm.use_cache = True
        llm.warm()
        started = time.perf_counter()
        llm.scores(short)
        cached = len(short) / (time.perf_counter() - started)
        llm.use_cache = False
        started = time.perf_counter()
        llm.scores(short)
        fresh = len(short) / (time.perf_counter() - started)
        cached_rates.append(cached)
        fresh_rates.append(fresh)
        ratios.append(cached / fresh)
    llm.use_cache = True
    rows.append({"method": "llm (cached prefix)", "texts": len(short),
                 "texts_per_s": round(statistics.median(cached_rates), 1)})
    rows.append({"method": "llm (no cache)", "texts": len(short),
                 "texts_per_s": round(statistics.median(fresh_rates), 1)})
    llm_cache = {"prefix_tokens": llm.prefix_tokens, "speedup": _spread(ratios), "texts": len(short)}

    # ONNX Runtime vs sentence-transformers on torch, same texts, alternating.
    encoder = ws.encoder()
    sample = texts[:512]
    onnx_rates, torch_rates, enc_ratios = [], [], []
    st = _sentence_transformer()
    if st is not None:
        st.encode(sample[:32])
    for _ in range(rounds if st is not None else 0):
        started = time.perf_counter()
        ours = encoder.encode(sample, batch_size=32)
        onnx = len(sample) / (time.perf_counter() - started)
        started = time.perf_counter()
        ref = st.encode(sample, batch_size=32, normalize_embeddings=True)
        torch_rate = len(sample) / (time.perf_counter() - started)
        onnx_rates.append(onnx)
        torch_rates.append(torch_rate)
        enc_ratios.append(onnx / torch_rate)
    encoders = {}
    if enc_ratios:
        encoders = {"onnx_texts_per_s": round(statistics.median(onnx_rates), 1),
                    "torch_texts_per_s": round(statistics.median(torch_rates), 1),
                    "onnx_over_torch": _spread(enc_ratios),
                    "min_cosine": round(float(np.min((ours * ref).sum(1))), 4)}

    # Batch with the embedding head vs the bare encoder over the same rows, alternating.
    big = (reviews * (batch_rows // len(reviews) + 1))[:batch_rows]
    big = [f"{t} #{i}" for i, t in enumerate(big)]  # distinct texts: no vector is reused
    path = Path(tempfile.mkdtemp()) / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows(enumerate(big))
    heads.trained(ws, "reviews", "embedding")
    bare_rates, batch_rates, batch_ratios = [], [], []
    for _ in range(max(2, rounds // 2)):
        fresh_embedder = Embedder(encoder)
        started = time.perf_counter()
        fresh_embedder(big)
        bare = len(big) / (time.perf_counter() - started)
        heads.embedder(ws)._memo.clear()
        started = time.perf_counter()
        batch.wait(batch.run(ws, "reviews", "text", file=path, method="embedding", output="c_bench"))
        whole = len(big) / (time.perf_counter() - started)
        bare_rates.append(bare)
        batch_rates.append(whole)
        batch_ratios.append(whole / bare)
    batch_result = {"rows": len(big), "bare_encoder_rows_per_s": round(statistics.median(bare_rates), 1),
                    "batch_rows_per_s": round(statistics.median(batch_rates), 1),
                    "batch_over_bare": _spread(batch_ratios)}
    print_table("texts/s per method (demo reviews, 2 shared cores)", rows, ["method", "texts", "texts_per_s"])
    print(f"\nLLM cached prefix ({llm.prefix_tokens} tokens) over no cache: {llm_cache['speedup']}")
    if encoders:
        print(f"ONNX {encoders['onnx_texts_per_s']} texts/s vs torch {encoders['torch_texts_per_s']}: "
              f"{encoders['onnx_over_torch']} (min cosine {encoders['min_cosine']})")
    print(f"batch over {len(big):,} rows: {batch_result['batch_rows_per_s']} rows/s vs bare encoder "
          f"{batch_result['bare_encoder_rows_per_s']}: ratio {batch_result['batch_over_bare']}")
    del found
    return {"methods": rows, "llm_cache": llm_cache, "encoders": encoders, "batch": batch_result}


def _chat_model() -> str:
    from engine import settings

    return settings.load().model


def _sentence_transformer():
    try:
        from sentence_transformers import SentenceTransformer

        from engine.models import catalog

        source = catalog.get("minilm-l6").folder / "source"
        return SentenceTransformer(str(source), device="cpu", local_files_only=True)
    except Exception as exc:  # torch is an export-time extra; say so and go on
        print(f"sentence-transformers unavailable ({type(exc).__name__}: {exc}); skipping the torch comparison")
        return None


def quality(ws, name: str, rows: list[dict], text_col: str, label_col: str, llm_test: int) -> list[dict]:
    from engine.classify import evaluate
    from engine.classify.base import Examples

    labels = sorted({r[label_col] for r in rows})
    data = Examples(labels, [r[label_col] for r in rows], texts=[r[text_col] for r in rows])
    train, test = evaluate.split(data, 0.5, seed=1)
    out = []
    for k in (10, 50, None):
        subset = train if k is None else evaluate.per_label_subset(train, k)
        methods = ["zero-shot", "embedding", "lexical", "stack", "auto"]
        if k == 10 and llm_test:
            methods.append("llm")
        small_test = evaluate.per_label_subset(test, max(1, llm_test // len(labels)))
        report = evaluate.evaluate(ws, subset, test, [m for m in methods if m != "llm"], name, curve=(),
                                   store=False)
        if "llm" in methods:
            llm_report = evaluate.evaluate(ws, subset, small_test, ["llm"], name, _chat_model(), curve=(),
                                           store=False)
            report.methods += llm_report.methods
        for m in report.methods:
            out.append({"set": name, "per_label": k or "all", "n_train": len(subset), "method": m.method,
                        "chosen": m.chosen, "accuracy": round(m.accuracy, 3), "macro_f1": round(m.macro_f1, 3),
                        "cv": [round(v, 3) for v in m.cv] if m.cv else None, "n_test": m.n_test,
                        "texts_per_s": round(m.texts_per_s, 1)})
        print_table(f"{name} @ {k or 'all'} per label ({len(subset)} train, {len(test)} test)",
                    out[-len(report.methods):], ["method", "chosen", "accuracy", "macro_f1", "cv", "n_test"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--llm-test", type=int, default=90, help="test texts for the LLM method per set")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    from engine.classify import sets
    from engine.workspace import Workspace

    result: dict = {"rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp, Workspace(Path(tmp)) as ws:
        sets.import_examples(ws, "reviews", "sentiment", file=TABLES / "reviews.csv", text_column="text")
        credit = ROOT / "demo" / "classify" / "credit-applications.csv"
        sets.import_examples(ws, "credit", "outcome", file=credit, features=["*"])
        if not args.skip_speed:
            result["speed"] = speed(ws, args.rounds, args.batch_rows)
        if not args.skip_quality:
            if not DATA.exists():
                print(f"{DATA} not found: quality on the shared sets skipped")
            else:
                zh = _csv(DATA / "shopping_reviews_zh.csv")
                en = _csv(DATA / "banking_intents_en.csv")
                result["quality"] = (quality(ws, "zh-categories", zh, "text", "category", args.llm_test)
                                     + quality(ws, "en-banking", en, "text", "intent", args.llm_test))
    write_json("classify", result)


if __name__ == "__main__":
    main()
