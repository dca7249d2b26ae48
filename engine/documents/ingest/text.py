"""Turning raw bytes into clean text: encoding detection, whitespace cleanup, language guess."""

from __future__ import annotations

import re
import unicodedata

from engine.errors import IngestError

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
# Full-width punctuation (not letters or digits, which NFKC still folds to ASCII so they can be found).
_FULLWIDTH_PUNCT = re.compile(r"([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+)")
DETECT_BYTES = 1 << 18


def decode(data: bytes, name: str) -> str:
    """Gives the text of a file's bytes in whatever encoding it has (UTF-8, GBK, Big5, Latin-1...)."""
    if not data.strip():
        raise IngestError(f"{name}: empty file, nothing to ingest")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    sample = data[:65536]
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        raise IngestError(f"{name}: binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Detection reads a sample (it is slow and memory-hungry on whole big files); the file is then
    # decoded with what it found.
    best = from_bytes(data[:DETECT_BYTES]).best()
    if best is None:
        raise IngestError(f"{name}: binary content or unknown text encoding")
    try:
        text = data.decode(best.encoding, errors="replace")
    except LookupError:
        text = str(best)
    controls = sum(1 for ch in text[:4096] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > 8:
        raise IngestError(f"{name}: binary content, not text")
    return text


def _nfkc_keeping_punctuation(text: str) -> str:
    """NFKC, except full-width punctuation (，！？：；（） …), which Chinese text keeps as written."""
    parts = _FULLWIDTH_PUNCT.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def clean(text: str) -> str:
    """Gives text with normalised Unicode (full-width punctuation kept), collapsed spaces and at most
    one blank line in a row."""
    text = _nfkc_keeping_punctuation(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def cjk_ratio(text: str) -> float:
    """Gives the share of non-space characters that are Chinese ideographs."""
    letters = [ch for ch in text if not ch.isspace()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _CJK.match(ch)) / len(letters)


def language(text: str) -> str:
    """Gives 'zh' for mostly Chinese text and 'en' otherwise (the two languages Quarry tunes for)."""
    return "zh" if cjk_ratio(text) > 0.15 else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
