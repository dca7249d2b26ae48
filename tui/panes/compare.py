"""The Compare pane: pick 2–4 models, send one prompt, watch the answers stream side by side with their
figures; in blind mode vote on A and B by key, then see the names; open the leaderboard."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, SelectionList, Static

from tui import actions
from tui.jobs import write_off_ui
from tui.widgets.prompt_input import PromptInput

STREAM_INTERVAL = 0.05  # repaint at most ~20 times a second while tokens arrive
VOTE_HINT = "Vote: a = A better · b = B better · t = tie · x = both bad · r = reveal without voting"


# -- messages from the worker --------------------------------------------------------------------
class ModelsListed(Message):
    def __init__(self, models: list[tuple[str, str]], error: str | None = None) -> None:
        super().__init__()
        self.models = models  # (id, kind)
        self.error = error


class CompareStarted(Message):
    def __init__(self, run) -> None:
        super().__init__()
        self.run = run  # engine.compare.CompareRun


class ComparePieces(Message):
    def __init__(self, position: int, text: str) -> None:
        super().__init__()
        self.position = position
        self.text = text


class CompareColumnDone(Message):
    def __init__(self, column) -> None:
        super().__init__()
        self.column = column  # engine.compare.Column


class CompareDone(Message):
    def __init__(self, run) -> None:
        super().__init__()
        self.run = run


class CompareFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


# -- widgets -------------------------------------------------------------------------------------
def figures_text(column) -> str:
    """Gives the one or two lines of figures under a column."""
    f = column.figures()
    line = (f"load {f['load_ms'] or 0:.0f} ms · TTFT {f['ttft_ms'] or 0:.0f} ms · "
            f"{f['tokens_per_s'] or 0:.1f} tok/s\n"
            f"prompt {f['prompt_tokens'] or 0} · answer {f['completion_tokens'] or 0} tok")
    if f.get("peak_rss_mb"):
        line += f" · peak {f['peak_rss_mb']:.0f} MB"
    if "supported_share" in f:
        line += f" · {f['supported_share']:.0%} supported"
    return line


class AnswerColumn(Vertical):
    """One model's answer: a title (model or A/B), the streamed text, its figures."""

    def __init__(self, position: int, title: str, **kwargs) -> None:
        super().__init__(classes="compare-column", **kwargs)
        self.position = position
        self.title = title
        self.text = ""
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Label(Text(self.title), classes="compare-title")
        with VerticalScroll(classes="compare-scroll"):
            yield Static(Text("waiting…", style="dim"), classes="compare-text")
        yield Static("", classes="compare-figures")

    def set_title(self, title: str) -> None:
        self.title = title
        self.query_one(".compare-title", Label).update(Text(title))

    def append(self, text: str) -> None:
        self.text += text
        self.query_one(".compare-text", Static).update(Text(self.text))
        scroll = self.query_one(".compare-scroll", VerticalScroll)
        if scroll.scroll_y >= scroll.max_scroll_y - 1:
            scroll.scroll_end(animate=False)

    def started(self) -> None:
        self.query_one(".compare-text", Static).update(Text("thinking…", style="dim"))

    def finish(self, column) -> None:
        self.finished = True
        body = Text(column.text or "")
        if column.error:
            if body:
                body.append("\n\n")
            body.append(column.error, style="bold red")
        elif column.status == "cancelled":
            body.append("\n(stopped)", style="dim")
        self.query_one(".compare-text", Static).update(body)
        figures = self.query_one(".compare-figures", Static)
        figures.update(Text(figures_text(column)) if column.stats else "")
        self.set_class(bool(column.error), "failed")


class Columns(Horizontal, can_focus=True):
    """The answers side by side; focused after a blind round, when its letter keys vote (the prompt
    keeps its letters for typing)."""

    BINDINGS = actions.bindings("verdict")

    def _pane(self) -> ComparePane:
        return next(a for a in self.ancestors if isinstance(a, ComparePane))

    def action_vote(self, outcome: str) -> None:
        self._pane().action_vote(outcome)

    def action_reveal(self) -> None:
        self._pane().action_reveal()


