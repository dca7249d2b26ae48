"""The model catalog: which models Quarry knows, where their files are, and whether they are sound."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import tomli_w

from engine import locations
from engine.errors import ModelCorrupt, ModelMissing, QuarryError, UnknownModel

GGUF_MAGIC = b"GGUF"
ONNX_SUFFIXES = (".onnx",)


@dataclass(frozen=True)
class ModelEntry:
    """One model of the catalog, shipped or registered by the user."""

    id: str
    kind: str  # "llm" | "encoder"
    format: str  # "gguf" | "onnx"
    title: str
    source: str  # "pypi:pkg==ver[,pkg==ver]" or "path"
    file: str
    sha256: str
    license: str = ""
    members: tuple[str, ...] = ()
    instruct: bool = True
    path: str | None = None  # user-registered models live where the user keeps them
    # A remote model (kind "remote"): an OpenAI-compatible server; the API key stays in the named env var.
    url: str | None = None
    api_model: str | None = None
    api_key_env: str | None = None
    timeout_s: float | None = None
    n_ctx: int | None = None
    languages: tuple[str, ...] = ("en",)  # what a chat model reads well enough to answer in ("en", "zh")
    # Languages it reads where quoting the documents beat its written answers on document questions
    # (bench/answer_modes.py); a user-added model has none, so it writes in every language it reads.
    quotes: tuple[str, ...] = ()

    def reads(self, lang: str) -> bool:
        """Tells whether the model reads a language ('zh-Hant' counts as 'zh')."""
        return lang.split("-")[0] in self.languages

    def quotes_by_default(self, lang: str) -> bool:
        """Tells whether document questions in a language get quoted sentences rather than the model's
        words by default: always for a language it does not read, and where the catalog says quotes won."""
        return not self.reads(lang) or lang.split("-")[0] in self.quotes

    @property
    def user_added(self) -> bool:
        return self.source == "path"

    @property
    def folder(self) -> Path:
        """Gives the folder the model's files land in when provisioned."""
        if self.path:
            return Path(self.path).parent
        return locations.models_dir() / "files" / self.id

    @property
    def model_path(self) -> Path:
        """Gives the file that a runtime loads."""
        return Path(self.path) if self.path else self.folder / self.file

    @property
    def packages(self) -> list[str]:
        return self.source.removeprefix("pypi:").split(",") if self.source.startswith("pypi:") else []


@dataclass
class ModelStatus:
    """What `quarry models list` shows for one model."""

    entry: ModelEntry
    state: str  # "ready" | "missing" | "corrupt"
    size_bytes: int = 0
    detail: str = ""
    default_for: list[str] = field(default_factory=list)


DEFAULTS = {"llm": "smollm2-135m", "encoder": "minilm-l6"}


