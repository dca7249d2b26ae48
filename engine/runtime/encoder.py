"""Sentence encoder on ONNX Runtime: tokenizers + onnxruntime + numpy, CUDA provider when there is one."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import cpus
from engine.errors import ModelCorrupt, first_line
from engine.models import catalog

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


MAX_BATCH_TOKENS = 2048  # tokens (rows × padded width) per encoder call


def untruncated_offsets(tokenizer_file: str | Path):
    """Gives the chunker's offsets function: texts -> each encoder token's character span. Its tokenizer
    must see every token of a long sentence, while the encoding tokenizer cuts at max_seq_length; the
    ingest process, its parse workers and Ray workers each build it once from the file."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def offsets(texts: list[str]) -> list[list[tuple[int, int]]]:
        return [e.offsets for e in tokenizer.encode_batch(texts, add_special_tokens=False)]

    return offsets


@dataclass(frozen=True)
class EncoderInfo:
    """What `quarry` reports about a loaded encoder."""

    model_id: str
    variant: str
    provider: str
    dimension: int
    max_seq_length: int


def gpu_present() -> bool:
    """Tells whether an NVIDIA device node exists; onnxruntime-gpu lists CUDA even on machines without one."""
    return Path("/dev/nvidiactl").exists() or os.environ.get("QUARRY_FORCE_CUDA") == "1"


def choose_providers(available: Sequence[str], gpu: bool) -> list[str]:
    """Gives the providers to ask for: CUDA first when the runtime offers it and a GPU is there."""
    return [CUDA, CPU] if CUDA in available and gpu else [CPU]


PREFERRED_VARIANTS = ("int8", "fp32")  # the first one on disk is what new workspaces encode with


def default_variant(model_id: str) -> str:
    """Gives the variant a new workspace encodes with: the first preferred one on disk."""
    on_disk = available_variants(model_id)
    return next((v for v in PREFERRED_VARIANTS if v in on_disk), "fp32")


def available_variants(model_id: str) -> list[str]:
    """Gives the variants of an encoder on disk: fp32 (model.onnx), then model.<variant>.onnx files."""
    entry = catalog.get(model_id)
    folder = entry.model_path.parent
    found = sorted(p.name[len("model."):-len(".onnx")] for p in folder.glob("model.*.onnx"))
    return (["fp32"] if entry.model_path.exists() else []) + found


def optimized_cache(ort, model_file: Path) -> Path:
    """Gives where the CPU-optimized graph of `model_file` is kept: Quarry's cache folder, keyed by the
    file's size and mtime and the runtime's version (a graph optimized by one version is not another's)."""
    from engine import locations

    st = model_file.stat()
    name = f"{model_file.parent.name}.{model_file.stem}.{st.st_size}.{st.st_mtime_ns}.ort{ort.__version__}.onnx"
    return locations.wheel_cache() / "onnx-optimized" / name


def _session(ort, model_file: Path, options, providers: list[str]):
    """Gives the inference session. On CPU, the graph ONNX Runtime optimizes at every load is saved once
    and loaded as is afterwards: measured, that halves session creation, the largest part of a cold
    `quarry search` (same vectors). A cache that cannot be written or read only costs the optimization."""
    if providers != [CPU]:
        return ort.InferenceSession(str(model_file), options, providers=providers)
    try:
        cached = optimized_cache(ort, model_file)
        have = cached.exists()  # raises, not False, in a cache folder this user cannot enter
    except OSError:
        return ort.InferenceSession(str(model_file), options, providers=providers)
    if have:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(cached), options, providers=providers)
        except Exception:  # damaged: made again below
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            cached.unlink(missing_ok=True)
    staging = cached.with_name(f".{cached.name}.{os.getpid()}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(staging)
        session = ort.InferenceSession(str(model_file), options, providers=providers)
        os.replace(staging, cached)
        return session
    except Exception:  # the cache folder, not the model (a broken model fails the plain load below)
        staging.unlink(missing_ok=True)
        options.optimized_model_filepath = ""
        return ort.InferenceSession(str(model_file), options, providers=providers)


class Encoder:
    """Embeds texts into unit vectors with an exported ONNX encoder."""

    def __init__(self, model_id: str = catalog.DEFAULTS["encoder"], variant: str = "fp32",
                 threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        entry = catalog.get(model_id)
        main = catalog.verify(entry)
        folder = main.parent
        model_file = main if variant == "fp32" else folder / f"model.{variant}.onnx"
        if not model_file.exists():
            raise ModelCorrupt(f"model '{model_id}': no {variant} variant at {model_file}; "
                               f"run `quarry models pull {model_id} --force`")
        config_path = folder / "encoder.json"
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
        self.max_seq_length = int(config.get("max_seq_length", 256))
        self.pooling = config.get("pooling", "mean")
        self.normalize = bool(config.get("normalize", True))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.no_padding()
        self._tokenizer_file = folder / "tokenizer.json"
        self._offsets = None  # made on first use: a query never needs it (~half a tokenizer load)
        options = ort.SessionOptions()
        # onnxruntime's default is a thread per physical core of the machine, too many under a CPU quota
        if threads or cpus.usable() < (os.cpu_count() or 1):
            options.intra_op_num_threads = threads or cpus.usable()
        options.log_severity_level = 3
        # Spinning worker threads fight llama.cpp's for the cores: measured, a query encoded right after
        # a decode took 23.6 ms with spinning and 11.5 ms without (8 ms either way when idle).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        ort.set_default_logger_severity(3)
        providers = choose_providers(ort.get_available_providers(), gpu_present())
        try:
            self.session = _session(ort, model_file, options, providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise ModelCorrupt(f"model '{model_id}': {model_file} is not a loadable ONNX model "
                               f"({first_line(exc, 120)})") from None
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.dimension = int(config.get("dimension") or self.session.get_outputs()[0].shape[-1])
        self.info = EncoderInfo(model_id, variant, self.session.get_providers()[0], self.dimension,
                                self.max_seq_length)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Gives the character span of every encoder token of each text, untruncated (for chunking)."""
        if self._offsets is None:
            self._offsets = untruncated_offsets(self._tokenizer_file)
        return self._offsets(texts)

    def _run(self, texts: Sequence[str], encodings=None) -> np.ndarray:
        if encodings is None:
            encodings = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(hidden.dtype)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
        if self.normalize:
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               stop: Callable[[], bool] | None = None) -> np.ndarray | None:
        """Gives one float32 row per text; batches are sorted by length so padding stays small. With
        `stop`, it is asked between model calls, and a true answer gives None: a caller can hand over
        many texts at once (the more texts, the less padding) and still stop within a call's time."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        start = 0
        while start < len(order):
            if stop is not None and stop():
                return None
            idx = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in idx])
            # Attention memory grows with rows × width²: a batch of long texts is cut to a token budget
            # (measured on 256-token chunks: 32 rows peaked 300 MB over the model, 8 rows 21 MB, no slower).
            width = max(len(e.ids) for e in encodings)
            fit = max(1, min(len(idx), MAX_BATCH_TOKENS // max(width, 1)))
            idx, encodings = idx[:fit], encodings[:fit]
            out[idx] = self._run(None, encodings)
            start += fit
        return out

