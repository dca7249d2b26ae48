"""The query path never imports torch or Ray; the TUI's first paint imports none of the engines."""

import json
import subprocess
import sys

from tests.conftest import quarry_env

HEAVY = ["torch", "sentence_transformers", "transformers", "ray"]


def modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=quarry_env(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_search_and_ask_do_not_import_torch(demo_workspace_dir, tmp_path):
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    loaded = modules_after(f"""
from engine.workspace import Workspace
from engine.documents.rag import Ask
from engine.runtime.generation import GenerationParams
ws = Workspace({str(root)!r})
ws.searcher().search("return window for opened electronics", 5)
Ask(ws, "What is the return window for opened electronics?", extractive=False).run(GenerationParams(max_tokens=8))
""")
    assert "onnxruntime" in loaded and "llama_cpp" in loaded
    assert not loaded & set(HEAVY)


def test_tui_module_imports_no_engine_runtime():
    loaded = modules_after("import tui.app")
    assert not loaded & {"duckdb", "faiss", "onnxruntime", "llama_cpp", "tantivy", "jieba", *HEAVY}


def test_first_paint_imports_no_engine_runtime(tmp_path):
    """What the first screen shows must not wait on the search engines (a scope line once imported the
    whole search stack at the chat pane's mount: 160 ms of the first paint)."""
    loaded = modules_after(f"""
from pathlib import Path
from tui.app import QuarryApp
class Timed(QuarryApp):
    def on_mount(self):
        self.call_after_refresh(self.exit)
Timed(Path({str(tmp_path / "ws")!r}), warm_models=False).run(headless=True)
""")
    assert "tui.panes.chat" in loaded
    assert not loaded & {"duckdb", "faiss", "onnxruntime", "llama_cpp", "tantivy", "jieba", "numpy",
                         "engine.documents.search", "engine.documents.scope", *HEAVY}
