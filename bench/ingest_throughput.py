"""Ingest throughput: the pipeline against the bare encoder on the same chunk texts, interleaved.

Sides (each round runs every side once, the order rotating; median and spread of the paired ratios):
  small-en / small-zh   N small files (1-3 chunks) through `ingest_paths` into a fresh workspace,
                        against `Encoder.encode` over the very chunk texts that ingest stored
  many-vs-one           the English small files against the same text as one file
  big                   a few long files (the Chinese seed articles and the demo's English text, each
                        repeated to ~100 chunks) against the bare encoder
  ray (--ray)           the small-file set through `--ray` on a local Ray with 2 CPUs against the pipeline
Peak RSS: of this process and its parse workers (ru_maxrss), and of each Ray worker (sampled from /proc).

Data: English from demo/docs (markdown and text files, cut into paragraphs); Chinese from
../shared/data/shopping_reviews_zh.csv (public reviews, 1-12 per file) and ../shared/data/seeds-zh.

    .venv/bin/python bench/ingest_throughput.py --files 300 --rounds 5 [--ray]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, interleave, print_table, write_json

SHARED = ROOT.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")


def english_paragraphs() -> list[str]:
    texts = []
    for path in sorted((ROOT / "demo" / "docs").rglob("*")):
        if path.suffix in (".md", ".txt") and "zh" not in path.parts:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            texts += [p.strip() for p in text.split("\n\n") if len(p.strip()) > 80]
    return texts


def chinese_reviews() -> list[str]:
    with (SHARED / "shopping_reviews_zh.csv").open(encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh) if len(row["text"]) > 10]


def small_files(folder: Path, lang: str, count: int, seed: int = 7) -> Path:
    """Writes `count` small files of 1-3 chunks each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pool = english_paragraphs() if lang == "en" else chinese_reviews()
    for i in range(count):
        parts = rng.sample(pool, rng.randint(1, 4) if lang == "en" else rng.randint(1, 12))
        body = "\n\n".join(parts)
        (folder / f"{lang}-{i:05d}.{'md' if lang == 'en' else 'txt'}").write_text(
            (f"# Note {i}\n\n{body}\n" if lang == "en" else f"{body}\n"), encoding="utf-8")
    return folder


def one_file(source: Path, target: Path) -> Path:
    """The same text as the small files, in one file (each file's text a section of it)."""
    target.mkdir(parents=True, exist_ok=True)
    parts = [p.read_text(encoding="utf-8") for p in sorted(source.iterdir())]
    (target / "all.md").write_text("\n\n".join(parts), encoding="utf-8")
    return target


