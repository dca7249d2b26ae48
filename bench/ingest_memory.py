"""Peak memory and time of ingesting hostile files (issue 13): a DOCX whose XML unzips to 150 MB, a
100 MB text file and a 10 MB single line, each through `quarry ingest` in its own process.

Each must stay under 500 MB or be refused by a limit in seconds. The second part raises the limits and
parses the same files with the loaders alone (no encoding), to show the parse itself is bounded.

    .venv/bin/python bench/ingest_memory.py            # writes bench/results/ingest_memory.json

Many small files (issue 24: peak RSS of an ingest of 100k small files < 1.5 GB): `--many 2000,10000,...`
ingests that many one-paragraph files (distinct, cut from the English demo documents) in one `quarry
ingest` each and samples the RSS of the whole process tree (the ingest and its parse workers) every 0.2 s:
a pipeline that holds a queue, not a list of every parsed file, stays flat as the count grows.

    .venv/bin/python bench/ingest_memory.py --many 2000,10000   # writes bench/results/ingest_memory_many.json
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_DOCX = REPO / "demo" / "docs" / "policies" / "travel-policy.docx"
MB = 1 << 20


def docx_bomb(path: Path, xml_mb: int = 150) -> None:
    """A real .docx whose word/document.xml is `xml_mb` MB of paragraphs (compresses ~1000×)."""
    head = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            b'wordprocessingml/2006/main"><w:body>')
    para = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    source = zipfile.ZipFile(DEMO_DOCX)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, source.read(info))
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = para * 1000
            for _ in range(xml_mb * MB // len(block)):
                fh.write(block)
            fh.write(b"</w:body></w:document>")


def big_text(path: Path, mb: int = 100) -> None:
    line = "".join(f"Sentence {i} of the long report talks about invoices and pallets. " for i in range(40))
    with path.open("w") as fh:
        while fh.tell() < mb * MB:
            fh.write(line + "\n")


def single_line(path: Path, mb: int = 10) -> None:
    with path.open("w") as fh:
        i = 0
        while fh.tell() < mb * MB:
            fh.write(" ".join(f"word{j}" for j in range(i, i + 1000)) + " ")
            i += 1000


def peak_rss_child(cmd: list[str], env: dict) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stdout.close()
    proc.stderr.close()
    return {"exit": os.waitstatus_to_exitcode(status), "seconds": round(seconds, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "stderr_tail": err.strip().splitlines()[-2:]}


def tree_rss_mb(pid: int) -> float:
    """Gives the summed RSS of a process and its descendants (from /proc), in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total / MB


def many_files(folder: Path, n: int) -> Path:
    """Writes n distinct one-paragraph files cut from the English demo documents, 1,000 per folder."""
    paragraphs = [p.strip() for path in sorted((REPO / "demo" / "docs").rglob("*.[mt][dx]*"))
                  if "zh" not in path.parts for p in path.read_text(errors="replace").split("\n\n")
                  if len(p.split()) >= 8 and not p.lstrip().startswith(("#", "|", "<"))]
    for i in range(n):
        sub = folder / f"part-{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note-{i:06d}.md").write_text(f"{paragraphs[i % len(paragraphs)]} (note {i})\n")
    return folder


def _sample_peak(proc: subprocess.Popen, peak: list[float]) -> None:
    while proc.poll() is None:
        peak[0] = max(peak[0], tree_rss_mb(proc.pid))
        time.sleep(0.2)


def ingest_many(counts: list[int]) -> dict:
    import threading

    python = str(REPO / ".venv" / "bin" / "python")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, QUARRY_CONFIG=str(tmp / "config.toml"))
        for n in counts:
            folder = many_files(tmp / f"files-{n}", n)
            started = time.perf_counter()
            proc = subprocess.Popen([python, "-m", "tui", "ingest", str(folder), "-w", str(tmp / f"ws-{n}"), "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
            peak = [0.0]
            sampler = threading.Thread(target=_sample_peak, args=(proc, peak))
            sampler.start()
            out, _ = proc.communicate()
            sampler.join()
            summary = json.loads(out) if proc.returncode == 0 else {}
            seconds = time.perf_counter() - started
            results[str(n)] = {"exit": proc.returncode, "seconds": round(seconds, 1),
                               "files_per_s": round(n / seconds, 1), "peak_tree_rss_mb": round(peak[0], 1),
                               "ingested": summary.get("ingested"), "failed": summary.get("failed")}
            print(n, results[str(n)], file=sys.stderr)
            shutil.rmtree(folder)
    return results


PARSE_ONLY = """
import sys
from pathlib import Path
from engine.documents.ingest import load
from engine.documents.ingest.chunking import chunk_blocks
from engine.documents.ingest.loaders import Limits
from engine.store import Store
from engine.runtime.encoder import Encoder
path = Path(sys.argv[1])
store = Store(Path(sys.argv[2]) / "quarry.duckdb")
limits = Limits(max_file_mb=100000, max_text_mb=100000, max_unpacked_mb=100000, max_unpack_ratio=100000,
                max_line_mb=100000)
loaded, records = load(path, store, limits)
chars = sum(len(b.text) for b in loaded.blocks)
print(f"{len(loaded.blocks)} blocks, {chars / 2**20:.0f} MB of text", file=sys.stderr)
if len(sys.argv) > 3:
    pieces = chunk_blocks(loaded.blocks, Encoder().token_offsets, records=records)
    print(f"{len(pieces)} chunks", file=sys.stderr)
"""


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--many":
        found = ingest_many([int(n) for n in sys.argv[2].split(",")])
        out = REPO / "bench" / "results" / "ingest_memory_many.json"
        out.write_text(json.dumps({"load_average": round(os.getloadavg()[0], 2), "runs": found}, indent=2) + "\n")
        print(f"wrote {out}")
        return
    python = str(REPO / ".venv" / "bin" / "python")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {"docx_bomb_150mb_xml": tmp / "bomb.docx", "text_100mb": tmp / "big.txt",
                 "single_line_10mb": tmp / "line.txt"}
        docx_bomb(files["docx_bomb_150mb_xml"])
        big_text(files["text_100mb"])
        single_line(files["single_line_10mb"])
        env = dict(os.environ, QUARRY_CONFIG=str(tmp / "config.toml"))
        for name, path in files.items():
            ws = tmp / f"ws-{name}"
            run = peak_rss_child([python, "-m", "tui", "ingest", str(path), "-w", str(ws)], env)
            run["file_mb"] = round(path.stat().st_size / MB, 1)
            results[f"ingest_default_limits/{name}"] = run
            print(name, run, file=sys.stderr)
        for name, path in files.items():
            ws = tmp / f"parse-{name}"
            ws.mkdir()
            args = [python, "-c", PARSE_ONLY, str(path), str(ws)]
            if name != "text_100mb":
                args.append("chunk")
            run = peak_rss_child(args, env)
            results[f"parse_limits_raised/{name}"] = run
            print(name, "(limits raised)", run, file=sys.stderr)
    out = REPO / "bench" / "results" / "ingest_memory.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
