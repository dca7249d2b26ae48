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
        if self.root.exists() and not self.root.is_dir():
            raise WorkspaceError(f"{self.root}: not a folder; give a folder to --workspace")
        self.root.mkdir(parents=True, exist_ok=True)
        self.indexes_dir.mkdir(exist_ok=True)
        self.store = Store(self.root / DB_NAME)
        self._lock = threading.RLock()
        self._encoder = None
        self._search = None

    @property
    def indexes_dir(self) -> Path:
        return self.root / "indexes"

    @property
    def encoder_id(self) -> str:
        from engine import catalog

        return self.store.get_state("encoder", catalog.DEFAULTS["encoder"])

    def encoder(self):
        """Gives the workspace's encoder, loaded on first use (keeps onnxruntime off start-up)."""
        with self._lock:
            if self._encoder is None:
                from engine.encode import Encoder

                self._encoder = Encoder(self.encoder_id)
            return self._encoder

    def searcher(self):
        """Gives the hybrid searcher, its indexes checked against DuckDB and rebuilt when stale."""
        with self._lock:
            if self._search is None:
                from engine.search import Searcher

                self._search = Searcher(self)
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