def _read_toml(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        models = tomllib.loads(path.read_text(encoding="utf-8")).get("model", [])
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QuarryError(f"{path}: not valid TOML ({exc}); fix or remove the file") from None
    # a hand-edited file: its shape is checked here, so a slip is one line naming it, not a crash later
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise QuarryError(f"{path}: 'model' must be a list of [[model]] tables; fix or remove the file")
    return models


ENTRY_FIELDS = {f.name: f for f in fields(ModelEntry)}
REQUIRED = [name for name, f in ENTRY_FIELDS.items() if f.default is MISSING]


def _entry(raw: dict, where: Path | None = None) -> ModelEntry:
    raw = dict(raw)
    if where is not None:
        _check_entry(raw, where)
    raw["members"] = tuple(raw.get("members", ()))
    raw["languages"] = parse_languages(raw.get("languages", ("en",)))
    raw["quotes"] = parse_languages(raw["quotes"]) if raw.get("quotes") else ()
    return ModelEntry(**raw)


def _check_entry(raw: dict, where: Path) -> None:
    """Refuses a [[model]] table of the user's file that lacks a field, has one Quarry does not know or
    a field of the wrong type, naming the entry and the fix."""
    name = f"{where}: [[model]] {raw.get('id')!r}" if isinstance(raw.get("id"), str) else f"{where}: a [[model]]"
    fix = "fix or remove it (or register the model again with `quarry models add`)"
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise QuarryError(f"{name} lacks {', '.join(missing)}; {fix}")
    unknown = sorted(set(raw) - set(ENTRY_FIELDS))
    if unknown:
        raise QuarryError(f"{name} has unknown field {', '.join(unknown)}; {fix}")
    for key in REQUIRED + ["url", "api_model", "api_key_env", "path"]:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise QuarryError(f"{name}: {key} = {raw[key]!r} is not a string; {fix}")
    if raw["kind"] not in ("llm", "encoder", "remote"):
        raise QuarryError(f"{name}: kind = {raw['kind']!r} is not one of llm, encoder, remote; {fix}")


LANGUAGES = ("en", "zh")  # the languages Quarry tunes answers for


def parse_languages(value) -> tuple[str, ...]:
    """Gives language codes from 'zh,en' or a list; an unknown code is an error naming the known ones."""
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = tuple(dict.fromkeys(str(v).strip().lower() for v in items if str(v).strip()))
    unknown = [c for c in codes if c not in LANGUAGES]
    if unknown or not codes:
        raise QuarryError(f"unknown language '{', '.join(unknown) or value}'; use a comma-separated list of "
                          f"{', '.join(LANGUAGES)} (e.g. --lang zh,en)")
    return codes


def load() -> dict[str, ModelEntry]:
    """Gives every known model by id: the shipped catalog, then the user's own additions."""
    entries = [_entry(r) for r in _read_toml(locations.catalog_file())]
    users = locations.user_models_file()
    entries += [_entry(r, users) for r in _read_toml(users)]
    return {e.id: e for e in entries}


def get(model_id: str) -> ModelEntry:
    """Gives one catalog entry, or an error listing the ids that exist."""
    models = load()
    if model_id not in models:
        known = ", ".join(sorted(models)) or "none"
        raise UnknownModel(f"unknown model '{model_id}' (known: {known}); see `quarry models list`")
    return models[model_id]


CHAT_KINDS = ("llm", "remote")


def chat_entry(model_id: str) -> ModelEntry:
    """Gives the catalog entry of a chat model, or one line saying what the id is instead and which ids
    are chat models (an encoder's files are not a damaged chat model)."""
    entry = get(model_id)
    if entry.kind not in CHAT_KINDS:
        chat = ", ".join(sorted(m.id for m in load().values() if m.kind in CHAT_KINDS)) or "none"
        article = "an" if entry.kind[:1] in "aeiou" else "a"
        raise UnknownModel(f"{model_id} is {article} {entry.kind}, not a chat model; chat models: {chat}"
                           " (see `quarry models list`)")
    return entry


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Gives the hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_of(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def verify_file(path: Path, expected: str, what: str, fix: str) -> None:
    """Checks a file against its sha256; a stamp beside it skips rehashing an unchanged file."""
    if not path.exists():
        raise ModelMissing(f"{what}: {path} is missing; run `{fix}`")
    stamp = _stamp_path(path)
    current = _stamp_of(path)
    try:
        if json.loads(stamp.read_text()) == {**current, "sha256": expected}:
            return
    except (OSError, ValueError):
        pass
    actual = sha256_file(path)
    if actual != expected:
        raise ModelCorrupt(
            f"{what}: {path} has sha256 {actual[:12]}…, expected {expected[:12]}…; run `{fix}`"
        )
    with contextlib.suppress(OSError):  # a read-only model folder only costs a rehash next time
        stamp.write_text(json.dumps({**current, "sha256": expected}))


def fix_command(entry: ModelEntry) -> str:
    """Gives the command that provisions or re-registers a model."""
    if entry.user_added:
        return f"quarry models add {entry.path} --id {entry.id}"
    return f"quarry models pull {entry.id}"


def checksums_file(entry: ModelEntry) -> Path:
    return entry.folder / "checksums.json"


def verify(entry: ModelEntry) -> Path:
    """Gives the path of a model's main file after checking every file it loads against its checksum."""
    what = f"model '{entry.id}'"
    fix = fix_command(entry)
    if entry.format == "gguf":
        verify_file(entry.model_path, entry.sha256, what, fix)
        return entry.model_path
    if entry.user_added:
        verify_file(entry.model_path, entry.sha256, what, fix)
        return entry.model_path
    # An exported encoder: provisioning recorded the checksum of each file it produced.
    sums_path = checksums_file(entry)
    if not sums_path.exists():
        raise ModelMissing(f"{what} is not provisioned; run `{fix}`")
    try:
        sums = json.loads(sums_path.read_text())
    except ValueError:
        raise ModelCorrupt(f"{what}: {sums_path} is unreadable; run `{fix} --force`") from None
    for name, digest in sums.items():
        verify_file(entry.folder / name, digest, what, f"{fix} --force")
    return entry.model_path


def status(entry: ModelEntry) -> ModelStatus:
    """Gives whether a model is ready to load, without raising."""
    if entry.kind == "remote":  # reachability is checked when it is asked, in the asking column
        return ModelStatus(entry, "ready", 0, entry.url or "",
                           [kind for kind, mid in DEFAULTS.items() if mid == entry.id])
    size = 0
    if entry.model_path.exists():
        size = entry.model_path.stat().st_size
        if entry.format == "onnx" and entry.folder.is_dir() and not entry.user_added:
            size = sum(p.stat().st_size for p in entry.folder.iterdir() if p.is_file())
    try:
        verify(entry)
        state, detail = "ready", ""
    except ModelMissing as exc:
        state, detail = "missing", str(exc)
    except ModelCorrupt as exc:
        state, detail = "corrupt", str(exc)
    defaults = [kind for kind, mid in DEFAULTS.items() if mid == entry.id]
    return ModelStatus(entry, state, size, detail, defaults)


def sniff_format(path: Path) -> str:
    """Gives 'gguf' or 'onnx' for a model file, judged by its bytes, or raises naming the file."""
    if not path.is_file():
        raise QuarryError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == GGUF_MAGIC:
        from engine.models import gguf

        gguf.check_complete(path)  # a truncated download is refused, never registered as ready
        return "gguf"
    if path.suffix.lower() in ONNX_SUFFIXES:
        return "onnx"
    raise QuarryError(f"{path}: not a GGUF file (no GGUF header) and not an .onnx file")


def _save_user_entry(entry: ModelEntry) -> None:
    """Writes `entry` into the user's model file, replacing one with its id (atomically)."""
    users = [r for r in _read_toml(locations.user_models_file()) if r.get("id") != entry.id]
    record = {k: v for k, v in entry.__dict__.items() if v is not None and k != "members"}
    record["languages"] = list(entry.languages)
    record["quotes"] = list(entry.quotes)
    users.append(record)
    target = locations.user_models_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps({"model": users}), encoding="utf-8")
    os.replace(tmp, target)


def add(path: Path, model_id: str | None = None, kind: str | None = None,
        languages: str | tuple[str, ...] = ("en",)) -> ModelEntry:
    """Registers a GGUF or ONNX file the user already has and gives its catalog entry.

    `languages` are those the model reads (default English only): a question in any other language
    is answered with the documents' own sentences rather than the model's words.
    """
    languages = parse_languages(languages)
    path = path.expanduser().resolve()
    fmt = sniff_format(path)
    model_id = model_id or path.stem.lower().replace(" ", "-")
    existing = load()
    if model_id in existing and not existing[model_id].user_added:
        raise QuarryError(f"'{model_id}' is a shipped model id; choose another with --id")
    kind = kind or ("llm" if fmt == "gguf" else "encoder")
    entry = ModelEntry(
        id=model_id, kind=kind, format=fmt, title=path.name, source="path", file=path.name,
        sha256=sha256_file(path), path=str(path), instruct=True, languages=languages,
    )
    if fmt == "onnx" and not (path.parent / "tokenizer.json").exists():
        raise QuarryError(f"{path}: an ONNX encoder needs a tokenizer.json beside it")
    _save_user_entry(entry)
    return entry


def add_remote(url: str, api_model: str, model_id: str | None = None, api_key_env: str | None = None,
               timeout_s: float | None = None, n_ctx: int | None = None,
               languages: str | tuple[str, ...] = ("en",)) -> ModelEntry:
    """Registers an OpenAI-compatible server's model (kind "remote") and gives its catalog entry."""
    from urllib.parse import urlsplit

    languages = parse_languages(languages)

    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise QuarryError(f"{url}: the port is not a number; give the server's base URL, e.g. "
                          "http://gpu-box:8080/v1") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QuarryError(f"{url}: not an http(s) URL; give the server's base URL, e.g. http://gpu-box:8080/v1")
    if api_key_env and not api_key_env.replace("_", "").isalnum():
        raise QuarryError(f"{api_key_env}: not an environment variable name; give the variable's name, "
                          "not the key itself")
    model_id = model_id or api_model.lower().replace("/", "-").replace(" ", "-")
    existing = load()
    if model_id in existing and not existing[model_id].user_added:
        raise QuarryError(f"'{model_id}' is a shipped model id; choose another with --id")
    entry = ModelEntry(id=model_id, kind="remote", format="openai", title=f"{api_model} at {url}",
                       source="path", file="", sha256="", url=url, api_model=api_model,
                       api_key_env=api_key_env or None, timeout_s=timeout_s, n_ctx=n_ctx, languages=languages)
    _save_user_entry(entry)
    return entry
