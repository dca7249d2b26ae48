"""Fixtures of the reliability suite."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp(monkeypatch) -> Path:
    """A temporary folder another user can reach (pytest's own is private to root), for permission
    faults; the config file points into it so that user can read it too."""
    folder = Path(tempfile.mkdtemp(prefix="quarry-reliability-"))
    os.chmod(folder, 0o755)
    monkeypatch.setenv("QUARRY_CONFIG", str(folder / "config.toml"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def config(isolated_user_dirs) -> Path:
    """The test's own config file path (QUARRY_CONFIG points at it)."""
    return Path(os.environ["QUARRY_CONFIG"])


@pytest.fixture(scope="session")
def demo_workspace_dir(tmp_path_factory) -> Path:
    """The demo workspace for this suite: the demo corpus without its big tables (the classify and
    recommend tables are a thousand rows, each row a chunk to encode), so the suite builds it in seconds;
    a small table stays, and the faults asserted here do not depend on the big ones."""
    from engine import locations
    from engine.documents.ingest import ingest_paths
    from engine.workspace import Workspace
    from tests.conftest import require_models

    require_models("minilm-l6")
    corpus = tmp_path_factory.mktemp("demo-docs") / "docs"
    shutil.copytree(locations.demo_corpus(), corpus)
    for table in corpus.glob("tables/*"):
        if table.stat().st_size > 8 * 1024:
            table.unlink()
    root = tmp_path_factory.mktemp("demo-ws")
    with Workspace(root) as ws:
        for _ in ingest_paths(ws, [corpus]):
            pass
    return root
