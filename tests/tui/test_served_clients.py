"""The app holds the workspace and serves `quarry` commands from other terminals (real processes); what
they change shows in the app when they end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.tui.helpers import app_on, ready, wait_for

REPO = Path(__file__).resolve().parents[2]


async def test_a_chat_asked_from_another_terminal_is_listed_when_it_ends(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        listing = app.query_one("#chat-list")
        before = len(listing.children)
        await wait_for(pilot, lambda: (app.workspace.root / "quarry.sock").exists())
        ran = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "tui", "ask", "--extractive", "--json",
                             "How long do I have to return an unopened item?", "-w", str(app.workspace.root)],
            cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert ran.returncode == 0, ran.stderr
        await wait_for(pilot, lambda: len(listing.children) == before + 1, timeout=30)
        assert "How long do I have to return" in str(listing.children[0].chat.title)
