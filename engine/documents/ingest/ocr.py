"""OCR for scans: image files and PDF pages without a usable text layer, read by PP-OCRv4 on ONNX Runtime.

The models (detection, direction, recognition; Chinese and English) ship inside the
`rapidocr-onnxruntime` wheel, so nothing is downloaded at run time. That wheel declares a dependency on
`onnxruntime`, which would replace our `onnxruntime-gpu` (both install the `onnxruntime` module): it is
installed with `--no-deps` and its real dependencies are listed in pyproject.toml.

Nothing here imports rapidocr, cv2, PIL or pypdfium2 at module level: the loaders import this module, and
the TUI's start and the query path must not pay for them.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.errors import IngestError, TooLarge

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}

# A recognised line under this confidence is left out of the index. Measured (bench/ocr.py, results
# ocr.json): the 118 lines of real text on six clean A4 pages scored 0.95 at least (median 0.99), while the
# garbage the recogniser gave for lines it read upside down scored 0.35-0.48; 0.5 keeps all the former and
# drops the latter (and is the cut PP-OCR's own pipeline uses).
MIN_CONFIDENCE = 0.5
# PDF pages are rendered at this resolution, then scaled to MAX_SIDE (bench/ocr.py, results ocr*.json): on
# A4 pages of the demo texts, English CER 1.7% at 150 dpi, 0.2-0.9% at 200 and 0.0-0.6% at 300 (scaling a
# 300-dpi render down smooths the glyphs better than rendering small); Chinese 0.1-1.8% at every dpi, and
# no measurable difference in time per page (the detector sees at most DET_SIDE pixels either way).
RENDER_DPI = 300
# ... and any page or image is scaled so its longer side is at most this many pixels before detection
# (an A4 page at 200 dpi is 2339 px tall): small print stays readable, huge scans cost no more.
MAX_SIDE = 2400
# Text is found on a copy of the page at most this many pixels on its longer side (bench/ocr.py)
DET_SIDE = 1600
REC_SLICE = 24  # text lines recognised between two checks of the page's time budget


class Cancelled(IngestError):
    """OCR stopped between two pages because the ingest was cancelled. An IngestError so that every
    loader and ingest.load pass it on untouched; the ingest loop stops on it and records nothing."""


@dataclass(frozen=True)
class OcrLimits:
    """OCR limits (the settings' max_image_megapixels, max_ocr_pages, ocr_page_seconds)."""

    max_image_megapixels: int = 100
    max_ocr_pages: int = 500
    ocr_page_seconds: int = 180

    @classmethod
    def from_settings(cls, settings=None) -> OcrLimits:
        """Gives the OCR limits of the user's settings (loaded when not given)."""
        if settings is None:
            from engine import settings as user_settings

            settings = user_settings.load()
        return cls(settings.max_image_megapixels, settings.max_ocr_pages, settings.ocr_page_seconds)

    def refuse(self, path: Path, what: str, key: str) -> TooLarge:
        from engine.settings import env_name

        return TooLarge(f"{path}: {what}, over the limit {key} = {getattr(self, key)}; raise it in the config"
                        f" file or with {env_name(key)}=N")


@dataclass
class Line:
    """One recognised text line: its text, the recogniser's confidence and its box (x0, y0, x1, y1)."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass
class PageText:
    """What OCR read on one page: paragraphs in reading order, and the lines they came from."""

    page: int
    paragraphs: list[str]
    lines: list[Line]  # every line recognised, kept ones and dropped ones, with their confidence
    dropped: int = 0  # lines under MIN_CONFIDENCE, left out of the paragraphs
    seconds: float = 0.0

    @property
    def confidence(self) -> float:
        kept = [ln.confidence for ln in self.lines if ln.confidence >= MIN_CONFIDENCE]
        return sum(kept) / len(kept) if kept else 0.0


@dataclass
class PageDone:
    """Progress: OCR finished one page of a file."""

    path: str
    page: int
    done: int
    total: int
    seconds: float

    @property
    def message(self) -> str:
        return f"OCR {Path(self.path).name}: page {self.done}/{self.total} ({self.seconds:.1f} s)"


@dataclass
class PageReading:
    """Progress while one page is being read: a page can take longer than a user waits for a sign of life
    (seconds on 2 cores), so run_watched repeats it every HEARTBEAT_S until the page is done."""

    path: str
    page: int
    done: int  # the page's place among the pages being read (1-based)
    total: int
    seconds: float = 0.0  # spent on it so far

    @property
    def message(self) -> str:
        return f"OCR {Path(self.path).name}: reading page {self.done}/{self.total} ({self.seconds:.0f} s so far)"


@dataclass
class Still:
    """Progress while a file is read in a parse worker, whose pages this process does not see."""

    path: str
    seconds: float

    @property
    def message(self) -> str:
        return f"reading {Path(self.path).name} ({self.seconds:.0f} s so far)"


HEARTBEAT_S = 2.0  # progress at least this often while a page is read (the goal: a sign every 5 s)


@dataclass
class Watch:
    """Who hears about each OCR'd page, and whether to stop before the next."""

    on_page: Callable[[PageDone], None] | None = None
    cancel: Callable[[], bool] | None = None


_watch: contextvars.ContextVar[Watch | None] = contextvars.ContextVar("ocr_watch", default=None)


@contextlib.contextmanager
def watching(on_page: Callable[[PageDone], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> Iterator[None]:
    """Reports each page OCR'd in this context to on_page, and stops between pages when cancel() says so."""
    token = _watch.set(Watch(on_page, cancel))
    try:
        yield
    finally:
        _watch.reset(token)


def _between_pages(path: Path) -> None:
    watch = _watch.get()
    if watch is not None and watch.cancel is not None and watch.cancel():
        raise Cancelled(f"{path}: OCR cancelled")


def _page_done(event: PageDone) -> None:
    watch = _watch.get()
    if watch is not None and watch.on_page is not None:
        watch.on_page(event)


def run_watched(call: Callable[[], object], cancel: Callable[[], bool] | None = None,
                poll: float = 0.25, waiting: str | None = None) -> Iterator[object]:
    """Runs call() in a thread, yielding a PageDone for each page it OCRs, a PageReading at least every
    HEARTBEAT_S while a page is being read (or, with `waiting`, a file name, a Still for it when call()
    waits on another process), and then call()'s result (or raising its error): a generator (the ingest
    loop) can report progress while a scan is read."""
    import queue

    events: queue.Queue = queue.Queue()
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            with watching(events.put, cancel):
                outcome["value"] = call()
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="ocr", daemon=True)
    thread.start()
    reading: PageReading | None = None
    began = started = said = time.monotonic()
    while True:
        try:
            event = events.get(timeout=poll)
        except queue.Empty:
            now = time.monotonic()
            if now - said >= HEARTBEAT_S and (reading is not None or waiting is not None):
                said = now
                yield replace(reading, seconds=now - started) if reading else Still(waiting, now - began)
            continue
        if event is None:
            break
        if isinstance(event, PageReading):
            reading, started = event, time.monotonic()
            continue
        reading = None
        said = time.monotonic()
        yield event
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    yield outcome["value"]


# -- the recogniser ----------------------------------------------------------------------------------


_lock = threading.Lock()  # one page at a time: ONNX Runtime already spreads one page over every core


@functools.cache
def _recogniser():
    """Gives the PP-OCRv4 engine, loaded once per process (about 1 s), on CUDA when there is a GPU."""
    import logging

    import onnxruntime as ort

    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # installed apart from the rest (it must not pull `onnxruntime`)
        raise OcrMissing(f"the OCR engine is not installed ({exc.name or exc}); run `make setup`, or "
                         f"{INSTALL}") from None

    from engine import cpus
    from engine.runtime.encoder import CUDA, gpu_present

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    logging.getLogger("OrtInferSession").setLevel(logging.ERROR)
    cuda = CUDA in ort.get_available_providers() and gpu_present()
    threads = cpus.usable()
    # det_limit_type "max": the detector only scales down (past 2000 px; we hand it at most DET_SIDE). Its
    # default, "min" 736, scales a 900 x 200 snippet up to 3312 x 736: 5x the time for the same lines.
    return RapidOCR(intra_op_num_threads=threads, det_use_cuda=cuda, cls_use_cuda=cuda, rec_use_cuda=cuda,
                    det_limit_type="max")


def providers() -> list[str]:
    """Gives the ONNX Runtime providers the OCR sessions run on (first: the one that does the work)."""
    return _recogniser().text_rec.session.session.get_providers()


class OcrMissing(IngestError):
    """rapidocr-onnxruntime (or one of its dependencies) is not installed."""


INSTALL = "pip install --no-deps rapidocr-onnxruntime==1.4.4"


class PageTimeout(Exception):
    """A page took longer than its time budget."""


def recognise(image, deadline: float | None = None) -> list[Line]:
    """Gives the text lines in an image (PIL image or RGB array), each with its confidence.

    Text is found on a copy scaled to DET_SIDE and read from crops of the image at up to MAX_SIDE: the
    detector's cost grows with its pixels, the recogniser's does not (each line is scaled to 48 px high).
    Raises PageTimeout when time.monotonic() passes deadline between two slices of lines."""
    import cv2
    import numpy as np

    rgb = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    bgr = _fit(cv2, bgr, MAX_SIDE)
    small = _fit(cv2, bgr, DET_SIDE)
    with _lock:
        engine = _recogniser()
        padded, record = engine.maybe_add_letterbox(small, {})
        found, _ = engine.auto_text_det(padded)
        if not found:
            return []
        top = record["padding_1"]["top"]
        ratio = bgr.shape[0] / small.shape[0]
        boxes = [((box - np.array([0, top], dtype=np.float32)) * ratio).astype(np.float32) for box in found]
        crops = engine.get_crop_img_list(bgr, boxes)
        level = _levelled(boxes, np)
        lines = []
        for start in range(0, len(crops), REC_SLICE):
            if deadline is not None and time.monotonic() > deadline:
                raise PageTimeout
            part = crops[start:start + REC_SLICE]
            texts, _ = engine.text_rec(part, False)
            # PP-OCR's direction model calls many long upright lines upside down (measured: 4 of 13 on a
            # clean page); reading a weak line both ways and keeping the surer reading costs less and is right
            weak = [i for i, (_, score) in enumerate(texts) if score < MIN_CONFIDENCE]
            if weak:
                turned, _ = engine.text_rec([np.ascontiguousarray(np.rot90(part[i], 2)) for i in weak], False)
                for i, reading in zip(weak, turned):
                    if reading[1] > texts[i][1]:
                        texts[i] = reading
            for box, (text, score) in zip(level[start:start + REC_SLICE], texts):
                xs, ys = box[:, 0], box[:, 1]
                lines.append(Line(text.strip(), float(score),
                                  (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))))
    return [ln for ln in lines if ln.text]


def _levelled(boxes: list, np) -> list:
    """Gives the boxes turned by the page's skew (the median slope of its long lines' top edges): a page
    scanned 3° askew has lines whose upright bounds overlap the next line's (a 1,900 px line rises 100 px),
    and rows would be read out of order."""
    slopes = [np.arctan2(b[1][1] - b[0][1], b[1][0] - b[0][0]) for b in boxes
              if np.linalg.norm(b[1] - b[0]) > 3 * np.linalg.norm(b[3] - b[0])]
    if not slopes:
        return boxes
    angle = float(np.median(slopes))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32)
    return [b @ turn for b in boxes]  # each point (x, y) rotated by -angle


