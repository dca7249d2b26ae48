"""Loaders: one function per file type, each giving blocks of text with their page and heading."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from engine.errors import IngestError
from engine.ingest.text import clean, decode


@dataclass
class Block:
    """A run of text from one page under one heading."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass
class Loaded:
    """What a loader gives back: the blocks, and for tables the SQL that reads them into DuckDB."""

    doctype: str
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    title: str | None = None
    table_sql: str | None = None  # a DuckDB relation over the file, for csv/json/parquet
    table_params: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise IngestError(f"{path}: encrypted PDF (password protected); save an unprotected copy")
        blocks = []
        for number, page in enumerate(reader.pages, start=1):
            text = clean(page.extract_text() or "")
            if text:
                blocks.append(Block(text, number))
        pages = len(reader.pages)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"{path}: not a readable PDF ({str(exc).splitlines()[0][:100]})") from None
    if not blocks:
        raise IngestError(f"{path}: the PDF has no extractable text (scanned images need OCR)")
    title = blocks[0].text.split("\n", 1)[0][:120]
    return Loaded("pdf", blocks, pages=pages, title=title)


def load_docx(path: Path) -> Loaded:
    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(f"{path}: not a valid .docx file ({exc})") from None
    blocks, heading, title = [], None, None
    for para in document.paragraphs:
        text = clean(para.text)
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading") or style == "title":
            heading = text
            title = title or text
        else:
            blocks.append(Block(text, None, heading))
    for table in document.tables:
        for row in table.rows:
            cells = [clean(c.text) for c in row.cells]
            if any(cells):
                blocks.append(Block(" | ".join(cells), None, heading))
    if not blocks:
        raise IngestError(f"{path}: the document has no text")
    return Loaded("docx", blocks, title=title)


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
    return "; ".join(f"{c}: {v}" for c, v in zip(columns, values) if v is not None and str(v) != "")


def table_relation(path: Path) -> tuple[str, str]:
    """Gives (doctype, DuckDB SQL reading the file) for csv, json and parquet; the path is parameter 1."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv", "SELECT * FROM read_csv(?, header = true, sample_size = -1)"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json", "SELECT * FROM read_json_auto(?)"
    return "parquet", "SELECT * FROM read_parquet(?)"


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".txt": load_text, ".text": load_text, ".log": load_text,
    ".md": load_markdown, ".markdown": load_markdown,
    ".html": load_html, ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".xlsx": load_xlsx,
}
TABLE_SUFFIXES = {".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet"}
SUPPORTED = set(LOADERS) | TABLE_SUFFIXES
