"""Exports a sentence-transformers encoder to ONNX (fp32 and dynamic int8). Run once, at provisioning.

Usage: python -m engine.models.export_onnx SOURCE_DIR OUT_DIR   (prints the produced file names as JSON)
This is the only module that imports torch; queries run on tokenizers + onnxruntime + numpy.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

OPSET = 17


def _pooling_mode(source: Path) -> str:
    """Gives 'mean' or 'cls' from the model's pooling config (mean when absent)."""
    config = source / "1_Pooling" / "config.json"
    if not config.exists():
        return "mean"
    raw = json.loads(config.read_text())
    if raw.get("pooling_mode_cls_token") or raw.get("pooling_mode") == "cls":
        return "cls"
    return "mean"


def export(source: Path, out: Path) -> list[str]:
    """Gives the names of the files written to `out`: model.onnx, model.int8.onnx, tokenizer, config."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    transformer = st[0].auto_model.eval()
    max_len = int(st.max_seq_length)
    pooling = _pooling_mode(source)
    normalize = any(type(m).__name__ == "Normalize" for m in st)

    class Encoder(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = st.tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"],
            sample.get("token_type_ids", torch.zeros_like(sample["input_ids"])))
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model.onnx"
    dynamic = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
               "token_type_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(
            Encoder(transformer), args, str(fp32), opset_version=OPSET, dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"], dynamic_axes=dynamic,
        )
    int8 = out / "model.int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    config = transformer.config
    produced = ["model.onnx", "model.int8.onnx"]
    if getattr(config, "model_type", "") in FUSABLE:
        try:
            optimize(fp32, out / "model.opt.onnx", config.num_attention_heads, config.hidden_size)
            quantize(out / "model.opt.onnx", out / "model.q8.onnx")
            produced += ["model.opt.onnx", "model.q8.onnx"]
        except Exception as exc:  # the fused variants are a speed-up; fp32 and int8 still serve
            print(f"fused variants skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")
    config = {"max_seq_length": max_len, "pooling": pooling, "normalize": normalize,
              "dimension": int(st.get_sentence_embedding_dimension())}
    (out / "encoder.json").write_text(json.dumps(config, indent=2))
    return [*produced, "tokenizer.json", "encoder.json"]


FUSABLE = ("bert", "roberta", "xlm-roberta", "mpnet", "distilbert")


def optimize(fp32: Path, target: Path, num_heads: int, hidden_size: int) -> None:
    """Writes the fp32 graph with ONNX Runtime's transformer fusions (attention, LayerNorm, GELU,
    embedding LayerNorm): the same numbers, fewer and faster kernels on CPU."""
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(fp32), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                           opt_level=0, use_gpu=False)
    model.save_model_to_file(str(target))


def quantize(optimized: Path, target: Path, keep_fp32: tuple[str, ...] = ()) -> None:
    """Writes int8 weights (per output channel) for the fused graph's MatMul and Attention nodes, leaving
    the nodes named in `keep_fp32` (the layers most sensitive to rounding) in fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(optimized), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=list(keep_fp32))


if __name__ == "__main__":
    from engine import offline

    offline.enforce()
    names = export(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(names))
