"""Methods by name, trained on a label set's examples, saved in the workspace and retrained only when the
examples (or labels, or the encoder) change; and classifying texts or table rows with them."""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.classify.auto import Choice, choose
from engine.classify.base import ClassifyError, Examples, Method, Prediction, check_texts, one_thread
from engine.classify.methods import METHODS, TEXT_METHODS
from engine.classify.vectors import Embedder
from engine.errors import QuarryError

HEAD_VERSION = 1  # bump when a method's saved form changes

_embedders: dict[int, Embedder] = {}
_cache: dict[tuple, tuple[Method, Choice | None]] = {}
_cache_lock = threading.Lock()


def embedder(ws) -> Embedder:
    """Gives the workspace encoder wrapped to remember vectors it already computed."""
    encoder = ws.encoder()
    with _cache_lock:
        found = _embedders.get(id(encoder))
        if found is None or found.encoder is not encoder:
            found = _embedders[id(encoder)] = Embedder(encoder)
        return found


def builder(ws, llm_model: str | None = None) -> Callable[[str], Method]:
    """Gives a function that makes a fresh, unfitted method by name."""
    def build(name: str) -> Method:
        if name == "zero-shot":
            from engine.classify.zero_shot import ZeroShot

            return ZeroShot(embedder(ws))
        if name == "embedding":
            from engine.classify.embedding import EmbeddingHead

            return EmbeddingHead(embedder(ws))
        if name == "lexical":
            from engine.classify.lexical import LexicalHead

            return LexicalHead()
        if name == "stack":
            from engine.classify.stack import Stack

            return Stack(embedder(ws))
        if name == "llm":
            from engine.classify.llm_method import LLMMethod

            return LLMMethod(llm_model)
        if name == "tabular":
            from engine.classify.tabular import Tabular

            return Tabular()
        raise ClassifyError(f"unknown method '{name}'; methods: {', '.join(METHODS)}")
    return build


def check_method(method: str, tabular: bool) -> None:
    if method not in METHODS and method != "all":
        raise ClassifyError(f"unknown method '{method}'; methods: {', '.join(METHODS)} (or all)")
    if tabular and method not in ("auto", "tabular", "all"):
        raise ClassifyError(f"method '{method}' reads text; this label set holds table rows: use tabular or auto")
    if not tabular and method == "tabular":
        raise ClassifyError("method 'tabular' needs a label set of table rows "
                            "(`quarry labels import NAME --table T --features a,b --label-column L`)")


