"""The Quarry terminal app: five panes, keyboard first. Heavy engines load in workers after first paint."""

from __future__ import annotations

import importlib
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.command import Hit, Hits, Provider
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tui import actions, workers
from tui.messages import ClientCommand, ModelsWarm, WorkFailed, WorkspaceFailed, WorkspaceReady, Written
from tui.panes.chat import ChatPane

# The panes in tab order: id, tab title, and where the pane's class lives. Only Chat, the first screen, is
# built at start; each other pane is imported and built the first time it is shown, so the first paint
# pays for one pane's widgets, styles and imports instead of five.
PANES = (("chat", "Chat", "tui.panes.chat:ChatPane"),
         ("documents", "Documents", "tui.panes.documents:DocumentsPane"),
         ("classify", "Classify", "tui.panes.classify:ClassifyPane"),
         ("recommend", "Recommend", "tui.panes.recommend:RecommendPane"),
         ("compare", "Compare", "tui.panes.compare:ComparePane"))


class QuarryCommands(Provider):
    """The command palette: every action of tui.actions with its current key."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for action in actions.ACTIONS:
            if not action.palette:
                continue
            key = actions.current_key(action.id, app.keys)
            label = f"{action.description} ({key})"
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), lambda a=action: app.run_scoped(a), help=action.id)


class MainScreen(Screen):
    """The screen that holds the panes."""

    AUTO_FOCUS = "#prompt"  # straight to the prompt: focusing the tabs first restyles them and the footer twice


class QuarryApp(App):
    CSS_PATH = Path(__file__).parent / "quarry.tcss"
    TITLE = "Quarry"
    BINDINGS = actions.bindings("app")
    COMMANDS = App.COMMANDS | {QuarryCommands}

    def __init__(self, workspace_path: Path | None = None, warm_models: bool = True,
                 cursor_blink: bool = True) -> None:
        super().__init__()
        from engine import log, settings
        from engine.errors import QuarryError

        log.ensure()
        self.cursor_blink = cursor_blink  # off in snapshot tests, so every picture is the same
        self.workspace_path = workspace_path
        self.workspace = None
        self.holder = None  # serves this workspace to `quarry` commands run elsewhere (engine/serve)
        # Loaded before the panes compose: their key hints are built from the keys in effect.
        self._settings_error: str | None = None
        try:
            self.settings = settings.load()
        except QuarryError as exc:
            self.settings = settings.Settings()
            self._settings_error = str(exc)
        # The key overrides in effect: the config's, unless they take the quit key or clash (then the defaults).
        self._keymap_problem = actions.keymap_problem(self.settings.keys)
        self.keys: dict[str, str] = {} if self._keymap_problem else dict(self.settings.keys)
        self.warm_models = warm_models
        self._pane_mounts: dict[str, AwaitMount] = {}  # panes built after start, by id, until mounted
        self._filled: set[str] = set()  # panes given the open workspace

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="chat", id="panes"):
            for pane, title, _ in PANES:
                with TabPane(title, id=pane):
                    if pane == "chat":
                        yield ChatPane(id="chat-pane")
        yield Footer()

    async def pane(self, pane: str) -> Widget:
        """Gives a pane's widget, mounted; the first call for a pane imports and builds it, and gives it
        the workspace when that is already open."""
        found = self.query(f"#{pane}-pane")
        if found:
            widget = found.first()
            if pane in self._pane_mounts:  # being built by an earlier call: wait for it
                await self._pane_mounts[pane]
            return widget
        module, _, name = dict((p, where) for p, _, where in PANES)[pane].partition(":")
        widget = getattr(importlib.import_module(module), name)(id=f"{pane}-pane")
        self._pane_mounts[pane] = self.query_one(f"#{pane}", TabPane).mount(widget)
        await self._pane_mounts[pane]
        del self._pane_mounts[pane]
        self._stop_blinking(widget)
        self._fill(widget)
        return widget

    def _stop_blinking(self, root: Widget) -> None:
        """Stops the cursors under `root` blinking when the app was asked so (snapshot tests)."""
        if not self.cursor_blink:
            for field in root.query("Input, TextArea"):
                field.cursor_blink = False

    def _fill(self, widget: Widget) -> None:
        """Gives a mounted pane the open workspace, once."""
        if self.workspace is None or widget.id in self._filled:
            return
        self._filled.add(widget.id)
        ready = getattr(widget, "workspace_ready", None)
        if ready is not None:
            ready()

    @on(TabbedContent.TabActivated, "#panes")
    async def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Builds a pane opened by a click on its tab (keys go through action_show_pane)."""
        if event.pane.id:
            await self.pane(event.pane.id)

    def on_mount(self) -> None:
        if self._settings_error:
            self.notify(self._settings_error, severity="error", timeout=10)
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        if self._keymap_problem:  # the defaults stay, so the app can always be left by its quit key
            self.notify(self._keymap_problem, severity="error", timeout=10, markup=False)
        elif self.keys:
            self.set_keymap(self.keys)
        self.sub_title = "opening workspace…"
        self._stop_blinking(self.screen)
        self.call_after_refresh(self.open_workspace)

    @work(thread=True, exclusive=True, group="workspace", exit_on_error=False)
    def open_workspace(self) -> None:
        from engine.errors import QuarryError
        from engine.workspace import Workspace

        try:
            self.workspace = Workspace(self.workspace_path)
        except QuarryError as exc:
            self.post_message(WorkspaceFailed(str(exc)))
            return
        from tui.serving import serve

        self.holder = serve(self.workspace, lambda request, code: self.post_message(
            ClientCommand(list(request.argv), code)))
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
        import gc

        # What is loaded by now (the engines' modules, the workspace) lives as long as the app: out of the
        # collector's sight, a full collection no longer walks it in the middle of someone's typing.
        gc.freeze()
        self.sub_title = self._workspace_title()
        if self.workspace.store.read_only:  # said once, up front, rather than at the first write refused
            self.notify(f"{self.workspace.root}: read-only (this user may not write it). Search, answers and"
                        " reading work; chats, ratings and imports are not stored: make the folder writable"
                        " to store them", severity="warning", timeout=15)
        for pane, _, _ in PANES:  # a pane not built yet (or still mounting) is filled once it is
            for widget in self.query(f"#{pane}-pane"):
                if pane not in self._pane_mounts:
                    self._fill(widget)
        from engine import jobs

        if any(run.kind == "ingest" for run in jobs.unfinished(self.workspace)):
            # Documents offers to resume a stopped ingest as soon as the app opens: build it now, unseen.
            self.call_later(self.pane, "documents")

    def _workspace_title(self) -> str:
        read_only = " (read-only)" if self.workspace.store.read_only else ""
        return f"{self.workspace.root.name}{read_only} · {self.settings.model}"

    @on(WorkspaceFailed)
    def workspace_failed(self, message: WorkspaceFailed) -> None:
        self.notify(message.error, severity="error", timeout=15)
        if self.workspace is None:
            self.sub_title = "no workspace"

    @on(ClientCommand)
    def client_command(self, message: ClientCommand) -> None:
        """Shows another terminal's long or library-changing commands, and refreshes the library after them."""
        from tui.serving import command_in_argv

        name = command_in_argv(message.argv) or ""
        rest = message.argv[message.argv.index(name) + 1:] if name else []
        changes_library = (name == "ingest" or (name == "jobs" and "resume" in rest)
                           or (name == "docs" and "--remove" in rest))
        if changes_library:
            if message.code is None:
                self.notify(f"quarry {name}: started from another terminal")
            else:
                self.notify(f"quarry {name} from another terminal: " + ("done" if message.code == 0 else
                                                                         f"ended with exit code {message.code}"))
        if name in ("ask", "chat") and message.code is not None:  # its chat is listed, and a flag is kept with it
            for chat in self.query(ChatPane):
                if chat.workspace is not None:
                    chat.refresh_chats(select=chat.chat_id)
                chat.refresh_title()
        if changes_library and message.code is not None:
            for documents in self.query("#documents-pane"):  # a pane not built yet reads the library when it is
                if "documents" not in self._pane_mounts:
                    documents.refresh_library()

    @on(ModelsWarm)
    def models_warm(self, message: ModelsWarm) -> None:
        self.log.info(message.detail)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (the panes' use tui/workers.py, which never lets an error escape)."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            workers.toast(self, workers.failure(event.worker.group, event.worker.name, event.worker.error))

    @on(WorkFailed)
    def work_failed(self, message: WorkFailed) -> None:
        """Every pane's failed work, one way: a QuarryError's line, or a bug's naming the log file."""
        workers.toast(self, message)

    @on(Written)
    async def write_done(self, message: Written) -> None:
        await workers.written(message)

    def _handle_exception(self, error: Exception) -> None:
        # Textual ends the app on an exception in a handler; its traceback is logged first, so that a
        # user who saw the app close can send it.
        import logging

        from engine import log

        log.ensure()
        logging.getLogger("tui.app").critical("the app failed", exc_info=error)  # a QuarryError too, here
        super()._handle_exception(error)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Shows a toast. Its text is always literal: file names, titles and errors are never markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_unmount(self) -> None:
        if self.holder is not None:
            self.holder.stop(cancel=True, timeout=10)  # clients' commands are interrupted, as on Ctrl-C
        if self.workspace is not None:
            self.workspace.close()

    # -- actions ------------------------------------------------------------------------------
    async def action_show_pane(self, pane: str) -> None:
        widget = await self.pane(pane)
        self.query_one("#panes", TabbedContent).active = pane
        # Focus must move into the new pane: TabbedContent follows focus back to the old one.
        target = {"chat": "#prompt", "documents": "#doc-search"}.get(pane)
        if target:
            self.query_one(target).focus()
        else:
            getattr(widget, "focus_first", widget.focus)()

    async def run_scoped(self, action: actions.Action) -> None:
        """Runs an action from the palette, switching to its pane first."""
        if action.scope == "app":
            await self.run_action(action.action)
            return
        pane = actions.PANE_OF_SCOPE.get(action.scope, action.scope)
        await self.action_show_pane(pane)
        await self.run_action(action.action, self.query_one(f"#{pane}-pane"))

    def action_help(self) -> None:
        from tui.widgets.dialogs import HelpScreen

        rows = [(a.scope, actions.current_key(a.id, self.keys), a.description)
                for a in actions.ACTIONS if a.in_help]
        palette = actions.key_label(self.COMMAND_PALETTE_BINDING.split(",")[0])
        note = (f"enter sends a prompt, {actions.key(self, 'prompt.newline')} adds a line; {palette} opens the "
                "command palette.")
        self.push_screen(HelpScreen(rows, note))

    def action_toggle_theme(self) -> None:
        dark = self.available_themes[self.theme].dark if self.theme in self.available_themes else True
        self.theme = "textual-light" if dark else "textual-dark"
        self.settings.theme = self.theme
        self._save_settings(self.settings)

    def _save_settings(self, value) -> bool:
        """Saves the settings file; a file that cannot be written is a warning, and the app runs on with
        the settings in memory."""
        from engine import settings
        from engine.errors import SettingsError

        try:
            settings.save(value)
        except SettingsError as exc:
            self.notify(str(exc), title="Settings not saved", severity="warning", markup=False)
            return False
        return True

    def action_settings(self) -> None:
        from engine.models import catalog
        from tui.widgets.settings_screen import SettingsScreen

        ready = [e.id for e in catalog.load().values() if e.kind == "llm" and catalog.status(e).state == "ready"]

        def saved(result) -> None:
            if result is None:
                return
            result.keys = self.settings.keys
            self.settings = result
            saved_file = self._save_settings(result)
            if result.theme in self.available_themes:
                self.theme = result.theme
            if self.workspace is not None:
                self.sub_title = self._workspace_title()
            for pane in self.query("ChatPane"):  # not built yet: it reads the settings when it is
                pane.refresh_title()
            if saved_file:
                self.notify("Settings saved")

        self.push_screen(SettingsScreen(self.settings, ready), saved)


def run_app(workspace: Path | None) -> None:
    """Runs the TUI on a workspace (the default one when None)."""
    QuarryApp(workspace).run()