class LeaderboardScreen(ModalScreen[None]):
    """Ratings from blind votes with their intervals, and the pair to compare next."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    LeaderboardScreen { align: center middle; }
    #leaderboard-dialog { width: 90%; max-width: 110; height: auto; max-height: 85%; border: thick $primary;
                          background: $surface; padding: 1 2; }
    #leaderboard-table { height: auto; max-height: 20; }
    """

    def __init__(self, board) -> None:
        super().__init__()
        self.board = board

    def compose(self) -> ComposeResult:
        with Vertical(id="leaderboard-dialog"):
            yield Label("Leaderboard — blind votes", classes="title")
            yield DataTable(id="leaderboard-table", cursor_type="row", zebra_stripes=True)
            yield Static(Text(self._footer()), id="leaderboard-footer", classes="hint")

    def _footer(self) -> str:
        b = self.board
        votes = f"{b.votes} vote" + ("" if b.votes == 1 else "s")
        lines = [f"{votes} · 95% intervals from {b.rounds} bootstrap resamples · ties and "
                 "'both bad' count half a win each"]
        if b.next_pair:
            lines.append(f"Least certain next: {b.next_pair[0]} vs {b.next_pair[1]}")
        lines.append("esc to close")
        return "\n".join(lines)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Model", "Bradley–Terry", "95% CI", "Elo", "95% CI", "Votes", "W-T-L")
        if not self.board.ratings:
            table.add_row("", Text("no votes yet: blind mode (ctrl+b), send, vote"), "", "", "", "", "", "")
        for i, r in enumerate(self.board.ratings, start=1):
            table.add_row(str(i), Text(r.model), f"{r.bt:.0f}", f"{r.bt_low:.0f}–{r.bt_high:.0f}", f"{r.elo:.0f}",
                          f"{r.elo_low:.0f}–{r.elo_high:.0f}", str(r.votes),
                          f"{r.wins}-{r.ties + r.both_bad}-{r.losses}", key=r.model)


