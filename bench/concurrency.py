"""One workspace, many windows: `quarry search` as a client of a holder vs. alone and cold, and 8 at once.

    python bench/concurrency.py [--workspace DIR] [--rounds 5] [--calls 5]

Each round (the order of the two sides rotates) times `--calls` client searches while the TUI (headless,
in its own process: tests/serve_holder.py) holds the workspace, and as many lone cold searches with no
holder; then 8 searches started at once, with and without a holder (all must exit 0 with the same hits).
Every time is end to end: a fresh `python -m tui` process, as a shell runs it. Writes
bench/results/concurrency.json. The goals (issue 25): client p50 <= 150 ms, alone cold p50 <= 500 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, interleave, p50_p95, write_json

QUERY = "return window for opened electronics"


def search(ws: Path) -> tuple[float, int, list]:
    t0 = time.perf_counter()
    ran = subprocess.run([sys.executable, "-m", "tui", "search", QUERY, "-w", str(ws), "--json", "--k", "5"],
                         cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    ms = (time.perf_counter() - t0) * 1000
    hits = [h["chunk_id"] for h in json.loads(ran.stdout)["hits"]] if ran.returncode == 0 else ran.stderr
    return ms, ran.returncode, hits


def at_once(ws: Path, n: int = 8) -> dict:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        runs = list(pool.map(lambda _: search(ws), range(n)))
    return {"wall_ms": round((time.perf_counter() - t0) * 1000, 1), "exit_codes": [r[1] for r in runs],
            "per_call": p50_p95([r[0] for r in runs]), "hits": [r[2] for r in runs]}


STAGES = r"""
import sys, time, json
t0 = time.perf_counter(); marks = {}
def mark(name):
    global t0
    now = time.perf_counter(); marks[name] = round((now - t0) * 1000, 1); t0 = now
import click; mark("import click")
import tui.cli; mark("import the CLI's commands")
import numpy; mark("import numpy")
import duckdb; mark("import duckdb")
from engine.workspace import Workspace; mark("import engine (store, jobs)")
ws = Workspace(sys.argv[1]); mark("open DuckDB + migrations")
import faiss, tantivy; mark("import faiss, tantivy")
from engine.documents.search import Filters; mark("import search")
s = ws.searcher(); mark("load FAISS + tantivy indexes")
import onnxruntime; mark("import onnxruntime")
ws.encoder(); mark("encoder session (kept optimized graph)")
s.search(sys.argv[2], 5, "hybrid", Filters(None, None, None)); mark("the search itself")
print(json.dumps(marks))
"""


def stages(ws: Path, runs: int = 5) -> dict:
    """Gives the median milliseconds of each stage of a cold lone search, over fresh processes."""
    per: dict[str, list[float]] = {}
    for _ in range(runs):
        ran = subprocess.run([sys.executable, "-c", STAGES, str(ws), QUERY], cwd=ROOT, capture_output=True,
                             text=True, check=True, env=dict(os.environ))
        for name, ms in json.loads(ran.stdout.strip().splitlines()[-1]).items():
            per.setdefault(name, []).append(ms)
    return {name: round(statistics.median(v), 1) for name, v in per.items()}


def build(folder: Path) -> Path:
    ws = folder / "ws"
    subprocess.run([sys.executable, "-m", "tui", "ingest", str(ROOT / "demo" / "docs"), "-w", str(ws), "--json"],
                   cwd=ROOT, check=True, capture_output=True, env=dict(os.environ))
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="an existing workspace (default: demo/docs ingested)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.serve_holder import tui_holder

    tmp = Path(tempfile.mkdtemp(prefix="quarry-bench-conc-"))
    os.environ.setdefault("QUARRY_CONFIG", str(tmp / "config.toml"))
    ws = args.workspace.resolve() if args.workspace else build(tmp)
    expected = search(ws)[2]  # also warms the OS cache and the kept ONNX graph
    samples: dict[str, list[float]] = {"client": [], "alone": []}
    wrong: list = []

    def calls(side: str) -> float:
        times = []
        for _ in range(args.calls):
            ms, code, hits = search(ws)
            if code or hits != expected:
                wrong.append((side, code, hits))
            times.append(ms)
        samples[side] += times
        return statistics.median(times)

    def client() -> float:
        with tui_holder(ws):
            search(ws)  # the holder's first search loads the encoder and indexes: not what a client waits for
            return calls("client")

    result = interleave({"client": client, "alone": lambda: calls("alone")}, rounds=args.rounds, warmup=0,
                        baseline="alone")
    eight_alone = at_once(ws)
    with tui_holder(ws):
        search(ws)
        eight_held = at_once(ws)
    for name, run in (("8 at once, no holder", eight_alone), ("8 at once, TUI holds", eight_held)):
        ok = run["exit_codes"] == [0] * 8 and all(h == expected for h in run["hits"])
        print(f"{name}: all exit 0 with the same hits: {ok}; wall {run['wall_ms']:.0f} ms, per call {run['per_call']}")
        run["all_ok"] = ok
        del run["hits"]
    cold_stages = stages(ws)
    print("a cold lone search, median ms per stage:")
    for name, ms in cold_stages.items():
        print(f"  {name:42} {ms:8.1f}")
    client_p = p50_p95(samples["client"])
    alone_p = p50_p95(samples["alone"])
    print(f"client with a holder: {client_p}  (goal p50 <= 150 ms)")
    print(f"alone and cold:       {alone_p}  (goal p50 <= 500 ms)")
    print(f"client/alone per round: {result['ratio']}")
    print(f"wrong answers: {len(wrong)}")
    load = os.getloadavg()
    write_json("concurrency", {"query": QUERY, "calls_per_round": args.calls, "rounds": args.rounds,
                               "load_average": [round(v, 2) for v in load], "client": client_p, "alone_cold": alone_p,
                               "interleaved": result,
                               "cold_search_stages_ms": cold_stages, "eight_at_once_no_holder": eight_alone,
                               "eight_at_once_tui_holds": eight_held, "wrong": wrong[:5]})


if __name__ == "__main__":
    main()
