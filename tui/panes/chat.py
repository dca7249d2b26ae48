"""The Chat pane: conversations on the side, streamed answers, plain chat or document Q&A."""

from __future__ import annotations

import threading
import time

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, ListItem, ListView, Static

from tui import actions
from tui.messages import AnswerFailed, AnswerFinished, AnswerStreamed
from tui.widgets.dialogs import ChunkScreen, ConfirmScreen, RenameScreen
from tui.widgets.message_box import CitationList, MessageBox
from tui.widgets.prompt_input import PromptInput

STREAM_INTERVAL = 0.04  # repaint at most ~25 times a second while tokens arrive
MODES = {"docs": "Document Q&A: answers only from your documents, cited",
         "chat": "Plain chat with the model"}


class ChatItem(ListItem):
    def __init__(self, chat) -> None:
        super().__init__(Label(chat.title, classes="chat-title"), Label(chat.mode, classes="chat-mode"))
        self.chat = chat


class ChatPane(Vertical):
    BINDINGS = actions.bindings("chat")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chat_id: int | None = None
        self.mode = "docs"
        self._cancel = threading.Event()
        self._generating = False
        self._box_seq = 0
        self.completed = 0  # answers finished or failed, for fronts and tests that wait on them

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="chat-sidebar"):
                yield Label("Conversations", classes="section")
                yield ListView(id="chat-list")
                yield Static("ctrl+n new · ctrl+r rename\ndel delete (in this list)", classes="hint")
            with Vertical(id="chat-main"):
                yield Static(self._mode_line(), id="chat-mode-line")
                yield VerticalScroll(Static("Ask a question about your documents below.", classes="hint",
                                            id="chat-empty"), id="chat-log")
                yield PromptInput(id="prompt")

    def _mode_line(self) -> str:
        return f"{MODES[self.mode]} (ctrl+o)"

    @property
    def workspace(self):
        return self.app.workspace

    def workspace_ready(self) -> None:
        self.refresh_chats()

    def refresh_chats(self, select: int | None = None) -> None:
        chats = self.workspace.store.chats()
        listing = self.query_one("#chat-list", ListView)
        listing.clear()
        listing.extend(ChatItem(c) for c in chats)
        if select is not None:
            for i, c in enumerate(chats):
                if c.id == select:
                    listing.index = i

    # -- conversations ------------------------------------------------------------------------
    @on(ListView.Selected, "#chat-list")
    async def open_chat(self, event: ListView.Selected) -> None:
        chat = event.item.chat
        await self.load_chat(chat.id, chat.mode)

    async def load_chat(self, chat_id: int | None, mode: str | None = None) -> None:
        self.chat_id = chat_id
        if mode:
            self.mode = mode
            self.query_one("#chat-mode-line", Static).update(self._mode_line())
        log = self.query_one("#chat-log", VerticalScroll)
        await log.remove_children()
        if chat_id is None:
            await log.mount(Static("New conversation. Type below and press enter.", classes="hint", id="chat-empty"))
            return
        boxes = [MessageBox(m.role, m.content, m.stats, m.citations) for m in self.workspace.store.messages(chat_id)]
        await log.mount_all(boxes)
        log.scroll_end(animate=False)

    async def action_new_chat(self) -> None:
        await self.load_chat(None)
        self.query_one("#prompt", PromptInput).focus()

    def _selected_chat(self):
        listing = self.query_one("#chat-list", ListView)
        item = listing.highlighted_child
        return item.chat if isinstance(item, ChatItem) else None

    def action_rename_chat(self) -> None:
        chat = self._selected_chat()
        if chat is None:
            self.notify("Select a chat in the list first", severity="warning")
            return

        def done(title: str | None) -> None:
            if title:
                self.workspace.store.rename_chat(chat.id, title)
                self.refresh_chats(select=chat.id)

        self.app.push_screen(RenameScreen(chat.title), done)

    def action_delete_chat(self) -> None:
        chat = self._selected_chat()
        if chat is None:
            self.notify("Select a chat in the list first", severity="warning")
            return

        async def done(yes: bool | None) -> None:
            if yes:
                self.workspace.store.delete_chat(chat.id)
                if self.chat_id == chat.id:
                    await self.load_chat(None)
                self.refresh_chats()
                self.notify(f"Deleted “{chat.title}”")

        self.app.push_screen(ConfirmScreen(f"Delete the chat “{chat.title}”?"), done)

    def action_focus_list(self) -> None:
        self.query_one("#chat-list", ListView).focus()

    def action_toggle_mode(self) -> None:
        self.mode = "chat" if self.mode == "docs" else "docs"
        self.query_one("#chat-mode-line", Static).update(self._mode_line())
        self.notify(MODES[self.mode], timeout=2)

    # -- asking -------------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def submit(self, event: PromptInput.Submitted) -> None:
        if self.workspace is None:
            self.notify("The workspace is not open (see the message above)", severity="warning")
            return
        if self._generating:
            self.notify("Still answering — press esc to stop first", severity="warning")
            return
        event.prompt.clear()
        log = self.query_one("#chat-log", VerticalScroll)
        for empty in log.query("#chat-empty"):
            await empty.remove()
        self._box_seq += 1
        box_id = f"answer-{self._box_seq}"
        await log.mount_all([MessageBox("user", event.text), MessageBox("assistant", "", id=box_id)])
        log.scroll_end(animate=False)
        self._generating = True
        self._cancel.clear()
        self.generate(event.text, box_id, self.chat_id, self.mode)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def generate(self, text: str, box_id: str, chat_id: int | None, mode: str) -> None:
        settings = self.app.settings
        try:
            if mode == "docs":
                from engine.rag import Ask

                job = Ask(self.workspace, text, chat_id=chat_id, model_id=settings.model,
                          k=settings.top_k_sources, mode=settings.search_mode)
                params = settings.generation(temperature=0.0)
            else:
                from engine.chat import Turn

                job = Turn(self.workspace, text, model_id=settings.model, chat_id=chat_id)
                params = settings.generation()
            buffer, last = [], time.monotonic()
            for piece in job.stream(params, cancel=self._cancel.is_set):
                buffer.append(piece)
                if time.monotonic() - last >= STREAM_INTERVAL:
                    self.post_message(AnswerStreamed(box_id, "".join(buffer)))
                    buffer, last = [], time.monotonic()
            if buffer:
                self.post_message(AnswerStreamed(box_id, "".join(buffer)))
            self.post_message(AnswerFinished(box_id, job.answer if mode == "docs" else job.reply))
        except Exception as exc:  # QuarryError is the user's; anything else is shown, not crashed on
            self.post_message(AnswerFailed(box_id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    @on(AnswerStreamed)
    async def streamed(self, message: AnswerStreamed) -> None:
        log = self.query_one("#chat-log", VerticalScroll)
        at_bottom = log.scroll_y >= log.max_scroll_y - 1
        await self.query_one(f"#{message.box_id}", MessageBox).append(message.text)
        if at_bottom:
            log.scroll_end(animate=False)

    @on(AnswerFinished)
    def finished(self, message: AnswerFinished) -> None:
        self._generating = False
        self.completed += 1
        result = message.result
        box = self.query_one(f"#{message.box_id}", MessageBox)
        record = result.record() if hasattr(result, "record") else None
        box.finish(result.text, result.stats.to_dict() if result.stats else None, record)
        if getattr(result, "trimmed_turns", 0):
            self.notify(f"{result.trimmed_turns} earlier message(s) did not fit the model's context and were "
                        "left out of this answer", severity="warning", timeout=6)
        new_chat = self.chat_id != result.chat_id
        self.chat_id = result.chat_id
        if new_chat:
            self.refresh_chats(select=result.chat_id)
        log = self.query_one("#chat-log", VerticalScroll)
        log.scroll_end(animate=False)

    @on(AnswerFailed)
    def failed(self, message: AnswerFailed) -> None:
        self._generating = False
        self.completed += 1
        box = self.query_one(f"#{message.box_id}", MessageBox)
        box.finish(f"_{message.error}_", None, None)
        self.notify(message.error, severity="error", timeout=8)

    def action_stop(self) -> None:
        if self._generating:
            self._cancel.set()
            self.notify("Stopped", timeout=2)

    # -- citations, copy, export --------------------------------------------------------------
    @on(CitationList.Opened)
    def open_citation(self, event: CitationList.Opened) -> None:
        c = event.citation
        row = self.workspace.store.chunks_by_ids([c["chunk_id"]]).get(c["chunk_id"])
        if row is None:
            self.notify("That passage is no longer in the library (re-ingested or removed)", severity="warning")
            return
        span = tuple(c.get("span") or (0, 0))
        self.app.push_screen(ChunkScreen(row.path, row.page, row.heading, row.text, span))

    def _last_answer(self) -> MessageBox | None:
        boxes = [b for b in self.query(MessageBox) if b.role == "assistant" and b.text]
        focused = self.app.focused
        for box in boxes:
            if focused is not None and box in focused.ancestors_with_self:
                return box
        return boxes[-1] if boxes else None

    def action_copy_answer(self) -> None:
        box = self._last_answer()
        if box is None:
            self.notify("No answer to copy yet", severity="warning")
            return
        from tui.clipboard import copy

        self.notify(copy(self.app, box.text))

    def action_export(self) -> None:
        if self.chat_id is None:
            self.notify("Open or start a chat to export it", severity="warning")
            return
        from engine.chat import export_chat

        path = export_chat(self.workspace, self.chat_id)
        self.notify(f"Exported to {path}")
