"""The one place that knows where Quarry keeps things on disk."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "quarry"
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """Gives the folder holding the model catalog and provisioned model files."""
    env = os.environ.get("QUARRY_MODELS_DIR")
    if env:
        return Path(env)
    if (SOURCE_ROOT / "models" / "catalog.toml").exists():
        return SOURCE_ROOT / "models"
    return Path(platformdirs.user_data_dir(APP)) / "models"


def catalog_file() -> Path:
    """Gives the shipped catalog of known models (read-only for the app): models/catalog.toml in a
    checkout, and the copy packaged inside the engine (engine/models/catalog.toml, a link to it) in an install."""
    checkout = SOURCE_ROOT / "models" / "catalog.toml"
    return checkout if checkout.exists() else Path(__file__).resolve().parent / "models" / "catalog.toml"


def user_models_file() -> Path:
    """Gives the file that records models the user registered with `quarry models add` (and `add-remote`).
    QUARRY_USER_MODELS names another file: the tests point it at a temporary one, so a developer's own
    registered models never show up in (or get written by) a test."""
    env = os.environ.get("QUARRY_USER_MODELS")
    if env:
        return Path(env)
    return models_dir() / "user-models.toml"


def default_workspace() -> Path:
    """Gives the workspace used when no --workspace is given."""
    env = os.environ.get("QUARRY_WORKSPACE")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir(APP)) / "workspace"


def config_file() -> Path:
    """Gives the TOML settings file in the user's config dir."""
    env = os.environ.get("QUARRY_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def state_dir() -> Path:
    """Gives the folder for what Quarry writes about itself (its log), not the user's data."""
    env = os.environ.get("QUARRY_STATE")
    if env:
        return Path(env)
    return Path(platformdirs.user_state_dir(APP))


def log_file() -> Path:
    """Gives Quarry's rotating log file (older parts beside it as quarry.log.1, .2, …)."""
    return state_dir() / "log" / "quarry.log"


def wheel_cache() -> Path:
    """Gives Quarry's own cache of built wheels and downloaded model packages."""
    env = os.environ.get("QUARRY_CACHE")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir(APP))


def demo_corpus() -> Path:
    """Gives the folder of the demo company's documents."""
    return SOURCE_ROOT / "demo" / "docs"
