from textual.widgets import DataTable

from tests.tui.helpers import app_on, chunk_opened, notified, ready, toasts, type_text, wait_for
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
        await type_text(pilot, str(folder))
        await pilot.press("enter")
        pane = app.query_one("#documents-pane")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        assert pane.files_reported == 2
        assert app.query_one("#doc-table", DataTable).row_count == before + 2
        messages = toasts(app)
        assert any("broken.pdf: not a readable PDF" in m for m in messages)
        assert any("1 ingested" in m for m in messages)


async def test_missing_path_is_a_notification(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*"/no/such/folder", "enter")
        await notified(pilot, "no such file or folder")


async def test_live_search_shows_hits_and_preview(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f")
        await pilot.press(*"return window for opened electronics")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        assert str(hits.get_row_at(0)[2]) == "returns-policy.pdf"
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
        await type_text(pilot, str(folder))
        await pilot.press("enter")
        pane = app.query_one("#documents-pane")
        await wait_for(pilot, lambda: pane.files_reported >= 2, timeout=60)
        await pilot.press("escape")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        added = [d for d in app.workspace.store.documents() if "/many/" in d.path]
        assert 2 <= len(added) < 60
        await notified(pilot, "Cancelled:")


async def test_del_on_a_search_hit_removes_that_hits_document(demo_workspace):
    docs = demo_workspace.store.documents()
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        library = app.query_one("#doc-table", DataTable)
        library.move_cursor(row=0)
        await pilot.press("ctrl+f", *"return window for opened electronics")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        hits.focus()
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "returns-policy.pdf" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.workspace.store.documents()) == len(docs) - 1, timeout=30)
        assert not any(d.path.endswith("returns-policy.pdf") for d in app.workspace.store.documents())


async def test_enter_on_a_hit_opens_its_passage(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f", *"return window for opened electronics")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        await pilot.press("tab")  # from the search field to the hits
        assert app.focused is hits
        await pilot.press("enter")
        await chunk_opened(pilot)
        assert "returns-policy.pdf" in str(app.screen.query_one("#chunk-where").render())


async def test_tab_completes_a_path_when_adding(demo_workspace, tmp_path):
    (tmp_path / "quarterly-reports").mkdir()
    (tmp_path / "quarterly-reports" / "q3.md").write_text("# Q3\nRevenue grew.")
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*f"{tmp_path}/quar", "tab")
        field = app.query_one("#add-path")
        assert field.value == f"{tmp_path}/quarterly-reports/"
        await pilot.press("q", "tab")
        assert field.value == f"{tmp_path}/quarterly-reports/q3.md"


async def test_j_k_g_and_G_move_in_the_library(demo_workspace):
    count = len(demo_workspace.store.documents())
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        table = app.query_one("#doc-table", DataTable)
        table.focus()
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == count - 1
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_a_failing_ingest_clears_the_busy_state_and_the_next_one_runs(demo_workspace, tmp_path, monkeypatch):
    """A PermissionError in the ingest worker used to leave the pane refusing every later ingest."""
    import engine.documents.ingest
    from tui.widgets.job_progress import JobProgress

    real = engine.documents.ingest.ingest_paths

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/srv/locked")
        yield

    folder = tmp_path / "fine"
    folder.mkdir()
    (folder / "memo.md").write_text("# Memo\nThe okapi budget is 9 dollars.")
    monkeypatch.setattr(engine.documents.ingest, "ingest_paths", denied)
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        pane = app.query_one("#documents-pane")
        await type_text(pilot, str(folder))
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        assert not app.query_one(JobProgress).busy
        await notified(pilot, "PermissionError", "/srv/locked")
        monkeypatch.setattr(engine.documents.ingest, "ingest_paths", real)
        app.query_one("#add-path").value = ""
        await pilot.press("ctrl+n")
        await type_text(pilot, str(folder))
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.ingests == 2, timeout=60)
        await notified(pilot, "1 ingested")
        assert not app.query_one(JobProgress).busy


async def test_an_interrupted_ingest_is_offered_and_resumed(demo_workspace, tmp_path):
    from engine import jobs
    from engine.documents.ingest import start_ingest

    folder = tmp_path / "more"
    folder.mkdir()
    for i in range(4):
        (folder / f"memo-{i}.md").write_text(f"# Memo {i}\nThe okapi number {i} budget is {i} dollars.")
    run = start_ingest(demo_workspace, [folder])
    next(run), next(run)  # started and one file in, then the process "stops"
    run.close()
    [stopped] = jobs.unfinished(demo_workspace)
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await notified(pilot, "An ingest stopped before its end")
        pane = app.query_one("#documents-pane")
        await pilot.press("f2", "ctrl+r")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        await notified(pilot, "3 ingested, 1 unchanged")
        assert app.workspace.store.job(stopped.id).status == "done" and pane.stopped_ingest is None
