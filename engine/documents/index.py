"""FAISS vector index of a workspace: ids are DuckDB chunk ids; exact when small, IVF when large.

HNSW is not used because it cannot delete vectors, and re-ingesting a changed file deletes its chunks.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXACT_LIMIT = 50_000  # below this an exact scan is fast enough (field notes: ~14 ms at 100k)
NPROBE = 32


@dataclass
class IndexInfo:
    """What `quarry index info` shows about the vector index."""

    kind: str
    vectors: int
    dimension: int
    generation: int
    nlist: int = 0
    nprobe: int = 0


def _faiss():
    import faiss

    from engine import cpus

    # OpenMP would start a thread per CPU the machine has; an OMP_NUM_THREADS the user set still wins
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    faiss.omp_set_num_threads(int(omp) if omp.isdigit() and int(omp) > 0 else cpus.usable())
    return faiss


def nlist_for(n: int) -> int:
    """Gives the IVF list count for n vectors (about 4·sqrt(n), as FAISS's guidelines suggest)."""
    return int(min(65536, max(16, 4 * math.sqrt(n))))


class VectorIndex:
    """Inner-product search over unit vectors keyed by chunk id."""

    def __init__(self, index, dimension: int, kind: str, generation: int = 0, mapped: bool = False) -> None:
        self.index = index
        self.dimension = dimension
        self.kind = kind
        self.generation = generation
        self.mapped = mapped  # its vectors are a read-only view of the file: `writable()` before a change
        self.version = 0  # bumped by every change, so a checkpoint writes the file only when it changed
        self.saved_version: int | None = 0 if mapped else None  # the version the file on disk holds

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        faiss = _faiss()
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension, "flat")

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, dimension: int,
              exact_limit: int | None = None, seed: int = 1234) -> VectorIndex:
        """Gives an index over the vectors: exact below `exact_limit` (EXACT_LIMIT), IVF-Flat above."""
        faiss = _faiss()
        n = len(ids)
        if n < (EXACT_LIMIT if exact_limit is None else exact_limit):
            built = cls.empty(dimension)
            built.add(ids, vectors)
            return built
        nlist = nlist_for(n)
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vectors[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
        ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
        ivf.nprobe = NPROBE
        ivf.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        return cls(ivf, dimension, "ivf")

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids, vectors: np.ndarray) -> None:
        if len(ids):
            self.writable()
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(ids, dtype=np.int64))
            self.version += 1

    def remove(self, ids) -> None:
        if len(ids):
            self.writable()
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))
            self.version += 1

    def writable(self) -> None:
        """Copies a memory-mapped index into memory, once, so it can change (the file stays as it was)."""
        if self.mapped:
            faiss = _faiss()
            nprobe = self.index.nprobe if self.kind == "ivf" else 0
            self.index = faiss.deserialize_index(faiss.serialize_index(self.index))
            if self.kind == "ivf":
                self.index.nprobe = nprobe
            self.mapped = False

    def ids(self) -> np.ndarray:
        """Gives every id in the index (for consistency checks)."""
        faiss = _faiss()
        if self.kind == "flat":
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = self.index.invlists
        out = []
        for lst in range(self.index.nlist):
            size = invlists.list_size(lst)
            if size:
                ptr = invlists.get_ids(lst)
                out.append(faiss.rev_swig_ptr(ptr, size).copy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               nprobe: int | None = None) -> list[tuple[int, float]]:
        """Gives up to k (chunk id, cosine) pairs, best first, optionally only among `allowed` ids."""
        faiss = _faiss()
        if len(self) == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = (faiss.SearchParametersIVF(sel=selector, nprobe=nprobe or NPROBE)
                      if self.kind == "ivf" else faiss.SearchParameters(sel=selector))
        elif self.kind == "ivf" and nprobe:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
        scores, ids = self.index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def info(self) -> IndexInfo:
        nlist = int(self.index.nlist) if self.kind == "ivf" else 0
        nprobe = int(self.index.nprobe) if self.kind == "ivf" else 0
        return IndexInfo(self.kind, len(self), self.dimension, self.generation, nlist, nprobe)

    # -- files --------------------------------------------------------------------------------
    def save(self, folder: Path, generation: int, encoder: str) -> None:
        """Writes the index and a tag with the DuckDB chunk generation it matches; atomic. The index file
        is rewritten only when the vectors changed since it was last written or read."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.saved_version != self.version or not (folder / "vectors.faiss").exists():
            tmp = folder / "vectors.faiss.tmp"
            _faiss().write_index(self.index, str(tmp))
            os.replace(tmp, folder / "vectors.faiss")
        self.generation = generation
        self.saved_version = self.version
        tag = {"generation": generation, "kind": self.kind, "dimension": self.dimension,
               "encoder": encoder, "vectors": len(self)}
        (folder / "vectors.tmp.json").write_text(json.dumps(tag))
        os.replace(folder / "vectors.tmp.json", folder / "vectors.json")

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> tuple[VectorIndex, dict] | None:
        """Gives the saved index and its tag, or None when missing or unreadable. With `mmap` the vectors
        stay in the file and are paged in as searches touch them (a CLI search at 1M chunks then reads a
        few MB, not 1.5 GB); the index is copied into memory before its first change."""
        faiss = _faiss()
        flags = mmap_flag() if mmap else 0
        try:
            tag = json.loads((folder / "vectors.json").read_text())
            index = faiss.read_index(str(folder / "vectors.faiss"), flags)
        except (OSError, ValueError, RuntimeError):
            return None
        if tag.get("kind") == "ivf":
            index.nprobe = NPROBE
        loaded = cls(index, tag["dimension"], tag["kind"], tag["generation"], mapped=bool(flags))
        loaded.saved_version = 0
        return loaded, tag


def mmap_flag() -> int:
    """Gives FAISS's read flag that maps the vectors in place (0 when this FAISS cannot, or when
    QUARRY_FAISS_MMAP=0 asks for the whole file to be read, as bench/query_path.py does for its baseline)."""
    if os.environ.get("QUARRY_FAISS_MMAP", "1") == "0":
        return 0
    return int(getattr(_faiss(), "IO_FLAG_MMAP_IFC", 0))
