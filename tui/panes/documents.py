"""The Documents pane: the library, adding files with live progress, removing, and live search."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Static

from tui import actions
from tui.messages import JobFailed, JobFinished, JobProgressed, SearchFinished
from tui.widgets.dialogs import ChunkScreen, ConfirmScreen
from tui.widgets.job_progress import JobProgress
from tui.widgets.lists import KeyedDataTable
from tui.widgets.path_input import PathInput
from tui.workers import thread_worker, write_off_ui

SEARCH_DELAY = 0.25


def common_root(paths: list[str]) -> str:
    """Gives the folder shared by all paths, so the table can show short relative names."""
    if not paths:
        return ""
    root = os.path.commonpath(paths)
    return root if len(paths) > 1 or root != paths[0] else os.path.dirname(root)


def shorten_left(text: str, width: int) -> str:
    """Gives text cut to `width` terminal cells from the left behind a …, keeping its end (a file name)."""
    if cell_len(text) <= width:
        return text
    while text and cell_len(text) > width - 1:
        text = text[1:]
    return "…" + text


def shorten_right(text: str, width: int) -> str:
    """Gives text cut to `width` terminal cells, ending in … when cut."""
    if cell_len(text) <= width:
        return text
    while text and cell_len(text) > width - 1:
        text = text[:-1]
    return text + "…"


class DocumentsPane(Vertical):
    BINDINGS = actions.bindings("documents")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._search_timer = None
        self._hits: list = []
        self._rows: dict[str, tuple] = {}  # library row key -> (name under the common root, ingested at, status)
        self.ingests = 0  # ingests finished or failed, for tests that wait on them
        self.files_reported = 0  # progress updates shown during the last ingest
        self.stopped_ingest: int | None = None  # the newest ingest job that stopped before its end

    def compose(self) -> ComposeResult:
        with Horizontal(id="add-row"):
            yield PathInput(placeholder="Path of a file or folder to add (tab completes, enter adds)",
                            id="add-path")
        yield JobProgress(id="ingest-progress", cancel_hint=actions.hint(self.app, ("documents.cancel", "cancels")))
        yield Label("Library", classes="section", id="library-title")
        yield KeyedDataTable(id="doc-table", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="Search your documents (hybrid: meaning + keywords)", id="doc-search")
        with Horizontal(id="search-row"):
            with Vertical(id="hit-side"):
                yield Label(Text(f"Hits · {self._hit_keys()}"), classes="section", id="hit-count")
                yield KeyedDataTable(id="hit-table", cursor_type="row")
            with VerticalScroll(id="hit-preview-box"):
                yield Static("", id="hit-preview")

    def on_mount(self) -> None:
        table = self.query_one("#doc-table", DataTable)
        table.add_columns("File", "Type", "Pages", "Chunks", "Ingested", "Status")
        hits = self.query_one("#hit-table", DataTable)
        hits.add_columns("#", "Score", "File", "Page")

    @property
    def workspace(self):
        return self.app.workspace

    def _hit_keys(self) -> str:
        return f"enter opens · {actions.key(self.app, 'documents.remove')} removes"

    def _busy_note(self) -> str:
        return f"An ingest is already running ({actions.key(self.app, 'documents.cancel')} cancels it)"

    def workspace_ready(self) -> None:
        self.refresh_library()
        self._offer_resume()

    def _offer_resume(self) -> None:
        """Says when an ingest stopped before its end (a crash, a kill, a cancel) and how to resume it."""
        from engine import jobs

        stopped = [r for r in jobs.unfinished(self.workspace) if r.kind == "ingest"]
        self.stopped_ingest = stopped[0].id if stopped else None
        if stopped:
            done = f"{stopped[0].done}/{stopped[0].total}" if stopped[0].total else str(stopped[0].done)
            key = actions.key(self.app, "documents.resume")
            self.notify(f"An ingest stopped before its end ({done} files); {key} in Documents resumes it",
                        timeout=10, markup=False)

    def action_resume_ingest(self) -> None:
        from engine import jobs

        if self.stopped_ingest is None:
            self.notify("No stopped ingest to resume", severity="warning")
            return
        workspace, job_id = self.workspace, self.stopped_ingest
        started = self.query_one(JobProgress).start(lambda cancel: jobs.resume(workspace, job_id, cancel),
                                                    f"Resuming ingest job {job_id} …", kind="ingest")
        if started is None:
            self.notify(self._busy_note(), severity="warning")
        else:
            self.files_reported = 0

    def refresh_library(self) -> None:
        docs = self.workspace.store.documents()
        root = common_root([d.path for d in docs])
        table = self.query_one("#doc-table", DataTable)
        table.clear()
        self._rows = {}
        for d in docs:
            name = os.path.relpath(d.path, root) if root else d.path
            status = d.status if d.status == "ready" else f"failed: {(d.error or '')[len(d.path) + 2:][:40]}"
            self._rows[str(d.id)] = (name, d.ingested_at, status)
            table.add_row(Text(name), d.doctype, str(d.pages or "-"), str(d.chunks), "-", Text(status),
                          key=str(d.id))
        self.query_one("#library-title", Label).update(f"Library · {len(docs)} document{'s' * (len(docs) != 1)}")
        self._fit_library()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_library)

    def _fit_library(self) -> None:
        """Fits the library's columns to the pane's width so every column stays on screen: on a narrow
        terminal the date drops its year and a long status is cut; the File column takes what is left,
        a long name keeping its end (the file name) behind a leading …."""
        table = self.query_one("#doc-table", DataTable)
        columns = list(table.columns.values())
        available = table.scrollable_content_region.width
        if len(columns) < 6 or not available:
            return
        narrow = available < 100
        when_format = "%m-%d %H:%M" if narrow else "%Y-%m-%d %H:%M"
        status_cap = 8 if available < 70 else 14 if narrow else 40
        longest = {"name": 4, "status": 6}
        for name, _, status in self._rows.values():
            longest["name"] = max(longest["name"], cell_len(name))
            longest["status"] = max(longest["status"], min(cell_len(status), status_cap))
        pad = 2 * table.cell_padding
        when_width = 11 if narrow else 16
        others = sum(c.get_render_width(table) for c in columns[1:4]) + when_width + longest["status"] + 3 * pad
        file_width = max(8, min(longest["name"], available - others))
        widths = {0: file_width, 4: when_width, 5: longest["status"]}
        for index, width in widths.items():
            columns[index].auto_width = False
            columns[index].width = width
        for key, (name, when, status) in self._rows.items():
            if key not in table.rows:
                continue
            table.update_cell(key, columns[0].key, Text(shorten_left(name, file_width)))
            table.update_cell(key, columns[4].key, when.strftime(when_format) if when else "-")
            table.update_cell(key, columns[5].key, Text(shorten_right(status, longest["status"])),
                              update_width=True)
        table.refresh()

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
        self.ingest(path)

    def ingest(self, path: Path) -> None:
        """Runs an ingest job (engine.jobs) in the one worker pattern; its bar shows until it ends."""
        from engine.documents.ingest import start_ingest

        workspace = self.workspace
        started = self.query_one(JobProgress).start(
            lambda cancel: start_ingest(workspace, [path], cancel=cancel), f"Reading {path} …", kind="ingest")
        if started is None:
            self.notify(self._busy_note(), severity="warning")
        else:
            self.files_reported = 0

    @on(JobProgressed)
    def progressed(self, message: JobProgressed) -> None:
        if message.kind != "ingest":
            return
        event = message.progress.data.get("event")
        if event in ("ingested", "skipped", "failed"):
            self.files_reported += 1
        if event == "failed":
            self.notify(message.progress.data["error"], severity="error", timeout=6, markup=False)
        if event == "special":  # a FIFO or a folder with nothing to read: skipped, and said so
            self.notify(message.progress.data["line"], severity="warning", timeout=8, markup=False)

    @on(JobFinished)
    def ingest_finished(self, message: JobFinished) -> None:
        if message.kind != "ingest":
            return
        self.ingests += 1
        self.refresh_library()
        self.stopped_ingest = message.job_id if message.cancelled else None
        line = message.result.line() if message.result is not None else "nothing ingested"
        self.notify(("Cancelled: " if message.cancelled else "") + line, timeout=6, markup=False)

    @on(JobFailed)
    def ingest_failed(self, message: JobFailed) -> None:
        if message.kind != "ingest":
            return
        self.ingests += 1  # JobProgress already showed the error; what was committed is listed
        self.refresh_library()

    def action_cancel_ingest(self) -> None:
        self.query_one(JobProgress).cancel("Cancelling after the current file …")

    def action_remove_document(self) -> None:
        """Removes the highlighted document: the library's row, or the search hit's document when the
        hits have focus."""
        if self.workspace is None:
            return
        hits = self.query_one("#hit-table", DataTable)
        if hits.has_focus:
            if not self._hits or hits.cursor_row >= len(self._hits):
                return
            path = self._hits[hits.cursor_row].path
            doc = next((d for d in self.workspace.store.documents() if d.path == path), None)
            if doc is None:
                self.notify(f"{path} is no longer in the library", severity="warning")
                return
            key, name = str(doc.id), path.rsplit("/", 1)[-1]
        else:
            table = self.query_one("#doc-table", DataTable)
            if not table.row_count:
                return
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            name = str(table.get_row(key)[0])

        def done(yes: bool | None) -> None:
            if yes:
                self.remove(int(key), name)

        self.app.push_screen(ConfirmScreen(f"Remove {name} from the library?"), done)

    def remove(self, document_id: int, name: str) -> None:
        """Removes a document off the UI thread: the commit waits for the writer lock, then the
        index checkpoint writes files."""
        from engine.documents.ingest import remove_document

        workspace = self.workspace

        def removed(chunks: int) -> None:
            self.refresh_library()
            self.notify(f"Removed {name} ({chunks} chunks)", markup=False)

        write_off_ui(self, lambda: remove_document(workspace, document_id), removed, f"remove {name}")

    # -- search -------------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.query_one("#doc-search", Input).focus()

    @on(Input.Changed, "#doc-search")
    def query_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value.strip()
        if text and self.workspace is not None:
            self._search_timer = self.set_timer(SEARCH_DELAY,
                                                lambda: self.search(text, self.app.settings.search_mode))

    @thread_worker("search", "search the documents")
    def search(self, text: str, mode: str) -> None:
        started = time.perf_counter()
        hits = self.workspace.searcher().search(text, 10, mode).hits
        self.post_message(SearchFinished(text, hits, (time.perf_counter() - started) * 1000))

    @on(SearchFinished)
    def show_hits(self, message: SearchFinished) -> None:
        self._hits = message.hits
        table = self.query_one("#hit-table", DataTable)
        table.clear()
        for h in message.hits:
            table.add_row(str(h.rank), f"{h.score:.4f}", Text(h.path.rsplit("/", 1)[-1]), str(h.page or "-"))
        n = len(message.hits)
        self.query_one("#hit-count", Label).update(
            Text(f"{n} hit{'s' * (n != 1)} · {message.elapsed_ms:.0f} ms · {self._hit_keys()}"))
        self._preview(0)

    @on(DataTable.RowSelected, "#hit-table")
    def open_hit(self, event: DataTable.RowSelected) -> None:
        """Opens the selected hit's passage with its file, page and heading."""
        if event.cursor_row >= len(self._hits):
            return
        h = self._hits[event.cursor_row]
        self.app.push_screen(ChunkScreen(h.path, h.page, h.heading, h.text, None, h.ocr))

    @on(DataTable.RowHighlighted, "#hit-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def _preview(self, index: int) -> None:
        preview = self.query_one("#hit-preview", Static)
        if not self._hits or index >= len(self._hits):
            preview.update("No hits." if not self._hits else "")
            return
        h = self._hits[index]
        where = h.path + (f" — page {h.page}" if h.page else "") + (" · text by OCR" if h.ocr else "")
        body = Text(where, style="bold")
        body.append("\n\n")
        body.append(h.text, style="")
        preview.update(body)
