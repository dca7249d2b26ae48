"""The Classify pane: pick or create a label set, type a text and see every method side by side, add
examples, run a batch over a table column with a progress bar and cancel, and evaluate the methods
(the table, and the confusion matrix as a coloured grid)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Label, Select, Static

from engine.classify.methods import METHODS
from tui import actions
from tui.messages import ClassifyEvaluated, JobFailed, JobFinished, TextClassified, WorkFailed
from tui.widgets.job_progress import JobProgress
from tui.workers import thread_worker, write_off_ui

METHOD_OPTIONS = [("every method", "all")] + [(m, m) for m in METHODS if m != "tabular"]


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
        yield JobProgress(id="cls-job", cancel_hint=actions.hint(self.app, ("classify.cancel", "cancels")))
        yield Label(Text(f"Evaluation ({actions.key(self.app, 'classify.evaluate')}: held-out quarter of the "
                         "set's examples)"), classes="section", id="cls-eval-title")
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
        elif name is None and self.workspace.store.label_set_names():  # the blank entry picked
            info.update(Text(f"no label set picked: pick one above, or create one below"
                             f" ({actions.key(self.app, 'classify.new_set')})"))
        elif name is None:
            info.update(Text(f"no label sets: create one below ({actions.key(self.app, 'classify.new_set')}) "
                             "or `quarry labels demo`"))
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
            self.notify(f"Create or pick a label set first ({actions.key(self.app, 'classify.new_set')})",
                        severity="warning")
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
        self.run_compare(self.label_set, text, None if method == "all" else [method], self.app.settings.model)

    @thread_worker("classify", "classify the text")
    def run_compare(self, set_name: str, text: str, methods: list[str] | None, model: str) -> None:
        from engine.classify import heads

        self.post_message(TextClassified(text, heads.compare(self.workspace, set_name, text, model, methods)))

    @on(TextClassified)
    def show_compared(self, message: TextClassified) -> None:
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

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        """Work that failed stops its table loading (the app shows the error)."""
        table = {"classify": "#cls-results", "classify-eval": "#cls-eval"}.get(message.group)
        if table:
            self.query_one(table, DataTable).loading = False

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

        raw = event.value.strip()
        if not raw or self.workspace is None:
            return
        if "=" not in raw:
            self.notify("Write it as: name = label, label, …", severity="warning")
            return
        name, _, rest = raw.partition("=")
        labels = [(part.strip(), "") for part in rest.replace("，", ",").split(",") if part.strip()]
        box, workspace = event.input, self.workspace

        def created(found) -> None:
            if box.value.strip() == raw:  # what the user typed since stays
                box.value = ""
            self.refresh_sets(found.name)
            self.notify(f"Created {found.name} with {len(found.labels)} labels", markup=False)
            if self.app.focused is box:
                self.query_one("#cls-text", Input).focus()

        # a QuarryError (a name taken, a full disk) is one line and the app stays up
        write_off_ui(self, lambda: sets.create(workspace, name.strip(), labels), created, "create the label set")

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
            self.notify(f"A batch is already running ({actions.key(self.app, 'classify.cancel')} cancels it)",
                        severity="warning")

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
            self.notify(f"{result['rows']} rows into table {result['output']}: {counts}; "
                        f"{actions.key(self.app, 'classify.review')} reviews the rows it was least sure of",
                        markup=False, timeout=8)

    @on(JobFailed)
    def batch_failed(self, message: JobFailed) -> None:
        self.batches += 1

    # -- review -----------------------------------------------------------------------------------
    def action_review(self) -> None:
        """Opens the review queue over the label set's last batch: the rows its method is least sure of."""
        from tui.widgets.review_screen import ReviewScreen

        if not self._ready():
            return
        found = self.workspace.store.label_set(self.label_set)
        if found is not None and found.kind != "text":
            self.notify(f"'{self.label_set}' holds table rows; the review queue reads text: pick a text label set",
                        severity="warning", markup=False)
            return
        output = self._last_output(self.label_set)
        if output is None:
            self.notify(f"Run a batch with '{self.label_set}' first ({actions.key(self.app, 'classify.batch')}):"
                        " the review queue shows the rows it was least sure of", severity="warning", markup=False)
            return
        self.app.push_screen(ReviewScreen(self.workspace, self.label_set, output), lambda _: self._show_info())

    def _last_output(self, label_set: str) -> str | None:
        """Gives the output table of the label set's latest finished batch (every batch is a stored run)."""
        store = self.workspace.store
        for run in store.classify_runs(200):
            output = run.summary.get("output")
            if run.kind == "batch" and run.label_set == label_set and output and store.table_named(output):
                return store.table_named(output)
        return None

    # -- evaluation -------------------------------------------------------------------------------
    def action_evaluate(self) -> None:
        if not self._ready():
            return
        self.query_one("#cls-eval", DataTable).loading = True
        self.run_eval(self.label_set)

    @thread_worker("classify-eval", "evaluate the label set")
    def run_eval(self, set_name: str) -> None:
        from engine.classify import evaluate

        ws = self.workspace
        # the classify_eval job, run to its end here: the engine assembles the data and the methods
        report = evaluate.start_eval(ws, evaluate.eval_params(set_name, curve=(10, None), quick=True)).wait()
        self.post_message(ClassifyEvaluated(report))

    @on(ClassifyEvaluated)
    def show_eval(self, message: ClassifyEvaluated) -> None:
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


TABLE_FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".xlsx")


def parse_batch_target(raw: str) -> tuple[str | None, str | None, str]:
    """Gives (table, file, column) from 'table.column' or 'path/file.csv:column' (the column after the last
    colon: a path may hold one); a file with no column gives an empty column, which the batch names."""
    path, colon, column = raw.rpartition(":")
    if colon and path.lower().endswith(TABLE_FILE_SUFFIXES):
        return None, path, column
    if raw.lower().endswith(TABLE_FILE_SUFFIXES):  # 'reviews.csv' is a file without its column, not a table
        return None, raw, ""
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
