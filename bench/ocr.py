"""OCR accuracy and speed on pages rendered from real text with real fonts (JSON to bench/results/ocr.json).

Pages: the first characters of English demo documents (DejaVu Sans) and of the Chinese articles (the demo's
zh/ folder and ../shared/data/seeds-zh when there; Noto Sans CJK SC), drawn at 11 pt on A4 at 300 dpi like
a scanner's page. Fonts come from Debian's fonts-dejavu-core and fonts-noto-cjk (`make fonts`).

- resolution: each clean page saved as an image-only PDF and read through ocr.pdf_pages with the PDF
  rendered at 150, 200 and 300 dpi: character error rate (CER) and seconds per page at each;
- clean vs degraded: the same pages rotated by ±3°, with noise and saved as JPEG quality 40, read as image
  files through ocr.load_image: CER per language (goals: clean ≤ 3% en, ≤ 5% zh; degraded ≤ 8% / 12%);
- the line confidences of real text, on which MIN_CONFIDENCE was set;
- speed: seconds per page p50 / p95 and pages per second on this machine's cores.

CER = Levenshtein distance / length of the truth, after NFKC and with whitespace collapsed (English) or
removed (Chinese): line breaks and paragraph joins are not counted as errors.

- retrieval (--retrieval): the demo library with every prose document (English and Chinese) replaced by
  an image-only PDF of its text, ingested through OCR, against the library as text: recall@5 of
  bench/questions.jsonl and questions_zh.jsonl (goal: scans reach 0.95x of text), the OCR pages, the ingest
  time and the longest wait between two progress events.

    python bench/ocr.py [--pages 3] [--dpis 150,200,300]
    python bench/ocr.py --retrieval
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from common import ROOT, percentile, print_table, write_json

sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

from engine import cpus  # noqa: E402
from engine.documents.ingest import ocr  # noqa: E402
from engine.documents.ingest.text import decode  # noqa: E402

FONTS = {"en": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
         "zh": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")}
EN_DOCS = sorted(p.relative_to(ROOT / "demo" / "docs").as_posix() for p in (ROOT / "demo" / "docs").rglob("*")
                 if p.suffix in (".md", ".txt") and "zh" not in p.parts and not p.stem.endswith("-fr"))
DPI = 300
CHARS = {"en": 1800, "zh": 650}


def english_texts(n: int) -> list[str]:
    """Gives n pages of English text: the demo documents one after another, cut into pages of CHARS."""
    parts = []
    for name in EN_DOCS:
        text = (ROOT / "demo" / "docs" / name).read_text()
        parts.append(" ".join(line.lstrip("#-*> ").replace("**", "").replace("`", "") for line in text.splitlines()))
    stream = " ".join(" ".join(parts).split())
    size = CHARS["en"]
    return [stream[i * size:(i + 1) * size] for i in range(n)]


def chinese_texts(n: int) -> list[str]:
    """Gives n pages of Chinese text: the seed articles (when there) and the demo's zh/ documents."""
    files = sorted((ROOT / "demo" / "docs" / "zh").glob("*.[mt][dx]*"))
    seeds = ROOT.parent.parent / "shared" / "data" / "seeds-zh"  # /work/shared beside /work/<checkout>
    seeds = seeds if seeds.exists() else ROOT.parent / "shared" / "data" / "seeds-zh"
    if seeds.exists():
        files = sorted(seeds.glob("*.txt")) + files
    stream = ""
    for path in files:
        text = decode(path.read_bytes(), str(path))
        stream += "".join(line.lstrip("#-*> ").replace("**", "") for line in text.splitlines())
    stream = "".join(stream.split())
    size = CHARS["zh"]
    return [stream[i * size:(i + 1) * size] for i in range(n)]


def _layout(lang: str):
    width, height, margin = round(8.27 * DPI), round(11.69 * DPI), DPI
    font = ImageFont.truetype(str(FONTS[lang]), round(11 * DPI / 72))
    return width, height, margin, font


def _wrap(text: str, lang: str) -> list[str]:
    """Gives the text's lines as they fit the page's width in 11 pt type."""
    width, _, margin, font = _layout(lang)
    draw = ImageDraw.Draw(Image.new("L", (8, 8), 255))
    units = text.split(" ") if lang == "en" else list(text)
    sep = " " if lang == "en" else ""
    lines, line = [], ""
    for unit in units:
        trial = line + sep + unit if line else unit
        if draw.textlength(trial, font=font) > width - 2 * margin:
            lines.append(line)
            line = unit
        else:
            line = trial
    lines.append(line)
    return lines


def _draw(lines: list[str], lang: str) -> Image.Image:
    width, height, margin, font = _layout(lang)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    step = round(font.size * 1.45)
    for i, ln in enumerate(lines):
        draw.text((margin, margin + i * step), ln, font=font, fill=0)
    return image


