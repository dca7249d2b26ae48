"""One prompt to 2–4 models side by side: the same settings for all, each answer streamed, per-model
figures (load time, TTFT, tokens, tokens/s, peak memory) and, for document questions, the same sources
and the same citation check for every model.

On a CPU-only machine the models answer one after another (two llama.cpp decodes at once would only
split the same cores and make every figure wrong); with GPU offload they answer at the same time.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields

from engine.errors import QuarryError, first_line
from engine.models import catalog
from engine.runtime.generation import GenerationParams, RunStats

MIN_MODELS, MAX_MODELS = 2, 4
BLIND_LABELS = ("A", "B")
DEFAULT_SYSTEM = "You are a concise, helpful assistant for a business user."
SLOT = "compare"


class CompareError(QuarryError):
    """A comparison that cannot run as asked (models, votes, reruns)."""


@dataclass
class CompareSettings:
    """What every model in a run gets; stored with the run so `--rerun` repeats it exactly."""

    temperature: float = 0.2
    max_tokens: int = 256
    system_prompt: str = DEFAULT_SYSTEM
    seed: int = 42
    top_k: int = 40
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    rag: bool = False
    k: int = 3
    search_mode: str = "hybrid"

    @classmethod
    def from_settings(cls, conf, rag: bool = False, temperature: float | None = None,
                      max_tokens: int | None = None, seed: int = 42, system_prompt: str | None = None,
                      k: int | None = None) -> CompareSettings:
        """Gives a run's settings from the user's settings (`engine.settings.Settings`) and what a front
        overrides: a document question is greedy unless a temperature is given."""
        return cls(temperature=temperature if temperature is not None else (0.0 if rag else conf.temperature),
                   max_tokens=max_tokens or conf.max_tokens, seed=seed, system_prompt=system_prompt or DEFAULT_SYSTEM,
                   rag=rag, k=k or conf.top_k_sources, search_mode=conf.search_mode)

    def generation(self) -> GenerationParams:
        return GenerationParams(max_tokens=self.max_tokens, temperature=self.temperature, top_k=self.top_k,
                                top_p=self.top_p, repeat_penalty=self.repeat_penalty, seed=self.seed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CompareSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def validate(self) -> None:
        if not 1 <= self.max_tokens <= 8192:
            raise CompareError(f"max tokens {self.max_tokens} is out of range; give 1 to 8192")
        if not 0.0 <= self.temperature <= 2.0:
            raise CompareError(f"temperature {self.temperature} is out of range; give 0 to 2")
        if not 1 <= self.k <= 10:
            raise CompareError(f"k {self.k} is out of range; give 1 to 10 sources")


@dataclass
class Column:
    """One model's answer in a run, with its figures."""

    position: int
    model: str
    label: str | None = None  # "A"/"B" while blind
    status: str = "waiting"  # waiting | running | done | failed | cancelled
    text: str = ""  # the answer as shown (document answers: with checked citations)
    raw_text: str = ""  # the model's own words
    error: str | None = None
    stats: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    def figures(self) -> dict:
        """Gives the per-model figures shown under a column and printed by the CLI."""
        s = self.stats
        out = {"load_ms": s.get("load_ms"), "ttft_ms": s.get("ttft_ms"),
               "prompt_tokens": s.get("prompt_tokens"), "completion_tokens": s.get("completion_tokens"),
               "tokens_per_s": s.get("tokens_per_s"), "peak_rss_mb": s.get("peak_rss_mb")}
        if "supported_share" in self.checks:
            out["supported_share"] = self.checks["supported_share"]
        return out

    def figures_line(self, lines: int = 1) -> str:
        """Gives the figures as text, the same in the app (two lines under a column) and the CLI (one)."""
        f = self.figures()
        first = [f"load {f['load_ms'] or 0:.0f} ms", f"TTFT {f['ttft_ms'] or 0:.0f} ms",
                 f"{f['tokens_per_s'] or 0:.1f} tok/s"]
        second = [f"prompt {f['prompt_tokens'] or 0} · answer {f['completion_tokens'] or 0} tok"]
        if f.get("peak_rss_mb"):
            second.append(f"peak {f['peak_rss_mb']:.0f} MB")
        if "supported_share" in f:
            second.append(f"{f['supported_share']:.0%} supported")
        return " · ".join(first) + ("\n" if lines > 1 else " · ") + " · ".join(second)

    def to_dict(self, reveal: bool = True) -> dict:
        data = {"position": self.position, "label": self.label, "status": self.status, "answer": self.text,
                "raw_text": self.raw_text, "error": self.error, **self.figures(), "stats": self.stats,
                "checks": self.checks}
        if reveal or not self.label:
            data["model"] = self.model
        return data


