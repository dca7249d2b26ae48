"""Loaders: one function per file type, each giving blocks of text with their page and heading."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from engine.documents.ingest import ocr
from engine.documents.ingest.text import clean, decode
from engine.errors import IngestError, TooLarge, first_line
from engine.store.documents import TableFile

MB = 1 << 20
BIG_FILE_BYTES = 8 * MB  # a file this big gets a "reading …" line before it is parsed
ARCHIVE_SUFFIXES = {".docx", ".xlsx"}


@dataclass(frozen=True)
class Limits:
    """Ingest limits (from the settings' max_* keys); a file over one is refused before it is parsed."""

    max_file_mb: int = 64
    max_text_mb: int = 32
    max_unpacked_mb: int = 256
    max_unpack_ratio: int = 100
    max_line_mb: int = 1

    @classmethod
    def from_settings(cls, settings=None) -> Limits:
        """Gives the limits of the user's settings (loaded when not given)."""
        if settings is None:
            from engine import settings as user_settings

            settings = user_settings.load()
        return cls(settings.max_file_mb, settings.max_text_mb, settings.max_unpacked_mb,
                   settings.max_unpack_ratio, settings.max_line_mb)

    def refuse(self, path: Path, what: str, key: str, value) -> TooLarge:
        from engine.settings import env_name

        return TooLarge(f"{path}: {what}, over the limit {key} = {value}; raise it in the config file"
                        f" or with {env_name(key)}=N")

    def check(self, path: Path) -> None:
        """Refuses a file over the size limit, or an archive that unpacks too far (a zip bomb)."""
        size = path.stat().st_size
        if size > self.max_file_mb * MB:
            raise self.refuse(path, f"{size / MB:.0f} MB", "max_file_mb", self.max_file_mb)
        if path.suffix.lower() in ARCHIVE_SUFFIXES:
            self.check_archive(path)

    def check_archive(self, path: Path) -> None:
        try:
            with zipfile.ZipFile(path) as zf:
                members = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            kind = "a .docx document" if path.suffix.lower() == ".docx" else "an .xlsx workbook"
            raise IngestError(f"{path}: not {kind} (not a zip archive: {exc})") from None
        total = 0
        for info in members:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MB and ratio > self.max_unpack_ratio:
                raise self.refuse(path, f"'{info.filename}' unpacks {ratio:.0f}× its packed size "
                                        f"({info.file_size / MB:.0f} MB)", "max_unpack_ratio",
                                  self.max_unpack_ratio)
        if total > self.max_unpacked_mb * MB:
            raise self.refuse(path, f"unpacks to {total / MB:.0f} MB", "max_unpacked_mb", self.max_unpacked_mb)

    def check_text(self, path: Path, loaded: Loaded) -> None:
        """Refuses a file whose extracted text is over max_text_mb, or holds a line over max_line_mb."""
        chars = sum(len(b.text) for b in loaded.blocks)
        if chars > self.max_text_mb * MB:
            raise self.refuse(path, f"{chars / MB:.0f} MB of text", "max_text_mb", self.max_text_mb)
        # a 10 MB line embeds for ~25 minutes on 2 cores: refuse it in seconds, before chunking
        limit = self.max_line_mb * MB
        longest = max((_line_over(b.text, limit) for b in loaded.blocks if len(b.text) > limit), default=0)
        if longest:
            raise self.refuse(path, f"a line of {longest / MB:.1f} MB of text (minified data?)", "max_line_mb",
                              self.max_line_mb)


def _line_over(text: str, limit: int) -> int:
    """Gives the length of the first line longer than `limit`, or 0. It steps from the last line break
    within each `limit` characters, so a text of short lines costs len(text) / limit steps, and no list
    of lines is built."""
    start = 0
    while len(text) - start > limit:
        cut = text.rfind("\n", start, start + limit + 1)
        if cut == -1:  # no break within `limit` characters: this line is over it
            end = text.find("\n", start)
            return (len(text) if end == -1 else end) - start
        start = cut + 1
    return 0


@dataclass
class Block:
    """A run of text from one page under one heading."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass
class Loaded:
    """What a loader gives back: the blocks, and for table files the file DuckDB keeps as a table."""

    doctype: str
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    title: str | None = None
    table: TableFile | None = None  # csv/json/parquet: the file DuckDB reads as a table
    warnings: list[str] = field(default_factory=list)
    ocr: dict | None = None  # pages read by OCR and their confidence (ocr.Scan.meta), kept in the document's meta


def load_text(path: Path) -> Loaded:
    return Loaded("txt", [Block(clean(decode(path.read_bytes(), str(path))))])


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def load_markdown(path: Path) -> Loaded:
    text = decode(path.read_bytes(), str(path))
    blocks, heading, buf, title = [], None, [], None
    for line in text.splitlines():
        match = _MD_HEADING.match(line)
        if match:
            if "\n".join(buf).strip():
                blocks.append(Block(clean("\n".join(buf)), None, heading))
            buf = []
            heading = match.group(2).strip()
            title = title or heading
        else:
            buf.append(line)
    if "\n".join(buf).strip():
        blocks.append(Block(clean("\n".join(buf)), None, heading))
    return Loaded("md", blocks, title=title)


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol", "h1", "h2", "h3",
             "h4", "h5", "h6", "title", "pre", "blockquote"}
    SKIP = {"script", "style", "noscript", "template", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.heading: str | None = None
        self.title: str | None = None
        self.buf: list[str] = []
        self.skip = 0
        self.in_heading = False
        self.in_title = False

    def flush(self) -> None:
        text = clean(" ".join(self.buf))
        self.buf = []
        if not text:
            return
        if self.in_heading:
            self.heading = text
            self.title = self.title or text
        elif self.in_title:
            self.title = text
        else:
            self.blocks.append(Block(text, None, self.heading))

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.flush()
            self.in_heading = tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
            self.in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.flush()
            self.in_heading = self.in_title = False

    def handle_data(self, data):
        if not self.skip:
            self.buf.append(data)


def load_html(path: Path) -> Loaded:
    parser = _HTMLText()
    parser.feed(decode(path.read_bytes(), str(path)))
    parser.close()
    parser.flush()
    if not parser.blocks:
        raise IngestError(f"{path}: no text found in the HTML")
    return Loaded("html", parser.blocks, title=parser.title)


def load_pdf(path: Path) -> Loaded:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repair it makes on a damaged file to stderr; the file's one line says enough.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise IngestError(f"{path}: encrypted PDF (password protected); save an unprotected copy")
        blocks, unread = [], []
        for number, page in enumerate(reader.pages, start=1):
            text = clean(page.extract_text() or "")
            if ocr.usable_text(text):
                blocks.append(Block(text, number))
            else:  # no text layer, or garbage (a broken font map): read the page's image instead
                unread.append(number)
        pages = len(reader.pages)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"{path}: not a readable PDF ({first_line(exc, 100)})") from None
    scan = ocr.pdf_pages(path, unread) if unread else ocr.Scan()
    if scan.pages:
        blocks += [Block(text, p.page) for p in scan.pages for text in p.paragraphs]
        blocks.sort(key=lambda b: b.page)  # stable: a page's paragraphs keep their order
    if not blocks:
        read = f"; OCR read none of its {len(scan.pages)} scanned pages" if scan.pages else ""
        raise IngestError(f"{path}: no text found in the PDF{read}{'; ' + scan.warnings[0] if scan.warnings else ''}")
    title = blocks[0].text.split("\n", 1)[0][:120]
    loaded = Loaded("pdf", blocks, pages=pages, title=title, warnings=scan.warnings)
    loaded.ocr = scan.meta() if scan.pages else None
    return loaded


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_styles(zf: zipfile.ZipFile) -> dict[str, str]:
    """Gives style id -> lowercased style name from a .docx's styles.xml."""
    from lxml import etree

    try:
        root = etree.fromstring(zf.read("word/styles.xml"), parser=etree.XMLParser(resolve_entities=False))
    except KeyError:
        return {}
    names = {}
    for style in root.iter(f"{_W}style"):
        name = style.find(f"{_W}name")
        sid = style.get(f"{_W}styleId")
        if sid and name is not None:
            names[sid] = (name.get(f"{_W}val") or "").lower()
    return names


def _docx_text(element) -> str:
    parts = []
    for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == f"{_W}tab" else "\n")
    return "".join(parts)


