"""Remote models: Quarry's OpenAI-compatible client against llama-cpp-python's own server on loopback over
SmolLM2, and against small loopback servers that refuse, hang, or break their streams."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest

from engine.models import catalog
from engine.runtime.generation import GenerationParams, RunStats
from engine.runtime.remote import RemoteError, RemoteLLM, estimate_tokens


class Misbehaving(http.server.BaseHTTPRequestHandler):
    """Answers chat completions wrongly, by the first part of the path."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = self.path.strip("/").split("/")[0]
        good = b'data: {"choices": [{"delta": {"content": "Hello"}, "finish_reason": null}]}\n\n'
        if kind == "http500":
            body = json.dumps({"error": {"message": "model crashed", "code": 500}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif kind == "malformed":
            self._stream_start()
            self._chunk(b"data: {not json at all\n\n")
            self._chunk(b"")
        elif kind == "midstream500":
            self._stream_start()
            self._chunk(good)
            self._chunk(b'data: {"error": {"message": "internal server error", "code": 500}}\n\n')
            self._chunk(b"")
        elif kind == "cut":
            self._stream_start()
            self._chunk(good)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif kind == "hang":
            time.sleep(3)


@pytest.fixture(scope="module")
def bad_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _remote(model_id: str, url: str, **kw) -> RemoteLLM:
    catalog.add_remote(url, "whatever", model_id, **kw)
    return RemoteLLM(model_id)


MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.mark.parametrize("kind,expected", [
    ("http500", "HTTP 500 (model crashed)"),
    ("malformed", "malformed JSON in the stream"),
    ("midstream500", "the server failed mid-answer: internal server error"),
    ("cut", "closed the stream mid-answer"),
])
def test_broken_servers_give_one_clear_line(user_models, bad_server, kind, expected):
    model = _remote(f"bad-{kind}", f"{bad_server}/{kind}/v1", timeout_s=5)
    with pytest.raises(RemoteError) as err:
        list(model.stream_chat(MESSAGES, GenerationParams(max_tokens=8)))
    message = str(err.value)
    assert expected in message and f"remote model 'bad-{kind}'" in message and "\n" not in message


def test_a_hung_server_times_out(user_models, bad_server):
    model = _remote("bad-hang", f"{bad_server}/hang/v1", timeout_s=0.5)
    started = time.perf_counter()
    with pytest.raises(RemoteError, match=r"no reply within 0.5 s"):
        list(model.stream_chat(MESSAGES))
    assert time.perf_counter() - started < 2.5


def test_a_refusing_server_says_so(user_models):
    model = _remote("bad-refuse", f"http://127.0.0.1:{_free_port()}/v1", timeout_s=2)
    with pytest.raises(RemoteError, match="connection refused; start the server or fix the URL"):
        list(model.stream_chat(MESSAGES))


def test_a_port_that_answers_but_not_in_http_says_so(user_models):
    """A loopback socket that greets like an SSH server: the client must not trip on the bad status line."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def greet() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    threading.Thread(target=greet, daemon=True).start()
    model = _remote("bad-proto", f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout_s=3)
    try:
        with pytest.raises(RemoteError, match="the reply is not HTTP"):
            list(model.stream_chat(MESSAGES))
    finally:
        listener.close()


def test_a_missing_key_variable_is_named(user_models, monkeypatch):
    monkeypatch.delenv("QUARRY_TEST_NO_KEY", raising=False)
    model = _remote("bad-key", "http://127.0.0.1:9/v1", api_key_env="QUARRY_TEST_NO_KEY")
    with pytest.raises(RemoteError, match="QUARRY_TEST_NO_KEY is not set"):
        list(model.stream_chat(MESSAGES))


def test_add_remote_checks_its_input(user_models):
    from engine.errors import QuarryError

    with pytest.raises(QuarryError, match="not an http"):
        catalog.add_remote("ftp://x", "m", "r1")
    with pytest.raises(QuarryError, match="not an environment variable name"):
        catalog.add_remote("http://x:1/v1", "m", "r1", api_key_env="sk-123 secret")
    with pytest.raises(QuarryError, match="the port is not a number"):
        catalog.add_remote("http://gpu:80a/v1", "m", "r1")
    entry = catalog.add_remote("http://gpu-box:8080/v1", "qwen", "team-qwen", api_key_env="TEAM_KEY", timeout_s=5)
    assert catalog.get("team-qwen") == entry and catalog.status(entry).state == "ready"
    assert "sk-" not in user_models.read_text()


def test_the_remote_prompt_estimates_tokens():
    model_prompt = RemoteLLM.__new__(RemoteLLM)
    rendered = RemoteLLM.render(model_prompt, [{"role": "user", "content": "你好，世界"}])
    prompt = RemoteLLM.prompt_tokens(model_prompt, rendered)
    assert prompt.messages == [{"role": "user", "content": "你好，世界"}]
    assert len(prompt) == estimate_tokens("你好，世界") + 4
    assert estimate_tokens("word " * 40) == 51


def test_stats_come_back_from_a_real_server(llama_server, user_models):
    model = _remote("loop-smol", llama_server["url"], api_key_env="QUARRY_TEST_KEY", timeout_s=60)
    stats = RunStats("loop-smol")
    pieces = list(model.stream_chat(MESSAGES, GenerationParams(max_tokens=12, temperature=0), stats=stats))
    assert "".join(pieces).strip()
    assert stats.ttft_ms > 0 and stats.completion_tokens > 0 and stats.prompt_tokens > 0
    assert stats.stop_reason in ("eos", "length")


def test_a_wrong_key_is_refused_by_the_server(llama_server, user_models, monkeypatch):
    monkeypatch.setenv("QUARRY_TEST_WRONG_KEY", "not-the-key")
    model = _remote("loop-wrong", llama_server["url"], api_key_env="QUARRY_TEST_WRONG_KEY")
    with pytest.raises(RemoteError, match="HTTP 401"):
        list(model.stream_chat(MESSAGES, GenerationParams(max_tokens=4)))


def test_chat_turns_can_use_a_remote_model(llama_server, user_models, tmp_path):
    from engine.documents.chat import Turn
    from engine.workspace import Workspace

    catalog.add_remote(llama_server["url"], "smollm2", "loop-chat", api_key_env=llama_server["key_env"])
    with Workspace(tmp_path / "ws") as ws:
        turn = Turn(ws, "Say hello.", model_id="loop-chat")
        text = "".join(turn.stream(GenerationParams(max_tokens=8, temperature=0)))
        assert text.strip() and turn.reply.stats.model == "loop-chat"
        assert [m.role for m in ws.store.messages(turn.reply.chat_id)] == ["user", "assistant"]