@dataclass
class CompareRun:
    """A finished or running comparison."""

    id: int
    prompt: str
    models: list[str]
    settings: CompareSettings
    blind: bool = False
    revealed: bool = False
    columns: list[Column] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    search_query: str | None = None
    refused: bool = False
    concurrent: bool = False
    rerun_of: int | None = None

    @property
    def finished(self) -> bool:
        return all(c.finished for c in self.columns)

    def to_dict(self) -> dict:
        hide = self.blind and not self.revealed
        return {"run_id": self.id, "prompt": self.prompt, "blind": self.blind, "revealed": self.revealed,
                "models": None if hide else self.models, "settings": self.settings.to_dict(),
                "rag": self.settings.rag, "refused": self.refused, "search_query": self.search_query,
                "sources": self.sources, "concurrent": self.concurrent, "rerun_of": self.rerun_of,
                "answers": [c.to_dict(reveal=not hide) for c in self.columns]}


# -- events a front renders --------------------------------------------------------------------
@dataclass
class Started:
    run: CompareRun


@dataclass
class ColumnStarted:
    position: int


@dataclass
class Piece:
    position: int
    text: str


@dataclass
class ColumnFinished:
    column: Column

    @property
    def position(self) -> int:
        return self.column.position


@dataclass
class Finished:
    run: CompareRun


Event = Started | ColumnStarted | Piece | ColumnFinished | Finished


# -- models ------------------------------------------------------------------------------------
def chat_models() -> list[catalog.ModelEntry]:
    """Gives the catalog's chat models that can answer now: provisioned local ones and remote ones."""
    return [e for e in catalog.load().values()
            if e.kind in ("llm", "remote") and catalog.status(e).state == "ready"]


def check_models(model_ids: list[str], allow_one: bool = False) -> list[str]:
    """Gives the model ids cleaned up, or raises one line naming what is wrong and the fix."""
    ids = [m.strip() for m in model_ids if m and m.strip()]
    seen = set()
    for model_id in ids:
        if model_id in seen:
            raise CompareError(f"model '{model_id}' is listed twice; compare different models")
        seen.add(model_id)
        catalog.chat_entry(model_id)  # UnknownModel names the known ids, or the chat models
    if len(ids) < MIN_MODELS and not allow_one:
        got = f" ({ids[0]})" if ids else ""
        raise CompareError(f"a comparison needs {MIN_MODELS} to {MAX_MODELS} models, got {len(ids)}{got}; "
                           "give them as --models a,b")
    if len(ids) > MAX_MODELS:
        raise CompareError(f"a comparison takes at most {MAX_MODELS} models, got {len(ids)}; drop some")
    return ids


def load_model(model_id: str):
    """Gives the model from the pool's "compare" slot (a RemoteLLM for remote ids)."""
    from engine.runtime import pool

    return pool.get(model_id, slot=SLOT)


def runs_concurrently(model_ids: list[str]) -> bool:
    """Tells whether the models answer at the same time: only with GPU offload (on CPU they would share
    the same cores, each answer slower and every figure wrong)."""
    from engine.runtime.llama import _gpu_offload_supported

    try:
        return bool(_gpu_offload_supported())
    except Exception:  # a llama.cpp build without the query: assume CPU
        return False


# -- peak memory -------------------------------------------------------------------------------
def _reset_peak() -> bool:
    """Resets this process's peak resident size (Linux); gives whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int | None:
    """Gives this process's peak resident memory since the last reset (None where unknown)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (ImportError, OSError):
        return None


