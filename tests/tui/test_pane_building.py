"""Panes other than Chat are built the first time they are shown: each must then show its data at once,
whether it is opened by its key or by a click on its tab, before or after the workspace opened."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, OptionList, SelectionList

from engine import recommend as rec
from engine.classify import sets
from tests.tui.helpers import app_on, ready, wait_for
from tui.app import QuarryApp

TABLES = Path(__file__).resolve().parents[2] / "demo" / "docs" / "tables"
LATER_PANES = ("documents", "classify", "recommend", "compare")


async def test_each_pane_is_built_when_first_opened_and_filled(demo_workspace):
    sets.import_examples(demo_workspace, "reviews", "sentiment", file=TABLES / "reviews.csv", text_column="text")
    items, interactions = rec.demo_files()
    rec.import_data(demo_workspace, interactions, items)
    documents = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert app.query_one("#chat-pane") and not any(app.query(f"#{p}-pane") for p in LATER_PANES)

        await pilot.press("f2")
        assert app.query_one("#doc-table", DataTable).row_count == documents
        assert app.focused.id == "doc-search"

        await pilot.press("f3")
        assert app.query_one("#cls-set").value == "reviews"
        assert "labels" in str(app.query_one("#cls-info").render())

        await pilot.click("#--content-tab-recommend")  # a click on the tab builds the pane too
        await wait_for(pilot, lambda: app.query_one("#rec-list", OptionList).option_count > 0, timeout=10)

        await pilot.press("f5")
        await wait_for(pilot, lambda: app.query_one("#compare-models", SelectionList).option_count >= 2, timeout=10)
        await wait_for(pilot, lambda: app.focused.id == "compare-prompt", timeout=10)  # two models picked

        await pilot.press("f2", "f5")  # opened again: the same panes, not built twice
        assert len(app.query("#documents-pane")) == len(app.query("#compare-pane")) == 1


class LateWorkspaceApp(QuarryApp):
    """Opens its workspace only when the test calls QuarryApp.open_workspace: the real one opens too soon
    after the first paint for a test to open a pane before it."""

    def open_workspace(self) -> None:
        pass


async def test_a_pane_opened_before_the_workspace_is_filled_when_it_opens(demo_workspace):
    documents = len(demo_workspace.store.documents())
    root = demo_workspace.root
    demo_workspace.close()
    app = LateWorkspaceApp(root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        assert app.workspace is None and app.query_one("#doc-table", DataTable).row_count == 0
        QuarryApp.open_workspace(app)
        await ready(pilot)
        assert app.query_one("#doc-table", DataTable).row_count == documents
