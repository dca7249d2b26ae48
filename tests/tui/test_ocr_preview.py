"""A hit read from a scan says so in the search preview and in the passage it opens."""

from textual.widgets import DataTable

from engine.documents.ingest import ingest_paths
from tests.scans import page, scanned_pdf
from tests.tui.helpers import app_on, chunk_opened, ready, wait_for


async def test_an_ocr_hit_shows_the_ocr_mark(demo_workspace, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    scanned_pdf(folder / "memo.pdf", [page(["Cover page of the memo."]),
                                      page(["The pelican archive moves to shelf 9 in May."])])
    assert [e.kind for e in ingest_paths(demo_workspace, [folder]) if e.kind == "ingested"] == ["ingested"]
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+f", *"pelican archive shelf")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0, timeout=30)
        assert str(hits.get_row_at(0)[2]) == "memo.pdf"
        preview = str(app.query_one("#hit-preview").render())
        assert "page 2 · text by OCR" in preview and "pelican archive" in preview
        await pilot.press("tab", "enter")
        await chunk_opened(pilot)
        assert "memo.pdf — page 2 · text by OCR" in str(app.screen.query_one("#chunk-where").render())
