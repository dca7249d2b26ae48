"""Helpers shared by the whole suite (the TUI's Pilot helpers, the toast recorder among them, live in
tests/tui/helpers.py): the CLI run in this process, and the check that a workspace's three stores agree."""

from __future__ import annotations

from click.testing import CliRunner, Result


def run_cli(*args, input: str | bytes | None = None, env: dict | None = None) -> Result:
    """Runs `quarry ARGS` in this process (click's runner; paths and numbers may be given as they are).
    `.output` holds stdout and stderr as a terminal shows them, `.stdout` and `.stderr` each alone."""
    from tui.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)


def assert_consistent(ws) -> list[int]:
    """DuckDB, FAISS and tantivy hold exactly the same chunk ids; gives them."""
    db_ids = sorted(ws.store.all_chunk_ids())
    searcher = ws.searcher()
    assert sorted(searcher.vectors.ids().tolist()) == db_ids
    assert searcher.keywords.ids() == db_ids
    return db_ids
