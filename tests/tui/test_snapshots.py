"""SVG snapshots of each pane at 120×40, and the app at 80×24. Models are not warmed and no answer is
generated here, so the pictures do not depend on timings; flows with answers are in the Pilot tests."""

from datetime import datetime

import pytest

from tests.tui.helpers import ready
from tui.app import QuarryApp


@pytest.fixture
def snapshot_workspace(demo_workspace):
    """The demo workspace with fixed ingest times, so the library table is the same every run."""
    demo_workspace.store.set_ingested_at(datetime(2026, 11, 1, 9, 30))
    root = demo_workspace.root
    demo_workspace.close()
    return root


def _app(root):
    return QuarryApp(root, warm_models=False, cursor_blink=False)


def _before(*keys):
    async def run_before(pilot):
        await ready(pilot)
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.3)
    return run_before


@pytest.mark.parametrize("pane,key", [("chat", None), ("documents", "f2"), ("classify", "f3"),
                                      ("recommend", "f4"), ("compare", "f5")])
def test_pane_snapshot(snap_compare, snapshot_workspace, pane, key):
    keys = (key,) if key else ()
    assert snap_compare(_app(snapshot_workspace), terminal_size=(120, 40), run_before=_before(*keys))


@pytest.mark.parametrize("key", [None, "f2"])
def test_small_terminal_snapshot(snap_compare, snapshot_workspace, key):
    keys = (key,) if key else ()
    assert snap_compare(_app(snapshot_workspace), terminal_size=(80, 24), run_before=_before(*keys))


def test_help_snapshot(snap_compare, snapshot_workspace):
    async def run_before(pilot):
        await ready(pilot)
        pilot.app.query_one("#chat-list").focus()
        await pilot.press("question_mark")
        await pilot.pause(0.3)
    assert snap_compare(_app(snapshot_workspace), terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_scope_picker_snapshot(snap_compare, snapshot_workspace, size):
    """The Chat pane's document picker, narrowed by typing, one document picked."""
    async def run_before(pilot):
        await ready(pilot)
        pilot.app.query_one("#prompt").focus()
        await pilot.press("ctrl+f", *"policy", "down", "space")
        await pilot.pause(0.3)
    assert snap_compare(_app(snapshot_workspace), terminal_size=size, run_before=run_before)
