import numpy as np

from engine.models import catalog
from engine.runtime.encoder import CPU, CUDA, choose_providers

TEXTS = [
    "Opened electronics can be returned within 15 days with a restocking fee.",
    "Travel must be booked through the company portal.",
    "退货政策：未开封商品三十天内可退。",
    "short",
    "A much longer passage " * 40,
]


def test_onnx_fp32_matches_sentence_transformers(encoder):
    from sentence_transformers import SentenceTransformer

    source = catalog.get("minilm-l6").folder / "source"
    reference = SentenceTransformer(str(source), device="cpu", local_files_only=True).encode(
        TEXTS, normalize_embeddings=True)
    ours = encoder.encode(TEXTS)
    cosine = (ours * reference).sum(1)
    assert ours.shape == (len(TEXTS), 384)
    assert cosine.min() >= 0.999, cosine


def test_int8_variant_stays_close(encoder):
    from engine.runtime.encoder import Encoder

    int8 = Encoder("minilm-l6", variant="int8")
    cosine = (int8.encode(TEXTS) * encoder.encode(TEXTS)).sum(1)
    assert cosine.min() > 0.9


def test_batches_do_not_change_vectors(encoder):
    one = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert np.allclose(one, encoder.encode(TEXTS, batch_size=2), atol=1e-5)


def test_reports_provider_and_prefers_cuda():
    assert choose_providers([CUDA, CPU], gpu=True) == [CUDA, CPU]
    assert choose_providers([CUDA, CPU], gpu=False) == [CPU]
    assert choose_providers([CPU], gpu=True) == [CPU]


def test_reports_the_provider_it_runs_on(encoder):
    from engine.runtime.encoder import gpu_present

    assert encoder.info.provider == (CUDA if gpu_present() else CPU)
    assert encoder.info.dimension == 384


def test_the_cpu_optimized_graph_is_kept_and_gives_the_same_vectors(tmp_path, monkeypatch):
    import onnxruntime as ort

    from engine.runtime.encoder import Encoder, optimized_cache

    monkeypatch.setenv("QUARRY_CACHE", str(tmp_path))
    first = Encoder("minilm-l6", variant="int8")  # optimizes the graph and keeps it
    kept = optimized_cache(ort, catalog.get("minilm-l6").folder / "model.int8.onnx")
    assert kept.exists() and kept.parent.parent == tmp_path
    again = Encoder("minilm-l6", variant="int8")  # loads the kept graph as is
    assert np.allclose(first.encode(TEXTS), again.encode(TEXTS), atol=1e-6)
    kept.write_bytes(b"damaged")  # a damaged cache is made again, never an error
    assert np.allclose(first.encode(TEXTS), Encoder("minilm-l6", variant="int8").encode(TEXTS), atol=1e-6)
    assert kept.stat().st_size > 1000