def fingerprint(data: Examples, method: str, encoder_id: str, llm_model: str | None) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([HEAD_VERSION, method, encoder_id, llm_model, data.labels, data.descriptions,
                              data.features], ensure_ascii=False).encode())
    for i, label in enumerate(data.y):
        item = data.records[i] if data.tabular else data.texts[i]
        digest.update(json.dumps([item, label], ensure_ascii=False, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _attach(method: Method, ws) -> Method:
    """Gives a loaded head its encoder back (heads are saved without it)."""
    return attach(method, lambda: embedder(ws))


def attach(method: Method, embed: Callable[[], Embedder]) -> Method:
    """Gives a head (and each part of a stack) the embedder that `embed()` makes, when it reads vectors;
    a head that reads none (lexical, tabular) never makes one."""
    parts = [part for part in [method, *getattr(method, "parts", [])] if hasattr(part, "embed")]
    if parts:
        made = embed()
        for part in parts:
            part.embed = made
    return method


@dataclass
class Trained:
    method: Method
    name: str                 # what was asked for (auto, lexical, ...)
    choice: Choice | None     # auto's pick
    reused: bool              # loaded from the workspace instead of trained now
    seconds: float

    @property
    def used(self) -> str:
        return self.choice.method if self.choice else self.name


def trained(ws, set_name: str, method: str = "auto", llm_model: str | None = None) -> Trained:
    """Gives a method fitted on the label set's examples, loading the saved head when the examples are
    unchanged, training and saving it otherwise."""
    from engine.classify import sets

    started = time.perf_counter()
    found = sets.get(ws, set_name)
    check_method(method, found.kind == "tabular")
    data = sets.examples(ws, found)
    encoder_id = ws.encoder_id if method != "tabular" and not data.tabular else ""
    key_print = fingerprint(data, method, encoder_id, llm_model if method == "llm" else None)
    cache_key = (str(ws.root), found.id, method)
    with _cache_lock:
        hit = _cache.get(cache_key)
    if hit is not None and hit[0] is not None and getattr(hit[0], "_fingerprint", None) == key_print:
        return Trained(hit[0], method, hit[1], True, time.perf_counter() - started)
    build = builder(ws, llm_model)
    stored = ws.store.head(found.id, method) if method != "llm" else None
    model, choice, reused = None, None, False
    if stored and stored[0] == key_print and Path(stored[1]).exists():
        try:
            with open(stored[1], "rb") as fh:
                model = pickle.load(fh)
            _attach(model, ws)
            choice = Choice(**stored[2]["choice"]) if stored[2].get("choice") else None
            reused = True
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            model = None
    if model is None:
        with one_thread():
            if method == "auto":
                choice = choose(data, build)
                name = choice.method
            else:
                name = method
            model = build(name).fit(data)
        if method != "llm":
            _save(ws, found.id, method, key_print, model, choice)
    model._fingerprint = key_print
    with _cache_lock:
        _cache[cache_key] = (model, choice)
    return Trained(model, method, choice, reused, time.perf_counter() - started)


def _save(ws, set_id: int, method: str, key_print: str, model: Method, choice: Choice | None) -> None:
    folder = ws.root / "classify"
    folder.mkdir(exist_ok=True)
    path = folder / f"set{set_id}-{method}.pkl"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    detail: dict = {"choice": None, "examples_hash": key_print[:12]}
    if choice:
        detail["choice"] = {"method": choice.method, "score": choice.score, "spread": choice.spread,
                            "folds": choice.folds, "scores": choice.scores, "note": choice.note}
    ws.store.save_head(set_id, method, key_print, str(path), detail)


def classify(ws, set_name: str, texts: Sequence, method: str = "auto", llm_model: str | None = None
             ) -> tuple[list[Prediction], Trained]:
    """Gives a Prediction per text (or per record for a tabular set) and the trained method used."""
    head = trained(ws, set_name, method, llm_model)
    inputs = list(texts) if head.method.name == "tabular" else check_texts(texts)
    with one_thread():
        predictions = head.method.predict(inputs)
    if head.choice:
        for p in predictions:
            p.method = f"auto:{head.choice.method}"
    return predictions, head


@dataclass
class Compared:
    method: str
    prediction: Prediction | None
    ms: float
    error: str = ""
    note: str = ""


def compare(ws, set_name: str, text: str, llm_model: str | None = None,
            methods: Sequence[str] | None = None) -> list[Compared]:
    """Gives every method's label for one text, side by side (a method that cannot run says why)."""
    from engine.classify import sets

    found = sets.get(ws, set_name)
    text = check_texts([text])[0]
    if found.kind == "tabular":
        raise ClassifyError(f"label set '{set_name}' holds table rows; classify rows with --table or --file")
    out = []
    for name in methods or ("auto", *TEXT_METHODS):
        started = time.perf_counter()
        try:
            head = trained(ws, set_name, name, llm_model)
            with one_thread():
                prediction = head.method.predict([text])[0]
            note = head.choice.line() if head.choice else ""
            out.append(Compared(name, prediction, (time.perf_counter() - started) * 1000, note=note))
        except QuarryError as exc:  # a missing or unknown model fails that method's row, not the comparison
            out.append(Compared(name, None, (time.perf_counter() - started) * 1000, error=str(exc)))
    return out
