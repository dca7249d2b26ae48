"""Batch classification on Ray Data: the encode + predict stage of engine/classify/batch.py.

  read     the staged rows after the last committed one, handed to Ray as Arrow blocks (the driver reads
           them from DuckDB, so a cluster needs no shared disk for them)
  label    an actor pool (sized like the ingest encoders, engine.scale.encoder_pool) whose actors hold
           the fitted head, shipped pickled, and the workspace's ONNX encoder when the head reads vectors;
           they run the same label_rows as the in-process batch
  commit   the labelled rows stream back in row order and the job commits them slice by slice, as it does
           in-process: progress, cancel and resume after a crash stay the same
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pyarrow as pa

from engine.scale import connected, encoder_pool, quiet, require_ray

ROWS_PER_BLOCK = 4096  # staged rows per Ray block
ROWS_PER_CALL = 512  # rows per actor call (the in-process batch's first slice)

OUT = pa.schema([("row_id", pa.int64()), ("text", pa.string()), ("label", pa.string()),
                 ("confidence", pa.float64()), ("runner_up", pa.string()), ("method", pa.string()),
                 ("attempt", pa.int32())])


class LabelRows:
    """A Ray actor holding a fitted head (and its encoder): labels a batch of staged rows."""

    def __init__(self, head: bytes, model_id: str, variant: str, method_name: str, tabular: bool,
                 attempt: int) -> None:
        from engine.classify.heads import attach

        def embedder():
            from engine.classify.vectors import Embedder
            from engine.runtime.encoder import Encoder

            return Embedder(Encoder(model_id, variant))

        self.method = attach(pickle.loads(head), embedder)
        self.method_name, self.tabular, self.attempt = method_name, tabular, attempt

    def __call__(self, batch: pa.Table) -> pa.Table:
        from engine.classify.batch import label_rows

        rows = label_rows(self.method, self.method_name, self.tabular, batch.column("row_id").to_pylist(),
                          batch.column("value").to_pylist(), self.attempt)
        return pa.Table.from_pylist([dict(zip(OUT.names, r)) for r in rows], schema=OUT)


def label_on_ray(ws, method, method_name: str, tabular: bool, staging: str, last: int, attempt: int,
                 address: str | None) -> Iterator[list[tuple]]:
    """Yields the output rows of the staged rows after `last`, in row order, a block at a time, labelled
    on Ray (a local Ray or the cluster at `address`)."""
    ray = require_ray()
    blocks = ws.store.staged_blocks(staging, last, ROWS_PER_BLOCK)
    if not blocks:
        return
    head = pickle.dumps(method, protocol=pickle.HIGHEST_PROTOCOL)  # the encoder stays behind (Method.__getstate__)
    with connected(address):
        import ray.data

        quiet(ray)
        context = ray.data.DataContext.get_current()
        ordered = context.execution_options.preserve_order
        # in row order: a resumed batch starts after the last committed row, so no row may come before one
        # it follows
        context.execution_options.preserve_order = True
        try:
            dataset = ray.data.from_arrow(blocks).map_batches(
                LabelRows, batch_format="pyarrow", batch_size=ROWS_PER_CALL, **encoder_pool(ray),
                fn_constructor_kwargs={"head": head, "model_id": ws.encoder_id, "variant": ws.encoder_variant,
                                       "method_name": method_name, "tabular": tabular, "attempt": attempt})
            for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                rows = [tuple(row.values()) for row in batch.select(OUT.names).to_pylist()]
                if rows and rows[0][0] <= last:  # a resume would skip the rows before it: stop loudly
                    raise RuntimeError(f"Ray gave row {rows[0][0]} after row {last}: rows out of order")
                last = rows[-1][0] if rows else last
                yield rows
        finally:
            context.execution_options.preserve_order = ordered
