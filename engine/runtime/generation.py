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


def stats_line(stats: RunStats | dict | None, full: bool = False) -> str:
    """Gives the figures line under one answer (model, TTFT, tok/s, tokens; `full`: the prompt and its
    cached tokens too), the same in the app and the CLI; "" when nothing was generated. Takes the stored
    dict form (a chat's saved messages) as well as a RunStats."""
    s = stats.to_dict() if isinstance(stats, RunStats) else (stats or {})
    if not s.get("completion_tokens"):
        return ""
    parts = [s.get("model", ""), f"TTFT {s.get('ttft_ms') or 0:.0f} ms", f"{s.get('tokens_per_s') or 0:.1f} tok/s",
             f"{s.get('completion_tokens') or 0} tokens"]
    if full:
        parts.append(f"prompt {s.get('prompt_tokens') or 0} ({s.get('cached_tokens') or 0} cached)")
    if s.get("stop_reason") == "cancelled":
        parts.append("stopped")
    return " · ".join(p for p in parts if p)


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
