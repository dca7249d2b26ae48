"""Ingest on Ray Data: the local pipeline's stages as a Ray dataset, then the workspace loads the result.

  read     the file list as Arrow blocks (paths: on a cluster the files must be at the same paths on
           every node, e.g. a shared mount)
  parse    Ray tasks run the same `prepare` as the local parse workers (hash, skip, loaders, chunking,
           jieba) with fractional CPUs
  encode   an actor pool that holds the ONNX encoder, one actor per two CPUs (a GPU each where the
           cluster has GPUs), so parse tasks always have CPUs left: a pool that takes every CPU starves
           the reads and the job never ends
  write    Parquet shards, one row per file with its chunks and vectors
  load     the workspace reads the shards in file order and commits them in groups through the local
           pipeline's own commit (same ids, same generation rules, same indexes)
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.documents.ingest.loaders import Limits
from engine.documents.ingest.pipeline import Pipeline, plan, tokenizer_file
from engine.scale import connected, encoder_pool, quiet, require_ray, stall_point
from engine.scale.rows import files_table, from_row, tasks_table, to_row

PARSE_BATCH = 16  # files per parse task
ENCODE_BATCH = 64  # files per encoder call in an actor (their chunks go to the encoder together)
LOAD_GROUP = 256  # files per commit while loading the shards

_OFFSETS: dict = {}


def _offsets(tokenizer_file: str):
    """Gives the chunker's offsets function, the tokenizer loaded once per Ray worker process."""
    if tokenizer_file not in _OFFSETS:
        from engine.runtime.encoder import untruncated_offsets

        _OFFSETS[tokenizer_file] = untruncated_offsets(tokenizer_file)
    return _OFFSETS[tokenizer_file]


def parse_files(batch, tokenizer_file: str, limits: Limits):
    """A Ray task: prepares a batch of files (rows of TASK) into file rows (FILE), not yet encoded."""
    from engine.documents.ingest.prepare import prepare
    from engine.store.documents import TableReader

    stall_point("parse")
    offsets, reader = _offsets(tokenizer_file), TableReader()
    rows = [to_row(r["order"], prepare(Path(r["path"]), r["key"], r["digest"], limits, reader, offsets))
            for r in batch.to_pylist()]
    return files_table(rows)


class EncodeFiles:
    """A Ray actor holding the workspace's ONNX encoder: encodes the chunks of a batch of files together."""

    def __init__(self, model_id: str, variant: str) -> None:
        from engine.runtime.encoder import Encoder

        self.encoder = Encoder(model_id, variant)

    def __call__(self, batch):
        stall_point("encode")
        rows = batch.to_pylist()
        texts = [t for r in rows if r["status"] == "parsed" for t in r["texts"]]
        vectors = self.encoder.encode(texts)
        start = 0
        for r in rows:
            if r["status"] == "parsed":
                r["vectors"] = vectors[start : start + len(r["texts"])].tobytes()
                start += len(r["texts"])
        return files_table(rows)


def write_shards(ray, tasks, folder: Path, model_id: str, variant: str, tokenizer: Path, limits: Limits) -> None:
    """Runs read -> parse -> encode -> write on Ray Data; gives when every shard is written."""
    import ray.data

    quiet(ray)
    cpus = ray.cluster_resources().get("CPU", 1.0)
    blocks = max(1, min(len(tasks) // PARSE_BATCH + 1, int(cpus) * 4))
    dataset = ray.data.from_arrow(tasks_table(tasks)).repartition(blocks)
    # A parse task whose worker dies is run again (Ray retries a task on a system failure, see
    # engine.scale.encoder_pool); run() loads each file's order once, whatever was written twice.
    dataset = dataset.map_batches(parse_files, batch_format="pyarrow", batch_size=PARSE_BATCH, num_cpus=0.5,
                                  fn_kwargs={"tokenizer_file": str(tokenizer), "limits": limits})
    dataset = dataset.map_batches(EncodeFiles, batch_format="pyarrow", batch_size=ENCODE_BATCH, **encoder_pool(ray),
                                  fn_constructor_kwargs={"model_id": model_id, "variant": variant})
    dataset.write_parquet(str(folder))


def run(ws, files: list[Path], states: dict, limits: Limits, encoder, searcher, summary, started: float,
        cancel: Callable[[], bool] | None, events, address: str | None) -> Iterator:
    """Ingests `files` on Ray (local or a cluster), then loads the shards; yields per-file events like the
    local pipeline and gives how many files were done."""
    from engine.store.documents import parquet_in_order

    ray = require_ray()
    tasks, twice = plan(files, states)
    line = Pipeline(ws, encoder, searcher, summary, len(files), started, cancel, events)
    for key in twice:
        yield line.skipped(key)
    folder = ws.root / "scale" / f"ingest-{uuid.uuid4().hex[:12]}"
    try:
        if tasks:
            with connected(address) as where:
                yield line.event("reading", "", 0, f"parsing and encoding {len(tasks)} files on Ray ({where})")
                began = time.perf_counter()
                write_shards(ray, tasks, folder, ws.encoder_id, ws.encoder_variant, tokenizer_file(ws), limits)
                seconds = time.perf_counter() - began
            yield line.event("reading", "", 0, f"Ray wrote the shards in {seconds:.1f} s; loading them")
        rows = parquet_in_order(str(folder / "*.parquet"), "order") if tasks else iter(())
        last = -1
        for batch in rows:
            for row in batch:
                if row["order"] == last:
                    continue  # a retried Ray task may have written its rows twice: each file loads once
                last = row["order"]
                prepared, vectors = from_row(row, encoder.dimension)
                if prepared.status == "skipped":
                    yield line.skipped(prepared.key)
                    continue
                line.encoded(prepared, vectors)
                if len(line.group) >= LOAD_GROUP:
                    yield from line.commit_due(force=True)
                    if line.cancel():
                        line.cancelled = True
                        break
            if line.cancelled:
                break
        yield from line.commit_due(force=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return line.done
