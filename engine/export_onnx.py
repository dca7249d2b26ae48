"""Exports a sentence-transformers encoder to ONNX (fp32 and dynamic int8). Run once, at provisioning.

Usage: python -m engine.export_onnx SOURCE_DIR OUT_DIR   (prints the produced file names as JSON)
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
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")
    config = {"max_seq_length": max_len, "pooling": pooling, "normalize": normalize,
              "dimension": int(st.get_sentence_embedding_dimension())}
    (out / "encoder.json").write_text(json.dumps(config, indent=2))
    return ["model.onnx", "model.int8.onnx", "tokenizer.json", "encoder.json"]


if __name__ == "__main__":
    from engine import offline

    offline.enforce()
    names = export(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(names))
