"""Remote chat models: an OpenAI-compatible streaming client (llama.cpp's server, vLLM) with the API of
engine.runtime.llama.LLM, so every pane can use a model that runs on another machine.

The catalog entry (`kind = "remote"`) names the server's URL, the model name it serves, and optionally the
environment variable that holds an API key. The key is read when a request is sent and is never stored,
logged or put into an error message.

Prompts cannot be tokenized here (the server holds the tokenizer), so `render` gives the chat messages as
JSON text and `prompt_tokens` gives a `RemotePrompt`: a list whose length estimates the tokens and which
carries the messages. Code written for llm.LLM (render -> prompt_tokens -> stream_tokens) works unchanged.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from engine.errors import ContextOverflow, QuarryError
from engine.models import catalog
from engine.runtime.generation import CancelCheck, GenerationParams, RunStats

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_N_CTX = 4096
_RENDERED = "quarry-remote-chat:"


class RemoteError(QuarryError):
    """A remote model server that cannot be reached or answers wrongly; the message names URL and fix."""


def estimate_tokens(text: str) -> int:
    """Gives a cautious token count without a tokenizer: ~4 characters of ASCII a token, one per other
    character (Chinese runs close to one token per character on small models' vocabularies)."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return ascii_chars // 4 + (len(text) - ascii_chars) + 1


class RemotePrompt(list):
    """Stands in for prompt tokens: `len()` is an estimate, `.messages` is what is sent."""

    def __init__(self, messages: list[dict]) -> None:
        estimate = sum(estimate_tokens(m.get("content", "")) + 4 for m in messages)
        super().__init__([0] * estimate)
        self.messages = messages


def chat_url(url: str) -> str:
    """Gives the chat-completions endpoint of a server given by its base URL (with or without /v1)."""
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


class RemoteLLM:
    """A chat model behind an OpenAI-compatible HTTP server; not thread-safe: one generation at a time."""

    def __init__(self, model_id: str) -> None:
        entry = catalog.get(model_id)
        if entry.kind != "remote" or not entry.url:
            raise QuarryError(f"model '{model_id}' is not a remote model; add one with "
                              "`quarry models add-remote URL --name NAME`")
        self.model_id = model_id
        self.entry = entry
        self.url = chat_url(entry.url)
        self.api_model = entry.api_model or model_id
        self.timeout_s = float(entry.timeout_s or DEFAULT_TIMEOUT_S)
        self.n_ctx = int(entry.n_ctx or DEFAULT_N_CTX)
        self.instruct = True
        self.threads = 0
        self.n_gpu_layers = 0
        self.load_ms = 0.0  # nothing is loaded here; the server holds the weights
        self.remote = True

    # -- the llm.LLM surface ------------------------------------------------------------------
    def render(self, messages: Sequence[dict]) -> str:
        """Gives the chat as text (the server applies its own chat template)."""
        return _RENDERED + json.dumps([{"role": m["role"], "content": m["content"]} for m in messages],
                                      ensure_ascii=False)

    def prompt_tokens(self, prompt: str) -> RemotePrompt:
        if prompt.startswith(_RENDERED):
            return RemotePrompt(json.loads(prompt[len(_RENDERED):]))
        return RemotePrompt([{"role": "user", "content": prompt}])

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        """Gives stand-in tokens: as many as the text is estimated to have (a rendered chat: its messages)."""
        if text.startswith(_RENDERED):
            return self.prompt_tokens(text)
        return [0] * estimate_tokens(text)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def ensure_fits(self, prompt_tokens: int) -> None:
        if prompt_tokens + 1 > self.n_ctx:
            raise ContextOverflow(f"the prompt has about {prompt_tokens} tokens, more than the "
                                  f"{self.n_ctx}-token context of model '{self.model_id}'; shorten it")

    def prefill(self, tokens: list[int]) -> int:
        """Does nothing: a remote server keeps its own cache."""
        return 0

    def stream_tokens(self, prompt_tokens: list[int], params: GenerationParams | None = None,
                      cancel: CancelCheck | None = None, stats: RunStats | None = None) -> Iterator[str]:
        if not isinstance(prompt_tokens, RemotePrompt):
            raise TypeError("a remote model takes the RemotePrompt that its prompt_tokens() gives")
        self.ensure_fits(len(prompt_tokens))
        yield from self.stream_chat(prompt_tokens.messages, params, cancel, stats)

    def stream_chat(self, messages: Sequence[dict], params: GenerationParams | None = None,
                    cancel: CancelCheck | None = None, stats: RunStats | None = None) -> Iterator[str]:
        """Yields text pieces of the server's reply to a chat; fills `stats` as it goes."""
        params = params or GenerationParams()
        stats = stats if stats is not None else RunStats(self.model_id)
        stats.model = self.model_id
        body = {"model": self.api_model, "messages": [{"role": m["role"], "content": m["content"]}
                                                      for m in messages],
                "stream": True, "max_tokens": params.max_tokens, "temperature": params.temperature,
                "top_p": params.top_p, "top_k": params.top_k, "repeat_penalty": params.repeat_penalty,
                "seed": params.seed, "stream_options": {"include_usage": True}}
        if params.stop:
            body["stop"] = [s for s in params.stop if s]
        started = time.perf_counter()
        first_at = None
        stats.stop_reason = ""
        pieces = 0
        try:
            with self._open(body) as response:
                for event in _events(response, self._fail):
                    if cancel is not None and cancel():
                        stats.stop_reason = "cancelled"
                        break
                    if event is None:  # [DONE]
                        break
                    if "error" in event:
                        raise self._fail(f"the server failed mid-answer: {_error_text(event['error'])}")
                    usage = event.get("usage")
                    if usage:
                        stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
                        stats.completion_tokens = int(usage.get("completion_tokens") or pieces)
                    for choice in event.get("choices") or ():
                        delta = choice.get("delta") or {}
                        text = delta.get("content") or ""
                        if text:
                            if first_at is None:
                                first_at = time.perf_counter()
                                stats.ttft_ms = (first_at - started) * 1000
                            pieces += 1
                            stats.completion_tokens = max(stats.completion_tokens, pieces)
                            yield text
                        reason = choice.get("finish_reason")
                        if reason:
                            stats.stop_reason = {"stop": "eos", "length": "length"}.get(reason, reason)
                else:
                    if not stats.stop_reason:
                        if not pieces:
                            self._explain_empty_stream(body)
                        raise self._fail("the server closed the stream mid-answer (no end marker)")
        finally:
            ended = time.perf_counter()
            stats.total_ms = (ended - started) * 1000
            if first_at is not None and stats.completion_tokens > 1:
                stats.tokens_per_s = (stats.completion_tokens - 1) / max(ended - first_at, 1e-9)
            elif stats.completion_tokens:
                stats.tokens_per_s = stats.completion_tokens / max(ended - started, 1e-9)
        if not stats.prompt_tokens:
            stats.prompt_tokens = len(RemotePrompt(list(messages)))

    def chat(self, messages: Sequence[dict], params: GenerationParams | None = None) -> tuple[str, RunStats]:
        """Gives the whole reply and its stats."""
        stats = RunStats(self.model_id)
        text = "".join(self.stream_chat(messages, params, stats=stats))
        return text, stats

    def close(self) -> None:
        """Nothing to free: connections are opened per request."""

    # -- HTTP ---------------------------------------------------------------------------------
    def _fail(self, what: str) -> RemoteError:
        return RemoteError(f"remote model '{self.model_id}' at {self.url}: {what}")

    def _explain_empty_stream(self, body: dict) -> None:
        """Raises the server's own error for a request whose stream ended before any text.

        Some servers (llama-cpp-python's) can only fail a streamed request by closing it, for example
        when the prompt is over their context; the same request unstreamed gets the HTTP error that
        says why, which is what the user needs to read."""
        plain = {k: v for k, v in body.items() if k != "stream_options"} | {"stream": False, "max_tokens": 1}
        with self._open(plain) as response:
            response.read()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        env = self.entry.api_key_env
        if env:
            key = os.environ.get(env)
            if not key:
                raise self._fail(f"its API key variable {env} is not set; export {env}=... and try again")
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _open(self, body: dict) -> http.client.HTTPResponse:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self._fail("not an http(s) URL; re-add it with `quarry models add-remote URL --name NAME`")
        try:
            port = parts.port
        except ValueError:
            raise self._fail("the URL's port is not a number; re-add it with `quarry models add-remote`") from None
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
        conn = cls(parts.hostname, port, timeout=self.timeout_s, **kwargs)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("POST", path, body=json.dumps(body).encode("utf-8"), headers=self._headers())
            response = conn.getresponse()
        except ConnectionRefusedError:
            conn.close()
            raise self._fail("connection refused; start the server or fix the URL") from None
        except TimeoutError:
            conn.close()
            raise self._fail(f"no reply within {self.timeout_s:g} s; the server is slow or hung "
                             "(raise timeout_s in its catalog entry)") from None
        except socket.gaierror:
            conn.close()
            raise self._fail(f"unknown host '{parts.hostname}'; fix the URL") from None
        except OSError as exc:
            conn.close()
            raise self._fail(f"cannot connect ({exc.strerror or exc}); check the server") from None
        except http.client.HTTPException as exc:  # e.g. the port answers, but not in HTTP
            conn.close()
            raise self._fail(f"the reply is not HTTP ({type(exc).__name__}); is the URL an OpenAI-compatible "
                             "server?") from None
        if response.status != 200:
            detail = _error_snippet(response)
            conn.close()
            if response.status in (401, 403):
                raise self._fail(f"HTTP {response.status} (not authorised: {detail}); "
                                 "check the API key variable in its catalog entry")
            raise self._fail(f"HTTP {response.status} ({detail})")
        return _Closing(response, conn)


class _Closing:
    """A response that closes its connection on exit (also when the reader stops early)."""

    def __init__(self, response: http.client.HTTPResponse, conn: http.client.HTTPConnection) -> None:
        self.response = response
        self.conn = conn

    def __enter__(self) -> http.client.HTTPResponse:
        return self.response

    def __exit__(self, *exc) -> None:
        self.conn.close()


def _error_text(error) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)[:200]
    return str(error)[:200]