# -- the pane ------------------------------------------------------------------------------------
class ComparePane(Vertical):
    BINDINGS = actions.bindings("compare")
    DEFAULT_CSS = """
    ComparePane { height: 1fr; }
    #compare-sidebar { width: 26; border-right: solid $primary-background; }
    #compare-models { height: 1fr; border: none; }
    #compare-main { width: 1fr; }
    #compare-settings { color: $text-muted; padding: 0 1; height: auto; }
    #compare-columns { height: 1fr; }
    #compare-columns:focus { background: $boost; }
    #compare-empty { padding: 1 2; color: $text-muted; }
    .compare-column { width: 1fr; border: round $primary-background; padding: 0 1; }
    .compare-column.failed { border: round $error; }
    .compare-title { text-style: bold; color: $accent; }
    .compare-scroll { height: 1fr; }
    .compare-figures { color: $text-muted; height: auto; }
    #compare-status { height: auto; padding: 0 1; color: $text-muted; }
    #compare-prompt { height: 4; border: tall $primary; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.blind = False
        self.rag = False
        self.max_tokens: int | None = None  # None: the app's settings
        self.run = None  # the last engine.compare.CompareRun
        self.voted = False
        self._voting = False
        self.generating = False
        self.completed = 0  # runs finished or failed, for tests that wait on them
        self._cancel = threading.Event()
        self._columns: dict[int, AnswerColumn] = {}
        self._listed = False  # the models were listed once (the pane is built when first shown)
        self._focus_when_listed = False

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="compare-sidebar"):
                yield Label("Models (space picks)", classes="section")
                yield SelectionList[str](id="compare-models")
                yield Static("ctrl+n models · ctrl+o docs\nctrl+b blind · ctrl+l ratings", classes="hint")
            with Vertical(id="compare-main"):
                yield Static(self._settings_line(), id="compare-settings")
                with Columns(id="compare-columns"):
                    yield Static("Pick two to four models on the left, type a prompt below and press enter. "
                                 "Each answer streams into its own column with its load time, time to first "
                                 "token, tokens and tokens/s.", id="compare-empty")
                yield Static("", id="compare-status")
                yield PromptInput(id="compare-prompt")

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.query_one("#compare-prompt", PromptInput).cursor_blink = False
        self.list_models()

    def focus_first(self) -> None:
        """Focuses where work starts: the model list until two are picked, then the prompt."""
        if not self._listed:  # just built: decide once the models are listed
            self._focus_when_listed = True
            self.query_one("#compare-prompt", PromptInput).focus()
            return
        if len(self.selected_models()) < 2:
            self.query_one("#compare-models", SelectionList).focus()
        else:
            self.query_one("#compare-prompt", PromptInput).focus()

    # -- models ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="compare-models", exit_on_error=False)
    def list_models(self) -> None:
        from engine.errors import QuarryError

        try:
            from engine.models import catalog

            ready = [(e.id, e.kind) for e in catalog.load().values()
                     if e.kind in ("llm", "remote") and catalog.status(e).state == "ready"]
            self.post_message(ModelsListed(ready))
        except QuarryError as exc:
            self.post_message(ModelsListed([], str(exc)))

    @on(ModelsListed)
    def models_listed(self, message: ModelsListed) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
        listing = self.query_one("#compare-models", SelectionList)
        keep = set(listing.selected)
        listing.clear_options()
        first_two = not keep
        for i, (model_id, kind) in enumerate(message.models):
            label = Text(model_id + (" (remote)" if kind == "remote" else ""))
            listing.add_option((label, model_id, model_id in keep or (first_two and i < 2)))
        self._listed = True
        if self._focus_when_listed:
            self._focus_when_listed = False
            if self.query_one("#compare-prompt", PromptInput).has_focus:
                self.focus_first()

    def selected_models(self) -> list[str]:
        return list(self.query_one("#compare-models", SelectionList).selected)

    # -- settings line --------------------------------------------------------------------------
    def compare_settings(self):
        from engine.compare import CompareSettings

        conf = self.app.settings
        return CompareSettings(temperature=0.0 if self.rag else conf.temperature,
                               max_tokens=self.max_tokens or conf.max_tokens, rag=self.rag,
                               k=conf.top_k_sources, search_mode=conf.search_mode)

    def _settings_line(self) -> Text:
        conf = getattr(self.app, "settings", None) if self.is_attached else None
        temperature = 0.0 if self.rag else (conf.temperature if conf else 0.2)
        max_tokens = self.max_tokens or (conf.max_tokens if conf else 384)
        line = (f"Same for all: temperature {temperature:g} · max {max_tokens} tokens · seed 42 · "
                f"{'documents: same sources, same citation check' if self.rag else 'plain prompt'} (ctrl+o) · "
                f"blind {'on: A/B, then vote' if self.blind else 'off'} (ctrl+b)")
        return Text(line)

    def _refresh_settings(self) -> None:
        self.query_one("#compare-settings", Static).update(self._settings_line())

    def _status(self, text: str) -> None:
        self.query_one("#compare-status", Static).update(Text(text))

    def action_toggle_blind(self) -> None:
        self.blind = not self.blind
        self._refresh_settings()
        self.notify("Blind mode: two models as A and B, vote, then the names" if self.blind
                    else "Blind mode off", timeout=3)

    def action_toggle_docs(self) -> None:
        self.rag = not self.rag
        self._refresh_settings()
        self.notify("Document questions: every model gets the same sources" if self.rag else "Plain prompts",
                    timeout=3)

    def action_pick_models(self) -> None:
        self.query_one("#compare-models", SelectionList).focus()

    # -- sending --------------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def submit(self, event: PromptInput.Submitted) -> None:
        event.stop()
        await self.send(event.text)

    async def send(self, text: str, rerun_of: int | None = None) -> None:
        if self.app.workspace is None:
            self.notify("The workspace is not open yet", severity="warning")
            return
        if self.generating:
            self.notify("Still answering — press esc to stop first", severity="warning")
            return
        models = self.selected_models()
        if len(models) < 2:
            self.notify("Pick at least two models in the list (space toggles one)", severity="warning")
            return
        if len(models) > 4:
            self.notify("Pick at most four models", severity="warning")
            return
        self.query_one("#compare-prompt", PromptInput).clear()
        self.generating = True
        self.voted = False
        self._voting = False
        self._cancel.clear()
        self._status("Starting…")
        self.compare(text, models, self.compare_settings(), self.blind, rerun_of)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def compare(self, text: str, models: list[str], settings, blind: bool, rerun_of: int | None) -> None:
        from engine import compare as cmp

        try:
            ws = self.app.workspace
            if rerun_of is not None:
                comparison = cmp.rerun(ws, rerun_of)
            else:
                if blind:
                    models = cmp.pick_pair(ws, models)
                comparison = cmp.Comparison(ws, text, models, settings, blind=blind)
            pending: dict[int, list[str]] = {}
            last = time.monotonic()
            for event in comparison.events(self._cancel.is_set):
                if isinstance(event, cmp.Piece):
                    pending.setdefault(event.position, []).append(event.text)
                    if time.monotonic() - last < STREAM_INTERVAL:
                        continue
                    self._flush(pending)
                    last = time.monotonic()
                    continue
                self._flush(pending)
                if isinstance(event, cmp.Started):
                    self.post_message(CompareStarted(event.run))
                elif isinstance(event, cmp.ColumnStarted):
                    self.post_message(ComparePieces(event.position, ""))
                elif isinstance(event, cmp.ColumnFinished):
                    self.post_message(CompareColumnDone(event.column))
                elif isinstance(event, cmp.Finished):
                    self.post_message(CompareDone(event.run))
        except Exception as exc:  # a user's error or a bug: shown, the pane stays usable
            self.post_message(CompareFailed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    def _flush(self, pending: dict[int, list[str]]) -> None:
        for position, pieces in pending.items():
            if pieces:
                self.post_message(ComparePieces(position, "".join(pieces)))
        pending.clear()

    @on(CompareStarted)
    async def started(self, message: CompareStarted) -> None:
        run = self.run = message.run
        holder = self.query_one("#compare-columns", Columns)
        await holder.remove_children()
        self._columns = {c.position: AnswerColumn(c.position, self._title(c)) for c in run.columns}
        await holder.mount_all(list(self._columns.values()))
        # Seen in tmux: while the first answer streamed, the new columns' borders and the status line
        # stayed unpainted (the old hint showed through) until a resize; ask for the layout at once.
        holder.refresh(layout=True)
        self.screen.refresh(layout=True)
        how = ("The models answer at the same time (GPU)." if run.concurrent
               else "CPU only: the models answer one after another, so each gets every core.")
        if run.refused:
            how = "Your documents do not answer this question, so no model was asked."
        self._status(how)

    def _title(self, column) -> str:
        if self.run is not None and self.run.blind and not self.run.revealed:
            return column.label
        return f"{column.label} · {column.model}" if column.label else column.model

    @on(ComparePieces)
    def pieces(self, message: ComparePieces) -> None:
        column = self._columns.get(message.position)
        if column is None:
            return
        if message.text:
            column.append(message.text)
        else:
            column.started()

    @on(CompareColumnDone)
    def column_done(self, message: CompareColumnDone) -> None:
        column = self._columns.get(message.column.position)
        if column is not None:
            column.finish(message.column)

    @on(CompareDone)
    def done(self, message: CompareDone) -> None:
        self.generating = False
        self.completed += 1
        run = message.run
        if run.blind and all(c.status == "done" for c in run.columns):
            self._status(VOTE_HINT)
            self.query_one("#compare-columns", Columns).focus()
        elif run.blind:
            self._status("An answer failed, so this round cannot be voted on; r reveals the names.")
        else:
            self._status(f"Run {run.id} stored with its settings (ctrl+r runs it again).")

    @on(CompareFailed)
    def failed(self, message: CompareFailed) -> None:
        self.generating = False
        self.completed += 1
        self._status(message.error)
        self.notify(message.error, severity="error", timeout=8)

    def action_stop(self) -> None:
        if self.generating:
            self._cancel.set()
            self.notify("Stopping…", timeout=2)

    async def action_rerun(self) -> None:
        if self.run is None:
            self.notify("Nothing to run again yet", severity="warning")
            return
        await self.send(self.run.prompt, rerun_of=self.run.id)

    # -- votes ----------------------------------------------------------------------------------
    def action_vote(self, outcome: str) -> None:
        from engine import compare as cmp

        run = self.run
        if run is None or not run.blind:
            self.notify("Votes are for blind rounds: ctrl+b, pick models, send", severity="warning")
            return
        if self.generating or not run.finished:
            self.notify("Wait until both answers have finished, then vote", severity="warning")
            return
        if self._voting:  # a second key before the first vote is written is not a second vote
            return
        self._voting = True

        def recorded(_) -> None:
            self._voting = False
            if self.run is not run:  # a new round started while the vote was written: leave it alone
                return
            self.voted = True
            self.notify(f"Vote recorded: {cmp.votes.OUTCOME_NAMES[outcome]}", timeout=3)
            self._reveal()

        def vote() -> None:
            try:
                cmp.vote(self.app.workspace, run.id, outcome)
            except BaseException:  # refused or failed: the next key may vote
                self._voting = False
                raise

        write_off_ui(self, vote, recorded, "record the vote", severity="warning")

    def action_reveal(self) -> None:
        run = self.run
        if run is None or not run.blind:
            self.notify("Nothing hidden: names are shown unless blind mode is on", severity="warning")
            return
        if self.generating:
            self.notify("Wait until both answers have finished", severity="warning")
            return
        if self._voting:  # the vote being written reveals the names once it is in
            return
        self._reveal()

    def _reveal(self) -> None:
        from engine import compare as cmp
        from engine.errors import QuarryError

        try:
            names = cmp.reveal(self.app.workspace, self.run.id)
        except QuarryError as exc:  # a run that failed part-way has nothing to reveal
            self.notify(str(exc), severity="warning", timeout=6)
            return
        self.run.revealed = True
        for column in self.run.columns:
            widget = self._columns.get(column.position)
            if widget is not None:
                widget.set_title(f"{column.label} · {names.get(column.label, column.model)}")
        voted = "Vote stored. " if self.voted else "Revealed without a vote. "
        self._status(voted + " · ".join(f"{label} was {model}" for label, model in names.items())
                     + " — ctrl+l shows the leaderboard")
        # the round is over: the letter keys go back to typing the next prompt
        self.query_one("#compare-prompt", PromptInput).focus()

    # -- leaderboard ----------------------------------------------------------------------------
    def action_leaderboard(self) -> None:
        if self.app.workspace is None:
            self.notify("The workspace is not open yet", severity="warning")
            return
        self.load_board(self.selected_models())

    @work(thread=True, exclusive=True, group="compare-board", exit_on_error=False)
    def load_board(self, candidates: list[str]) -> None:
        from engine import compare as cmp
        from engine.errors import QuarryError

        try:
            board = cmp.board(self.app.workspace, candidates or [e.id for e in cmp.chat_models()])
        except QuarryError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning", timeout=6)
            return
        self.app.call_from_thread(self.app.push_screen, LeaderboardScreen(board))
