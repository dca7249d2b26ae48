"""OCR of scans: images and image-only PDF pages read by PP-OCRv4 on ONNX Runtime (onnxruntime-gpu)."""

from __future__ import annotations

import importlib.metadata
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.documents.ingest import ingest_paths, ocr
from engine.documents.ingest.ocr import Line, OcrLimits
from engine.errors import IngestError, TooLarge
from engine.workspace import Workspace
from tests.engine.test_imports import modules_after
from tests.scans import ZH_PAGE, ZH_TEXT, mixed_pdf, page, scanned_pdf

PERMIT = ["The zebra parking permit costs 45 dollars per month.", "Permits are renewed every January."]


def test_exactly_one_onnx_runtime_is_installed_and_ocr_runs_on_it():
    runtimes = sorted({d.metadata["Name"].lower() for d in importlib.metadata.distributions()
                       if d.metadata["Name"].lower().startswith("onnxruntime")})
    assert runtimes == ["onnxruntime-gpu"], "rapidocr-onnxruntime must be installed with --no-deps"
    import onnxruntime

    owner = importlib.metadata.packages_distributions()["onnxruntime"]
    assert owner == ["onnxruntime-gpu"]
    assert isinstance(ocr._recogniser().text_rec.session.session, onnxruntime.InferenceSession)
    assert ocr.providers()[0] in ("CPUExecutionProvider", "CUDAExecutionProvider")


def test_search_and_tui_start_do_not_import_the_ocr_engine():
    loaded = modules_after("import tui.app\nimport engine.documents.ingest\nimport engine.documents.search")
    assert not loaded & {"rapidocr_onnxruntime", "cv2", "pypdfium2", "shapely", "pyclipper"}


def line(text, x0, y0, x1, y1, confidence=0.99):
    return Line(text, confidence, (x0, y0, x1, y1))


def test_lines_are_put_in_reading_order_and_joined_into_paragraphs():
    lines = [line("second row right", 500, 62, 800, 92), line("second row left", 40, 60, 400, 90),
             line("First row,", 40, 10, 800, 40), line("graph ends here.", 40, 110, 400, 140),
             line("A new paragraph after a gap.", 40, 220, 800, 250), line("中文第一行", 40, 270, 300, 300),
             line("接着第二行。", 40, 320, 300, 350)]
    assert ocr.paragraphs(lines) == ["First row, second row left second row right graph ends here.",
                                     "A new paragraph after a gap.中文第一行接着第二行。"]
    hyphen = [line("an exam-", 0, 0, 200, 30), line("ple of mending", 0, 40, 300, 70)]
    assert ocr.paragraphs(hyphen) == ["an example of mending"]


@pytest.mark.parametrize("text, usable", [
    ("Quarterly sales rose 12% in the north region.", True), ("第三季度销售额增长百分之十二。", True),
    ("", False), ("  \n ", False), ("\ue000\ue001\ue002\ue003 \ue004\ue005", False),
    ("(cid:12)(cid:33)(cid:7)(cid:88)(cid:3)", False), ("\ufffd\ufffd\ufffd\ufffd ab", False), ("· · • — ·", False)])
def test_a_text_layer_is_used_unless_it_is_empty_or_garbage(text, usable):
    assert ocr.usable_text(text) is usable


def test_english_and_chinese_images_are_read_with_confidence(tmp_path):
    english = tmp_path / "permit.png"
    page(PERMIT).save(english)
    loaded = ocr.load_image(english)
    assert loaded.doctype == "image" and [b.page for b in loaded.blocks] == [1]
    assert "zebra parking permit costs 45 dollars" in loaded.blocks[0].text
    assert loaded.ocr["pages"] == [1] and loaded.ocr["confidence"]["1"] > 0.9
    chinese = ocr.load_image(ZH_PAGE)
    assert "".join(b.text for b in chinese.blocks) == ZH_TEXT


