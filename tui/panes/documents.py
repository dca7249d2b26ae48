"""The Documents pane: the library, adding files with live progress, removing, and live search."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, ProgressBar, Static

from tui import actions
from tui.messages import IngestFailed, IngestFinished, IngestProgressed, SearchFinished
from tui.widgets.dialogs import ConfirmScreen

SEARCH_DELAY = 0.25


def common_root(paths: list[str]) -> str:
    """Gives the folder shared by all paths, so the table can show short relative names."""
    if not paths:
        return ""
    root = os.path.commonpath(paths)
    return root if len(paths) > 1 or root != paths[0] else os.path.dirname(root)


class DocumentsPane(Vertical):
    BINDINGS = actions.bindings("documents")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._cancel = threading.Event()
        self._ingesting = False
        self._search_timer = None
        self._hits: list = []
        self.ingests = 0  # ingests finished or failed, for tests that wait on them
        self.files_reported = 0  # progress updates shown during the last ingest

    def compose(self) -> ComposeResult:
        with Horizontal(id="add-row"):
            yield Input(placeholder="Path of a file or folder to add (enter)", id="add-path")
        with Horizontal(id="ingest-row"):
            yield ProgressBar(id="ingest-bar", show_eta=True)
            yield Static("", id="ingest-status")
        yield Label("Library", classes="section")
        yield DataTable(id="doc-table", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="Search your documents (hybrid: meaning + keywords)", id="doc-search")
        with Horizontal(id="search-row"):
            yield DataTable(id="hit-table", cursor_type="row")
            with VerticalScroll(id="hit-preview-box"):
                yield Static("", id="hit-preview")

    def on_mount(self) -> None:
        table = self.query_one("#doc-table", DataTable)
        table.add_columns("File", "Type", "Pages", "Chunks", "Ingested", "Status")
        hits = self.query_one("#hit-table", DataTable)
        hits.add_columns("#", "Score", "File", "Page")
        self.query_one("#ingest-row").display = False

    @property
    def workspace(self):
        return self.app.workspace

    def workspace_ready(self) -> None:
        self.refresh_library()

    def refresh_library(self) -> None:
        docs = self.workspace.store.documents()
        root = common_root([d.path for d in docs])
        table = self.query_one("#doc-table", DataTable)
        table.clear()
        for d in docs:
            name = os.path.relpath(d.path, root) if root else d.path
            when = d.ingested_at.strftime("%Y-%m-%d %H:%M") if d.ingested_at else "-"
            status = d.status if d.status == "ready" else f"failed: {(d.error or '')[len(d.path) + 2:][:40]}"
            table.add_row(name, d.doctype, str(d.pages or "-"), str(d.chunks), when, status, key=str(d.id))
        self.query_one("#doc-table", DataTable).border_title = f"{len(docs)} documents"

    # -- adding -------------------------------------------------------------------------------
    def action_focus_add(self) -> None:
        self.query_one("#add-path", Input).focus()

    @on(Input.Submitted, "#add-path")
    def add(self, event: Input.Submitted) -> None:
        raw = event.value.strip()
        if not raw:
            return
        if self.workspace is None:
            self.notify("The workspace is not open (see the message above)", severity="warning")
            return
        path = Path(raw).expanduser()
        if not path.exists():
            self.notify(f"{path}: no such file or folder", severity="error")
            return
        if self._ingesting:
            self.notify("An ingest is already running (esc cancels it)", severity="warning")
            return
        self._ingesting = True
        self.files_reported = 0
        self._cancel.clear()
        row = self.query_one("#ingest-row")
        row.display = True
        self.query_one("#ingest-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#ingest-status", Static).update(f"Reading {path} …")
        self.ingest(path)

    @work(thread=True, exclusive=True, group="ingest", exit_on_error=False)
    def ingest(self, path: Path) -> None:
        from engine.errors import QuarryError
        from engine.ingest import IngestSummary, ingest_paths

        summary = IngestSummary()
        try:
            for event in ingest_paths(self.workspace, [path], cancel=self._cancel.is_set, summary=summary):
                self.post_message(IngestProgressed(event))
        except QuarryError as exc:
            self.post_message(IngestFailed(str(exc)))
            return
        self.post_message(IngestFinished(summary, self._cancel.is_set()))

    @on(IngestProgressed)
    def progressed(self, message: IngestProgressed) -> None:
        event = message.event
        bar = self.query_one("#ingest-bar", ProgressBar)
        if event.kind == "start":
            bar.update(total=max(event.files_total, 1), progress=0)
        elif event.kind in ("ingested", "skipped", "failed"):
            self.files_reported += 1
            bar.update(progress=event.files_done)
            self.query_one("#ingest-status", Static).update(
                f"{event.files_done}/{event.files_total} files · {event.chunks_total} chunks · "
                f"{event.chunks_per_s:.0f} chunks/s · {Path(event.path).name} (esc cancels)")
        if event.kind == "failed":
            self.notify(event.message, severity="error", timeout=6)
        for warning in event.warnings:
            self.notify(warning, severity="warning", timeout=6)

    @on(IngestFinished)
    def ingest_finished(self, message: IngestFinished) -> None:
        self._ingesting = False
        self.ingests += 1
        self.query_one("#ingest-row").display = False
        self.refresh_library()
        line = message.summary.line()
        self.notify(("Cancelled: " if message.cancelled else "") + line, timeout=6)

    @on(IngestFailed)
    def ingest_failed(self, message: IngestFailed) -> None:
        self._ingesting = False
        self.ingests += 1
        self.query_one("#ingest-row").display = False
        self.notify(message.error, severity="error", timeout=8)

    def action_cancel_ingest(self) -> None:
        if self._ingesting:
            self._cancel.set()
            self.query_one("#ingest-status", Static).update("Cancelling after the current file …")

    def action_remove_document(self) -> None:
        table = self.query_one("#doc-table", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        name = table.get_row(key)[0]

        def done(yes: bool | None) -> None:
            if yes:
                from engine.ingest import remove_document

                chunks = remove_document(self.workspace, int(key))
                self.refresh_library()
                self.notify(f"Removed {name} ({chunks} chunks)")

        self.app.push_screen(ConfirmScreen(f"Remove {name} from the library?"), done)

    # -- search -------------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.query_one("#doc-search", Input).focus()

    @on(Input.Changed, "#doc-search")
    def query_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value.strip()
        if text and self.workspace is not None:
            self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.search(text))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search(self, text: str) -> None:
        from engine.errors import QuarryError

        started = time.perf_counter()
        try:
            settings = self.app.settings
            hits = self.workspace.searcher().search(text, 10, settings.search_mode).hits
        except QuarryError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(SearchFinished(text, hits, (time.perf_counter() - started) * 1000))

    @on(SearchFinished)
    def show_hits(self, message: SearchFinished) -> None:
        self._hits = message.hits
        table = self.query_one("#hit-table", DataTable)
        table.clear()
        for h in message.hits:
            table.add_row(str(h.rank), f"{h.score:.4f}", h.path.rsplit("/", 1)[-1], str(h.page or "-"))
        table.border_title = f"{len(message.hits)} hits · {message.elapsed_ms:.0f} ms"
        self._preview(0)

    @on(DataTable.RowHighlighted, "#hit-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def _preview(self, index: int) -> None:
        preview = self.query_one("#hit-preview", Static)
        if not self._hits or index >= len(self._hits):
            preview.update("No hits." if not self._hits else "")
            return
        h = self._hits[index]
        where = h.path + (f" — page {h.page}" if h.page else "")
        preview.update(f"[b]{where}[/b]\n\n{h.text}")
