"""A real OpenAI-compatible server for tests: llama-cpp-python's own server over SmolLM2 on loopback."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

KEY_ENV = "QUARRY_TEST_KEY"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int, key: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {key}"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def llama_server(model_path: Path, log: Path, n_ctx: int = 1024, threads: int = 2) -> Iterator[dict]:
    """Runs `python -m llama_cpp.server` on a free loopback port with an API key; gives its URL and key.

    The key is put in the environment variable KEY_ENV, as a user would export it."""
    key = "quarry-test-" + os.urandom(6).hex()
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
           "--n_threads_batch", str(threads), "--api_key", key, "--model_alias", "smollm2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while not _ready(port, key):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"llama_cpp.server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.2)
            os.environ[KEY_ENV] = key
            yield {"url": f"http://127.0.0.1:{port}/v1", "port": port, "key": key, "key_env": KEY_ENV,
                   "n_ctx": n_ctx}
        finally:
            os.environ.pop(KEY_ENV, None)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