def test_a_16_bit_tiff_and_a_multi_page_tiff_are_read(tmp_path):
    grey = np.asarray(page(PERMIT), dtype=np.uint16) * 257  # full 16-bit range: cutting at 255 would whiten it
    deep = tmp_path / "deep.tif"
    Image.fromarray(grey).save(deep)
    assert Image.open(deep).mode.startswith("I;16")
    assert "zebra parking permit" in ocr.load_image(deep).blocks[0].text
    frames = tmp_path / "fax.tiff"
    first, second = page(["Page one says hello."]), page(["Page two says goodbye."])
    first.save(frames, save_all=True, append_images=[second])
    loaded = ocr.load_image(frames)
    assert [(b.page, b.text) for b in loaded.blocks] == [(1, "Page one says hello."), (2, "Page two says goodbye.")]


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Writes a PNG that claims width x height pixels (a decompression bomb's header; no real pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_limits_refuse_in_one_line_naming_the_setting(tmp_path):
    bomb = r"30000 × 30000 pixels .*max_image_megapixels = 100.*QUARRY_MAX_IMAGE_MEGAPIXELS"
    with pytest.raises(TooLarge, match=bomb):
        ocr.load_image(png_header_only(tmp_path / "bomb.png", 30_000, 30_000))
    frames = tmp_path / "three.tiff"
    page(["one"]).save(frames, save_all=True, append_images=[page(["two"]), page(["three"])])
    with pytest.raises(TooLarge, match="3 frames to OCR, over the limit max_ocr_pages = 2"):
        ocr.load_image(frames, OcrLimits(max_ocr_pages=2))
    slow = tmp_path / "slow.png"
    page(PERMIT).save(slow)
    # a budget of 0 s is spent before the first line is read: the real check, no fake clock
    with pytest.raises(IngestError, match="no text found in the image.*page 1 took over 0 s.*ocr_page_seconds"):
        ocr.load_image(slow, OcrLimits(ocr_page_seconds=0))


def test_a_pdf_of_2000_blank_scanned_pages_is_refused_by_max_ocr_pages(tmp_path):
    blank = Image.new("L", (16, 16), 255)
    path = scanned_pdf(tmp_path / "blank.pdf", [blank] * 2000)
    with pytest.raises(TooLarge, match="2000 scanned pages to OCR, over the limit max_ocr_pages = 500"):
        ocr.pdf_pages(path, list(range(1, 2001)))


@pytest.fixture
def scans(tmp_path) -> Path:
    """A folder of scans: good ones and every bad input of issue 26."""
    folder = tmp_path / "scans"
    folder.mkdir()
    page(PERMIT).save(folder / "permit.png")
    scanned_pdf(folder / "contract.pdf", [page(["Supplier contract, signed in March."]),
                                          page(["The penalty for late delivery is 2 percent per week."])])
    mixed_pdf(folder / "mixed.pdf", "Page one has a real text layer about the walrus budget.",
              page(["Page two is a scan about the narwhal fund."]), tmp_path)
    (folder / "empty.png").write_bytes(b"")
    good = folder / "permit.png"
    (folder / "cut.png").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    page(PERMIT, mode="RGB").save(folder / "whole.jpg", quality=90)
    (folder / "cut.jpg").write_bytes((folder / "whole.jpg").read_bytes()[:2000])
    (folder / "whole.jpg").unlink()
    png_header_only(folder / "bomb.png", 30_000, 30_000)
    Image.new("L", (600, 400), 255).save(folder / "white.webp")
    return folder


def test_scans_ingest_by_page_and_bad_ones_fail_in_one_line(encoder, scans, tmp_path):
    with Workspace(tmp_path / "ws") as ws:
        events = list(ingest_paths(ws, [scans]))
        failed = {Path(e.path).name: e.message for e in events if e.kind == "failed"}
        assert sorted(Path(e.path).name for e in events if e.kind == "ingested") == \
            ["contract.pdf", "mixed.pdf", "permit.png"]
        assert "empty file" in failed["empty.png"]
        assert "not a readable image" in failed["cut.png"] and "not a readable image" in failed["cut.jpg"]
        assert "max_image_megapixels" in failed["bomb.png"]
        assert "no text found in the image" in failed["white.webp"]
        assert all("\n" not in m for m in failed.values())
        pages = [e.message for e in events if e.kind == "reading" and "contract.pdf" in e.path]
        assert pages[-1].startswith("OCR contract.pdf: page 2/2")
        search = ws.searcher()
        late = search.search("penalty for late delivery", 3).hits[0]
        assert late.path.endswith("contract.pdf") and late.page == 2 and late.ocr
        walrus = search.search("walrus budget", 3).hits[0]
        assert walrus.path.endswith("mixed.pdf") and walrus.page == 1 and not walrus.ocr
        narwhal = search.search("narwhal fund", 3).hits[0]
        assert narwhal.path.endswith("mixed.pdf") and narwhal.page == 2 and narwhal.ocr


def test_cancel_stops_between_pages_and_a_resumed_ingest_starts_at_the_next_page(encoder, tmp_path, monkeypatch):
    monkeypatch.setenv("QUARRY_CACHE", str(tmp_path / "cache"))  # where the pages read so far are kept
    folder = tmp_path / "long"
    folder.mkdir()
    scanned_pdf(folder / "long.pdf", [page([f"Page {n} of a long scan."]) for n in range(1, 6)])
    seen: list[str] = []
    with Workspace(tmp_path / "ws") as ws:
        for event in ingest_paths(ws, [folder], cancel=lambda: len(seen) >= 2):
            if event.kind == "reading" and "reading page" not in event.message:  # pages done, not heartbeats
                seen.append(event.message)
        # the check runs before each page; the second page's event may reach us while the third is read
        assert 2 <= len(seen) <= 3 and seen[0].startswith("OCR long.pdf: page 1/5")
        assert ws.store.documents() == []
        resumed = list(ingest_paths(ws, [folder]))
        assert [Path(e.path).name for e in resumed if e.kind == "ingested"] == ["long.pdf"]
        pages = [e.message for e in resumed if e.kind == "reading" and "reading page" not in e.message]
        assert len(pages) == 5 and pages[0] == "OCR long.pdf: page 1/5 (0.0 s)"  # page 1 was not read again
        assert not list((tmp_path / "cache" / "ocr-pages").iterdir())  # the file is read: its pages are let go
        assert "Page 5 of a long scan" in ws.searcher().search("page 5 of a long scan", 1).hits[0].text


def test_a_page_being_read_shows_progress_before_it_is_done(tmp_path, monkeypatch):
    """A scanned page can take seconds on 2 cores: the reader says which page it is on while it reads
    (every HEARTBEAT_S; shortened here so that one real page read spans several)."""
    monkeypatch.setattr(ocr, "HEARTBEAT_S", 0.05)
    scan = tmp_path / "two.pdf"
    scanned_pdf(scan, [page(PERMIT), page(["The second page of the scan."])])
    items = list(ocr.run_watched(lambda: ocr.pdf_pages(scan, [1, 2]), poll=0.01))
    kinds = [type(item).__name__ for item in items]
    assert kinds[-1] == "Scan" and kinds.count("PageDone") == 2
    first_done = kinds.index("PageDone")
    reading = [item for item in items[:first_done] if isinstance(item, ocr.PageReading)]
    assert reading and reading[0].message.startswith("OCR two.pdf: reading page 1/2")
    assert all(r.seconds > 0 for r in reading)


def test_a_scan_read_in_a_parse_worker_still_shows_progress(encoder, tmp_path, monkeypatch):
    """A scanned PDF in a folder goes to the parse pool, whose pages this process does not see: the ingest
    still says it is reading that file every HEARTBEAT_S (shortened here) until the worker is done."""
    from engine.documents.ingest import pipeline

    monkeypatch.setattr(ocr, "HEARTBEAT_S", 0.05)
    folder = tmp_path / "docs"
    folder.mkdir()
    scanned_pdf(folder / "a-scan.pdf", [page(PERMIT), page(["The second page of the scan."])])
    for i in range(pipeline.POOL_MIN_FILES):  # html goes to the pool (small plain text is parsed here)
        (folder / f"note-{i:02d}.html").write_text(f"<h1>Note {i}</h1><p>Note {i} is about topic {i}.</p>")
    with Workspace(tmp_path / "ws") as ws:
        events = list(ingest_paths(ws, [folder]))
    names = [(e.kind, Path(e.path).name, e.message) for e in events]
    done = next(i for i, (kind, name, _) in enumerate(names) if kind == "ingested" and name == "a-scan.pdf")
    still = [m for kind, name, m in names[:done] if kind == "reading" and m.startswith("reading a-scan.pdf (")]
    assert still, names[:done]
