from textual.widgets import DataTable

from tests.tui.helpers import app_on, ready, wait_for
from tui.widgets.dialogs import ConfirmScreen


async def test_library_lists_documents(demo_workspace):
    count = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        assert app.query_one("#doc-table", DataTable).row_count == count


async def test_add_folder_with_progress_and_errors(demo_workspace, tmp_path):
    folder = tmp_path / "new-docs"
    folder.mkdir()
    (folder / "memo.md").write_text("# Memo\nThe zebra project budget is 12,000 dollars.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nope")
    before = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*str(folder))
        await pilot.press("enter")
        pane = app.query_one("#documents-pane")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        assert pane.files_reported == 2
        assert app.query_one("#doc-table", DataTable).row_count == before + 2
        messages = [n.message for n in app._notifications]
        assert any("broken.pdf: not a readable PDF" in m for m in messages)
        assert any("1 ingested" in m for m in messages)


async def test_missing_path_is_a_notification(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*"/no/such/folder", "enter")
        assert any("no such file or folder" in n.message for n in app._notifications)


async def test_live_search_shows_hits_and_preview(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f")
        await pilot.press(*"return window for opened electronics")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        assert hits.get_row_at(0)[2] == "returns-policy.pdf"
        assert "15 days" in str(app.query_one("#hit-preview").render())


async def test_remove_document_after_confirm(demo_workspace):
    before = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        table = app.query_one("#doc-table", DataTable)
        table.focus()
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == before - 1, timeout=30)
        assert len(app.workspace.store.documents()) == before - 1


async def test_escape_cancels_an_ingest_between_files(demo_workspace, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(60):
        body = " ".join(f"Line {j} of note {i}." for j in range(200))
        (folder / f"note-{i:02d}.md").write_text(f"# Note {i}\n{body}")
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*str(folder), "enter")
        pane = app.query_one("#documents-pane")
        await wait_for(pilot, lambda: pane.files_reported >= 2, timeout=60)
        await pilot.press("escape")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        added = [d for d in app.workspace.store.documents() if "/many/" in d.path]
        assert 2 <= len(added) < 60
        assert any(n.message.startswith("Cancelled:") for n in app._notifications)