def _error_snippet(response: http.client.HTTPResponse) -> str:
    try:
        raw = response.read(2000).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return response.reason or "no detail"
    try:
        data = json.loads(raw)
        if isinstance(data, dict) and "error" in data:
            return _error_text(data["error"])
        if isinstance(data, dict) and "detail" in data:
            return str(data["detail"])[:200]
    except ValueError:
        pass
    return " ".join(raw.split())[:200] or (response.reason or "no detail")


def _events(response: http.client.HTTPResponse, fail) -> Iterator[dict | None]:
    """Yields each server-sent event's JSON (None for [DONE]); raises RemoteError on a broken stream."""
    while True:
        try:
            line = response.readline()
        except TimeoutError:
            raise fail("the server stopped sending mid-answer (timed out)") from None
        except (http.client.IncompleteRead, http.client.HTTPException, OSError):
            raise fail("the server closed the stream mid-answer") from None
        if not line:
            return
        line = line.strip()
        if not line or line.startswith(b":"):
            continue
        if not line.startswith(b"data:"):
            if line.startswith((b"event:", b"id:", b"retry:")):
                continue
            raise fail(f"malformed stream line {line[:60]!r}; is this an OpenAI-compatible server?")
        data = line[5:].strip()
        if data == b"[DONE]":
            yield None
            return
        try:
            event = json.loads(data)
        except ValueError:
            raise fail(f"malformed JSON in the stream ({data[:60]!r}); is this an OpenAI-compatible "
                       "server?") from None
        if not isinstance(event, dict):
            raise fail("malformed stream event (not a JSON object)")
        yield event
