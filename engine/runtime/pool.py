"""The model pool: loaded models under a memory budget, least recently used released first.

Each (model, slot) has its own llama.cpp context and KV cache over weights loaded once per model, so
the document-answer prefix warmed in the "rag" slot survives a turn of plain chat, of classify or of
another model. `loaded()` reports load time and resident bytes per (model, slot).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from dataclasses import dataclass

from engine.models import catalog
from engine.runtime.llama import LLM, Weights

DEFAULT_SLOT = "chat"
DEFAULT_N_CTX = 4096


@dataclass
class Loaded:
    """One resident (model, slot): what `quarry models loaded` and the settings screen show."""

    model_id: str
    slot: str
    load_ms: float
    resident_bytes: int  # this slot's KV cache, plus the shared weights for the model's first slot
    last_used: float  # time.monotonic() of the last use
    weights_bytes: int = 0
    context_bytes: int = 0


def machine_ram() -> int:
    """Gives the machine's physical memory in bytes (4 GiB when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def default_budget() -> int:
    """Gives the default memory budget for loaded models: a quarter of RAM, at least 1 GiB."""
    return max(1 << 30, machine_ram() // 4)


class Pool:
    """Loaded LLMs by (model, slot) within a memory budget; thread-safe."""

    def __init__(self, budget_bytes: int | None = None) -> None:
        self._budget = budget_bytes  # None: from the settings at first use
        self._lock = threading.RLock()
        self._slots: dict[tuple[str, str], LLM] = {}
        self._remotes: dict[str, object] = {}  # RemoteLLM by model id: no memory here, never released
        self._weights: dict[str, Weights] = {}
        self.loads = 0  # contexts created, reloads included (tests and benches read it)

    # -- public API ---------------------------------------------------------------------------
    def get(self, model_id: str, slot: str = DEFAULT_SLOT, n_ctx: int = DEFAULT_N_CTX,
            threads: int | None = None):
        """Gives the LLM of (model, slot), loading it (and releasing the least recently used ones past
        the budget) when it is not resident. A remote model gives a RemoteLLM with the same API."""
        entry = catalog.chat_entry(model_id)  # an encoder's id is one line, not "bad GGUF header"
        if entry.kind == "remote":
            return self._remote(entry)
        key = (model_id, slot)
        with self._lock:
            model = self._slots.get(key)
            if model is None:  # the first caller of a slot sets its context size and threads
                weights = self._weights_for(model_id)
                try:
                    model = LLM(model_id, n_ctx=n_ctx, threads=threads, weights=weights, slot=slot, pool=self)
                except BaseException:
                    # weights no slot uses would stay resident and count against the budget
                    if not any(m.model_id == model_id for m in self._slots.values()):
                        self._weights.pop(model_id, None)
                        weights.close()
                    raise
                self._slots[key] = model
                self.loads += 1
                self._fit(keep=model)
            model.last_used = time.monotonic()
        if not model.resident:
            # lock order: a slot's state, then the pool (as when a released LLM is used again)
            with model._state:
                if not model.resident:
                    self._reload(model)
        return model

    def loaded(self) -> list[Loaded]:
        """Gives every resident (model, slot), most recently used first."""
        with self._lock:
            rows, counted = [], set()
            for model in sorted(self._slots.values(), key=lambda m: -m.last_used):
                if not model.resident:
                    continue
                weights = 0
                if model.model_id not in counted:
                    weights = self._weights[model.model_id].bytes if model.model_id in self._weights else 0
                    counted.add(model.model_id)
                rows.append(Loaded(model.model_id, model.slot, round(model.load_ms, 1),
                                   weights + model.context_bytes, model.last_used, weights, model.context_bytes))
            return rows

    def resident_bytes(self) -> int:
        """Gives the memory held by loaded weights and contexts."""
        with self._lock:
            return self._resident()

    def evict(self, model_id: str, slot: str | None = None) -> int:
        """Releases a model's slots (one slot, or all) that are not generating; gives how many."""
        with self._lock:
            released = 0
            for (mid, s), model in list(self._slots.items()):
                if mid == model_id and (slot is None or s == slot) and model.resident:
                    released += bool(self._release(model))
            return released

    def configure(self, budget_bytes: int | None) -> None:
        """Sets the memory budget (None: the default from RAM) and releases what no longer fits."""
        with self._lock:
            self._budget = budget_bytes or default_budget()
            self._fit(keep=None)

    @property
    def budget_bytes(self) -> int:
        """Gives the memory budget: configured, else the `model_memory_mb` setting, else a quarter of RAM."""
        if self._budget is None:
            self._budget = _budget_from_settings()
        return self._budget

    def close(self) -> None:
        """Frees every context and all weights (at exit)."""
        with self._lock:
            for model in self._slots.values():
                self._release(model, force=True)
            self._slots.clear()
            self._remotes.clear()
            for weights in self._weights.values():
                weights.close()
            self._weights.clear()

    # -- internals ----------------------------------------------------------------------------
    def _remote(self, entry):
        from engine.runtime.remote import RemoteLLM

        with self._lock:
            if entry.id not in self._remotes:
                self._remotes[entry.id] = RemoteLLM(entry.id)
            return self._remotes[entry.id]

    def _weights_for(self, model_id: str) -> Weights:
        if model_id not in self._weights:
            self._weights[model_id] = Weights(model_id)
        return self._weights[model_id]

    def _resident(self) -> int:
        total = sum(w.bytes for w in self._weights.values())
        return total + sum(m.context_bytes for m in self._slots.values() if m.resident)

    def _reload(self, model: LLM) -> None:
        """Loads a released LLM again (its caller holds model._state)."""
        with self._lock:
            model._attach(self._weights_for(model.model_id))
            self.loads += 1
            model.last_used = time.monotonic()
            self._fit(keep=model)

    def _fit(self, keep: LLM | None) -> None:
        """Releases least recently used idle slots until the pool fits its budget (never `keep`)."""
        idle = sorted((m for m in self._slots.values() if m.resident and m is not keep),
                      key=lambda m: m.last_used)
        for model in idle:
            if self._resident() <= self.budget_bytes:
                break
            self._release(model)

    def _release(self, model: LLM, force: bool = False) -> bool:
        """Frees a slot's context unless it is generating (force: also then, at exit); frees the model's
        weights when no slot uses them any more. Gives whether it was released."""
        if not isinstance(model, LLM):
            return False
        if force:  # at exit: wait a little for a generation to notice, never forever
            if not model._state.acquire(timeout=2):
                return False
            try:
                model._detach()
            finally:
                model._state.release()
        elif model.try_release() is False:
            return False
        if not any(m.resident and m.model_id == model.model_id for m in self._slots.values()):
            weights = self._weights.pop(model.model_id, None)
            if weights is not None:
                weights.close()
        return True


def _budget_from_settings() -> int:
    from engine import settings
    from engine.errors import QuarryError

    try:
        megabytes = int(getattr(settings.load(), "model_memory_mb", 0) or 0)
    except QuarryError:  # a broken config file is reported by the fronts that load it
        megabytes = 0
    return megabytes << 20 if megabytes > 0 else default_budget()


_pool = Pool()
atexit.register(_pool.close)  # freed before interpreter teardown; llama.cpp's __del__ fails once its module is gone


def get(model_id: str, slot: str = DEFAULT_SLOT, n_ctx: int = DEFAULT_N_CTX, threads: int | None = None):
    """Gives the process's LLM for (model, slot); see Pool.get."""
    return _pool.get(model_id, slot, n_ctx, threads)


def loaded() -> list[Loaded]:
    """Gives the resident (model, slot)s of this process, most recently used first."""
    return _pool.loaded()


def evict(model_id: str, slot: str | None = None) -> int:
    """Releases a model's idle slots; gives how many."""
    return _pool.evict(model_id, slot)


def configure(budget_bytes: int | None) -> None:
    """Sets this process's model memory budget (None: a quarter of RAM)."""
    _pool.configure(budget_bytes)


def current() -> Pool:
    """Gives this process's pool (for reports and tests)."""
    return _pool
