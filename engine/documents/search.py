"""Retrieval: FAISS vectors and tantivy keywords, fused with per-query trust weights, plus filters."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.documents import index as vector_index
from engine.documents.index import VectorIndex
from engine.documents.ingest.text import cjk_ratio
from engine.documents.keyword import KeywordIndex
from engine.errors import SearchError

MODES = ("vector", "keyword", "hybrid")
CANDIDATES = 50
MAX_K = 1000  # most hits one search gives (a huge k aborts inside FAISS)
OVERFETCH = 4  # a filtered search fetches this many times the hits it needs, then 4x deeper each round
MAX_FETCH = 3200  # past this, a filter is selective: search within its (few) matching ids instead
RRF_K = 60


@dataclass
class Hit:
    """One retrieved chunk, with where it comes from and why it ranked."""

    chunk_id: int
    score: float
    path: str
    title: str
    doctype: str
    page: int | None
    heading: str | None
    text: str
    vector_score: float | None = None
    keyword_score: float | None = None
    rank: int = 0
    ocr: bool = False  # the text was read from a scan by OCR

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Filters:
    """Which documents a search may return: of this type, modified since, whose path matches `path_glob`,
    and, when `paths` or `doc_ids` are given, matching any of those globs or being one of those documents
    (a scope: repeatable `--path` and `--doc`)."""

    doctype: str | None = None
    path_glob: str | None = None
    since: datetime | None = None
    paths: tuple[str, ...] = ()
    doc_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.path_glob:
            self.path_glob = anywhere(self.path_glob)
        self.paths = tuple(anywhere(p) for p in self.paths if p)
        self.doc_ids = tuple(int(d) for d in self.doc_ids)
        if self.doctype:
            self.doctype = self.doctype.lower().lstrip(".")

    def active(self) -> bool:
        return bool(self.doctype or self.path_glob or self.since or self.paths or self.doc_ids)

    def chunk_ids(self, store, ids: list[int] | None) -> set[int]:
        """Gives the chunk ids (among `ids`, or all) whose document passes."""
        return store.filter_chunk_ids(ids, self.doctype, self.path_glob, self.since, self.paths, self.doc_ids)


def anywhere(glob: str) -> str:
    """Gives a glob that matches anywhere in an absolute path: 'policies/*' becomes '*policies/*'."""
    return glob if glob.startswith(("/", "*")) else "*" + glob


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: str
    weights: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    query_vector: np.ndarray | None = None


def trust_weights(query: str, vector_hits: list[tuple[int, float]],
                  keyword_hits: list[tuple[int, float]]) -> dict[str, float]:
    """Gives how far to trust each retriever for this query.

    The encoder is English-only, so its weight falls with the share of Chinese in the query; a
    retriever whose top score barely stands out from its tail is unsure and counts for less; one that
    found nothing counts for nothing.
    """
    if not keyword_hits:
        return {"vector": 1.0, "keyword": 0.0}
    if not vector_hits:
        return {"vector": 0.0, "keyword": 1.0}
    # A query half Chinese or more keeps a tenth of the vector weight (MiniLM recall@5 on Chinese
    # paragraphs: 0.27 against jieba BM25's 0.99, field notes).
    zh = cjk_ratio(query)
    vector = 1.0 - 0.9 * min(1.0, zh / 0.5)
    keyword = 1.0
    # Margins are scaled by what a confident top hit shows on the demo questions: a cosine 0.08 above
    # the mean of the next nine, a BM25 score a quarter above its tail. Clipped so neither side vanishes.
    vs = [s for _, s in vector_hits[:10]]
    if len(vs) > 1:
        vector *= float(np.clip((vs[0] - np.mean(vs[1:])) / 0.08, 0.25, 1.5))
    ks = [s for _, s in keyword_hits[:10]]
    if len(ks) > 1 and ks[0] > 0:
        keyword *= float(np.clip((ks[0] - np.mean(ks[1:])) / ks[0] / 0.25, 0.25, 1.5))
    return {"vector": vector, "keyword": keyword}


def fuse(vector_hits: list[tuple[int, float]], keyword_hits: list[tuple[int, float]],
         weights: dict[str, float]) -> list[tuple[int, float]]:
    """Gives ids ranked by weighted reciprocal-rank fusion."""
    scores: dict[int, float] = {}
    for name, hits in (("vector", vector_hits), ("keyword", keyword_hits)):
        w = weights.get(name, 0.0)
        if w <= 0:
            continue
        for rank, (cid, _) in enumerate(hits):
            scores[cid] = scores.get(cid, 0.0) + w / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


class Searcher:
    """A workspace's two indexes, kept in step with DuckDB, and the searches over them."""

    def __init__(self, workspace) -> None:
        self.ws = workspace
        self.store = workspace.store
        self.vectors_dir = workspace.indexes_dir
        self.keyword_dir = workspace.indexes_dir / "keyword"
        self.vectors: VectorIndex | None = None
        self.keywords: KeywordIndex | None = None
        self.rebuilt: list[str] = []
        # FAISS and the tantivy writer are not safe under concurrent change and search (a TUI ingest
        # worker beside a search worker), so every use goes through this lock. Changes (apply, remove)
        # also hold the store's write lock, taken first: writers call them inside `store.writing()`.
        self.lock = threading.RLock()
        self.sync()

    # -- consistency with DuckDB ----------------------------------------------------------------
    def sync(self) -> list[str]:
        """Loads both indexes, rebuilding from DuckDB any that is missing or stale; gives what was rebuilt."""
        with self.store.write_lock, self.lock:  # no commit may land between reading DuckDB and loading
            return self._sync()

    def _sync(self) -> list[str]:
        generation = self.store.chunk_generation()
        rebuilt = []
        loaded = VectorIndex.load(self.vectors_dir, mmap=True)
        count = self.store.chunk_count()
        wants_ivf = count >= vector_index.EXACT_LIMIT
        if (loaded is None or loaded[1].get("generation") != generation
                or loaded[1].get("encoder") != self.ws.encoder_id or (loaded[0].kind == "ivf") != wants_ivf):
            self.vectors = self._rebuild_vectors(generation)
            rebuilt.append("vector")
        else:
            self.vectors = loaded[0]
        try:
            self.keywords = KeywordIndex(self.keyword_dir)
            stale = self.keywords.generation() != generation
        except ValueError:
            stale = True
        if stale:
            self.keywords = self._rebuild_keywords(generation)
            rebuilt.append("keyword")
        self.rebuilt = rebuilt
        return rebuilt

    def _rebuild_vectors(self, generation: int) -> VectorIndex:
        ids, vecs = [], []
        dim = None
        for batch in self.store.iter_vectors():
            for cid, blob in batch:
                v = np.frombuffer(blob, dtype=np.float32)
                dim = dim or v.shape[0]
                ids.append(cid)
                vecs.append(v)
        if not ids:
            index = VectorIndex.empty(dim or 384)
        else:
            index = VectorIndex.build(np.array(ids, dtype=np.int64), np.vstack(vecs), dim)
        index.save(self.vectors_dir, generation, self.ws.encoder_id)
        return index

    def _rebuild_keywords(self, generation: int) -> KeywordIndex:
        if self.keywords is not None:
            self.keywords.close()
        index = KeywordIndex.fresh(self.keyword_dir)
        for batch in self.store.iter_chunks():
            index.add((c.id, searchable_text(c.title, c.heading, c.text)) for c in batch)
        index.commit(generation)
        return index

    def apply(self, removed: list[int], added_ids: list[int], added_vectors: np.ndarray,
              added_texts: list[str], added_terms: list[str | None] | None = None) -> None:
        """Applies a change (one file's or a commit group's) to both indexes in memory (saved at the next
        checkpoint); `added_terms` are the texts' jieba words when ingest segmented them already."""
        with self.lock:
            self.vectors.remove(removed)
            self.keywords.remove(removed)
            self.vectors.add(added_ids, added_vectors)
            self.keywords.add(zip(added_ids, added_texts), added_terms)

    def remove(self, ids: list[int]) -> None:
        """Removes deleted chunks from both indexes in memory (saved at the next checkpoint)."""
        with self.lock:
            self.vectors.remove(ids)
            self.keywords.remove(ids)

    def checkpoint(self) -> None:
        """Saves both indexes tagged with the current DuckDB generation; a folder that cannot be
        written (full disk, read-only) is one WorkspaceError naming it (DuckDB keeps the data)."""
        try:
            self._save_tagged()
        except (OSError, RuntimeError, ValueError) as exc:
            from engine.workspace import index_write_error

            raise index_write_error(self.vectors_dir, exc) from None

    def _save_tagged(self) -> None:
        """Saves both indexes tagged with the current DuckDB generation.

        Holds the store's write lock, so no commit and no index change falls between reading the
        generation and saving (writers apply inside `store.writing()`): the tag never names chunks the
        indexes lack. The FAISS file is written without the search lock: searches only read it."""
        with self.store.write_lock:
            generation = self.store.chunk_generation()
            if self.vectors.kind == "flat" and len(self.vectors) >= vector_index.EXACT_LIMIT:
                rebuilt = self._rebuild_vectors(generation)
                with self.lock:
                    self.vectors = rebuilt
            else:
                self.vectors.save(self.vectors_dir, generation, self.ws.encoder_id)
            with self.lock:
                self.keywords.commit(generation)

    def close(self) -> None:
        # A job thread may be mid-apply (an app quit during an ingest): wait for its commit to end.
        with self.store.write_lock, self.lock:
            if self.keywords is not None:
                self.keywords.close()

    # -- search -------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: Filters | None = None) -> SearchResult:
        """Gives the k best chunks for a query."""
        if mode not in MODES:
            raise SearchError(f"unknown search mode '{mode}'; use one of {', '.join(MODES)}")
        query = query.strip()
        if not query:
            raise SearchError("empty query; type some words to search for")
        if not 1 <= k <= MAX_K:
            raise SearchError(f"k = {k}: ask for between 1 and {MAX_K} hits")
        timings: dict[str, float] = {}
        filters = filters if filters and filters.active() else None
        depth = max(CANDIDATES, k)
        within = self._scope_ids(filters)
        qv = None
        vector_hits: list[tuple[int, float]] = []
        keyword_hits: list[tuple[int, float]] = []
        if mode in ("vector", "hybrid"):
            t0 = time.perf_counter()
            qv = self.ws.encoder().encode([query])[0]
            t1 = time.perf_counter()

            def vector_run(n: int, allowed: list[int] | None) -> list[tuple[int, float]]:
                if allowed is not None and len(allowed) <= MAX_FETCH:
                    # a few ids (a scope): their exact cosines from DuckDB's vectors cost less than a FAISS
                    # pass over the whole index with an id selector, and miss none an IVF probe would
                    scores = self.vector_scores(qv, allowed)
                    return sorted(scores.items(), key=lambda kv: -kv[1])[:n]
                with self.lock:
                    return self.vectors.search(qv, n, None if allowed is None else np.array(allowed))

            vector_hits = self._filtered(vector_run, depth, filters, within)
            timings["encode_ms"] = (t1 - t0) * 1000
            timings["vector_ms"] = (time.perf_counter() - t1) * 1000
        if mode in ("keyword", "hybrid"):
            t0 = time.perf_counter()

            def keyword_run(n: int, allowed: list[int] | None) -> list[tuple[int, float]]:
                with self.lock:
                    return self.keywords.search(query, n, allowed)

            keyword_hits = self._filtered(keyword_run, depth, filters, within)
            timings["keyword_ms"] = (time.perf_counter() - t0) * 1000
        if mode == "vector":
            ranked, weights = vector_hits, {"vector": 1.0, "keyword": 0.0}
        elif mode == "keyword":
            ranked, weights = keyword_hits, {"vector": 0.0, "keyword": 1.0}
        else:
            weights = trust_weights(query, vector_hits, keyword_hits)
            ranked = fuse(vector_hits, keyword_hits, weights)
        top = ranked[:k]
        rows = self.store.chunks_by_ids([cid for cid, _ in top])
        vmap, kmap = dict(vector_hits), dict(keyword_hits)
        hits = []
        for rank, (cid, score) in enumerate(top, start=1):
            row = rows.get(cid)
            if row is None:
                continue
            hits.append(Hit(cid, float(score), row.path, row.title, row.doctype, row.page, row.heading,
                            row.text, vmap.get(cid), kmap.get(cid), rank, row.ocr))
        return SearchResult(hits, mode, weights, timings, qv)

    def _scope_ids(self, filters: Filters | None) -> list[int] | None:
        """Gives the chunk ids of a scope's documents when they are few enough to search within at once
        (a scope names documents, so its chunks are one indexed lookup), else None."""
        if filters is None or not filters.doc_ids:
            return None
        ids = filters.chunk_ids(self.store, None)
        return sorted(ids) if len(ids) <= MAX_FETCH else None

    def _filtered(self, run, depth: int, filters: Filters | None,
                  within: list[int] | None = None) -> list[tuple[int, float]]:
        """Gives up to `depth` hits of `run(n, allowed)` that pass the filters, at a cost proportional to
        the hits: candidates are fetched unfiltered, deeper each round, and checked against the filters
        in DuckDB; only a filter so selective that few candidates pass searches within its matching ids
        (then few). A scope's few chunk ids (`within`) are searched within at once: overfetching for
        them would take every round."""
        if filters is None:
            return run(depth, None)
        if within is not None:
            return run(depth, within) if within else []
        fetch = depth * OVERFETCH
        while True:
            hits = run(fetch, None)
            passing = filters.chunk_ids(self.store, [cid for cid, _ in hits])
            kept = [(cid, score) for cid, score in hits if cid in passing]
            if len(kept) >= depth or len(hits) < fetch:
                return kept[:depth]
            if fetch >= MAX_FETCH:
                break
            fetch *= OVERFETCH
        allowed = sorted(filters.chunk_ids(self.store, None))
        return run(depth, allowed) if allowed else []

    def vector_scores(self, query_vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Gives the exact cosine of a query to specific chunks (for refusal and citation checks), from the
        vectors DuckDB keeps: an IVF search sees only the lists it probes, so it would give 0 to the rest."""
        if not ids:
            return {}
        blobs = self.store.vectors_by_ids(list(ids))
        if not blobs:
            return {}
        found = list(blobs)
        matrix = np.frombuffer(b"".join(blobs[cid] for cid in found), dtype=np.float32).reshape(len(found), -1)
        cosines = matrix @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return {cid: float(c) for cid, c in zip(found, cosines)}


def searchable_text(title: str | None, heading: str | None, text: str) -> str:
    """Gives the text indexed and embedded for a chunk: its document title and heading lead it."""
    head = " — ".join(p for p in (title, heading) if p and p not in text[:200])
    return f"{head}\n{text}" if head else text
