"""What every runtime shares: generation parameters, the figures of one call, and the cancel check type.

llama.cpp (runtime/llama.py) and remote OpenAI-compatible servers (runtime/remote.py) both take
`GenerationParams` and fill a `RunStats`, so the fronts and Compare treat them alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

CancelCheck = Callable[[], bool]


@dataclass
class RunStats:
    """Figures of one generation call."""

    model: str
    load_ms: float = 0.0
    ttft_ms: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_s: float = 0.0
    total_ms: float = 0.0
    stop_reason: str = ""  # eos | length | cancelled | stop
    threads: int = 0
    n_gpu_layers: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GenerationParams:
    """Sampling settings; temperature 0 means greedy."""

    max_tokens: int = 256
    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    seed: int = 42
    stop: Sequence[str] = field(default_factory=tuple)
