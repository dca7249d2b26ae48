"""User settings: one typed object, validated, saved as TOML in the user's config dir.

Every front reads the same `Settings`; a wrong type or a value out of range, in the file or in a
`QUARRY_<KEY>` environment override, is one error naming the key and where it came from. A field's
`metadata` gives its range (`lo`, `hi`) or its `choices`; a field without them is checked for type only.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import tomli_w

from engine import locations
from engine.errors import SettingsError
from engine.models import catalog
from engine.runtime.generation import GenerationParams

SEARCH_MODES = ("vector", "keyword", "hybrid")
ANSWER_MODES = ("auto", "quoted", "written")  # engine/documents/modes.py


def rule(default, lo=None, hi=None, choices=None, factory=None):
    """Gives a dataclass field with its default and the range or choices its value must keep to."""
    meta = {"lo": lo, "hi": hi, "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """What the settings screen edits and every front reads."""

    model: str = catalog.DEFAULTS["llm"]
    """Chat model id from the catalog."""
    temperature: float = rule(0.2, lo=0.0, hi=2.0)
    """Sampling temperature; 0 is greedy (deterministic)."""
    max_tokens: int = rule(384, lo=1, hi=32768)
    """Most tokens an answer may have."""
    top_k_sources: int = rule(3, lo=1, hi=50)
    """How many retrieved passages a document answer may cite (3 measured better than 5 for SmolLM2:
    more answers right and half the time to first token)."""
    search_mode: str = rule("hybrid", choices=SEARCH_MODES)
    """vector | keyword | hybrid."""
    theme: str = "textual-dark"
    """Textual theme name."""
    keys: dict[str, str] = rule(None, factory=dict)
    """Key overrides by action id, e.g. {"chat.new" = "ctrl+t"} (see `?` in the app for the ids)."""
    answer_mode: str = rule("auto", choices=ANSWER_MODES)
    """How document questions are answered: auto (the catalog's default for the chat model and the
    question's language: quoted where quotes measured better, or where the model does not read the
    language), quoted (the documents' own sentences, cited) or written (the chat model's words, their
    citations checked). The older `extractive = true` means quoted."""

    # -- ingest limits: a file over one is refused with a line naming the limit ------------------
    max_file_mb: int = rule(64, lo=1, hi=1_000_000)
    """Largest file ingest reads, in MB (a file over it is refused before it is read)."""
    max_text_mb: int = rule(32, lo=1, hi=1_000_000)
    """Most text one file may yield, in MB of characters (checked once it is parsed, before chunking)."""
    max_line_mb: int = rule(1, lo=1, hi=1_000_000)
    """Longest line (text without a line break) a file may hold, in MB of characters: a longer one is
    rarely prose (minified data, a log dump) and would take many minutes to embed."""
    max_unpacked_mb: int = rule(256, lo=1, hi=1_000_000)
    """Most bytes a .docx or .xlsx may unpack to, in MB, checked before it is parsed."""
    max_unpack_ratio: int = rule(100, lo=2, hi=100_000)
    """Most a .docx or .xlsx member may expand over its compressed size (zip bombs go far beyond)."""
    max_image_megapixels: int = rule(100, lo=1, hi=100_000)
    """Largest image OCR decodes, in megapixels, read from its header before any pixel is (a 600-dpi A3
    scan is 70; a decompression bomb is thousands)."""
    max_ocr_pages: int = rule(500, lo=1, hi=1_000_000)
    """Most scanned pages OCR reads from one file (each takes seconds to a minute on 2 cores)."""
    ocr_page_seconds: int = rule(180, lo=1, hi=86_400)
    """Time budget to OCR one page, in seconds (a clean page takes seconds; on 2 cores shared with other work
    one took 85 s); a page over it is left out with a warning naming this limit."""

    model_memory_mb: int = rule(0, lo=0, hi=16_777_216)
    """Memory budget for loaded models (weights and KV caches), in MB; past it the least recently used
    model slot is released. 0: a quarter of the machine's RAM."""

    def __post_init__(self) -> None:
        validate(self, "settings")

    def generation(self, max_tokens: int | None = None, temperature: float | None = None) -> GenerationParams:
        """Gives generation params from these settings, with per-call overrides."""
        return GenerationParams(
            max_tokens=max_tokens if max_tokens is not None else self.max_tokens,
            temperature=temperature if temperature is not None else self.temperature)


