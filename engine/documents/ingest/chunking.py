"""Chunking by encoder tokens with overlap, keeping each chunk's page and heading."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.documents.ingest.loaders import Block

CHUNK_TOKENS = 200  # all-MiniLM-L6-v2 reads 256 tokens; leave room for the title line
OVERLAP_TOKENS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])|\n+")
# A "sentence" longer than this is cut (at a space where there is one) before it is tokenized, and
# sentences are tokenized a batch at a time: memory stays bounded on a 10 MB single line.
MAX_SENTENCE_CHARS = 4000
COUNT_BATCH = 64  # 64 sentences of up to 4000 chars: ~250 KB tokenized at once (512 peaked at +180 MB)


@dataclass
class Piece:
    """One chunk before it is stored."""

    text: str
    page: int | None
    heading: str | None
    tokens: int


def sentences(text: str) -> list[str]:
    """Gives the sentences (and lines) of a text; one past MAX_SENTENCE_CHARS comes in pieces."""
    out = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip() if sentence else ""
        start = 0
        while len(sentence) - start > MAX_SENTENCE_CHARS:
            limit = start + MAX_SENTENCE_CHARS
            cut = sentence.rfind(" ", start + MAX_SENTENCE_CHARS // 2, limit)
            cut = cut if cut > 0 else limit
            out.append(sentence[start:cut].strip())
            start = cut
        if sentence[start:].strip():
            out.append(sentence[start:].strip())
    return [s for s in out if s]


def _batched_offsets(count_batch, texts: list[str]):
    """Yields each text's token offsets, tokenizing COUNT_BATCH texts at a time."""
    for start in range(0, len(texts), COUNT_BATCH):
        yield from count_batch(texts[start : start + COUNT_BATCH])


def _split_long(sentence: str, offsets: list[tuple[int, int]], size: int) -> list[tuple[str, int]]:
    parts = []
    for start in range(0, len(offsets), size):
        window = offsets[start : start + size]
        parts.append((sentence[window[0][0] : window[-1][1]], len(window)))
    return parts


def chunk_blocks(blocks: Sequence[Block], count_batch: Callable[[list[str]], list[list[tuple[int, int]]]],
                 size: int = CHUNK_TOKENS, overlap: int = OVERLAP_TOKENS,
                 records: bool = False) -> list[Piece]:
    """Gives chunks of at most `size` tokens; consecutive chunks share about `overlap` tokens.

    `count_batch` gives each text's token offsets (the encoder tokenizer's), so sizes are in the
    encoder's own tokens. Records (table rows) stay one chunk each.
    """
    if records:
        offsets = _batched_offsets(count_batch, [b.text for b in blocks])
        return [Piece(b.text, b.page, b.heading, len(o)) for b, o in zip(blocks, offsets) if b.text]
    pieces: list[Piece] = []
    groups: list[tuple[int | None, str | None, list[str]]] = []
    for block in blocks:
        sents = sentences(block.text)
        if groups and groups[-1][0] == block.page and groups[-1][1] == block.heading:
            groups[-1][2].extend(sents)
        else:
            groups.append((block.page, block.heading, sents))
    flat = [s for _, _, sents in groups for s in sents]
    all_offsets = _batched_offsets(count_batch, flat)
    for page, heading, sents in groups:
        units: list[tuple[str, int]] = []
        for sentence in sents:
            offsets = next(all_offsets)
            if len(offsets) > size:
                units.extend(_split_long(sentence, offsets, size))
            else:
                units.append((sentence, len(offsets)))
        current: list[tuple[str, int]] = []
        total = 0
        for unit in units:
            if current and total + unit[1] > size:
                pieces.append(_piece(current, page, heading))
                kept: list[tuple[str, int]] = []
                carried = 0
                for prev in reversed(current):
                    # the overlap never pushes the next chunk past `size` (a full-size unit follows it)
                    if carried + prev[1] > overlap or carried + prev[1] + unit[1] > size:
                        break
                    kept.insert(0, prev)
                    carried += prev[1]
                current, total = kept, carried
            current.append(unit)
            total += unit[1]
        if current:
            pieces.append(_piece(current, page, heading))
    return pieces


def _piece(units: list[tuple[str, int]], page: int | None, heading: str | None) -> Piece:
    joiner = "" if units and all(_is_cjk_end(u[0]) for u in units[:-1]) else " "
    return Piece(joiner.join(u[0] for u in units), page, heading, sum(u[1] for u in units))


def _is_cjk_end(text: str) -> bool:
    return bool(text) and "\u3000" <= text[-1] <= "\u9fff" or text.endswith(("。", "！", "？", "；"))
