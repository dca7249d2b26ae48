"""The Compare pane: pick 2–4 models, send one prompt, watch the answers stream side by side with their
figures; in blind mode vote on A and B by key, then see the names; open the leaderboard. The columns are
tui/widgets/compare_columns.py, the leaderboard tui/widgets/leaderboard.py, the styles quarry.tcss."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, SelectionList, Static

from tui import actions
from tui.messages import (
    CompareColumnDone,
    CompareDone,
    ComparePieces,
    CompareStarted,
    LeaderboardReady,
    ModelsListed,
    WorkFailed,
)
from tui.widgets.compare_columns import AnswerColumn, Columns
from tui.widgets.leaderboard import LeaderboardScreen
from tui.widgets.lists import KeyedSelectionList
from tui.widgets.prompt_input import PromptInput
from tui.workers import thread_worker, write_off_ui

STREAM_INTERVAL = 0.05  # repaint at most ~20 times a second while tokens arrive


class ComparePane(Vertical):
    BINDINGS = actions.bindings("compare")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.blind = False
        self.rag = False
        self.max_tokens: int | None = None  # None: the app's settings
        self.run = None  # the last engine.compare.CompareRun
        self.voted = False
        self._voting = False  # a vote or a reveal is being written
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
                yield KeyedSelectionList(id="compare-models")
                yield Static(Text(actions.hint(self.app, ("compare.pick", "models"), ("compare.docs", "docs"))
                                  + "\n" + actions.hint(self.app, ("compare.blind", "blind"),
                                                        ("compare.leaderboard", "ratings"))),
                             classes="hint", id="compare-hint")
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

    def _key(self, action_id: str) -> str:
        return actions.key(self.app, action_id)

    # -- models ---------------------------------------------------------------------------------
    @thread_worker("compare-models", "list the models")
    def list_models(self) -> None:
        from engine.models import catalog

        ready = [(e.id, e.kind) for e in catalog.load().values()
                 if e.kind in ("llm", "remote") and catalog.status(e).state == "ready"]
        self.post_message(ModelsListed(ready))

    @on(ModelsListed)
    def models_listed(self, message: ModelsListed) -> None:
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

        return CompareSettings.from_settings(self.app.settings, rag=self.rag, max_tokens=self.max_tokens)

    def _settings_line(self) -> Text:
        conf = getattr(self.app, "settings", None)
        temperature = 0.0 if self.rag else (conf.temperature if conf else 0.2)
        max_tokens = self.max_tokens or (conf.max_tokens if conf else 384)
        line = (f"Same for all: temperature {temperature:g} · max {max_tokens} tokens · seed 42 · "
                f"{'documents: same sources, same citation check' if self.rag else 'plain prompt'} "
                f"({self._key('compare.docs')}) · "
                f"blind {'on: A/B, then vote' if self.blind else 'off'} ({self._key('compare.blind')})")
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
            self.notify(f"Still answering — press {self._key('compare.stop')} to stop first", severity="warning")
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

    @thread_worker("compare", "compare the models")
    def compare(self, text: str, models: list[str], settings, blind: bool, rerun_of: int | None) -> None:
        from engine import compare as cmp

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
            self._status("Vote: " + actions.hint(self.app, ("verdict.a", "= A better"), ("verdict.b", "= B better"),
                                                 ("verdict.tie", "= tie"), ("verdict.both_bad", "= both bad"),
                                                 ("verdict.reveal", "= reveal without voting")))
            self.query_one("#compare-columns", Columns).focus()
        elif run.blind:
            self._status(f"An answer failed, so this round cannot be voted on; {self._key('verdict.reveal')} "
                         "reveals the names.")
        else:
            self._status(f"Run {run.id} stored with its settings ({self._key('compare.rerun')} runs it again).")

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        """A run that failed ends like one that finished (the app shows the error)."""
        if message.group == "compare":
            self.generating = False
            self.completed += 1
            self._status(message.error)

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
    @on(Columns.Voted)
    def _voted_key(self, message: Columns.Voted) -> None:
        self.action_vote(message.outcome)

    @on(Columns.RevealAsked)
    def _reveal_key(self) -> None:
        self.action_reveal()

    def action_vote(self, outcome: str) -> None:
        from engine import compare as cmp

        run = self.run
        if run is None or not run.blind:
            self.notify(f"Votes are for blind rounds: {self._key('compare.blind')}, pick models, send",
                        severity="warning")
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
        """Writes the reveal off the UI thread, then shows the names."""
        from engine import compare as cmp

        run, workspace = self.run, self.app.workspace
        self._voting = True  # no vote while the reveal is written: it would count with the names known

        def shown(names: dict[str, str]) -> None:
            self._voting = False
            if self.run is not run:  # a new round started meanwhile: its columns are not these
                return
            run.revealed = True
            for column in run.columns:
                widget = self._columns.get(column.position)
                if widget is not None:
                    widget.set_title(f"{column.label} · {names.get(column.label, column.model)}")
            voted = "Vote stored. " if self.voted else "Revealed without a vote. "
            self._status(voted + " · ".join(f"{label} was {model}" for label, model in names.items())
                         + f" — {self._key('compare.leaderboard')} shows the leaderboard")
            # the round is over: the letter keys go back to typing the next prompt
            self.query_one("#compare-prompt", PromptInput).focus()

        def reveal() -> dict[str, str]:
            try:
                # r is "reveal without voting": the CLI's --skip-vote; a vote after it is refused
                return cmp.reveal(workspace, run.id, skip_vote=True)
            except BaseException:  # a run that failed part-way has nothing to reveal; the keys work again
                self._voting = False
                raise

        write_off_ui(self, reveal, shown, "reveal the names", severity="warning")

    # -- leaderboard ----------------------------------------------------------------------------
    def action_leaderboard(self) -> None:
        if self.app.workspace is None:
            self.notify("The workspace is not open yet", severity="warning")
            return
        self.load_board(self.selected_models())

    @thread_worker("compare-board", "load the leaderboard")
    def load_board(self, candidates: list[str]) -> None:
        from engine import compare as cmp

        self.post_message(LeaderboardReady(cmp.board(self.app.workspace,
                                                     candidates or [e.id for e in cmp.chat_models()])))

    @on(LeaderboardReady)
    def show_board(self, message: LeaderboardReady) -> None:
        self.app.push_screen(LeaderboardScreen(message.board))
