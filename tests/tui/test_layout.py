"""Layout at common terminal sizes, the footer, the focus ring and the light/dark key."""

import pytest
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from tests.tui.helpers import app_on, ready, wait_for


async def test_footer_at_120_columns_shows_settings_and_help(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        for pane in ("f1", "f2"):
            await pilot.press(pane)
            await pilot.pause(0.1)
            shown = {k.key for k in app.screen.query(FooterKey) if k.region.width and k.region.right <= 120}
            assert "f8" in shown and ("question_mark" in shown or "f12" in shown), shown


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_small_terminals_keep_search_results_and_library_columns(demo_workspace, size):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f", *"return window")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        await pilot.pause(0.2)
        assert hits.region.height >= 3 and hits.region.width > 0
        library = app.query_one("#doc-table", DataTable)
        assert library.region.height >= 3
        columns = [str(c.label) for c in library.columns.values()]
        assert columns == ["File", "Type", "Pages", "Chunks", "Ingested", "Status"]
        # Every column is on screen: the table does not need a sideways scroll.
        assert library.virtual_size.width <= library.scrollable_content_region.width
        assert "document" in str(app.query_one("#library-title").render())
        assert " hit" in str(app.query_one("#hit-count").render())


async def test_counts_are_shown(demo_workspace):
    count = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f", *"return window")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        assert f"{count} documents" in str(app.query_one("#library-title").render())
        count_line = str(app.query_one("#hit-count").render())
        assert f"{hits.row_count} hits · " in count_line and " ms" in count_line


async def test_f9_goes_light_from_any_dark_theme_and_back(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.theme = "nord"
        await pilot.press("f9")
        assert app.theme == "textual-light"
        await pilot.press("f9")
        assert app.theme == "textual-dark"


async def test_focus_ring_moves_with_focus(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        listing = app.query_one("#chat-list")
        before = listing.styles.border_left
        listing.focus()
        await pilot.pause(0.1)
        assert listing.styles.border_left != before