def _docx_style(paragraph, styles: dict[str, str]) -> str:
    props = paragraph.find(f"{_W}pPr")
    ref = props.find(f"{_W}pStyle") if props is not None else None
    sid = ref.get(f"{_W}val") if ref is not None else None
    return styles.get(sid, (sid or "").lower())


def load_docx(path: Path) -> Loaded:
    """Reads a .docx's body as a stream (paragraphs and tables in document order, bounded memory)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            styles = _docx_styles(zf)
            with zf.open("word/document.xml") as xml:
                blocks, title = _docx_blocks(etree.iterparse(
                    xml, events=("end",), tag=(f"{_W}p", f"{_W}tbl"), resolve_entities=False,
                    huge_tree=False), styles)
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, etree.XMLSyntaxError) as exc:
        raise IngestError(f"{path}: not a valid .docx file ({_short(exc)})") from None
    if not blocks:
        raise IngestError(f"{path}: the document has no text")
    return Loaded("docx", blocks, title=title)


def _docx_blocks(events, styles: dict[str, str]) -> tuple[list[Block], str | None]:
    blocks, heading, title = [], None, None
    for _, element in events:
        inside = any(a.tag == f"{_W}tbl" for a in element.iterancestors())
        if inside:
            continue  # a paragraph or table in a table is read with its outermost table
        if element.tag == f"{_W}p":
            text = clean(_docx_text(element))
            style = _docx_style(element, styles)
            if text and (style.startswith("heading") or style == "title"):
                heading = text
                title = title or text
            elif text:
                blocks.append(Block(text, None, heading))
        else:
            for row in element.iter(f"{_W}tr"):
                cells = [clean(_docx_text(c)) for c in row.iter(f"{_W}tc")]
                if any(cells):
                    blocks.append(Block(" | ".join(cells), None, heading))
        element.clear()
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]
    return blocks, title


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:100]


def load_xlsx(path: Path) -> Loaded:
    import openpyxl

    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise IngestError(f"{path}: not a valid .xlsx workbook ({str(exc)[:100]})") from None
    except Exception as exc:  # openpyxl raises many private error types for a broken package
        raise IngestError(f"{path}: not a valid .xlsx workbook ({type(exc).__name__})") from None
    blocks = []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        names = [str(h) if h is not None else f"column{i + 1}" for i, h in enumerate(header)]
        for values in rows:
            if values is None or all(v is None for v in values):
                continue
            blocks.append(Block(record_text(names, values), None, sheet.title))
    book.close()
    if not blocks:
        raise IngestError(f"{path}: the workbook has no rows")
    return Loaded("xlsx", blocks, pages=len(book.worksheets))


def record_text(columns: list[str], values) -> str:
    """Gives one table row as 'column: value' text, the form records are searched in."""
    # A NUL stands between words (padding, a field separator): a space keeps both words findable.
    pairs = ((c, str(v).replace("\x00", " ")) for c, v in zip(columns, values) if v is not None)
    return "; ".join(f"{c}: {v}" for c, v in pairs if v.strip())


def table_doctype(path: Path) -> str:
    """Gives the table type of a csv, json or parquet file (DuckDB reads it: engine/store/documents.py)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json"
    return "parquet"


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".txt": load_text, ".text": load_text, ".log": load_text,
    ".md": load_markdown, ".markdown": load_markdown,
    ".html": load_html, ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".xlsx": load_xlsx,
    **dict.fromkeys(sorted(ocr.IMAGE_SUFFIXES), ocr.load_image),
}
TABLE_SUFFIXES = {".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet"}
SUPPORTED = set(LOADERS) | TABLE_SUFFIXES
