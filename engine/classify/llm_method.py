"""LLM: the chat model answers with a label under a llama.cpp grammar that admits only the label names.

The instruction and few-shot examples form a prompt prefix decoded into the KV cache once; each text then
costs only its own tokens plus a few label tokens. Candidates at each step are the next tokens of the label
names (a token trie); llama.cpp's grammar sampler judges them, so no other string can come out. The
confidence is the probability the model gives the chosen label's tokens among the allowed ones."""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.classify.base import ClassifyError, Examples, Method
from engine.models import catalog

SHOTS_PER_LABEL = 2
SHOT_CHARS = 160
TEXT_TOKENS = 256  # a text longer than this is cut: the label rarely depends on its tail
_MARK = "\x00QUARRY_TEXT\x00"
_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])


def load_model(model_id: str):
    """Gives the chat model in its own 'classify' slot (own KV cache)."""
    from engine.runtime import pool

    return pool.get(model_id, slot="classify")


def _is_remote(model) -> bool:
    from engine.runtime.remote import RemoteLLM

    return bool(getattr(model, "remote", False)) or isinstance(model, RemoteLLM)


def gbnf(labels: Sequence[str]) -> str:
    """Gives the GBNF grammar admitting exactly the label names."""
    def literal(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return "root ::= " + " | ".join(literal(label) for label in labels)


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    labels: set[int] = field(default_factory=set)   # labels whose tokens pass through this node
    terminal: int | None = None                      # the label that ends here


class LLMMethod(Method):
    name = "llm"
    needs_examples = False

    def __init__(self, model_id: str | None = None, use_cache: bool = True) -> None:
        super().__init__()
        self.model_id = model_id or catalog.DEFAULTS["llm"]
        self.use_cache = use_cache
        self.model = None
        self._root = _Node()
        self._head: list[int] = []
        self._tail: list[int] = []
        self.prefix_tokens = 0

    def fit(self, data: Examples) -> LLMMethod:
        if len(data.labels) < 2:
            raise ClassifyError(f"the label set has {len(data.labels)} label; a classifier needs at least two")
        if any(not label.strip() for label in data.labels):
            raise ClassifyError("a label name is blank; rename it")
        self.labels = list(data.labels)
        model = load_model(self.model_id)
        if _is_remote(model):  # the method walks llama.cpp's logits and KV cache, which only a local model has
            raise ClassifyError(f"the llm method needs a local GGUF model; '{self.model_id}' is remote (a server);"
                                " pick a local chat model (`quarry models list` shows them)")
        self.model = model
        listing = "\n".join(f"- {label}" + (f": {data.descriptions[label]}" if data.descriptions.get(label) else "")
                            for label in self.labels)
        messages = [{"role": "system", "content": "You sort texts into categories. Answer with exactly one "
                     f"label from this list and nothing else:\n{listing}"}]
        shown: dict[str, int] = {}
        for text, label in zip(data.texts, data.y):
            if shown.get(label, 0) >= SHOTS_PER_LABEL or not text:
                continue
            shown[label] = shown.get(label, 0) + 1
            messages += [{"role": "user", "content": text[:SHOT_CHARS]}, {"role": "assistant", "content": label}]
        messages.append({"role": "user", "content": _MARK})
        rendered = model.render(messages)
        head, tail = rendered.split(_MARK)
        self._head = model.prompt_tokens(head)
        self._tail = model.tokenize(tail)
        self.prefix_tokens = len(self._head)
        model.ensure_fits(len(self._head) + TEXT_TOKENS + len(self._tail) + 16)
        self._root = _Node()
        for index, label in enumerate(self.labels):
            node = self._root
            node.labels.add(index)
            for token in model.tokenize(label):
                node = node.children.setdefault(token, _Node())
                node.labels.add(index)
            node.terminal = index
        self._grammar_text = gbnf(self.labels).encode("utf-8")
        return self

    def warm(self) -> None:
        """Decodes the instruction prefix into the KV cache now, so the first text pays only for itself."""
        self.model.prefill(list(self._head))

    def scores(self, inputs: Sequence[str]) -> np.ndarray:
        # Batches repeat texts ("refund please" in a ticket export); greedy decoding gives a text the same
        # scores each time, so each distinct text is decoded once.
        distinct = {text: None for text in inputs}
        for text in distinct:
            distinct[text] = self._classify(text)
        return np.array([distinct[text] for text in inputs])

    def _classify(self, text: str) -> np.ndarray:
        model = self.model
        pinned = getattr(model, "_pinned", contextlib.nullcontext)  # the pool may have released the context
        with model._lock, pinned():
            lib = model._lib
            grammar = lib.llama_sampler_init_grammar(model._vocab, self._grammar_text, b"root")
            if not grammar:
                raise ClassifyError("llama.cpp rejected the label grammar; rename labels to plain words")
            try:
                return self._walk(model, lib, grammar, text)
            finally:
                lib.llama_sampler_free(grammar)

    def _walk(self, model, lib, grammar, text: str) -> np.ndarray:
        """Decodes the text after the cached prefix, then the label tokens the grammar allows."""
        tokens = self._head + model.tokenize(text)[:TEXT_TOKENS] + self._tail
        probs = np.zeros(len(self.labels))
        eos = lib.llama_vocab_eos(model._vocab)
        if not self.use_cache:
            model._forget_from(0)
        keep = model._reuse_prefix(tokens)
        model._decode(tokens[keep:])
        node, mass = self._root, 1.0
        pending: list[int] = []  # label tokens taken without a choice, decoded only when logits are needed
        while True:
            candidates = list(node.children)
            if node.terminal is not None:
                if not candidates:
                    break
                candidates.append(eos)
            elif len(candidates) == 1:  # one way on: its probability is 1, no logits (no decode) needed
                token = candidates[0]
                lib.llama_sampler_accept(grammar, token)
                pending.append(token)
                node = node.children[token]
                continue
            if pending:
                model._decode(pending)
                pending = []
            logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(model._ctx, -1),
                                           shape=(lib.llama_vocab_n_tokens(model._vocab),))
            data = np.zeros(len(candidates), dtype=_TOKEN_DATA)
            data["id"] = candidates
            data["logit"] = logits[candidates]
            array = lib.llama_token_data_array(
                data.ctypes.data_as(lib.llama_token_data_p), len(candidates), -1, False)
            lib.llama_sampler_apply(grammar, ctypes.byref(array))
            allowed = np.isfinite(data["logit"])
            if not allowed.any():  # the grammar saw another tokenization; the trie still holds
                data["logit"] = logits[candidates]
                allowed[:] = True
            weights = np.where(allowed, np.exp(data["logit"] - data["logit"][allowed].max()), 0.0)
            weights /= weights.sum()
            for token, weight in zip(candidates, weights):  # labels off the chosen branch keep
                branch = node.children.get(token)           # the mass of where they split off
                if branch is not None:
                    for index in branch.labels:
                        probs[index] = mass * weight
                elif node.terminal is not None:
                    probs[node.terminal] = mass * weight
            pick = int(np.argmax(weights))
            token = candidates[pick]
            mass *= float(weights[pick])
            if token == eos:
                break
            lib.llama_sampler_accept(grammar, token)
            node = node.children[token]
            pending.append(token)
        chosen = node.terminal
        probs[chosen] = mass
        total = probs.sum()
        return probs / total if total > 0 else probs
