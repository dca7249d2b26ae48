"""Batch classification: in-process against `--ray` on a local Ray with 2 CPUs, interleaved.

Each round runs both sides once (the order rotating): the same N public Chinese reviews
(../shared/data/shopping_reviews_zh.csv, every text different) labelled by a batch job into a table, the
head trained once on other reviews of the file and reused by both sides. Rows/s is N over the job's wall
time; on Ray that includes starting the actor pool and loading the encoder in it (a cost every batch
pays), not starting Ray itself (once, before the rounds). The in-process encoder's memo of vectors is
cleared before each of its runs, so that no side reuses the vectors of an earlier round.
Peak RSS: of this process (ru_maxrss) and of each Ray worker (sampled from /proc).

    .venv/bin/python bench/classify_batch_ray.py --rows 3000 --rounds 5 [--method embedding]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from pathlib import Path

from common import ROOT, interleave, print_table, write_json
from ingest_throughput import RayMemory, peak_rss_mb

SHARED = ROOT.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
TRAIN = 300  # reviews that train the head; the batch labels the ones after them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--method", default="embedding", choices=["embedding", "lexical", "stack", "zero-shot"])
    args = parser.parse_args()

    import ray

    from engine import scale
    from engine.classify import batch, heads, sets
    from engine.workspace import Workspace

    reviews = list(csv.DictReader((SHARED / "shopping_reviews_zh.csv").open(encoding="utf-8")))
    texts = [r["text"] for r in reviews[TRAIN:TRAIN + args.rows]]
    base = Path(tempfile.mkdtemp(prefix="quarry-classify-ray-bench-"))
    examples, rows_file = base / "examples.csv", base / "rows.csv"
    with examples.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, ["text", "sentiment"], extrasaction="ignore")
        out.writeheader()
        out.writerows(reviews[:TRAIN])
    with rows_file.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "text"])
        out.writerows(enumerate(texts))
    ws = Workspace(base / "ws")
    sets.import_examples(ws, "reviews", "sentiment", file=examples, text_column="text")
    heads.trained(ws, "reviews", args.method)  # trained once, outside the timing, for both sides

    def here() -> float:
        heads.embedder(ws).forget(texts)
        began = time.perf_counter()
        batch.wait(batch.run(ws, "reviews", "text", file=rows_file, method=args.method, output="c_here"))
        return len(texts) / (time.perf_counter() - began)

    def on_ray() -> float:
        began = time.perf_counter()
        batch.wait(batch.run(ws, "reviews", "text", file=rows_file, method=args.method, output="c_ray",
                             ray="local"))
        return len(texts) / (time.perf_counter() - began)

    began = time.perf_counter()
    scale.start_local(ray, num_cpus=2)
    ray_start = round(time.perf_counter() - began, 2)
    try:
        on_ray()  # warm: Ray's worker processes start once
        with RayMemory() as memory:
            result = interleave({"ray": on_ray, "in_process": here}, rounds=args.rounds, warmup=0)
    finally:
        ray.shutdown()
    same = ws.store.db.execute("SELECT count(*) FROM c_here h JOIN c_ray r USING (row_id)"
                               " WHERE h.label IS NOT DISTINCT FROM r.label").fetchone()[0]
    ws.close()
    shutil.rmtree(base, ignore_errors=True)
    results = {"rows": len(texts), "method": args.method, "rounds": args.rounds, "ray_start_s": ray_start,
               "data": "shared/data/shopping_reviews_zh.csv: 300 reviews train the head, the next N are labelled",
               "same_label_rows": same, "ray_vs_in_process": result, "peak_rss_local": peak_rss_mb(),
               "ray_worker_peak_rss_mb": round(memory.peak_mb, 1)}
    ratio = result["ratio"]
    rows = [{"case": f"{args.method}, {len(texts)} rows", "--ray rows/s": result["ray"]["median"],
             "in-process rows/s": result["in_process"]["median"], "ratio": ratio["median"],
             "spread": f"{ratio['min']}-{ratio['max']}"}]
    print_table("Batch classify rows/s, --ray (local, 2 CPUs) against in-process (median of interleaved rounds)",
                rows, ["case", "--ray rows/s", "in-process rows/s", "ratio", "spread"])
    print(f"\nsame label on {same} of {len(texts)} rows; peak RSS: {results['peak_rss_local']};"
          f" Ray worker peak {results['ray_worker_peak_rss_mb']} MB; Ray start {ray_start} s")
    results["table"] = rows
    write_json(f"classify_batch_ray_{args.method}", results)


if __name__ == "__main__":
    main()