# -- the run -----------------------------------------------------------------------------------
class Comparison:
    """One prompt sent to 2–4 models; iterate `events()` for streaming, then read `run`.

    Every model gets the same messages and settings; a document question is retrieved once, so every
    model sees the same numbered sources and every answer goes through the same citation check.
    """

    def __init__(self, workspace, prompt: str, model_ids: list[str], settings: CompareSettings | None = None,
                 blind: bool = False, rerun_of: int | None = None, batch_id: int | None = None,
                 item: int | None = None, reference: str | None = None, rng: random.Random | None = None,
                 loader: Callable[[str], object] = load_model) -> None:
        self.ws = workspace
        self.prompt = prompt.strip()
        if not self.prompt:
            raise CompareError("the prompt is empty; type a question or pass one")
        self.model_ids = check_models(model_ids)
        if blind and len(self.model_ids) != 2:
            raise CompareError(f"blind mode compares two models, got {len(self.model_ids)}; "
                               "pick two (or let `pick_pair` choose the least certain pair)")
        self.settings = settings or CompareSettings()
        self.settings.validate()
        self.blind = blind
        self.rerun_of = rerun_of
        self.batch_id, self.item, self.reference = batch_id, item, reference
        self.rng = rng or random.SystemRandom()
        self.loader = loader
        self.run: CompareRun | None = None
        self._messages: list[dict] = []
        self._sources = []
        self._lang = "en"

    # -- preparing ----------------------------------------------------------------------------
    def _prepare(self) -> CompareRun:
        order = list(self.model_ids)
        labels: list[str | None] = [None] * len(order)
        if self.blind:
            self.rng.shuffle(order)
            labels = list(BLIND_LABELS)
        run = CompareRun(0, self.prompt, order, self.settings, self.blind, rerun_of=self.rerun_of,
                         concurrent=runs_concurrently(order))
        run.columns = [Column(i, m, labels[i]) for i, m in enumerate(order)]
        if self.settings.rag:
            self._retrieve(run)
        else:
            self._messages = [{"role": "system", "content": self.settings.system_prompt},
                              {"role": "user", "content": self.prompt}]
        run.id = self.ws.store.create_compare_run(
            self.prompt, order, self.settings.to_dict(), self.blind, run.sources if self.settings.rag else None,
            run.search_query, run.refused, self.rerun_of, self.batch_id, self.item, self.reference)
        return run

    def _retrieve(self, run: CompareRun) -> None:
        """Finds the sources once, for every model: the same passages, numbered the same way."""
        from engine.documents import rag
        from engine.runtime.remote import estimate_tokens

        ask = rag.Ask(self.ws, self.prompt, k=self.settings.k, mode=self.settings.search_mode)
        frame, hits, scores = ask.retrieve([])
        run.search_query = frame.search_query
        self._lang = ask.lang
        bar = ask.bar()  # the same refusal bar as a document answer (the workspace's own when fitted)
        if max(scores, default=0.0) < bar:
            run.refused = True
            return
        relevant = [h for h, s in zip(hits, scores) if s >= bar * 0.8][: self.settings.k]
        # Counted with one model-independent estimate, so the source list cannot depend on which model
        # happens to be first.
        counter = type("Counter", (), {"count_tokens": staticmethod(estimate_tokens)})()
        self._sources = rag.select_sources(counter, relevant, rag.SOURCE_BUDGET_TOKENS)
        run.sources = [{"number": s.number, "chunk_id": s.chunk_id, "path": s.path, "page": s.page,
                        "text": s.text} for s in self._sources]
        self._messages = rag.build_messages(self._sources, [], self.prompt)
        self.settings.system_prompt = rag.SYSTEM

    # -- one column ---------------------------------------------------------------------------
    def _column(self, run: CompareRun, column: Column, cancel: Callable[[], bool] | None,
                track_peak: bool) -> Iterator[Event]:
        """Yields one model's ColumnStarted and Pieces; fills the column (a failure stays in it)."""
        column.status = "running"
        yield ColumnStarted(column.position)
        stats = RunStats(column.model)
        pieces: list[str] = []
        tracked = track_peak and _reset_peak()
        try:
            if run.refused:
                from engine.documents.phrases import phrase

                column.text = column.raw_text = phrase("refusal", self._lang)
                column.status = "done"
                column.checks = {"refused": True, "supported_share": 0.0}
                yield Piece(column.position, column.text)
                return
            started = time.perf_counter()
            model = self.loader(column.model)
            stats.load_ms = (time.perf_counter() - started) * 1000
            tokens = model.prompt_tokens(model.render(self._messages))
            model.ensure_fits(len(tokens))
            params = self.settings.generation()
            params.max_tokens = max(1, min(params.max_tokens, model.n_ctx - len(tokens) - 1))
            for piece in model.stream_tokens(tokens, params, cancel, stats):
                pieces.append(piece)
                yield Piece(column.position, piece)
            column.status = "cancelled" if stats.stop_reason == "cancelled" else "done"
            column.raw_text = column.text = "".join(pieces).strip()
        except QuarryError as exc:
            column.status = "failed"
            column.error = first_line(exc)
            column.raw_text = column.text = "".join(pieces).strip()
        finally:
            figures = stats.to_dict()
            figures["load_ms"] = round(stats.load_ms, 1)
            peak = peak_rss_bytes() if tracked else None
            figures["peak_rss_mb"] = round(peak / 2**20, 1) if peak else None
            column.stats = figures
        if self.settings.rag and column.status == "done":
            self._check(column)
        if self.reference is not None and column.status == "done":
            from engine.compare.agreement import agreement

            try:
                encoder = self.ws.encoder()
            except QuarryError:  # no encoder provisioned: "contains" still says something
                encoder = None
            column.checks.update(agreement(column.raw_text, self.reference, encoder))

    def _check(self, column: Column) -> None:
        """Runs the citation check every document answer gets; records the share of supported sentences."""
        from engine.documents.citations import check

        text, citations, sentences = check(column.raw_text, self._sources, self.ws.encoder())
        column.text = text
        supported = sum(1 for s in sentences if s.supported)
        column.checks = {"supported_share": round(supported / len(sentences), 3) if sentences else 0.0,
                         "sentences": len(sentences), "supported": supported,
                         "citations": [asdict(c) for c in citations],
                         "unsupported": [s.text for s in sentences if not s.supported]}

    def _store(self, column: Column) -> None:
        self.ws.store.add_compare_answer(self.run.id, column.position, column.model, column.label,
                                         column.status, column.text, column.raw_text, column.error,
                                         column.stats, column.checks)

    # -- the whole run ------------------------------------------------------------------------
    def events(self, cancel: Callable[[], bool] | None = None) -> Iterator[Event]:
        """Yields Started, then per column ColumnStarted / Piece... / ColumnFinished, then Finished."""
        self.run = run = self._prepare()
        yield Started(run)
        if run.concurrent:
            yield from self._concurrent(run, cancel)
        else:
            for column in run.columns:
                if cancel is not None and cancel():
                    column.status = "cancelled"
                else:
                    yield from self._column(run, column, cancel, track_peak=True)
                self._store(column)
                yield ColumnFinished(column)
        # a run cut off by cancel is not 'done': a resumed batch drops it and runs its prompt again
        cut = any(c.status == "cancelled" for c in run.columns)
        self.ws.store.finish_compare_run(run.id, "cancelled" if cut else "done")
        yield Finished(run)

    def _concurrent(self, run: CompareRun, cancel) -> Iterator[Event]:
        events: queue.Queue = queue.Queue()
        done = object()

        def work(column: Column) -> None:
            try:
                for event in self._column(run, column, cancel, track_peak=False):
                    events.put(event)
            except BaseException as exc:  # a bug in one column must not hang the others' consumer
                column.status, column.error = "failed", f"bug: {type(exc).__name__}: {exc}"
            events.put((done, column))

        threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in run.columns]
        for t in threads:
            t.start()
        remaining = len(threads)
        while remaining:
            item = events.get()
            if isinstance(item, tuple) and item[0] is done:
                remaining -= 1
                self._store(item[1])
                yield ColumnFinished(item[1])
            else:
                yield item

    def run_all(self, cancel: Callable[[], bool] | None = None) -> CompareRun:
        """Runs to the end without streaming; gives the run."""
        for _ in self.events(cancel):
            pass
        return self.run
