"""The open app serves its workspace: a `quarry ingest` from another terminal runs in it, and the
Documents list shows the new files when it ends."""

from __future__ import annotations

import asyncio
import os
import sys

from textual.widgets import DataTable

from tests.conftest import REPO
from tests.tui.helpers import app_on, notified, ready, wait_for


async def test_a_client_ingest_runs_in_the_app_and_refreshes_its_library(demo_workspace, tmp_path):
    folder = tmp_path / "fresh"
    folder.mkdir()
    for i in range(2):
        (folder / f"memo{i}.md").write_text(f"# Memo {i}\n\nThe heron-{i} rota changes on Fridays.\n")
    root = demo_workspace.root
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.holder is not None)
        await app.pane("documents")  # built when first opened
        table = app.query_one("#doc-table", DataTable)
        before = table.row_count
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "ingest", str(folder), "-w", str(root), cwd=REPO, env=dict(os.environ),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await client.communicate()
        assert client.returncode == 0, err.decode()
        assert "2 ingested" in out.decode()
        await notified(pilot, "quarry ingest from another terminal: done")
        await wait_for(pilot, lambda: table.row_count == before + 2)
        assert any("started from another terminal" in m for m in app.__dict__["_toasts_seen"])


async def test_a_chat_made_by_a_client_is_listed_in_the_app(demo_workspace):
    """`quarry ask` from another terminal made a chat the app's Conversations list did not show until
    something else refreshed it (a delete)."""
    from textual.widgets import ListView

    root = demo_workspace.root
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.holder is not None)
        listing = app.query_one("#chat-list", ListView)
        before = len(listing)
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "ask", "--extractive", "What is the return window for opened electronics?",
            "-w", str(root), cwd=REPO, env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        _, err = await client.communicate()
        assert client.returncode == 0, err.decode()
        await wait_for(pilot, lambda: len(listing) == before + 1, timeout=30)