def _lines_per_page(lang: str) -> int:
    _, height, margin, font = _layout(lang)
    return (height - 2 * margin) // round(font.size * 1.45)


def render(text: str, lang: str) -> tuple[Image.Image, str]:
    """Gives an A4 page at 300 dpi with the text wrapped in 11 pt type, and the text as drawn."""
    lines = _wrap(text, lang)[: _lines_per_page(lang)]
    return _draw(lines, lang), (" " if lang == "en" else "").join(lines)


def render_document(paragraphs: list[str], lang: str) -> list[Image.Image]:
    """Gives every page of a document's paragraphs (a blank line between them), as a scanner would."""
    lines = []
    for paragraph in paragraphs:
        lines += _wrap(" ".join(paragraph.split()) if lang == "en" else "".join(paragraph.split()), lang) + [""]
    per_page = _lines_per_page(lang)
    return [_draw(lines[i:i + per_page], lang) for i in range(0, max(len(lines), 1), per_page)]


def degrade(image: Image.Image, seed: int) -> bytes:
    """Gives the page as a bad scan: rotated ±3°, grey noise, a little blur, JPEG quality 40."""
    import numpy as np

    rng = random.Random(seed)
    angle = rng.choice([-1, 1]) * rng.uniform(1.5, 3.0)
    turned = image.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    pixels = np.asarray(turned, dtype=np.float32)
    noisy = pixels + np.random.default_rng(seed).normal(0, 18, pixels.shape)
    out = Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=40)
    return buffer.getvalue()


def norm(text: str, lang: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()) if lang == "en" else "".join(text.split())


def distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(read: str, truth: str, lang: str) -> float:
    truth, read = norm(truth, lang), norm(read, lang)
    return distance(read, truth) / max(1, len(truth))


