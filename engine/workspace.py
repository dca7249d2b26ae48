"""A workspace: one folder with its DuckDB file and its indexes/, plus the models it uses."""

from __future__ import annotations

import threading
from pathlib import Path

from engine import locations
from engine.errors import WorkspaceError
from engine.store import DB_NAME, Store


class Workspace:
    """Owns a workspace's store and, lazily, its encoder and search indexes."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or locations.default_workspace()).expanduser().resolve()
        try:
            str(self.root).encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8: DuckDB fails on the path (std::bad_cast)
            shown = str(self.root).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise WorkspaceError(f"{shown}: the workspace folder's name is not UTF-8 (\ufffd marks the bytes),"
                                 " which the database cannot open; give a folder whose path is UTF-8") from None
        if self.root.exists() and not self.root.is_dir():
            raise WorkspaceError(f"{self.root}: not a folder; give a folder to --workspace")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"{self.root}: the workspace folder cannot be created ({_cause(exc)});"
                                 " give a folder you can write to with --workspace") from None
        try:
            self.indexes_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"{self.indexes_dir}: cannot be created ({_cause(exc)});"
                                 " make the workspace folder writable") from None
        self.store = Store(self.root / DB_NAME)
        self._lock = threading.RLock()
        self._encoder = None
        self._search = None

    @property
    def indexes_dir(self) -> Path:
        return self.root / "indexes"

    @property
    def encoder_id(self) -> str:
        from engine.models import catalog

        return self.store.get_state("encoder", catalog.DEFAULTS["encoder"])

    @property
    def encoder_variant(self) -> str:
        """Gives which graph of the encoder made this workspace's vectors (fp32, q8, ...): recorded when
        the first vectors are made; a library made before variants were recorded is fp32."""
        from engine.runtime import encoder

        recorded = self.store.get_state("encoder_variant")
        if recorded:
            return recorded
        if self.store.chunk_count():
            return "fp32"
        return encoder.default_variant(self.encoder_id)

    @property
    def encoder_signature(self) -> str:
        """Gives what the stored vectors depend on: the encoder id, and its variant unless fp32."""
        variant = self.encoder_variant
        return self.encoder_id if variant == "fp32" else f"{self.encoder_id}@{variant}"

    def encoder(self):
        """Gives the workspace's encoder, loaded on first use (keeps onnxruntime off start-up)."""
        with self._lock:
            if self._encoder is None:
                from engine.runtime.encoder import Encoder

                variant = self.encoder_variant
                self._encoder = Encoder(self.encoder_id, variant)
                if self.store.get_state("encoder_variant") is None and not self.store.read_only:
                    self.store.set_state("encoder_variant", variant)  # the vectors made from now on
            return self._encoder

    def use_encoder(self, model_id: str, variant: str | None = None) -> str:
        """Makes `model_id` (a catalog encoder, e.g. one added with `quarry models add`) this workspace's
        encoder and gives its signature; chunks already stored must then be re-embedded
        (`quarry ingest PATH --reembed`), which ingest says until it is done."""
        from engine.errors import QuarryError
        from engine.models import catalog
        from engine.runtime import encoder

        entry = catalog.get(model_id)
        if entry.kind != "encoder":
            raise QuarryError(f"'{model_id}' is a {entry.kind} model, not an encoder; see `quarry models list`")
        variant = variant or encoder.default_variant(model_id)
        loaded = encoder.Encoder(model_id, variant)  # loads it: a broken or missing encoder fails here
        with self._lock, self.store.writing():
            self.store.set_state("encoder", model_id)
            self.store.set_state("encoder_variant", variant)
            self._encoder = loaded
        return self.encoder_signature

    def searcher(self):
        """Gives the hybrid searcher, its indexes checked against DuckDB and rebuilt when stale."""
        with self._lock:
            if self._search is None:
                from engine.documents.search import Searcher

                try:
                    self._search = Searcher(self)
                except (OSError, RuntimeError, ValueError) as exc:
                    raise index_write_error(self.indexes_dir, exc) from None
            return self._search

    def close(self) -> None:
        with self._lock:
            if self._search is not None:
                self._search.close()
                self._search = None
            self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_WRITE_FAILURES = ("permission denied", "read-only file system", "no space left", "file too large",
                   "disk quota", "could not open", "operation not permitted")


def index_write_error(folder: Path, exc: Exception) -> Exception:
    """Gives the one-line WorkspaceError for index files that cannot be written, or `exc` itself when
    the failure is not the folder's (a bug stays a bug)."""
    if not _is_write_failure(exc):
        return exc
    return WorkspaceError(f"{folder}: the search indexes cannot be written ({_cause(exc)}); make the folder"
                          f" writable or free disk space, and run again (they are rebuilt from {DB_NAME})")


def _is_write_failure(exc: Exception) -> bool:
    """Tells whether an error from writing an index file is the folder's fault (not a bug)."""
    return isinstance(exc, PermissionError) or any(s in str(exc).lower() for s in _WRITE_FAILURES)


def _cause(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[-1][:160] if text else type(exc).__name__
