"""tantivy keyword index: an English field (stemmed) and a Chinese field (jieba-segmented words)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from engine.documents.ingest.text import has_cjk

_WORD = re.compile(r"[^\w]+", re.UNICODE)
MAX_QUERY_WORDS = 256
# Particles and function words that jieba keeps as tokens but that carry no topic.
ZH_STOP = frozenset(
    "的 了 吗 呢 是 在 和 与 或 有 我 你 他 她 它 们 这 那"
    " 什么 怎么 多少 哪 吧 啊 及 之 对 为 被 把 会 要 可以 如何 请问 请 能".split())
_jieba = None


def jieba():
    """Gives jieba, initialised quietly once (its dictionary loads in ~0.5 s)."""
    global _jieba
    if _jieba is None:
        import jieba as jb

        jb.setLogLevel(logging.WARNING)
        jb.initialize()
        _jieba = jb
    return _jieba


def zh_terms(text: str) -> list[str]:
    """Gives the jieba search-mode words of the Chinese parts of a text, lowercased."""
    words = jieba().cut_for_search(text)
    return [w.lower() for w in words if has_cjk(w) or w.strip().isalnum()]


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("en", tokenizer_name="en_stem")
    builder.add_text_field("zh", tokenizer_name="whitespace")
    return builder.build()


def _writable(folder: Path) -> bool:
    """Tells whether this process (its effective user) may write in a folder."""
    kwargs = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    return os.access(folder, os.W_OK, **kwargs)


class KeywordIndex:
    """Full-text index of chunks; documents are keyed by chunk id for incremental add and delete."""

    def __init__(self, folder: Path) -> None:
        import tantivy

        self.folder = folder
        self.tantivy = tantivy
        folder.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self._scratch: Path | None = None
        opened = folder
        if not _writable(folder):
            # tantivy takes a lock file even to read; a read-only workspace is read from a private copy
            self._scratch = Path(tempfile.mkdtemp(prefix="quarry-keyword-"))
            shutil.copytree(folder, self._scratch, dirs_exist_ok=True, copy_function=shutil.copyfile)
            os.chmod(self._scratch, 0o700)  # copytree gave it the source's read-only mode
            opened = self._scratch
        self.index = tantivy.Index(self.schema, path=str(opened), reuse=True)
        self._writer = None

    @classmethod
    def fresh(cls, folder: Path) -> KeywordIndex:
        shutil.rmtree(folder, ignore_errors=True)
        return cls(folder)

    @property
    def writer(self):
        if self._writer is None:
            self._writer = self.index.writer(heap_size=64_000_000, num_threads=1)
        return self._writer

    def add(self, rows, terms=None) -> None:
        """Adds (chunk id, searchable text) pairs; `terms`, when given, holds each text's jieba words
        already joined by spaces (None for a text without Chinese), segmented off the writer's lock."""
        doc_cls = self.tantivy.Document
        terms = iter(terms) if terms is not None else None
        for chunk_id, text in rows:
            doc = doc_cls(id=int(chunk_id), en=text)
            words = next(terms) if terms is not None else (" ".join(zh_terms(text)) if has_cjk(text) else None)
            if words is not None:
                doc.add_text("zh", words)
            self.writer.add_document(doc)

    def remove(self, ids) -> None:
        for chunk_id in ids:
            self.writer.delete_documents_by_term("id", int(chunk_id))

    def commit(self, generation: int) -> None:
        """Makes added and removed chunks visible and tags the index with the DuckDB generation."""
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        self.index.reload()
        tmp = self.folder / "quarry.tmp.json"
        tmp.write_text(json.dumps({"generation": generation}))
        os.replace(tmp, self.folder / "quarry.json")

    def generation(self) -> int | None:
        try:
            return int(json.loads((self.folder / "quarry.json").read_text())["generation"])
        except (OSError, ValueError, KeyError):
            return None

    def count(self) -> int:
        return self.index.searcher().num_docs

    def doc_freq(self, word: str) -> int:
        """Gives how many chunks hold a word: a jieba word for Chinese, an English word stemmed as indexed
        (the refusal decision weighs a question's words by their rarity in the library)."""
        searcher = self.index.searcher()
        if has_cjk(word):
            return int(searcher.doc_freq("zh", word.lower()))
        try:
            query = self.index.parse_query(word.lower(), ["en"])
        except ValueError:
            return 0
        return int(searcher.search(query, 1, count=True).count)

    def query(self, text: str):
        """Gives the tantivy query for a user's words, or None when no word is searchable."""
        tantivy = self.tantivy
        parts = []
        # User text is never query syntax: punctuation is gone with the split, and words are lowercased
        # so AND / OR / NOT (operators only in capitals) are plain words.
        words = [w.lower() for w in _WORD.split(text) if w and not has_cjk(w)]
        if len(words) > MAX_QUERY_WORDS:  # a pasted page: its distinct words are enough
            words = list(dict.fromkeys(words))[:MAX_QUERY_WORDS]
        latin = " ".join(words)
        if latin.strip():
            with contextlib.suppress(ValueError):
                parts.append((tantivy.Occur.Should, self.index.parse_query(latin, ["en"])))
        if has_cjk(text):
            for term in dict.fromkeys(zh_terms(text)):
                if term not in ZH_STOP and has_cjk(term):
                    parts.append((tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "zh", term)))
        if not parts:
            return None
        return tantivy.Query.boolean_query(parts)

    def search(self, text: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Gives up to k (chunk id, BM25 score) pairs, best first."""
        query = self.query(text)
        if query is None or k <= 0:
            return []
        if allowed is not None:
            if not allowed:
                return []
            tantivy = self.tantivy
            id_filter = tantivy.Query.term_set_query(self.schema, "id", [int(i) for i in allowed])
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, id_filter)])
        searcher = self.index.searcher()
        result = searcher.search(query, k)
        return [(int(searcher.doc(addr)["id"][0]), float(score)) for score, addr in result.hits]

    def ids(self) -> list[int]:
        searcher = self.index.searcher()
        n = searcher.num_docs
        if n == 0:
            return []
        hits = searcher.search(self.tantivy.Query.all_query(), n).hits
        return sorted(int(searcher.doc(addr)["id"][0]) for _, addr in hits)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
