"""Model faults: a truncated or foreign file is never registered as ready; every mistake is one line."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from engine.models import catalog
from tests.reliability.util import error_line, quarry


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def tiny_gguf(path: Path, elements: int = 4096, cut: int = 0) -> Path:
    """Writes a minimal GGUF v3 file: one metadata key and one float32 tensor; `cut` drops its last bytes."""
    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    header += _string("general.architecture") + struct.pack("<I", 8) + _string("llama")
    header += _string("weights") + struct.pack("<I", 1) + struct.pack("<Q", elements) + struct.pack("<IQ", 0, 0)
    header += b"\x00" * (-len(header) % 32)
    data = header + struct.pack(f"<{elements}f", *([0.5] * elements))
    path.write_bytes(data[: len(data) - cut] if cut else data)
    return path


@pytest.fixture
def models_dir(tmp_models_dir):
    return tmp_models_dir


def test_a_truncated_gguf_is_not_registered(models_dir, tmp_path):
    path = tiny_gguf(tmp_path / "half.gguf", cut=8000)
    error_line(quarry("models", "add", path, "--id", "half"), "half.gguf", "truncated", code=1)
    assert "half" not in catalog.load()


def test_a_gguf_cut_inside_its_header_is_not_registered(models_dir, tmp_path):
    path = tiny_gguf(tmp_path / "stub.gguf")
    path.write_bytes(path.read_bytes()[:30])
    error_line(quarry("models", "add", path), "stub.gguf", "truncated", code=1)


def test_a_whole_gguf_is_registered_as_ready(models_dir, tmp_path):
    path = tiny_gguf(tmp_path / "whole.gguf")
    ran = quarry("models", "add", path, "--id", "whole")
    assert ran.code == 0, ran.stderr
    assert catalog.status(catalog.get("whole")).state == "ready"


@pytest.mark.parametrize("name,data,needle", [
    ("notes.gguf", b"hello, not a model", "not a GGUF"),
    ("weights.bin", b"\x00" * 64, "not a GGUF"),
    ("model.onnx", b"\x08\x01", "tokenizer.json"),
])
def test_a_file_that_is_not_a_model_is_one_line(models_dir, tmp_path, name, data, needle):
    path = tmp_path / name
    path.write_bytes(data)
    error_line(quarry("models", "add", path), name, needle, code=1)


def test_a_missing_model_file_is_one_line(models_dir, tmp_path):
    error_line(quarry("models", "add", tmp_path / "nope.gguf"), "nope.gguf", code=1)


def test_a_shipped_id_cannot_be_taken(models_dir, tmp_path):
    path = tiny_gguf(tmp_path / "mine.gguf")
    error_line(quarry("models", "add", path, "--id", catalog.DEFAULTS["llm"]), "shipped model id", code=1)


def test_an_unknown_model_is_one_line(models_dir):
    error_line(quarry("models", "pull", "no-such-model"), "no-such-model", code=1)


def test_a_broken_user_models_file_is_one_line(models_dir):
    (models_dir / "user-models.toml").write_text("[[model]\nid = 3\n")
    error_line(quarry("models", "list"), "user-models.toml", code=1)


def test_chat_with_an_unknown_model_is_one_line(tmp_path):
    error_line(quarry("chat", "-m", "no-such-model", "hello", "-w", tmp_path / "ws"), "no-such-model", code=1)
