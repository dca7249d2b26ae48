"""The Recommend pane: pick a user (searchable) for recommendations with reasons beside their history, an
item for similar items, or type a request; run the evaluation and read its table."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine.recommend.methods import METHODS
from tui import actions
from tui.messages import JobFailed, JobFinished, Recommended, RecommendListed, WorkFailed
from tui.widgets.job_progress import JobProgress
from tui.widgets.suggestion_table import SuggestionTable
from tui.workers import thread_worker, write_off_ui

SEARCH_DELAY = 0.25
TITLE_WIDTH = 30


class RecommendPane(Vertical):
    """User → recommendations with reasons beside their history; item → similar items; text → matches."""

    BINDINGS = actions.bindings("recommend")
    DEFAULT_CSS = """
    #rec-top { height: 3; }
    #rec-input { width: 1fr; }
    #rec-method { width: 24; }
    #rec-main { height: 1fr; }
    #rec-side { width: 26%; min-width: 20; max-width: 34; border-right: solid $primary-background; }
    #rec-list { height: 1fr; border: none; }
    #rec-views { width: 1fr; }
    #rec-results, #rec-eval { height: 1fr; }
    #rec-heading, #rec-eval-note { height: auto; padding: 0 1; }
    #rec-history { height: 1fr; min-height: 4; border: round $primary-background; }
    #rec-table { height: 2fr; min-height: 6; border: round $primary-background; }
    #rec-eval-table { height: 1fr; border: round $primary-background; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._timer = None
        self._last: tuple[str, str] | None = None  # (kind, subject) of the shown answer
        self._user: str | None = None  # the user whose suggestions are shown (accept and dismiss answer them)
        self.answers = 0  # answers shown, for tests that wait on them
        self.evaluations = 0
        self.counts = (0, 0, 0)

    def compose(self) -> ComposeResult:
        with Horizontal(id="rec-top"):
            yield Input(placeholder="User or item id, or a request: u0042 · SD-001 · a quiet chair under 200",
                        id="rec-input")
            yield Select([(m, m) for m in METHODS], value="hybrid", allow_blank=False, id="rec-method")
        yield JobProgress(id="rec-progress", cancel_hint=actions.hint(self.app, ("recommend.cancel", "cancels")))
        with Horizontal(id="rec-main"):
            with Vertical(id="rec-side"):
                yield Label("Users and items", classes="section", id="rec-side-title")
                yield OptionList(id="rec-list")
            with ContentSwitcher(initial="rec-results", id="rec-views"):
                with Vertical(id="rec-results"):
                    yield Static(self._empty_hint(), id="rec-heading", markup=False)
                    yield DataTable(id="rec-history", cursor_type="row", zebra_stripes=True)
                    yield SuggestionTable(id="rec-table", cursor_type="row", zebra_stripes=True)
                with Vertical(id="rec-eval"):
                    yield Static(f"No evaluation yet: {actions.key(self.app, 'recommend.evaluate')} runs one "
                                 "(leave-last-out by time).", id="rec-eval-note", markup=False)
                    yield DataTable(id="rec-eval-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        history = self.query_one("#rec-history", DataTable)
        history.add_columns("When", "Event", "Item", "Title")
        history.border_title = "History"
        table = self.query_one("#rec-table", DataTable)
        table.add_columns("#", "Title", "Reason", "Price", "Score", "Item")
        table.border_title = "Recommendations"
        ev = self.query_one("#rec-eval-table", DataTable)
        ev.add_columns("Method", "HR@10", "NDCG@10", "MAP@10", "Coverage", "Novelty", "Fit s")

    @property
    def workspace(self):
        return self.app.workspace

    def _empty_hint(self) -> str:
        return ("No catalog or interactions in this workspace yet. Import your own with "
                "`quarry recommend import --items FILE --interactions FILE`, or the demo store with "
                f"`quarry recommend import --demo` ({actions.key(self.app, 'recommend.import_demo')} here).")

    def focus_first(self) -> None:
        self.query_one("#rec-input", Input).focus()

    def workspace_ready(self) -> None:
        self.search("")
        self.show_last_run()

    # -- searching users and items ------------------------------------------------------------
    @on(Input.Changed, "#rec-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY, lambda: self.search(event.value))

    @thread_worker("rec-list", "find users and items")
    def search(self, text: str) -> None:
        ws = self.workspace
        if ws is None:
            return
        text = text.strip()
        words = text.split()
        probe = words[0] if len(words) == 1 else ""
        users = ws.store.rec_find_users(probe, limit=100) if probe or not text else []
        items = ws.store.rec_find_items(probe, limit=100) if probe else []
        counts = ws.store.rec_counts()
        self.post_message(RecommendListed(text, users, items, (counts.items, counts.users, counts.events)))

    @on(RecommendListed)
    def _listed(self, message: RecommendListed) -> None:
        self.counts = message.counts
        options = [Option(Text(f"{u.user_id} · {u.interactions} events"), id=f"user:{u.user_id}")
                   for u in message.users]
        options += [Option(Text(f"{i.item_id} · {i.title}"), id=f"item:{i.item_id}") for i in message.items]
        listing = self.query_one("#rec-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        items, users, events = message.counts
        self.query_one("#rec-side-title", Label).update(f"{users:,} users · {items:,} items")
        if events and self._last is None:
            self.query_one("#rec-heading", Static).update(Text(
                f"{events:,} interactions of {users:,} users on {items:,} items. Pick a user or an item, or type "
                "a request and press enter."))
        elif not events:
            self.query_one("#rec-heading", Static).update(Text(self._empty_hint()))

    @on(OptionList.OptionSelected, "#rec-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        kind, _, subject = (event.option.id or "").partition(":")
        self.ask(kind, subject)

    @on(Input.Submitted, "#rec-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        self.ask("auto", text)

    @on(Select.Changed, "#rec-method")
    def _method_changed(self) -> None:
        if self._last is not None and self._last[0] != "query":
            self.ask(*self._last)

    # -- asking ---------------------------------------------------------------------------------
    def ask(self, kind: str, subject: str) -> None:
        """Asks the engine for a user's recommendations, an item's neighbours or a request's matches."""
        if self.workspace is None:
            self.notify("The workspace is still opening; try again in a moment", severity="warning")
            return
        self._last = (kind, subject)
        self.query_one("#rec-views", ContentSwitcher).current = "rec-results"
        self.query_one("#rec-heading", Static).update(Text(f"{subject}: working … (the first request fits "
                                                           "the methods)"))
        self._answer(kind, subject, str(self.query_one("#rec-method", Select).value))

    @thread_worker("rec-answer", "recommend")
    def _answer(self, kind: str, subject: str, method: str) -> None:
        from engine import recommend as rec

        ws = self.workspace
        engine = rec.recommender(ws)
        history = None
        if kind == "auto":  # a known user id, else a known item id, else a request
            kind = ("user" if subject in engine.dataset.user_index
                    else "item" if subject in engine.catalog.index else "query")
        if kind == "user":
            result = engine.for_user(subject, method, 10)
            history = ws.store.rec_user_history(subject, limit=30)
        elif kind == "item":
            result = engine.similar(subject, method, 10)
        else:
            result = engine.query(subject, 10)
        self.post_message(Recommended(subject, kind, result, history))

    @on(Recommended)
    def _answered(self, message: Recommended) -> None:
        result = message.result
        what = {"user": "for user", "item": "like item", "query": "for the request"}[message.kind]
        heading = Text(f"{result.method} {what} {message.subject}")
        if result.note:
            heading.append(f" — {result.note}", style="bold")
        if not result.items:
            heading.append(" — nothing passes the filters")
        self.query_one("#rec-heading", Static).update(heading)
        history = self.query_one("#rec-history", DataTable)
        history.clear()
        history.display = message.kind == "user"
        for h in message.history or []:
            history.add_row(h.at.strftime("%Y-%m-%d %H:%M"), Text(h.event), Text(h.item_id), Text(h.title))
        history.border_title = Text(f"History of {message.subject} (newest first)") if message.kind == "user" else ""
        table = self.query_one("#rec-table", DataTable)
        table.clear()
        self._user = message.subject if message.kind == "user" else None
        table.border_subtitle = actions.hint(self.app, ("suggestion.accept", "accept"), (
            "suggestion.dismiss", "dismiss"), ("suggestion.undo", "undo")) if self._user else ""
        for r in result.items:
            title = r.title if len(r.title) <= TITLE_WIDTH else r.title[:TITLE_WIDTH - 1] + "…"
            table.add_row(str(r.rank), Text(title), Text(r.reason), "" if r.price is None else f"{r.price:.2f}",
                          f"{r.score:.3f}", Text(r.item_id), key=r.item_id)
        self.answers += 1

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        """A request that failed says why in the heading too (the app shows the toast)."""
        if message.group == "rec-answer":
            self.query_one("#rec-heading", Static).update(Text(message.error))
            self.answers += 1

    @on(DataTable.RowSelected, "#rec-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.ask("item", event.row_key.value)

    # -- accept and dismiss -----------------------------------------------------------------------
    @on(SuggestionTable.Answered)
    def _suggestion_answered(self, message: SuggestionTable.Answered) -> None:
        message.stop()
        self.action_answer_suggestion(message.what)

    def action_answer_suggestion(self, what: str) -> None:
        """Accepts or dismisses the highlighted suggestion for the shown user, or undoes their latest; the
        write runs off the UI thread, then the user's suggestions are asked for again."""
        from engine.recommend import feedback

        ws, user = self.workspace, self._user
        if ws is None or user is None:
            self.notify("Pick a user first: accept and dismiss answer a user's suggestions", severity="warning")
            return
        table = self.query_one("#rec-table", DataTable)
        item = None
        if what != "undo":
            if table.row_count == 0:
                self.notify("No suggestion to answer", severity="warning")
                return
            item = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        write = {"accept": lambda: feedback.accept(ws, user, item), "dismiss": lambda: feedback.dismiss(ws, user, item),
                 "undo": lambda: feedback.undo(ws, user)}[what]

        def done(result) -> None:
            line = (f"Undid {result.kind} of {result.target}" if what == "undo"
                    else f"{'Accepted' if what == 'accept' else 'Dismissed'} {item} for {user}")
            self.notify(line, markup=False, timeout=3)
            if self._user == user:
                self.ask("user", user)

        write_off_ui(self, write, done, f"{what} the suggestion", severity="warning")

    # -- evaluation -------------------------------------------------------------------------------
    def action_evaluate(self) -> None:
        from engine import jobs

        ws = self.workspace
        if ws is None:
            return
        self.query_one("#rec-views", ContentSwitcher).current = "rec-eval"
        self.query_one("#rec-progress", JobProgress).start(
            lambda cancel: jobs.start(ws, "recommend_eval", {"k": 10}, cancel), "Evaluating …", "recommend_eval")

    def action_cancel(self) -> None:
        self.query_one("#rec-progress", JobProgress).cancel()

    def action_toggle_view(self) -> None:
        switcher = self.query_one("#rec-views", ContentSwitcher)
        switcher.current = "rec-eval" if switcher.current == "rec-results" else "rec-results"

    def action_focus_search(self) -> None:
        self.focus_first()

    def action_next_method(self) -> None:
        select = self.query_one("#rec-method", Select)
        select.value = METHODS[(METHODS.index(str(select.value)) + 1) % len(METHODS)]

    def action_import_demo(self) -> None:
        from engine import recommend as rec

        ws = self.workspace
        if ws is None:
            return

        def imported(reports) -> None:
            self.notify("; ".join(r.line() for r in reports), markup=False)
            self.search(self.query_one("#rec-input", Input).value)

        def import_demo():
            items, interactions = rec.demo_files()
            return rec.import_data(ws, interactions, items)

        write_off_ui(self, import_demo, imported, "import the demo store")

    @on(JobFinished)
    def _job_finished(self, message: JobFinished) -> None:
        if message.kind != "recommend_eval":
            return
        self.evaluations += 1
        if message.cancelled or message.result is None:
            self.notify("Evaluation cancelled; nothing stored")
            return
        self.show_last_run()

    @on(JobFailed)
    def _job_failed(self, message: JobFailed) -> None:
        if message.kind == "recommend_eval":
            self.evaluations += 1

    def show_last_run(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        runs = ws.store.rec_runs(limit=1)
        if not runs:
            return
        run = runs[0]
        table = self.query_one("#rec-eval-table", DataTable)
        table.clear()
        for r in run.results.get("rows", []):
            table.add_row(r["method"], f"{r['hr']:.3f}", f"{r['ndcg']:.3f}", f"{r['map']:.3f}", f"{r['coverage']:.2f}",
                          f"{r['novelty']:.2f}", f"{r['fit_s']:.2f}")
        weights = ", ".join(f"{n} {w:g}" for n, w in (run.params.get("weights") or {}).items())
        self.query_one("#rec-eval-note", Static).update(Text(
            f"Run {run.id} on {run.source}: {run.users:,} test users, {run.events:,} interactions; "
            f"each user's last step is the test, the one before tunes the hybrid ({weights})."))