BAD_INPUTS = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from engine.documents.ingest import load
from engine.errors import QuarryError
out = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    t0 = time.perf_counter()
    try:
        load(path, None)
        said = "ingested"
    except QuarryError as exc:
        said = str(exc).split(": ", 1)[-1]
    out[path.name] = {"seconds": round(time.perf_counter() - t0, 2), "result": said[:160],
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
print(json.dumps(out))
"""


def bad_inputs(folder: Path) -> dict:
    """Gives, per bad input of issue 26, its one-line result, seconds and the process's peak memory so far
    (one fresh process reads them all in name order, the OCR engine loaded by the first that needs it)."""
    import subprocess

    import numpy as np

    from tests.engine.test_ocr import png_header_only

    folder.mkdir()
    (folder / "a-empty.png").write_bytes(b"")
    png_header_only(folder / "b-bomb-30000.png", 30_000, 30_000)
    text, _ = render(english_texts(1)[0], "en")
    text.save(folder / "c-page.png")
    (folder / "d-cut.png").write_bytes((folder / "c-page.png").read_bytes()[:50_000])
    text.save(folder / "e-page.jpg", quality=80)
    (folder / "f-cut.jpg").write_bytes((folder / "e-page.jpg").read_bytes()[:30_000])
    Image.fromarray(np.asarray(text, dtype=np.uint16) * 257).save(folder / "g-16bit.tif")
    text.save(folder / "h-animated.tiff", save_all=True, append_images=[text.rotate(180)])
    Image.new("L", (2480, 3508), 255).save(folder / "i-no-text.png")
    blank = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi, as a scanner's blank page
    blank.save(folder / "j-2000-blank-pages.pdf", save_all=True, append_images=[blank] * 1999, resolution=150)
    run = subprocess.run([sys.executable, "-c", BAD_INPUTS, str(folder)], capture_output=True, text=True,
                         cwd=ROOT, timeout=1800)
    if run.returncode:
        return {"error": run.stderr[-2000:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


PROSE = {".md", ".txt", ".html", ".docx", ".pdf"}


def scanned_library(target: Path) -> dict[str, str]:
    """Copies demo/docs to target with every prose document (en and zh) replaced by an image-only PDF of
    its text, rendered page by page; gives scanned name -> original name. Tables stay as they are."""
    from engine.documents.ingest.loaders import LOADERS
    from engine.documents.ingest.text import has_cjk

    source = ROOT / "demo" / "docs"
    names = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(source).as_posix()
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() not in PROSE:
            out.write_bytes(path.read_bytes())
            names[rel] = rel
            continue
        blocks, heading = [], None
        for block in LOADERS[path.suffix.lower()](path).blocks:  # headings are printed on the page too
            if block.heading and block.heading != heading:
                blocks.append(block.heading)
                heading = block.heading
            if block.text.strip():
                blocks.append(block.text)
        lang = "zh" if has_cjk("".join(blocks)) else "en"
        scanned = out.with_name(out.name + ".scan.pdf")
        pages = render_document(blocks, lang)
        pages[0].save(scanned, resolution=DPI, save_all=True, append_images=pages[1:])
        names[scanned.relative_to(target).as_posix()] = rel
    return names


def retrieval(tmp: Path) -> dict:
    """recall@5 of bench/questions*.jsonl over the demo library as text and as scans (goal: scans reach
    0.95x of text), with the scanned library's ingest time, OCR pages and the longest wait for progress."""
    from engine.documents.evaluate import first_rank, read_questions
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace

    questions = [q for name in ("questions.jsonl", "questions_zh.jsonl")
                 for q in read_questions(ROOT / "bench" / name)
                 if q.expected_file and (ROOT / "demo" / "docs" / q.expected_file).exists()]  # the demo's own
    names = scanned_library(tmp / "scanned")
    scanned_pages = 0
    for name in names:
        if name.endswith(".scan.pdf"):
            import pypdfium2

            scanned_pages += len(pypdfium2.PdfDocument(str(tmp / "scanned" / name)))
    libraries = {"text": ROOT / "demo" / "docs", "scanned": tmp / "scanned"}
    out, missed = {}, []
    for side, folder in libraries.items():
        started = time.perf_counter()
        last, gaps = started, []
        with Workspace(tmp / f"ws-{side}") as ws:
            for event in ingest_paths(ws, [folder]):
                now = time.perf_counter()
                if event.path.endswith(".scan.pdf"):  # waits while a scan is read (tables take their own)
                    gaps.append(now - last)
                last = now
            seconds = time.perf_counter() - started
            searcher = ws.searcher()
            ranks = {"en": [], "zh": []}
            for q in questions:
                hits = searcher.search(q.question, 50, "hybrid").hits
                paths = list(dict.fromkeys(h.path.removesuffix(".scan.pdf") for h in hits))
                rank = first_rank(paths, q.expected_file)
                ranks[q.lang.split("-")[0]].append(rank)
                if side == "scanned" and not (rank and rank <= 5):
                    missed.append({"question": q.question, "expected": q.expected_file, "rank": rank,
                                   "top": [Path(p).name for p in paths[:3]]})
        out[side] = {"ingest_s": round(seconds, 1), "ocr_pages": scanned_pages if side == "scanned" else 0,
                     "longest_wait_while_scanning_s": round(max(gaps, default=0.0), 1),
                     **{f"recall@5 {lang}": round(sum(1 for r in v if r and r <= 5) / len(v), 4)
                        for lang, v in ranks.items()}, "questions": {k: len(v) for k, v in ranks.items()}}
        print(f"{side}: {out[side]}", file=sys.stderr)
    out["scanned_misses"] = missed
    out["ocr_s_per_page"] = round((out["scanned"]["ingest_s"] - out["text"]["ingest_s"]) / scanned_pages, 2)
    out["scanned/text"] = {lang: round(out["scanned"][f"recall@5 {lang}"] / out["text"][f"recall@5 {lang}"], 3)
                           for lang in ("en", "zh")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3, help="pages per language")
    parser.add_argument("--dpis", default="150,200,300", help="PDF render resolutions to compare")
    parser.add_argument("--bad-inputs", action="store_true", help="only the bad inputs: results, time, memory")
    parser.add_argument("--name", default="ocr", help="results file name (bench/results/NAME.json)")
    parser.add_argument("--retrieval", action="store_true",
                        help="only recall@5 over the demo library as text vs as scans (ocr_retrieval.json)")
    args = parser.parse_args()
    if args.retrieval:
        with tempfile.TemporaryDirectory() as tmp:
            found = retrieval(Path(tmp))
        rows = [{"library": side, **{k: v for k, v in found[side].items() if k != "questions"}}
                for side in ("text", "scanned")]
        print_table("recall@5 over the demo library: text vs scanned (image-only PDFs read by OCR)", rows,
                    list(rows[0]))
        print(f"\nscanned/text recall@5: {found['scanned/text']} (goal >= 0.95); about {found['ocr_s_per_page']} s "
              f"per OCR page (the ingest time difference over the pages); load {os.getloadavg()[0]:.1f}")
        write_json("ocr_retrieval", {"load_average": round(os.getloadavg()[0], 2), **found})
        return
    if args.bad_inputs:
        with tempfile.TemporaryDirectory() as tmp:
            found = bad_inputs(Path(tmp) / "bad")
        print_table("bad inputs (one process, in this order)", [{"file": k, **v} for k, v in found.items()],
                    ["file", "seconds", "peak_rss_mb", "result"])
        write_json("ocr_bad_inputs", {"bad_inputs": found})
        return
    missing = [str(f) for f in FONTS.values() if not f.exists()]
    if missing:
        sys.exit(f"fonts missing: {', '.join(missing)}; run make fonts")
    dpis = [int(d) for d in args.dpis.split(",")]
    started = time.perf_counter()
    ocr._recogniser()
    load_s = time.perf_counter() - started
    pages = [("en", *render(t, "en")) for t in english_texts(args.pages)]
    pages += [("zh", *render(t, "zh")) for t in chinese_texts(args.pages)]
    rows, confidences, clean_seconds = [], {"kept_real": [], "all": []}, []
    default_dpi = ocr.RENDER_DPI
    with tempfile.TemporaryDirectory() as tmp:
        for n, (lang, image, truth) in enumerate(pages):
            pdf = Path(tmp) / f"page{n}.pdf"
            image.save(pdf, resolution=DPI)
            for dpi in dpis:
                ocr.RENDER_DPI = dpi
                t0 = time.perf_counter()
                scan = ocr.pdf_pages(pdf, [1])
                seconds = time.perf_counter() - t0
                read = "\n".join(scan.pages[0].paragraphs) if scan.pages else ""
                rows.append({"lang": lang, "page": n, "kind": f"clean pdf {dpi} dpi", "dpi": dpi,
                             "chars": len(norm(truth, lang)), "cer": cer(read, truth, lang), "seconds": seconds})
                if dpi == default_dpi:
                    clean_seconds.append(seconds)
                    for line in scan.pages[0].lines:
                        confidences["all"].append(line.confidence)
            ocr.RENDER_DPI = default_dpi
            bad = Path(tmp) / f"page{n}.jpg"
            bad.write_bytes(degrade(image, n))
            t0 = time.perf_counter()
            try:
                read = "\n".join(b.text for b in ocr.load_image(bad).blocks)
            except Exception as exc:  # a page read as no text counts as all wrong, and says why
                print(f"page {n} degraded: {exc}", file=sys.stderr)
                read = ""
            rows.append({"lang": lang, "page": n, "kind": "degraded jpeg 300 dpi", "dpi": DPI,
                         "chars": len(norm(truth, lang)), "cer": cer(read, truth, lang),
                         "seconds": time.perf_counter() - t0})
            print(f"page {n} ({lang}) done", file=sys.stderr)

    summary = {}
    for kind in sorted({r["kind"] for r in rows}):
        for lang in ("en", "zh"):
            picked = [r for r in rows if r["kind"] == kind and r["lang"] == lang]
            if picked:
                errors = sum(r["cer"] * r["chars"] for r in picked)
                summary[f"{lang} {kind}"] = {
                    "cer": round(errors / sum(r["chars"] for r in picked), 4),
                    "worst_page_cer": round(max(r["cer"] for r in picked), 4),
                    "seconds_p50": round(statistics.median(r["seconds"] for r in picked), 2)}
    all_conf = sorted(confidences["all"])
    result = {
        "machine": {"cpus_usable": cpus.usable(), "providers": ocr.providers()},
        "settings": {"RENDER_DPI": default_dpi, "DET_SIDE": ocr.DET_SIDE, "MAX_SIDE": ocr.MAX_SIDE,
                     "MIN_CONFIDENCE": ocr.MIN_CONFIDENCE},
        "engine_load_s": round(load_s, 2),
        "summary": summary,
        "speed_clean_pages": {"pages": len(clean_seconds), "p50_s": round(statistics.median(clean_seconds), 2),
                              "p95_s": round(percentile(clean_seconds, 95), 2),
                              "pages_per_s": round(len(clean_seconds) / sum(clean_seconds), 3)},
        "line_confidence_clean": {"lines": len(all_conf), "min": round(all_conf[0], 3) if all_conf else None,
                                  "p05": round(percentile(all_conf, 5), 3),
                                  "median": round(percentile(all_conf, 50), 3),
                                  "under_min_confidence": sum(c < ocr.MIN_CONFIDENCE for c in all_conf)},
        "rows": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows],
    }
    print_table("OCR character error rate (CER) by language and page kind",
                [{"what": k, **v} for k, v in summary.items()], ["what", "cer", "worst_page_cer", "seconds_p50"])
    print(f"\nclean pages at {default_dpi} dpi: p50 {result['speed_clean_pages']['p50_s']} s, "
          f"p95 {result['speed_clean_pages']['p95_s']} s, {result['speed_clean_pages']['pages_per_s']} pages/s "
          f"on {cpus.usable()} cores ({ocr.providers()[0]}); line confidence {result['line_confidence_clean']}")
    write_json(args.name, result)


if __name__ == "__main__":
    main()