def _fit(cv2, image, side: int):
    """Gives the image scaled down so its longer side is at most `side` pixels (never up)."""
    scale = side / max(image.shape[:2])
    if scale >= 1.0:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


# -- lines to paragraphs -------------------------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\uffef"


def _join(left: str, right: str) -> str:
    """Joins two pieces of one paragraph: no space between CJK text, a hyphen at a line end mended."""
    if not left:
        return right
    if _is_cjk(left[-1]) or _is_cjk(right[0]):
        return left + right
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[0].islower():
        return left[:-1] + right
    return left + " " + right


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Groups lines into visual rows (their vertical middles within half a line height), each left to
    right, rows top to bottom: boxes of one printed line that the detector split come back together."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        middle = (line.box[1] + line.box[3]) / 2
        height = line.box[3] - line.box[1]
        if rows:
            last = rows[-1]
            last_mid = sum((ln.box[1] + ln.box[3]) / 2 for ln in last) / len(last)
            if abs(middle - last_mid) < 0.5 * max(height, min(ln.box[3] - ln.box[1] for ln in last)):
                last.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda ln: ln.box[0]) for row in rows]


def paragraphs(lines: list[Line]) -> list[str]:
    """Gives the lines' text as paragraphs in reading order: rows top to bottom, a new paragraph where
    the gap above a row is wider than the page's usual gap between rows by more than 0.6 of a line's
    height (single- and double-spaced pages alike), or where the row starts well right of the last one
    (an indent)."""
    rows = _rows(lines)
    if not rows:
        return []
    heights = sorted(ln.box[3] - ln.box[1] for row in rows for ln in row)
    height = heights[len(heights) // 2]
    tops = [min(ln.box[1] for ln in row) for row in rows]
    bottoms = [max(ln.box[3] for ln in row) for row in rows]
    gaps = sorted(max(0.0, tops[i + 1] - bottoms[i]) for i in range(len(rows) - 1))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    out, current = [], ""
    for i, row in enumerate(rows):
        text = " ".join(ln.text for ln in row)
        if i and current and (tops[i] - bottoms[i - 1] > usual + 0.6 * height
                              or row[0].box[0] - rows[i - 1][0].box[0] > 1.5 * height):
            out.append(current)
            current = ""
        current = _join(current, text)
    if current:
        out.append(current)
    return out


def read_page(image, page: int, deadline: float | None = None) -> PageText:
    """Gives one page's OCR: kept lines joined into paragraphs, low-confidence lines counted as dropped."""
    started = time.perf_counter()
    lines = recognise(image, deadline)
    kept = [ln for ln in lines if ln.confidence >= MIN_CONFIDENCE]
    return PageText(page, paragraphs(kept), lines, len(lines) - len(kept), time.perf_counter() - started)


# -- what a loader gets back ---------------------------------------------------------------------------


@dataclass
class Scan:
    """The pages OCR read from one file, and what it said about them."""

    pages: list[PageText] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def meta(self) -> dict:
        """Gives what a document keeps about its OCR: pages read, mean confidence per page, lines dropped."""
        return {"engine": "PP-OCRv4 (rapidocr-onnxruntime) on ONNX Runtime",
                "pages": [p.page for p in self.pages if p.paragraphs],
                "confidence": {str(p.page): round(p.confidence, 3) for p in self.pages if p.paragraphs},
                "dropped_lines": sum(p.dropped for p in self.pages), "min_confidence": MIN_CONFIDENCE}


def _read_pages(path: Path, numbers: list[int], image_of: Callable[[int], object], limits: OcrLimits) -> Scan:
    """OCRs the given pages (image_of(number) gives each one's image) with progress and a cancel check
    between pages. Each page read is kept in a resume file until the whole file is read, so an ingest
    stopped part-way resumes at the page it stopped on. A page over the time budget is left out with a
    warning naming the limit."""
    scan = Scan()
    resume = _Resume(path)
    done_before = resume.pages()
    for done, number in enumerate(numbers, start=1):
        _between_pages(path)
        started = time.perf_counter()
        if number in done_before:
            scan.pages.append(done_before[number])
        else:
            _page_done(PageReading(str(path), number, done, len(numbers)))
            deadline = time.monotonic() + limits.ocr_page_seconds
            try:
                result = read_page(image_of(number), number, deadline)
            except PageTimeout:
                scan.warnings.append(str(limits.refuse(path, f"OCR of page {number} took over "
                                                             f"{limits.ocr_page_seconds} s; page left out",
                                                       "ocr_page_seconds")))
            else:
                scan.pages.append(result)
                resume.add(result)
        _page_done(PageDone(str(path), number, done, len(numbers), time.perf_counter() - started))
    resume.finish()
    return scan


class _Resume:
    """The pages of one file read so far, as JSON lines in Quarry's cache, keyed by the file's content and
    the OCR settings; removed once the whole file is read."""

    def __init__(self, path: Path) -> None:
        import hashlib

        from engine import locations

        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        digest.update(f"{RENDER_DPI}:{DET_SIDE}:{MAX_SIDE}:{MIN_CONFIDENCE}".encode())
        self.file = locations.wheel_cache() / "ocr-pages" / f"{digest.hexdigest()}.jsonl"

    def pages(self) -> dict[int, PageText]:
        import json

        found: dict[int, PageText] = {}
        try:
            rows = self.file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return found
        for row in rows:
            try:
                data = json.loads(row)
                lines = [Line(t, c, tuple(b)) for t, c, b in data["lines"]]
                found[data["page"]] = PageText(data["page"], data["paragraphs"], lines, data["dropped"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a kill mid-write: that page is read again
        return found

    def add(self, page: PageText) -> None:
        import json

        row = {"page": page.page, "paragraphs": page.paragraphs, "dropped": page.dropped,
               "lines": [[ln.text, ln.confidence, list(ln.box)] for ln in page.lines]}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with self.file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        except OSError:
            pass  # no cache, no resume: the pages are read again next time

    def finish(self) -> None:
        self.file.unlink(missing_ok=True)


# -- image files ---------------------------------------------------------------------------------------


def _eight_bit(frame):
    """Gives a frame as an 8-bit RGB image: 16-bit and float greys are scaled by their range, not cut."""
    import numpy as np
    from PIL import Image

    if frame.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(frame, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        frame = Image.fromarray(scaled.astype(np.uint8), "L")
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba)  # transparent scans read as white paper, not black
    return frame.convert("RGB")


def load_image(path: Path, limits: OcrLimits | None = None):
    """Gives an image file's text by OCR, a page per frame (a multi-page TIFF is a scanned document)."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    from engine.documents.ingest.loaders import Block, Loaded

    limits = limits or OcrLimits.from_settings()
    # Pillow's own bomb check fails open() with a message that names none of our settings; ours, on the
    # size read from the header before any pixel is decoded, replaces it
    Image.MAX_IMAGE_PIXELS = None
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError(f"{path}: not a readable image ({_first(exc)})") from None
    with image:
        frames = getattr(image, "n_frames", 1)
        width, height = image.size
        pixels = width * height
        if pixels > limits.max_image_megapixels * 1_000_000:
            raise limits.refuse(path, f"{width} × {height} pixels ({pixels / 1e6:.0f} megapixels)",
                                "max_image_megapixels")
        if frames > limits.max_ocr_pages:
            raise limits.refuse(path, f"{frames} frames to OCR", "max_ocr_pages")

        def frame(number: int):
            image.seek(number - 1)
            if image.size[0] * image.size[1] > limits.max_image_megapixels * 1_000_000:
                raise limits.refuse(path, f"frame {number} is {image.size[0]} × {image.size[1]} pixels",
                                    "max_image_megapixels")
            try:
                image.load()
                return _eight_bit(image)
            except (OSError, ValueError, SyntaxError) as exc:
                raise IngestError(f"{path}: not a readable image ({_first(exc)}; truncated or damaged?)") \
                    from None

        scan = _read_pages(path, list(range(1, frames + 1)), frame, limits)
    blocks = [Block(text, p.page if frames > 1 else 1) for p in scan.pages for text in p.paragraphs]
    if not blocks:
        raise IngestError(f"{path}: no text found in the image (OCR read none"
                          f"{'; ' + scan.warnings[0] if scan.warnings else ''})")
    loaded = Loaded("image", blocks, pages=frames, title=path.name, warnings=scan.warnings)
    loaded.ocr = scan.meta()
    return loaded


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:100]


# -- PDF pages without a usable text layer ----------------------------------------------------------------

_WORDISH = re.compile(r"[A-Za-z]{2,}|[\u3400-\u9fff\uac00-\ud7af\u3040-\u30ff]|\d+")


def usable_text(text: str) -> bool:
    """Tells whether a page's text layer can be trusted: enough characters, mostly letters, digits, CJK
    and punctuation, not private-use glyphs, replacement marks, '(cid:12)' codes or lone symbols."""
    body = re.sub(r"\s+", "", text)
    if len(body) < 3:
        return False
    if body.count("(cid:") * 6 > len(body) * 0.3:
        return False
    bad = sum(1 for ch in body if unicodedata.category(ch) in ("Co", "Cn", "Cc", "Cs") or ch == "\ufffd")
    if bad > 0.1 * len(body):
        return False
    words = sum(len(m.group()) for m in _WORDISH.finditer(body))
    return words >= 0.5 * len(body)


def pdf_pages(path: Path, numbers: list[int], limits: OcrLimits | None = None) -> Scan:
    """OCRs the given pages (1-based) of a PDF, rendered with pdfium; pages that hold no image are blank
    (nothing to read) and are skipped without OCR."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    limits = limits or OcrLimits.from_settings()
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise IngestError(f"{path}: not a readable PDF for OCR ({_first(exc)})") from None
    try:
        scanned = []
        for number in numbers:
            page = pdf[number - 1]
            try:
                if next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2), None) is not None:
                    scanned.append(number)
            finally:
                page.close()
        if len(scanned) > limits.max_ocr_pages:
            raise limits.refuse(path, f"{len(scanned)} scanned pages to OCR", "max_ocr_pages")

        def render(number: int):
            page = pdf[number - 1]
            try:
                width, height = page.get_size()  # points, 1/72 inch
                scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
                return page.render(scale=scale, may_draw_forms=False).to_pil()
            finally:
                page.close()

        return _read_pages(path, scanned, render, limits)
    finally:
        pdf.close()


SCAN_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}  # files whose loader may OCR (and so report pages as it goes)
