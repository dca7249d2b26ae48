"""The Quarry terminal app: five panes, keyboard first. Heavy engines load in workers after first paint."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.command import Hit, Hits, Provider
from textual.widgets import Footer, Header, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tui import actions
from tui.messages import ModelsWarm, WorkspaceFailed, WorkspaceReady
from tui.panes.chat import ChatPane
from tui.panes.classify import ClassifyPane
from tui.panes.compare import ComparePane
from tui.panes.documents import DocumentsPane
from tui.panes.recommend import RecommendPane


class QuarryCommands(Provider):
    """The command palette: every action of tui.actions with its current key."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for action in actions.ACTIONS:
            if not action.palette:
                continue
            key = actions.key_label(app.keys.get(action.id, action.key))
            label = f"{action.description} ({key})"
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), lambda a=action: app.run_scoped(a), help=action.id)


class QuarryApp(App):
    CSS_PATH = Path(__file__).parent / "quarry.tcss"
    TITLE = "Quarry"
    BINDINGS = actions.bindings("app")
    COMMANDS = App.COMMANDS | {QuarryCommands}

    def __init__(self, workspace_path: Path | None = None, warm_models: bool = True,
                 cursor_blink: bool = True) -> None:
        super().__init__()
        from engine.settings import Settings

        self.cursor_blink = cursor_blink  # off in snapshot tests, so every picture is the same
        self.workspace_path = workspace_path
        self.workspace = None
        self.settings = Settings()
        self.keys: dict[str, str] = {}  # the key overrides in effect (the config's, unless refused)
        self.warm_models = warm_models

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="chat", id="panes"):
            with TabPane("Chat", id="chat"):
                yield ChatPane(id="chat-pane")
            with TabPane("Documents", id="documents"):
                yield DocumentsPane(id="documents-pane")
            with TabPane("Classify", id="classify"):
                yield ClassifyPane(id="classify-pane")
            with TabPane("Recommend", id="recommend"):
                yield RecommendPane(id="recommend-pane")
            with TabPane("Compare", id="compare"):
                yield ComparePane(id="compare-pane")
        yield Footer()

    def on_mount(self) -> None:
        from engine import settings
        from engine.errors import QuarryError

        try:
            self.settings = settings.load()
        except QuarryError as exc:
            self.notify(str(exc), severity="error", timeout=10)
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        problem = actions.keymap_problem(self.settings.keys)
        if problem:  # the defaults stay, so the app can always be left by its quit key
            self.notify(problem, severity="error", timeout=10, markup=False)
        elif self.settings.keys:
            self.keys = dict(self.settings.keys)
            self.set_keymap(self.keys)
        self.sub_title = "opening workspace…"
        if not self.cursor_blink:
            for field in self.query("Input, TextArea"):
                field.cursor_blink = False
        self.query_one("#prompt").focus()
        self.open_workspace()

    @work(thread=True, exclusive=True, group="workspace", exit_on_error=False)
    def open_workspace(self) -> None:
        from engine.errors import QuarryError
        from engine.workspace import Workspace

        try:
            self.workspace = Workspace(self.workspace_path)
        except QuarryError as exc:
            self.post_message(WorkspaceFailed(str(exc)))
            return
        self.post_message(WorkspaceReady())
        if not self.warm_models:
            return
        try:
            from engine.runtime import pool

            searcher = self.workspace.searcher()
            from engine.documents import rag

            model = pool.get(self.settings.model, slot="rag")
            rag.warm(model)
            rebuilt = f"; rebuilt {', '.join(searcher.rebuilt)} index" if searcher.rebuilt else ""
            self.post_message(ModelsWarm(f"{model.model_id} ready{rebuilt}"))
        except QuarryError as exc:
            self.post_message(WorkspaceFailed(str(exc)))

    @on(WorkspaceReady)
    def workspace_ready(self) -> None:
        self.sub_title = f"{self.workspace.root.name} · {self.settings.model}"
        self.query_one(ChatPane).workspace_ready()
        self.query_one(DocumentsPane).workspace_ready()
        self.query_one(RecommendPane).workspace_ready()
        self.query_one(ClassifyPane).workspace_ready()

    @on(WorkspaceFailed)
    def workspace_failed(self, message: WorkspaceFailed) -> None:
        self.notify(message.error, severity="error", timeout=15)
        if self.workspace is None:
            self.sub_title = "no workspace"

    @on(ModelsWarm)
    def models_warm(self, message: ModelsWarm) -> None:
        self.log.info(message.detail)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(str(error).splitlines()[0] if str(error) else type(error).__name__,
                        title="Error", severity="error", timeout=10)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Shows a toast. Its text is always literal: file names, titles and errors are never markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_unmount(self) -> None:
        if self.workspace is not None:
            self.workspace.close()

    # -- actions ------------------------------------------------------------------------------
    def action_show_pane(self, pane: str) -> None:
        self.query_one("#panes", TabbedContent).active = pane
        # Focus must move into the new pane: TabbedContent follows focus back to the old one.
        target = {"chat": "#prompt", "documents": "#doc-search"}.get(pane)
        if target:
            self.query_one(target).focus()
        else:
            widget = self.query_one(f"#{pane}-pane")
            getattr(widget, "focus_first", widget.focus)()

    async def run_scoped(self, action: actions.Action) -> None:
        """Runs an action from the palette, switching to its pane first."""
        if action.scope == "app":
            await self.run_action(action.action)
            return
        pane = actions.PANE_OF_SCOPE.get(action.scope, action.scope)
        self.action_show_pane(pane)
        await self.run_action(action.action, self.query_one(f"#{pane}-pane"))

    def action_help(self) -> None:
        from tui.widgets.dialogs import HelpScreen

        rows = [(a.scope, actions.key_label(self.keys.get(a.id, a.key)), a.description)
                for a in actions.ACTIONS if a.in_help]
        self.push_screen(HelpScreen(rows))

    def action_toggle_theme(self) -> None:
        from engine import settings

        dark = self.available_themes[self.theme].dark if self.theme in self.available_themes else True
        self.theme = "textual-light" if dark else "textual-dark"
        self.settings.theme = self.theme
        settings.save(self.settings)

    def action_settings(self) -> None:
        from engine import settings
        from engine.models import catalog
        from tui.widgets.settings_screen import SettingsScreen

        ready = [e.id for e in catalog.load().values() if e.kind == "llm" and catalog.status(e).state == "ready"]

        def saved(result) -> None:
            if result is None:
                return
            result.keys = self.settings.keys
            self.settings = result
            settings.save(result)
            if result.theme in self.available_themes:
                self.theme = result.theme
            if self.workspace is not None:
                self.sub_title = f"{self.workspace.root.name} · {result.model}"
            self.notify("Settings saved")

        self.push_screen(SettingsScreen(self.settings, ready), saved)


def run_app(workspace: Path | None) -> None:
    """Runs the TUI on a workspace (the default one when None)."""
    QuarryApp(workspace).run()
