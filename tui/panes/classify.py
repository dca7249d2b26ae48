"""The Classify pane: pick or create a label set, type a text and see every method side by side, add
examples, run a batch over a table column with a progress bar and cancel, and evaluate the methods
(the table, and the confusion matrix as a coloured grid)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

from tui import actions
from tui.jobs import write_off_ui
from tui.messages import JobFailed, JobFinished
from tui.widgets.job_progress import JobProgress

METHOD_OPTIONS = [("every method", "all"), ("auto", "auto"), ("zero-shot", "zero-shot"),
                  ("embedding", "embedding"), ("lexical", "lexical"), ("stack", "stack"), ("llm", "llm")]
EVAL_METHODS = ["zero-shot", "embedding", "lexical", "stack", "auto"]


class ClassifyPane(VerticalScroll):
    BINDINGS = actions.bindings("classify")
    DEFAULT_CSS = """
    ClassifyPane { padding: 0 1; }
    ClassifyPane #cls-top { height: 3; }
    ClassifyPane #cls-set { width: 30; }
    ClassifyPane #cls-method { width: 22; }
    ClassifyPane #cls-info { width: 1fr; padding: 1 1 0 1; color: $text-muted; }
    ClassifyPane #cls-results { height: 8; }
    ClassifyPane #cls-edit-row { height: 3; }
    ClassifyPane #cls-edit-row Input { width: 1fr; }
    ClassifyPane #cls-eval-row { height: 12; }
    ClassifyPane #cls-eval { width: 3fr; }
    ClassifyPane #cls-confusion-box { width: 2fr; }
    """

    class Compared(Message):
        def __init__(self, text: str, rows: list) -> None:
            super().__init__()
            self.text = text
            self.rows = rows  # engine.classify.heads.Compared

    class Evaluated(Message):
        def __init__(self, report: object) -> None:
            super().__init__()
            self.report = report  # engine.classify.evaluate.EvalReport

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.classified = 0  # texts classified, for tests that wait on them
        self.evaluations = 0
        self.batches = 0
        self.last_batch: dict | None = None
        self._last_text = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="cls-top"):
            yield Select([], prompt="label set", id="cls-set", allow_blank=True)
            yield Select(METHOD_OPTIONS, value="all", allow_blank=False, id="cls-method")
            yield Static("", id="cls-info", markup=False)
        yield Input(placeholder="Type or paste a text; enter classifies it", id="cls-text")
        yield DataTable(id="cls-results", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="cls-edit-row"):
            yield Input(placeholder="Label for that text (enter adds it as an example)", id="cls-example")
            yield Input(placeholder="New set: name = label, label, … (enter)", id="cls-new-set")
        yield Input(placeholder="Batch: table.column or path/file.csv:column (enter runs)", id="cls-batch")
        yield JobProgress(id="cls-job")
        yield Label("Evaluation (ctrl+r: held-out quarter of the set's examples)", classes="section")
        with Horizontal(id="cls-eval-row"):
            yield DataTable(id="cls-eval", cursor_type="row")
            with VerticalScroll(id="cls-confusion-box"):
                yield Static("", id="cls-confusion")

    def on_mount(self) -> None:
        self.query_one("#cls-results", DataTable).add_columns("Method", "Label", "Conf", "Runner-up", "ms", "Note")
        self.query_one("#cls-eval", DataTable).add_columns("Method", "Acc", "Macro-F1", "Texts/s", "Curve")

    @property
    def workspace(self):
        return self.app.workspace

    def focus_first(self) -> None:
        self.refresh_sets()
        self.query_one("#cls-text", Input).focus()

    def workspace_ready(self) -> None:
        self.refresh_sets()

    def refresh_sets(self, select: str | None = None) -> None:
        if self.workspace is None:
            return
        names = self.workspace.store.label_set_names()
        chooser = self.query_one("#cls-set", Select)
        current = select or (chooser.value if chooser.value in names else None)
        chooser.set_options([(Text(n), n) for n in names])  # a name like "a[/]b" is not markup
        if current is None and names:
            current = names[0]
        if current is not None:
            chooser.value = current
        self._show_info()

    def _show_info(self) -> None:
        info = self.query_one("#cls-info", Static)
        name = self.label_set
        if self.workspace is None:
            info.update(Text("workspace not open"))
        elif name is None:
            info.update(Text("no label sets: create one below (ctrl+n) or `quarry labels demo`"))
        else:
            found = self.workspace.store.label_set(name)
            if found is None:
                info.update(Text(""))
                return
            counts = ", ".join(f"{k} {v}" for k, v in list(found.counts.items())[:6])
            info.update(Text(f"{found.kind} · {len(found.labels)} labels · {found.examples} examples ({counts})"))

    @property
    def label_set(self) -> str | None:
        value = self.query_one("#cls-set", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#cls-set")
    def set_changed(self) -> None:
        self._show_info()

    def _ready(self) -> bool:
        if self.workspace is None:
            self.notify("The workspace is not open yet", severity="warning")
            return False
        if self.label_set is None:
            self.notify("Create or pick a label set first (ctrl+n)", severity="warning")
            return False
        return True

    # -- one text, every method -------------------------------------------------------------------
    @on(Input.Submitted, "#cls-text")
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or not self._ready():
            return
        self._last_text = text
        method = self.query_one("#cls-method", Select).value
        self.query_one("#cls-results", DataTable).loading = True
        self.run_compare(self.label_set, text, None if method == "all" else [method])

    @work(thread=True, exclusive=True, group="classify", exit_on_error=False)
    def run_compare(self, set_name: str, text: str, methods: list[str] | None) -> None:
        from engine.classify import heads

        try:
            rows = heads.compare(self.workspace, set_name, text, self.app.settings.model, methods)
        except Exception as exc:  # whatever it is, Failed clears the table's loading state
            self.post_message(self.Failed(_failure(exc)))
            return
        self.post_message(self.Compared(text, rows))

    @on(Compared)
    def show_compared(self, message: Compared) -> None:
        table = self.query_one("#cls-results", DataTable)
        table.loading = False
        table.clear()
        for c in message.rows:  # str cells are read as markup by DataTable: every cell is a Text
            if c.prediction is None:
                table.add_row(Text(c.method), Text("-"), Text(""), Text(""), Text(f"{c.ms:.0f}"),
                              Text(c.error[:80], style="red"))
                continue
            p = c.prediction
            note = c.note or p.reason
            table.add_row(Text(c.method), Text(p.label, style="bold"), Text(f"{p.confidence:.2f}"),
                          Text(p.runner_up or "-"), Text(f"{c.ms:.0f}"), Text(note[:80], style="dim"))
        self.classified += 1

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.query_one("#cls-results", DataTable).loading = False
        self.query_one("#cls-eval", DataTable).loading = False
        self.notify(message.error, severity="error", timeout=8, markup=False)

    # -- label sets and examples ------------------------------------------------------------------
    def action_new_set(self) -> None:
        self.query_one("#cls-new-set", Input).focus()

    def action_add_example(self) -> None:
        self.query_one("#cls-example", Input).focus()

    def action_focus_text(self) -> None:
        self.query_one("#cls-text", Input).focus()

    @on(Input.Submitted, "#cls-new-set")
    def new_set(self, event: Input.Submitted) -> None:
        from engine.classify import sets
        from engine.errors import QuarryError

        raw = event.value.strip()
        if not raw or self.workspace is None:
            return
        if "=" not in raw:
            self.notify("Write it as: name = label, label, …", severity="warning")
            return
        name, _, rest = raw.partition("=")
        labels = [(part.strip(), "") for part in rest.replace("，", ",").split(",") if part.strip()]
        try:
            found = sets.create(self.workspace, name.strip(), labels)
        except QuarryError as exc:  # a full disk too: one line, the app stays up
            self.notify(str(exc), severity="error", markup=False)
            return
        event.input.value = ""
        self.refresh_sets(found.name)
        self.notify(f"Created {found.name} with {len(found.labels)} labels", markup=False)
        self.query_one("#cls-text", Input).focus()

    @on(Input.Submitted, "#cls-example")
    def add_example(self, event: Input.Submitted) -> None:
        from engine.classify import sets

        label = event.value.strip()
        new_label = label.startswith("+")  # a label the set lacks is added only when asked: +label
        label = label.removeprefix("+").strip()
        text = self.query_one("#cls-text", Input).value.strip() or self._last_text
        if not label or not self._ready():
            return
        if not text:
            self.notify("Type the example's text in the text box first", severity="warning")
            return
        box, label_set = event.input, self.label_set

        def added(found) -> None:
            box.value = ""
            self._show_info()
            self.notify(f"Added an example of {label} ({found.examples} in {found.name})", markup=False)

        # a QuarryError (a full disk too) is one line and the app stays up
        write_off_ui(self, lambda: sets.add_example(self.workspace, label_set, text, label, new_label), added,
                     "add the example")

    # -- batch ------------------------------------------------------------------------------------
    def action_focus_batch(self) -> None:
        self.query_one("#cls-batch", Input).focus()

    @on(Input.Submitted, "#cls-batch")
    def start_batch(self, event: Input.Submitted) -> None:
        from pathlib import Path

        raw = event.value.strip()
        if not raw or not self._ready():
            return
        table, file, column = parse_batch_target(raw)
        method = self.query_one("#cls-method", Select).value
        method = "auto" if method == "all" else method
        set_name = self.label_set
        model = self.app.settings.model

        def start(cancel):
            from engine.classify import batch

            return batch.run(self.workspace, set_name, column, table, Path(file) if file else None, method,
                             llm_model=model, cancel=cancel)

        job = self.query_one(JobProgress)
        if job.start(start, f"Classifying {raw} …", kind="classify_batch") is None:
            self.notify("A batch is already running (esc cancels it)", severity="warning")

    def action_cancel_batch(self) -> None:
        self.query_one(JobProgress).cancel("Cancelling after the current batch of rows …")

    @on(JobFinished)
    def batch_finished(self, message: JobFinished) -> None:
        self.batches += 1
        result = message.result if isinstance(message.result, dict) else None
        self.last_batch = result
        if message.cancelled:
            self.notify(f"Batch cancelled; job {message.job_id} keeps the rows it finished "
                        "(run it again to go on)", markup=False)
        elif result:
            counts = ", ".join(f"{k} {v}" for k, v in list(result["counts"].items())[:5])
            self.notify(f"{result['rows']} rows into table {result['output']}: {counts}", markup=False, timeout=8)

    @on(JobFailed)
    def batch_failed(self, message: JobFailed) -> None:
        self.batches += 1

    # -- evaluation -------------------------------------------------------------------------------
    def action_evaluate(self) -> None:
        if not self._ready():
            return
        self.query_one("#cls-eval", DataTable).loading = True
        self.run_eval(self.label_set)

    @work(thread=True, exclusive=True, group="classify-eval", exit_on_error=False)
    def run_eval(self, set_name: str) -> None:
        from engine.classify import evaluate, sets

        ws = self.workspace
        try:
            found = sets.get(ws, set_name)
            train, test = evaluate.split(sets.examples(ws, found))
            methods = ["tabular", "auto"] if found.kind == "tabular" else EVAL_METHODS
            report = evaluate.evaluate(ws, train, test, methods, f"label set {set_name}", label_set=set_name,
                                       curve=(10, None))
        except Exception as exc:  # whatever it is, Failed clears the table's loading state
            self.post_message(self.Failed(_failure(exc)))
            return
        self.post_message(self.Evaluated(report))

    @on(Evaluated)
    def show_eval(self, message: Evaluated) -> None:
        report = message.report
        table = self.query_one("#cls-eval", DataTable)
        table.loading = False
        table.clear()
        for m in report.methods:
            name = f"auto:{m.chosen}" if m.chosen else m.method
            curve = " ".join(f"{p['per_label']}:{p['macro_f1']:.2f}" for p in m.curve)
            table.add_row(Text(name), Text(f"{m.accuracy:.3f}"), Text(f"{m.macro_f1:.3f}"),
                          Text(f"{m.texts_per_s:.0f}"), Text(curve))
        best = report.best()
        self.query_one("#cls-confusion", Static).update(confusion_grid(report.labels, best.confusion, best.method))
        self.evaluations += 1


def _failure(exc: Exception) -> str:
    """Gives a worker's error as one line: the message of one a user can act on, else the bug's type too."""
    import logging

    from engine.errors import QuarryError

    if isinstance(exc, QuarryError):
        return str(exc)
    logging.getLogger(__name__).error("classify worker failed", exc_info=exc)
    return f"Bug (please report): {type(exc).__name__}: {exc}".splitlines()[0]


def parse_batch_target(raw: str) -> tuple[str | None, str | None, str]:
    """Gives (table, file, column) from 'table.column' or 'path/file.csv:column'."""
    if ":" in raw and any(raw.lower().split(":")[0].endswith(s) for s in (".csv", ".tsv", ".parquet", ".xlsx")):
        path, _, column = raw.rpartition(":")
        return None, path, column
    table, _, column = raw.partition(".")
    return table, None, column


def confusion_grid(labels: list[str], matrix: list[list[int]], method: str) -> Table:
    """Gives the confusion matrix as a grid: the diagonal green, mistakes red, deeper for more rows."""
    grid = Table(title=Text(f"confusion · {method} (rows: true)"), show_edge=False, pad_edge=False,
                 box=None, padding=(0, 1))
    grid.add_column("")
    for label in labels:
        grid.add_column(Text(label[:8]), justify="right")
    for i, row in enumerate(matrix):
        total = max(sum(row), 1)
        cells = []
        for j, n in enumerate(row):
            share = n / total
            if i == j:
                style = "bold green" if share >= 0.7 else "green"
            elif n:
                style = "bold red" if share >= 0.2 else "red"
            else:
                style = "dim"
            cells.append(Text(str(n), style=style))
        grid.add_row(Text(labels[i][:12]), *cells)
    return grid