def big_files(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    english = "\n\n".join(english_paragraphs())
    for i, path in enumerate(sorted((SHARED / "seeds-zh").glob("*.txt"))):
        (folder / f"zh-{i}.txt").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for i in range(5):
        (folder / f"en-{i}.md").write_text(f"# Part {i}\n\n{english}", encoding="utf-8")
    return folder


class Runs:
    """Fresh workspaces sharing one loaded encoder (both sides pay no model load)."""

    def __init__(self, base: Path) -> None:
        from engine.runtime.encoder import Encoder, default_variant

        self.base = base
        self.encoder = Encoder("minilm-l6", default_variant("minilm-l6"))
        self.count = 0
        self.texts: dict[str, list[str]] = {}

    def ingest(self, folder: Path, name: str, ray: str | None = None) -> float:
        """Ingests `folder` into a fresh workspace; gives chunks/s (and keeps the chunk texts)."""
        from engine.documents.ingest import IngestSummary, ingest_paths
        from engine.documents.search import searchable_text
        from engine.workspace import Workspace

        self.count += 1
        root = self.base / f"ws-{self.count}"
        with Workspace(root) as ws:
            ws._encoder = self.encoder
            summary = IngestSummary()
            began = time.perf_counter()
            for _ in ingest_paths(ws, [folder], summary=summary, ray=ray):
                pass
            seconds = time.perf_counter() - began
            assert summary.failed == 0, summary.errors[:3]
            if name not in self.texts:
                self.texts[name] = [searchable_text(c.title, c.heading, c.text)
                                    for batch in ws.store.iter_chunks() for c in batch]
        shutil.rmtree(root, ignore_errors=True)
        return summary.chunks_embedded / seconds

    def bare(self, name: str) -> float:
        texts = self.texts[name]
        began = time.perf_counter()
        self.encoder.encode(texts)
        return len(texts) / (time.perf_counter() - began)


class RayMemory:
    """Samples the resident memory of Ray's worker processes while a run goes on."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    if not (proc / "cmdline").read_bytes().startswith(b"ray::"):
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                except OSError:
                    continue


def peak_rss_mb() -> dict:
    return {"self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300, help="small files per language")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ray", action="store_true", help="also --ray on a local Ray (2 CPUs)")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: small,many,big")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    base = Path(tempfile.mkdtemp(prefix="quarry-ingest-bench-"))
    runs = Runs(base)
    results: dict = {"files_per_language": args.files, "rounds": args.rounds,
                     "data": {"en": "demo/docs markdown/text paragraphs, 1-4 per file",
                              "zh": "shared/data/shopping_reviews_zh.csv reviews, 1-12 per file",
                              "big": "shared/data/seeds-zh articles + demo English text x5"}}
    rows = []
    folders = {lang: small_files(base / f"small-{lang}", lang, args.files) for lang in ("en", "zh")}
    if "small" not in skip:
        for lang, folder in folders.items():
            runs.ingest(folder, lang)  # warm: keeps the chunk texts for the bare side
            out = interleave({"pipeline": lambda f=folder, n=lang: runs.ingest(f, n),
                              "bare_encoder": lambda n=lang: runs.bare(n)}, rounds=args.rounds, warmup=0)
            out["chunks"] = len(runs.texts[lang])
            results[f"small_{lang}"] = out
            write_json("ingest_throughput", {**results, "table": rows, "partial": True})
            rows.append({"case": f"small {lang} ({args.files} files, {out['chunks']} chunks)",
                         "pipeline chunks/s": out["pipeline"]["median"],
                         "other chunks/s": out["bare_encoder"]["median"], "other": "bare encoder",
                         "ratio": out["ratio"]["median"], "spread": f"{out['ratio']['min']}-{out['ratio']['max']}"})
    if "many" not in skip:
        single = one_file(folders["en"], base / "one-en")
        out = interleave({"many_files": lambda: runs.ingest(folders["en"], "en"),
                          "one_file": lambda: runs.ingest(single, "one")}, rounds=args.rounds, warmup=0)
        results["many_vs_one"] = out
        write_json("ingest_throughput", {**results, "table": rows, "partial": True})
        rows.append({"case": f"same text: {args.files} files vs 1", "pipeline chunks/s": out["many_files"]["median"],
                     "other chunks/s": out["one_file"]["median"], "other": "one file",
                     "ratio": out["ratio"]["median"], "spread": f"{out['ratio']['min']}-{out['ratio']['max']}"})
    if "big" not in skip:
        big = big_files(base / "big")
        runs.ingest(big, "big")
        out = interleave({"pipeline": lambda: runs.ingest(big, "big"), "bare_encoder": lambda: runs.bare("big")},
                         rounds=args.rounds, warmup=0)
        out["chunks"] = len(runs.texts["big"])
        results["big"] = out
        rows.append({"case": f"big ({out['chunks']} chunks in 10 files)",
                     "pipeline chunks/s": out["pipeline"]["median"],
                     "other chunks/s": out["bare_encoder"]["median"], "other": "bare encoder",
                     "ratio": out["ratio"]["median"], "spread": f"{out['ratio']['min']}-{out['ratio']['max']}"})
    results["peak_rss_local"] = peak_rss_mb()
    if args.ray:
        import ray

        from engine import scale

        mixed = base / "mixed"
        for lang in ("en", "zh"):
            shutil.copytree(folders[lang], mixed / lang)
        began = time.perf_counter()
        scale.start_local(ray, num_cpus=2)
        results["ray_start_s"] = round(time.perf_counter() - began, 2)
        runs.ingest(mixed, "mixed", ray="local")  # warm: Ray's workers start once
        with RayMemory() as memory:
            out = interleave({"ray": lambda: runs.ingest(mixed, "mixed", ray="local"),
                              "pipeline": lambda: runs.ingest(mixed, "mixed")}, rounds=args.rounds, warmup=0)
        out["ray_worker_peak_rss_mb"] = round(memory.peak_mb, 1)
        results["ray_vs_pipeline"] = out
        ray.shutdown()
        rows.append({"case": f"--ray, local 2 CPUs ({2 * args.files} files)", "pipeline chunks/s": out["ray"]["median"],
                     "other chunks/s": out["pipeline"]["median"], "other": "pipeline",
                     "ratio": out["ratio"]["median"], "spread": f"{out['ratio']['min']}-{out['ratio']['max']}"})
    print_table("Ingest throughput (chunks/s, median of interleaved rounds)", rows,
                ["case", "pipeline chunks/s", "other", "other chunks/s", "ratio", "spread"])
    print(f"\npeak RSS: {results['peak_rss_local']}"
          + (f"; Ray worker peak {results['ray_vs_pipeline']['ray_worker_peak_rss_mb']} MB" if args.ray else ""))
    results["table"] = rows
    write_json("ingest_throughput", results)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":  # the parse workers are spawned: they import this file again
    main()
