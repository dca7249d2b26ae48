"""Shared fixtures: the user's own config and workspace never leak in; one real demo workspace per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Under pytest-xdist each worker runs its own llama.cpp and ONNX Runtime: with a thread per CPU in every
# worker, 2 workers on 2 cores run 4 spinning decode threads, and a test file took 5x as long (387 s vs
# 75 s for test_compare + test_rag). Each worker gets its share of the CPUs instead (unless set already).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and not os.environ.get("QUARRY_THREADS"):
    from engine import cpus as _cpus

    os.environ["QUARRY_THREADS"] = str(max(1, _cpus.usable() // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    _cpus.usable.cache_clear()

from engine import locations
from engine.models import catalog

REPO = Path(__file__).resolve().parent.parent
# Every DuckDB write outside store.writing() raises in tests and their subprocesses (engine/store/writer.py).
os.environ["QUARRY_STRICT_WRITES"] = "1"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Points config, default workspace, the log and the user's own model list at temporary files for every test
    (and the subprocesses it starts, which inherit the environment): a developer's `quarry models add` or
    `add-remote` never reaches a test, and no test writes the developer's models/user-models.toml."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("QUARRY_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("QUARRY_WORKSPACE", str(home / "workspace"))
    monkeypatch.setenv("QUARRY_USER_MODELS", str(home / "user-models.toml"))
    monkeypatch.setenv("QUARRY_STATE", str(home / "state"))  # the log
    yield home


@pytest.fixture
def user_models(isolated_user_dirs) -> Path:
    """The test's own user-models file (`quarry models add` / `add-remote` write it); absent until written."""
    return Path(os.environ["QUARRY_USER_MODELS"])


def require_models(*ids: str) -> None:
    for model_id in ids:
        state = catalog.status(catalog.get(model_id)).state
        if state != "ready":
            pytest.fail(f"model {model_id} is {state}: run `make setup` (the test command does it)")


@pytest.fixture(scope="session")
def chat_model():
    """The real SmolLM2 GGUF through llama.cpp, loaded once: the pool's chat slot, as the app gets it."""
    from engine.runtime import pool

    require_models("smollm2-135m")
    return pool.get("smollm2-135m", slot="chat")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server over SmolLM2 on loopback, with an API key (compare).
    Per module, not per session: an idle server still takes a fifth of a core, which the rest of the
    suite would pay for."""
    from tests.remote_server import llama_server as serve

    require_models("smollm2-135m")
    with serve(catalog.get("smollm2-135m").model_path, tmp_path_factory.mktemp("server") / "server.log") as info:
        yield info


@pytest.fixture(scope="session")
def encoder():
    """The real ONNX MiniLM encoder."""
    from engine.runtime.encoder import Encoder

    require_models("minilm-l6")
    return Encoder("minilm-l6")


@pytest.fixture(scope="session")
def demo_workspace_dir(tmp_path_factory) -> Path:
    """A workspace built once per session from the demo corpus, with real indexes."""
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace

    require_models("minilm-l6")
    root = tmp_path_factory.mktemp("demo-ws")
    with Workspace(root) as ws:
        for _ in ingest_paths(ws, [locations.demo_corpus()]):
            pass
    return root


@pytest.fixture
def demo_root(demo_workspace_dir, tmp_path) -> Path:
    """A private copy of the session's demo workspace, not opened: for an app or a CLI run that opens it
    (anything that may write, the TUI above all, gets a copy; the session's own stays as built)."""
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    return root


@pytest.fixture
def demo_workspace(demo_root):
    """A private copy of the session's demo workspace, open."""
    from engine.workspace import Workspace

    ws = Workspace(demo_root)
    yield ws
    ws.close()


@pytest.fixture
def tmp_models_dir(tmp_path, monkeypatch) -> Path:
    """An empty models folder (provisioning lands here); the downloaded packages stay cached."""
    target = tmp_path / "models"
    target.mkdir()
    monkeypatch.setenv("QUARRY_MODELS_DIR", str(target))
    monkeypatch.setenv("QUARRY_USER_MODELS", str(target / "user-models.toml"))  # where it lies by default
    return target


@contextlib.contextmanager
def workspace_held_elsewhere(root: Path):
    """Keeps a workspace open for writing in another process while the block runs."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from engine.workspace import Workspace
        ws = Workspace({str(root)!r})
        print("open", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=quarry_env())
    try:
        assert holder.stdout.readline().strip() == "open"
        yield
    finally:
        holder.communicate("\n", timeout=30)


def quarry_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
