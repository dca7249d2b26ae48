"""A file DuckDB can read: DuckDB reads CSV in UTF-8 only (GB18030 and Big5 need an extension it would
download), so a CSV in another encoding is read from a UTF-8 copy in this process's temporary folder."""

from __future__ import annotations

import atexit
import codecs
import hashlib
import shutil
import tempfile
from pathlib import Path

from engine.errors import IngestError

SAMPLE_BYTES = 1 << 18
CHUNK = 1 << 20
# Chinese encodings are tried strictly before a general guess: on a few short Chinese rows the guesser
# names a Korean code page (质量很好 in GBK read as cp949), and a strict decode that holds Chinese
# characters is not an accident. Big5 bytes often decode as GB18030 too, but into characters outside
# GB2312 (its trail bytes 0x40-0x7E are not GB2312's), while simplified Chinese text is almost all in it.
IN_GB2312 = 0.95
_folder: Path | None = None


def utf8_path(path: Path) -> tuple[Path, str | None]:
    """Gives (a path holding the file's text in UTF-8, the encoding it was in; None when already UTF-8)."""
    if _is_utf8(path):
        return path, None
    encoding = _guess(path)
    copy = _temp_folder() / f"{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]}{path.suffix}"
    with path.open(encoding=encoding, errors="replace", newline="") as src, \
            copy.open("w", encoding="utf-8", newline="") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    return copy, encoding


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _guess(path: Path) -> str:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if b"\x00" in sample:
        raise IngestError(f"{path}: binary content, or UTF-16 text: save it as a UTF-8 CSV")
    hanzi = {encoding: _hanzi(sample, encoding) for encoding in ("gb18030", "big5")}
    if hanzi["gb18030"] and _share_in_gb2312(hanzi["gb18030"]) >= IN_GB2312:
        return "gb18030"
    for encoding in ("big5", "gb18030"):
        if hanzi[encoding]:
            return encoding
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise IngestError(f"{path}: not UTF-8, and its text encoding could not be told; save it as a UTF-8 CSV")
    return best.encoding


def _hanzi(sample: bytes, encoding: str) -> list[str]:
    """Gives the Chinese characters of a strict decode of the sample (none when it does not decode)."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample)  # a cut last character waits
    except UnicodeDecodeError:
        return []
    return [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]


def _share_in_gb2312(chars: list[str]) -> float:
    def common(ch: str) -> bool:
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            return False
        return True

    return sum(common(ch) for ch in chars) / len(chars)


def _temp_folder() -> Path:
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="quarry-utf8-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder
