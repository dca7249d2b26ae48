"""Fixtures of the reliability suite. Its demo workspace is the suite's one (tests/conftest.py), built once
per run and copied by every test that may write to it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp(monkeypatch) -> Path:
    """A temporary folder another user can reach (pytest's own is private to root), for permission
    faults; the config and user-models files point into it so that user can read them too."""
    folder = Path(tempfile.mkdtemp(prefix="quarry-reliability-"))
    os.chmod(folder, 0o755)
    monkeypatch.setenv("QUARRY_CONFIG", str(folder / "config.toml"))
    monkeypatch.setenv("QUARRY_USER_MODELS", str(folder / "user-models.toml"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def config(isolated_user_dirs) -> Path:
    """The test's own config file path (QUARRY_CONFIG points at it)."""
    return Path(os.environ["QUARRY_CONFIG"])