def _types() -> dict[str, object]:
    return typing.get_type_hints(Settings)


def _kind(tp) -> type:
    return typing.get_origin(tp) or tp


def _describe(tp, meta: dict) -> str:
    kind = _kind(tp)
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    name = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            dict: 'a table of strings (e.g. "chat.copy" = "alt+c")'}.get(
        kind, kind.__name__)
    if meta.get("lo") is not None and meta.get("hi") is not None:
        return f"{name} from {meta['lo']} to {meta['hi']}"
    return name


def check_value(key: str, value, where: str):
    """Gives `value` as the key's type when it has that type and range; else raises SettingsError."""
    spec = {f.name: f for f in fields(Settings)}.get(key)
    if spec is None:
        known = ", ".join(f.name for f in fields(Settings))
        raise SettingsError(f"{where}: unknown setting '{key}' (known: {known}); fix or remove it")
    tp = _types()[key]
    kind = _kind(tp)
    meta = dict(spec.metadata)
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if ok and kind is float and value != value:  # NaN
        ok = False
    if ok and kind is dict:
        ok = all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if ok and meta.get("choices") and value not in meta["choices"]:
        ok = False
    if ok and meta.get("lo") is not None and not (meta["lo"] <= value <= meta["hi"]):
        ok = False
    if not ok:
        raise SettingsError(f"{where}: {key} = {value!r} is not valid; it must be {_describe(tp, meta)}")
    return value


def validate(settings: Settings, where: str) -> None:
    """Checks every field of a settings object; the error names the key and `where` it came from."""
    for f in fields(Settings):
        setattr(settings, f.name, check_value(f.name, getattr(settings, f.name), where))


def _from_env(tp, raw: str):
    kind = _kind(tp)
    if kind is bool:
        return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
            raw.strip().lower(), raw)
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        return raw  # check_value names it
    return raw


def env_name(key: str) -> str:
    return f"QUARRY_{key.upper()}"


def load(path: Path | None = None) -> Settings:
    """Gives the saved settings (defaults for anything missing), with QUARRY_<KEY> environment overrides.

    A file that is not TOML, an unknown key, a wrong type or a value out of range raises SettingsError
    naming the key and the file."""
    path = path or locations.config_file()
    raw: dict = {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix or delete it") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror}); fix its permissions") from None
    _legacy(raw, str(path), os.environ.get("QUARRY_EXTRACTIVE"))
    values = {key: check_value(key, value, str(path)) for key, value in raw.items()}
    types = _types()
    for f in fields(Settings):
        env = os.environ.get(env_name(f.name))
        if env is not None and _kind(types[f.name]) is not dict:
            values[f.name] = check_value(f.name, _from_env(types[f.name], env),
                                         f"environment variable {env_name(f.name)}")
    return Settings(**values)


def _legacy(raw: dict, where: str, env: str | None) -> None:
    """Reads the older `extractive` key (file or QUARRY_EXTRACTIVE) as answer_mode: true is quoted."""
    for value, origin in ((raw.pop("extractive", None), where), (env, "environment variable QUARRY_EXTRACTIVE")):
        if value is None:
            continue
        flag = _from_env(bool, value) if isinstance(value, str) else value
        if not isinstance(flag, bool):
            raise SettingsError(f"{origin}: extractive = {value!r} is not valid; it must be true or false "
                                "(or use answer_mode = \"quoted\")")
        if flag:
            raw["answer_mode"] = "quoted"


def save(settings: Settings) -> None:
    """Writes the settings to the config file atomically (validated first)."""
    validate(settings, "settings")
    path = locations.config_file()
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(tomli_w.dumps(asdict(settings)), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home or a full disk: the settings in use stay as they are
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise SettingsError(f"{path}: could not save the settings ({exc.strerror or exc}); make the folder"
                            " writable or set QUARRY_CONFIG to a file you can write") from None
