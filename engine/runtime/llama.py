"""llama.cpp runtime: load a GGUF, render its chat template, stream tokens with a thin decode loop, stats.

The loop talks to llama.cpp's C API directly (decode, sampler chain, token pieces) because the
high-level `create_chat_completion` costs ~5-7% of decode speed and ~60 ms of time to first token.
The tokens already in the KV cache are remembered, so a prompt that extends the previous one (a
follow-up turn, the same system prompt and sources) only decodes what is new.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import threading
import time
from collections.abc import Iterator, Sequence

from engine.errors import ContextOverflow, ModelCorrupt
from engine.models import catalog
from engine.models.catalog import GGUF_MAGIC
from engine.runtime.generation import CancelCheck, GenerationParams, RunStats

PENALTY_WINDOW = 64  # generated tokens the repeat penalty looks back over


class GreedyPicker:
    """Greedy decoding with llama.cpp's repeat penalty, read straight off the logits with numpy.

    llama.cpp's sampler chain copies every logit into a candidate array before it picks one: for Gemma's
    262,144-token vocabulary that is most of a millisecond per token, 4% of its decode on 2 cores. The
    pick is the same: the penalty (a logit over 0 divided by it, one at or under 0 multiplied) applies to
    the tokens among the last PENALTY_WINDOW picked, and the first highest logit wins, as in llama.cpp.
    """

    def __init__(self, lib, ctx, vocab, penalty: float) -> None:
        import numpy as np

        self._np = np
        self._lib, self._ctx = lib, ctx
        self._n_vocab = lib.llama_vocab_n_tokens(vocab)
        self._penalty = np.float32(penalty) if penalty and penalty != 1.0 else None
        self._recent: list[int] = []

    def pick(self) -> int:
        np = self._np
        logits = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self._ctx, -1), shape=(self._n_vocab,))
        if self._penalty is None or not self._recent:
            token = int(np.argmax(logits))
        else:
            window = np.fromiter(set(self._recent), dtype=np.int64)
            seen = logits[window]
            adjusted = logits.copy()
            adjusted[window] = np.where(seen <= 0, seen * self._penalty, seen / self._penalty)
            token = int(np.argmax(adjusted))
        if self._penalty is not None:
            self._recent.append(token)
            del self._recent[:-PENALTY_WINDOW]
        return token


def default_threads() -> int:
    """Gives physical-core-ish thread count: more threads than usable cores slow decode down."""
    from engine import cpus

    return max(1, min(cpus.usable(), 8))


def _gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def check_gguf(path) -> None:
    """Raises ModelCorrupt naming the file unless it starts with a GGUF header."""
    with open(path, "rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelCorrupt(f"{path}: not a GGUF model file (bad header)")


class Weights:
    """A GGUF's weights and vocabulary, loaded once and shared by every context (slot) over them."""

    def __init__(self, model_id: str, n_gpu_layers: int | None = None) -> None:
        entry = catalog.get(model_id)
        path = catalog.verify(entry)
        check_gguf(path)
        started = time.perf_counter()
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp._logger import set_verbose

        _backend_init()
        set_verbose(False)
        if n_gpu_layers is None:
            n_gpu_layers = -1 if _gpu_offload_supported() else 0
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0x7FFFFFFF if n_gpu_layers == -1 else n_gpu_layers
        try:
            self.model = _internals.LlamaModel(path_model=str(path), params=params, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelCorrupt(f"{path}: llama.cpp could not load this GGUF ({exc}); "
                               f"run `{catalog.fix_command(entry)}`") from None
        self.model_id = model_id
        self.entry = entry
        self.n_gpu_layers = n_gpu_layers
        self.vocab = self.model.vocab
        self.metadata = self.model.metadata()
        self.bytes = int(llama_cpp.llama_model_size(self.model.model))
        self.load_ms = (time.perf_counter() - started) * 1000

    def kv_bytes(self, n_ctx: int) -> int:
        """Gives the bytes of an f16 KV cache of n_ctx tokens (an upper bound for sliding-window layers)."""
        import llama_cpp

        model = self.model.model
        arch = self.metadata.get("general.architecture", "")
        n_head = max(1, llama_cpp.llama_model_n_head(model))
        head_dim = llama_cpp.llama_model_n_embd(model) // n_head
        k_dim = int(self.metadata.get(f"{arch}.attention.key_length", head_dim))
        v_dim = int(self.metadata.get(f"{arch}.attention.value_length", head_dim))
        per_token = llama_cpp.llama_model_n_layer(model) * llama_cpp.llama_model_n_head_kv(model) * (k_dim + v_dim)
        return int(n_ctx * per_token * 2)

    def close(self) -> None:
        self.model.close()


_backend_ready = False


def _backend_init() -> None:
    global _backend_ready
    if not _backend_ready:
        import llama_cpp

        llama_cpp.llama_backend_init()
        _backend_ready = True


class LLM:
    """A model with its own context and KV cache (one pool slot); one generation at a time.

    Several LLMs may share one `Weights` (the pool gives each (model, slot) its own context over the same
    weights, so one feature's warm prefix survives another's turn). A pooled LLM can be released by the
    pool while idle; its next use loads it again.
    """

    def __init__(self, model_id: str = catalog.DEFAULTS["llm"], n_ctx: int = 4096,
                 threads: int | None = None, n_gpu_layers: int | None = None,
                 weights: Weights | None = None, slot: str = "chat", pool=None) -> None:
        self.model_id = model_id
        self.slot = slot
        self.threads = threads or default_threads()
        self.n_ctx = n_ctx
        self._want_gpu_layers = n_gpu_layers
        self._pool = pool
        self._lock = threading.RLock()  # one generation at a time
        self._state = threading.Lock()  # guards load/release and the pin count
        self._pins = 0
        self._piece_buf = ctypes.create_string_buffer(64)
        self._cached: list[int] = []
        self._weights: Weights | None = None
        self._context = None
        self._owns_weights = False
        self.load_ms = 0.0
        self.last_used = time.monotonic()
        with self._state:
            self._attach(weights)

    # -- resources ----------------------------------------------------------------------------
    def _attach(self, weights: Weights | None) -> None:
        """Creates this slot's context over `weights` (loading them when None); caller holds _state."""
        import llama_cpp
        from llama_cpp import _internals

        started = time.perf_counter()
        self._owns_weights = weights is None
        weights = weights or Weights(self.model_id, self._want_gpu_layers)
        n_batch = min(self.n_ctx, 512)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = self.n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_threads = self.threads
        params.n_threads_batch = self.threads
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        try:
            context = _internals.LlamaContext(model=weights.model, params=params, verbose=False)
        except ValueError as exc:
            raise ModelCorrupt(f"model '{self.model_id}': llama.cpp could not create a context ({exc})") from None
        self._lib = llama_cpp
        self._weights = weights
        self._context = context
        self._ctx = context.ctx
        self._vocab = weights.vocab
        self.n_batch = n_batch
        self.n_ctx = int(llama_cpp.llama_n_ctx(self._ctx))
        self.n_gpu_layers = weights.n_gpu_layers
        self.instruct = weights.entry.instruct
        self._cached = []
        self.context_bytes = weights.kv_bytes(self.n_ctx)
        self._template = self._compile(weights.metadata.get("tokenizer.chat_template"))
        self._bos = self._piece_text(weights.model.token_bos())
        self._eos = self._piece_text(weights.model.token_eos())
        self.load_ms = (time.perf_counter() - started) * 1000 + (weights.load_ms if self._owns_weights else 0.0)

    def _detach(self) -> Weights | None:
        """Frees this slot's context and gives the weights it used; caller holds _state."""
        weights = self._weights
        if self._context is not None:
            self._context.close()
        self._context = self._ctx = self._weights = None
        self._cached = []
        if self._owns_weights and weights is not None:
            weights.close()
            return None
        return weights

    @property
    def resident(self) -> bool:
        """Tells whether this slot's context is in memory."""
        return self._context is not None

    @contextlib.contextmanager
    def _pinned(self):
        """Keeps the context loaded (reloading it through the pool when released) while the block runs."""
        with self._state:
            if self._context is None:
                if self._pool is None:
                    raise ModelCorrupt(f"model '{self.model_id}' was closed")
                self._pool._reload(self)
            self._pins += 1
        self.last_used = time.monotonic()
        try:
            yield
        finally:
            with self._state:
                self._pins -= 1

    def try_release(self) -> Weights | bool:
        """Frees the context unless it is in use; gives the weights it held, or False when busy."""
        if not self._state.acquire(blocking=False):
            return False
        try:
            if self._pins or self._context is None:
                return False
            return self._detach() or True
        finally:
            self._state.release()

    # -- text <-> tokens ----------------------------------------------------------------------
    def _piece(self, token: int) -> bytes:
        buf = self._piece_buf
        n = self._lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def _piece_text(self, token: int) -> str:
        if token < 0:
            return ""
        buf = ctypes.create_string_buffer(64)
        n = self._lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, True)
        return buf.raw[: max(n, 0)].decode("utf-8", "replace")

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        """Gives the model's tokens for a text, special tokens parsed."""
        with self._pinned():
            return self._weights.model.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def ensure_fits(self, prompt_tokens: int) -> None:
        """Raises ContextOverflow unless a prompt of this many tokens leaves room to answer."""
        if prompt_tokens + 1 > self.n_ctx:
            raise ContextOverflow(f"the prompt has {prompt_tokens} tokens, more than the "
                                  f"{self.n_ctx}-token context of model '{self.model_id}'; shorten it")

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    @staticmethod
    def _compile(source: str | None):
        """Gives the model's chat template compiled once (compiling costs more than rendering)."""
        if not source:
            return None
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise_template_error
        return env.from_string(source)

    def render(self, messages: Sequence[dict]) -> str:
        """Gives the prompt text for a chat, through the model's own chat template when it has one."""
        if self._template is not None:
            return self._template.render(messages=list(messages), add_generation_prompt=True,
                                         bos_token=self._bos, eos_token=self._eos)
        # A base model without a template: a plain transcript it can continue.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        return "\n".join(lines) + "\nAssistant:"

    def prompt_tokens(self, prompt: str) -> list[int]:
        """Gives the tokens of a rendered prompt, with BOS when the model wants one and it is not there."""
        with self._pinned():
            add_bos = bool(self._bos) and not prompt.startswith(self._bos) and self._adds_bos()
            return self.tokenize(prompt, add_bos=add_bos)

    def _adds_bos(self) -> bool:
        return bool(self._lib.llama_vocab_get_add_bos(self._vocab))

    # -- generation ---------------------------------------------------------------------------
    fast_greedy = True  # tests set it False on an instance to compare with llama.cpp's own sampler chain

    def _sampler(self, params: GenerationParams):
        lib = self._lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if params.repeat_penalty and params.repeat_penalty != 1.0:
            # The binding declares a leading n_vocab that newer llama.cpp dropped; ints and floats
            # travel in separate registers, so passing the window twice is right for both ABIs.
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_penalties(
                PENALTY_WINDOW, PENALTY_WINDOW, params.repeat_penalty, 0.0, 0.0))
        if params.temperature <= 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        else:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(params.top_k))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(params.top_p, 1))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(params.temperature))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(params.seed))
        return chain

    def _forget_from(self, position: int) -> None:
        if self._ctx is None:  # released: nothing is cached
            self._cached = []
            return
        lib = self._lib
        memory = lib.llama_get_memory(self._ctx)
        lib.llama_memory_seq_rm(memory, -1, position, -1)
        del self._cached[position:]

    def _decode(self, tokens: Sequence[int]) -> None:
        lib = self._lib
        n_batch = self.n_batch
        for start in range(0, len(tokens), n_batch):
            part = tokens[start : start + n_batch]
            array = (lib.llama_token * len(part))(*part)
            rc = lib.llama_decode(self._ctx, lib.llama_batch_get_one(array, len(part)))
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with code {rc}")
            self._cached.extend(part)

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keeps the longest cached prefix of `tokens` (leaving one to decode) and gives its length."""
        keep = 0
        limit = min(len(self._cached), len(tokens) - 1)
        while keep < limit and self._cached[keep] == tokens[keep]:
            keep += 1
        self._forget_from(keep)
        return keep

    def prefill(self, tokens: list[int]) -> int:
        """Decodes a prompt prefix into the KV cache ahead of time (a system prompt at start-up), so the
        first real prompt that starts with it pays only for the rest; gives how many tokens it decoded."""
        with self._lock, self._pinned():
            self.ensure_fits(len(tokens))
            keep = self._reuse_prefix(tokens + [-1])  # the sentinel lets a fully cached prefix be kept whole
            self._decode(tokens[keep:])
            return len(tokens) - keep

    def stream_tokens(self, prompt_tokens: list[int], params: GenerationParams | None = None,
                      cancel: CancelCheck | None = None, stats: RunStats | None = None) -> Iterator[str]:
        """Yields text pieces of the answer to already tokenized prompt; fills `stats` as it goes."""
        params = params or GenerationParams()
        stats = stats if stats is not None else RunStats(self.model_id)
        stats.model, stats.threads, stats.n_gpu_layers = self.model_id, self.threads, self.n_gpu_layers
        lib = self._lib
        with self._lock, self._pinned():
            started = time.perf_counter()
            self.ensure_fits(len(prompt_tokens))
            budget = min(params.max_tokens, self.n_ctx - len(prompt_tokens))
            keep = self._reuse_prefix(prompt_tokens)
            stats.prompt_tokens, stats.cached_tokens = len(prompt_tokens), keep
            self._decode(prompt_tokens[keep:])
            greedy = GreedyPicker(self._lib, self._ctx, self._vocab, params.repeat_penalty) \
                if params.temperature <= 0 and self.fast_greedy else None
            sampler = self._sampler(params) if greedy is None else None
            utf8 = codecs.getincrementaldecoder("utf-8")("replace")
            stops = [s for s in params.stop if s]
            text, emitted = "", 0
            first_at = None
            stats.stop_reason = "length"
            try:
                for _ in range(budget):
                    if cancel is not None and cancel():
                        stats.stop_reason = "cancelled"
                        break
                    token = greedy.pick() if greedy is not None else lib.llama_sampler_sample(sampler, self._ctx, -1)
                    if lib.llama_vocab_is_eog(self._vocab, token):
                        stats.stop_reason = "eos"
                        break
                    piece = utf8.decode(self._piece(token))
                    stats.completion_tokens += 1
                    if first_at is None:
                        first_at = time.perf_counter()
                        stats.ttft_ms = (first_at - started) * 1000
                    if stops:
                        text += piece
                        hit = min((text.find(s) for s in stops if s in text), default=-1)
                        if hit >= 0:
                            if hit > emitted:
                                yield text[emitted:hit]
                            stats.stop_reason = "stop"
                            break
                        # hold back what could be the start of a stop string
                        safe = len(text) - max(len(s) for s in stops) + 1
                        if safe > emitted:
                            yield text[emitted:safe]
                            emitted = safe
                    elif piece:
                        yield piece
                    self._decode([token])
                if stops and stats.stop_reason != "stop" and len(text) > emitted:
                    yield text[emitted:]
            finally:
                if sampler is not None:
                    lib.llama_sampler_free(sampler)
                ended = time.perf_counter()
                stats.total_ms = (ended - started) * 1000
                if first_at is not None and stats.completion_tokens > 1:
                    stats.tokens_per_s = (stats.completion_tokens - 1) / max(ended - first_at, 1e-9)
                elif stats.completion_tokens:
                    stats.tokens_per_s = stats.completion_tokens / max(ended - started, 1e-9)

    def stream_chat(self, messages: Sequence[dict], params: GenerationParams | None = None,
                    cancel: CancelCheck | None = None, stats: RunStats | None = None) -> Iterator[str]:
        """Yields text pieces of the model's reply to a chat (list of {role, content})."""
        prompt = self.render(messages)
        yield from self.stream_tokens(self.prompt_tokens(prompt), params, cancel, stats)

    def chat(self, messages: Sequence[dict], params: GenerationParams | None = None) -> tuple[str, RunStats]:
        """Gives the whole reply and its stats."""
        stats = RunStats(self.model_id, load_ms=self.load_ms)
        text = "".join(self.stream_chat(messages, params, stats=stats))
        return text, stats

    def close(self) -> None:
        """Frees the context (and the weights when this LLM loaded its own)."""
        if self._pool is not None:
            self._pool.evict(self.model_id, self.slot)
            return
        with self._state:
            self._detach()


def _raise_template_error(message: str) -> None:
    raise ValueError(message)
