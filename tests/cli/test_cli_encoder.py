"""An ONNX encoder added with `quarry models add` becomes a workspace's encoder with `quarry index encoder`;
the stored chunks are re-embedded only when asked; the catalog ships inside the engine package."""

import json
import shutil
import tomllib

from engine import locations
from engine.models import catalog
from tests.helpers import run_cli as run


def test_an_added_encoder_becomes_the_workspace_encoder(tmp_path, monkeypatch, encoder):
    source = catalog.get("minilm-l6").folder
    mine = tmp_path / "my-encoder"
    mine.mkdir()
    for name in ("model.onnx", "tokenizer.json", "encoder.json"):
        shutil.copy(source / name, mine / name)
    docs = tmp_path / "docs"
    shutil.copytree(locations.demo_corpus() / "policies", docs)
    ws = tmp_path / "ws"
    assert run("ingest", docs, "-w", ws).exit_code == 0
    before = json.loads(run("index", "encoder", "--json", "-w", ws).stdout)
    assert before["encoder"] == "minilm-l6" and before["reembed_needed"] == 0

    monkeypatch.setenv("QUARRY_MODELS_DIR", str(tmp_path / "models"))  # user-models.toml lands here
    added = run("models", "add", mine / "model.onnx", "--id", "my-encoder")
    assert added.exit_code == 0, added.output
    switched = run("index", "encoder", "my-encoder", "--json", "-w", ws)
    assert switched.exit_code == 0, switched.output
    data = json.loads(switched.stdout)
    assert data["encoder"] == "my-encoder" and data["reembed_needed"] == data["chunks"] > 0

    refused = run("ingest", docs, "-w", ws)
    assert refused.exit_code != 0 and "--reembed" in refused.output
    assert run("ingest", docs, "--reembed", "-w", ws).exit_code == 0
    info = json.loads(run("index", "info", "--json", "-w", ws).stdout)
    assert info["encoder"] == "my-encoder" and info["rebuilt_on_open"] == []
    hits = json.loads(run("search", "--json", "--mode", "vector", "how long must passwords be", "-w", ws).stdout)
    assert hits["hits"][0]["file"].endswith("security-policy.md")


def test_a_model_that_is_not_an_encoder_is_refused(tmp_path):
    result = run("index", "encoder", "smollm2-135m", "-w", tmp_path / "ws")
    assert result.exit_code != 0 and "not an encoder" in result.output


def test_the_catalog_ships_inside_the_engine_package():
    packaged = locations.SOURCE_ROOT / "engine" / "models" / "catalog.toml"
    assert packaged.read_bytes() == (locations.SOURCE_ROOT / "models" / "catalog.toml").read_bytes()
    assert packaged.parent == locations.Path(catalog.__file__).parent  # engine/models/
    project = tomllib.loads((locations.SOURCE_ROOT / "pyproject.toml").read_text())
    assert "models/catalog.toml" in project["tool"]["setuptools"]["package-data"]["engine"]


def test_an_install_without_the_checkout_reads_the_packaged_catalog(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "SOURCE_ROOT", tmp_path)  # site-packages: no models/ beside engine/
    assert locations.catalog_file().parent == locations.Path(catalog.__file__).parent  # engine/models/
    assert locations.catalog_file().exists()
    assert "smollm2-135m" in catalog.load()
