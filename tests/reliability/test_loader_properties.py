"""Property test: the loaders, fed random and mutated files (starting from the demo files), let no
exception escape but Quarry's own, within bounded time and memory per file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import locations
from engine.documents.ingest import load
from engine.documents.ingest.loaders import SUPPORTED, Limits
from engine.errors import QuarryError
from engine.store import Store

DEMO = sorted(p for p in locations.demo_corpus().rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
SECONDS_PER_FILE = 20.0
MEMORY_PER_FILE = 400 << 20
LIMITS = Limits(max_file_mb=8, max_text_mb=4, max_unpacked_mb=32, max_unpack_ratio=100)


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = Store(tmp_path_factory.mktemp("prop") / "quarry.duckdb")
    yield db
    db.close()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutants")


mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("zero"), st.floats(0, 1), st.integers(1, 4096)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(2, 50)),
)


def mutate(data: bytes, steps) -> bytes:
    buf = bytearray(data)
    for kind, where, arg in steps:
        at = int(where * max(len(buf) - 1, 0))
        if kind == "flip" and buf:
            buf[at] ^= arg or 1
        elif kind == "cut":
            del buf[at:]
        elif kind == "insert":
            buf[at:at] = arg
        elif kind == "zero":
            buf[at:at + arg] = bytes(len(buf[at:at + arg]))
        elif kind == "repeat":
            piece = bytes(buf[at:at + 256])
            buf[at:at] = piece * arg
    return bytes(buf)


def check(path: Path, store) -> None:
    base = rss()
    started = time.monotonic()
    try:
        load(path, store, LIMITS)
    except QuarryError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS_PER_FILE, f"{path.name}: {elapsed:.1f} s"
    assert rss() - base < MEMORY_PER_FILE, f"{path.name}: +{(rss() - base) >> 20} MB"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(source=st.sampled_from(DEMO), steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_demo_files_raise_only_quarry_errors(store, scratch, source, steps):
    path = scratch / f"mutant{source.suffix.lower()}"
    path.write_bytes(mutate(source.read_bytes(), steps))
    check(path, store)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(suffix=st.sampled_from(sorted(SUPPORTED)), data=st.binary(max_size=4096))
def test_random_bytes_raise_only_quarry_errors(store, scratch, suffix, data):
    path = scratch / f"random{suffix}"
    path.write_bytes(data)
    check(path, store)
