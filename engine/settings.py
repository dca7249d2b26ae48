"""User settings: one typed object, saved as TOML in the user's config dir."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields

import tomli_w

from engine import catalog, locations
from engine.errors import QuarryError
from engine.llm import GenerationParams


@dataclass
class Settings:
    """What the settings screen edits and every front reads."""

    model: str = catalog.DEFAULTS["llm"]
    """Chat model id from the catalog."""
    temperature: float = 0.2
    """Sampling temperature; 0 is greedy (deterministic)."""
    max_tokens: int = 384
    """Most tokens an answer may have."""
    top_k_sources: int = 3
    """How many retrieved passages a document answer may cite (3 measured better than 5 for SmolLM2:
    more answers right and half the time to first token)."""
    search_mode: str = "hybrid"
    """vector | keyword | hybrid."""
    theme: str = "textual-dark"
    """Textual theme name."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key overrides by action id, e.g. {"chat.new" = "ctrl+t"} (see `?` in the app for the ids)."""

    def generation(self, max_tokens: int | None = None, temperature: float | None = None) -> GenerationParams:
        """Gives generation params from these settings, with per-call overrides."""
        return GenerationParams(
            max_tokens=max_tokens if max_tokens is not None else self.max_tokens,
            temperature=temperature if temperature is not None else self.temperature)


def load() -> Settings:
    """Gives the saved settings (defaults for anything missing); a broken file is an error naming it."""
    path = locations.config_file()
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QuarryError(f"{path}: not valid TOML ({exc}); fix or delete it") from None
    known = {f.name: f.type for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    return Settings(**values)


def save(settings: Settings) -> None:
    path = locations.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(asdict(settings)), encoding="utf-8")
    os.replace(tmp, path)
