"""TUI responsiveness. Baselines measured in the same run:
- time from process launch to first paint of `quarry` vs a bare Textual app with five tab panes
  (imports included; headless driver), alternating runs;
- key-to-screen latency of typing in the prompt while an answer streams, vs the same keys while idle
  (median, p95 and max: one slow frame is what a typist feels).

Both apps start from compiled bytecode: Quarry's own modules are compiled once before the rounds, as
an installed package's are at install time (with PYTHONDONTWRITEBYTECODE set, as on this machine, an
uncompiled source tree would be compiled again on every launch, a cost no installed app pays).

Usage: python bench/startup.py [--runs 7] [--keys 40] [--tag run1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

from common import ROOT, interleave, p50_p95, print_table, write_json  # noqa: I001
from textual import events

CHILD = r"""
import sys, time
kind, workspace = sys.argv[1], sys.argv[2]
if kind == "quarry":
    from pathlib import Path
    from tui.app import QuarryApp as Base
    make = lambda cls: cls(Path(workspace), warm_models=False)
else:
    from textual.app import App as Base
    from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
    class Base(Base):
        def compose(self):
            yield Header()
            with TabbedContent():
                for name in ("Chat", "Documents", "Classify", "Recommend", "Compare"):
                    with TabPane(name):
                        yield Static(name)
            yield Footer()
    make = lambda cls: cls()

class Timed(Base):
    def on_mount(self):
        self.call_after_refresh(self._painted)
    def _painted(self):
        print(f"PAINT {time.time():.6f}", flush=True)
        self.exit()

make(Timed).run(headless=True)
"""


def first_paint(kind: str, workspace: str) -> float:
    started = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, kind, workspace], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("PAINT"))
    return (float(line.split()[1]) - started) * 1000


async def key_to_screen(app, prompt) -> float:
    """Gives ms from a key reaching the app to the screen refresh that shows it in the prompt."""
    before = len(prompt.text)
    done = asyncio.get_running_loop().create_future()
    t0 = time.perf_counter()
    app.post_message(events.Key("x", "x"))
    while len(prompt.text) == before:
        await asyncio.sleep(0.0005)
    app.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return (await done - t0) * 1000


async def type_keys(app, prompt, count: int) -> list[float]:
    """Types `count` keys 50 ms apart, as a typist does; gives each one's key-to-screen ms."""
    samples = []
    for _ in range(count):
        samples.append(await key_to_screen(app, prompt))
        await asyncio.sleep(0.05)
    return samples


async def key_latency(workspace: str, keys: int) -> dict:
    from pathlib import Path

    from tui.app import QuarryApp

    app = QuarryApp(Path(workspace))
    result = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while app.workspace is None or "·" not in app.sub_title:
            await pilot.pause(0.05)
        from engine.runtime import pool

        pool.get(app.settings.model, slot="chat")
        prompt = app.query_one("#prompt")
        prompt.focus()

        result["idle"] = await type_keys(app, prompt, keys)
        prompt.clear()
        chat = app.query_one("#chat-pane")
        await pilot.press("ctrl+o")  # plain chat: the longest continuous stream
        app.settings.max_tokens = 400
        prompt.insert("Write a very long story about a lighthouse keeper and the sea.")
        done = chat.completed
        await pilot.press("enter")
        while not chat._generating:
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        result["streaming"] = []
        while chat._generating and len(result["streaming"]) < keys * 5:
            result["streaming"] += await type_keys(app, prompt, 1)
        result["streamed_keys"] = len(result["streaming"])
        await pilot.press("escape")
        while chat.completed == done:
            await pilot.pause(0.05)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--tag", default="", help="suffix of the results file (two runs are the goal's measure)")
    args = parser.parse_args()
    import compileall

    for package in ("tui", "engine"):
        compileall.compile_dir(ROOT / package, quiet=1)
    with tempfile.TemporaryDirectory() as workspace:
        from engine import locations
        from engine.documents.ingest import ingest_paths
        from engine.workspace import Workspace

        with Workspace(workspace) as ws:
            list(ingest_paths(ws, [locations.demo_corpus()]))
        # rounds alternate which app starts first; the first round of each warms the file cache
        rounds = interleave({"quarry": lambda: first_paint("quarry", workspace),
                             "bare": lambda: first_paint("bare", workspace)}, args.runs)
        bare, quarry = rounds["bare"]["samples"], rounds["quarry"]["samples"]
        paint = [{"app": "bare Textual (5 tab panes)", **p50_p95(bare), "max_ms": round(max(bare), 1)},
                 {"app": "quarry (demo workspace)", **p50_p95(quarry), "max_ms": round(max(quarry), 1)}]
        spread = rounds["ratio"]
        ratio = spread["median"]
        print_table(f"Process launch to first paint, {args.runs} interleaved rounds (ratio median {ratio:.2f}, "
                    f"min {spread['min']:.2f}, max {spread['max']:.2f})", paint, ["app", "p50_ms", "p95_ms", "max_ms"])
        latency = asyncio.run(key_latency(workspace, args.keys))
        keys = [{"state": state, "keys": len(latency[state]), **p50_p95(latency[state]),
                 "max_ms": round(max(latency[state]), 1)} for state in ("idle", "streaming")]
        print_table("Key to screen refresh in the prompt (key event in, refresh that shows it out)", keys,
                    ["state", "keys", "p50_ms", "p95_ms", "max_ms"])
    load = os.getloadavg()
    print(f"\nload average while it ran (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    write_json("startup" + (f"_{args.tag}" if args.tag else ""), {
                           "load_average": [round(x, 2) for x in load], "first_paint": paint,
                           "first_paint_ratio": round(ratio, 3),
                           "first_paint_ratio_spread": spread, "keys": keys,
                           "streaming_vs_idle_p50": round(keys[1]["p50_ms"] / keys[0]["p50_ms"], 3)})


if __name__ == "__main__":
    main()
