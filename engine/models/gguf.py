"""Checks a GGUF file's structure without loading it: header, metadata, tensor table, and that the file
holds every tensor's bytes (a truncated download is refused before it is registered as ready)."""

from __future__ import annotations

import struct
from pathlib import Path

from engine.errors import ModelCorrupt

# ggml tensor types: (elements per block, bytes per block), from ggml's type traits.
GGML_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
}
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
MAX_ITEMS = 1 << 28  # a count past this is a corrupt header, not a real model


class _Reader:
    def __init__(self, fh, path: Path) -> None:
        self.fh = fh
        self.path = path

    def take(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise ModelCorrupt(f"{self.path}: the GGUF file ends inside its header (truncated);"
                               " download it again")
        return data

    def scalar(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def count(self) -> int:
        n = self.scalar("Q")
        if n > MAX_ITEMS:
            raise ModelCorrupt(f"{self.path}: the GGUF header is corrupt (a count of {n}); download it again")
        return n

    def string(self) -> str:
        return self.take(self.count()).decode("utf-8", "replace")

    def skip_string(self) -> None:
        n = self.count()
        self.fh.seek(n, 1)

    def value(self, kind: int):
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == 8:
            return self.string()
        if kind == 9:
            inner, n = self.scalar("I"), self.count()
            if inner in _SCALARS:
                self.fh.seek(n * struct.calcsize(_SCALARS[inner]), 1)
            elif inner == 8:
                for _ in range(n):
                    self.skip_string()
            else:
                for _ in range(n):
                    self.value(inner)
            return None
        raise ModelCorrupt(f"{self.path}: the GGUF header is corrupt (value type {kind}); download it again")


def check_complete(path: Path) -> None:
    """Raises ModelCorrupt naming the file unless it is a whole GGUF (v2 or v3) file."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        r = _Reader(fh, path)
        if r.take(4) != b"GGUF":
            raise ModelCorrupt(f"{path}: not a GGUF file (no GGUF header)")
        version = r.scalar("I")
        if version not in (2, 3):
            raise ModelCorrupt(f"{path}: GGUF version {version} is not supported (2 or 3 are)")
        tensors, kvs = r.count(), r.count()
        alignment = 32
        for _ in range(kvs):
            key, kind = r.string(), r.scalar("I")
            value = r.value(kind)
            if key == "general.alignment" and isinstance(value, int) and value > 0:
                alignment = value
        end = 0
        for _ in range(tensors):
            r.skip_string()
            dims = [r.scalar("Q") for _ in range(r.scalar("I"))]
            kind, offset = r.scalar("I"), r.scalar("Q")
            elements = 1
            for d in dims:
                elements *= d
            block, nbytes = GGML_TYPES.get(kind, (1, 0))
            end = max(end, offset + elements // block * nbytes)
        start = -(-fh.tell() // alignment) * alignment
    if start + end > size:
        raise ModelCorrupt(f"{path}: the GGUF file is truncated ({size:,} bytes of the {start + end:,} its"
                           " tensors need); download it again")
