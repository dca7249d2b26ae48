"""The Chat pane: conversations on the side, streamed answers, plain chat or document Q&A."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Label, ListItem, ListView, Static

from tui import actions
from tui.messages import AnswerFinished, AnswerStreamed, WorkFailed
from tui.widgets.dialogs import ChunkScreen, ConfirmScreen, RenameScreen
from tui.widgets.lists import KeyedListView
from tui.widgets.message_box import CitationList, MessageBox
from tui.widgets.prompt_input import PromptInput
from tui.widgets.scope_picker import ScopePicker
from tui.workers import thread_worker, write_off_ui

STREAM_INTERVAL = 0.04  # repaint at most ~25 times a second while tokens arrive
HISTORY_CHATS = 20  # the prompt history is seeded from the user's questions in this many recent chats
MODES = {"docs": "Document Q&A: answers only from your documents, cited",
         "chat": "Plain chat with the model"}
WAITING = {"docs": "searching your documents and reading…", "chat": "thinking…"}


class ChatItem(ListItem):
    def __init__(self, chat) -> None:
        super().__init__(Label(Text(chat.title), classes="chat-title"), Label(Text(chat.mode), classes="chat-mode"))
        self.chat = chat


class ChatPane(Vertical):
    BINDINGS = actions.bindings("chat")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chat_id: int | None = None
        self.mode = "docs"
        self._cancel = threading.Event()
        self._generating = False
        self._deleting: set[int] = set()  # chats whose delete is being written
        self._redoing: set[int] = set()  # chats whose last turn is being removed (regenerate, edit)
        self._box_seq = 0
        self._answer_box: str | None = None  # the box the answer being written goes into
        self.completed = 0  # answers finished or failed, for fronts and tests that wait on them
        self.pending_scope = None  # a new chat's scope (an engine Scope), kept with the chat at its first answer
        # Answer modes picked with the key (engine/documents/modes.py): a new chat's, kept with the chat
        # once its first answer is stored; a stored chat's, only until its write lands (the store holds the
        # rest, so a mode kept from another terminal shows here too).
        self.pending_answers: str | None = None
        self._unwritten_answers: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="chat-sidebar"):
                yield Label("Conversations", classes="section")
                yield KeyedListView(id="chat-list")
                yield Static(Text(actions.hint(self.app, ("chat.new", "new"), ("chat.rename", "rename")) + "\n"
                                  + actions.hint(self.app, ("chat.delete", "delete (in this list)"))),
                             classes="hint", id="chat-hint")
            with Vertical(id="chat-main"):
                yield Static(self._mode_line(), id="chat-mode-line")
                yield VerticalScroll(Static("Ask a question about your documents below.", classes="hint",
                                            id="chat-empty"), id="chat-log")
                yield PromptInput(id="prompt")

    def on_mount(self) -> None:
        prompt = self.query_one("#prompt", PromptInput)
        prompt.border_subtitle = "enter send · " + actions.hint(
            self.app, ("prompt.newline", "new line"), ("prompt.history_back", "history"),
            ("chat.sources", "sources"), ("app.help", "keys"))
        prompt.mention_paths = self._library_paths
        self._show_scope(None)

    # -- scope: the documents the open chat answers from ------------------------------------------
    def _library_paths(self) -> list[str]:
        """Gives the paths @name completes from (the library as it is now)."""
        from engine.documents.scope import library

        return [path for _, path in library(self.workspace.store)] if self.workspace is not None else []

    def _open_scope(self):
        """Gives the open chat's scope (an engine Scope; empty: the whole library)."""
        from engine.documents.scope import Scope

        if self.chat_id is None:
            return self.pending_scope or Scope()
        chat = self.workspace.store.chat(self.chat_id) if self.workspace is not None else None
        return Scope.from_record(chat.scope if chat else None)

    def _show_scope(self, scope) -> None:
        """Shows the scope and the answer mode in the prompt's title:
        'scope: 2 docs — a.pdf, b.pdf · ctrl+f change │ answers: quoted · ctrl+b switch'."""
        from engine.documents.modes import label

        key = self._key("chat.scope")
        if not scope:
            line = f"all documents · {key} scope"
        else:
            from engine.documents.scope import ScopeError, resolve  # search's imports are not for the first paint

            try:
                line = f"{resolve(self.workspace.store, scope, stored=True).line()} · {key} change"
            except ScopeError:
                line = f"scope: matches no document now · {key} change"
        line += f" │ {label(self.answer_mode())} · {self._key('chat.answers')} switch"
        self.query_one("#prompt", PromptInput).border_title = Text(line)

    # -- answer mode: quoted or written by the model ------------------------------------------------
    def answer_mode(self) -> str:
        """Gives the answer mode document questions get now (auto, quoted or written): the one picked for
        the open (or new) chat, else the answer_mode setting."""
        from engine.documents.modes import kept

        if self.chat_id is None:
            picked = self.pending_answers
        else:
            picked = self._unwritten_answers.get(self.chat_id)
            if picked is None and self.workspace is not None:
                picked = kept(self.workspace.store.chat(self.chat_id))
        return picked or self.app.settings.answer_mode

    def refresh_title(self) -> None:
        """Shows the scope and answer mode again: after the settings are saved (a chat without its own
        pick follows them), or after another terminal's question in a chat (its flag is kept)."""
        self._show_scope(self._open_scope())

    def action_switch_answers(self) -> None:
        """Steps the open chat's answer mode: auto (the catalog's default per language), quoted, written;
        kept with the chat (a new chat's at its first answer), except the setting's mode, which makes the
        chat follow the setting again."""
        from engine.documents import modes

        if self.mode != "docs" and not self._open_scope():  # a plain chat's turns are the model's replies
            self.notify(f"Plain chat answers in the model's words; the answer mode is for document questions "
                        f"({self._key('chat.mode')} for Document Q&A, or {self._key('chat.scope')} to scope this chat)",
                        severity="warning", timeout=5, markup=False)
            return
        mode = modes.NEXT[self.answer_mode()]
        if self.chat_id is None:
            self.pending_answers = mode
        else:
            self._keep_answers(self.chat_id, mode)
        self._show_scope(self._open_scope())
        follows = " (the setting's: this chat follows the answer_mode setting again)" \
            if mode == self.app.settings.answer_mode else ""
        self.notify(modes.describe(mode, self.app.settings.model) + follows, timeout=3, markup=False)

    def _keep_answers(self, chat_id: int, mode: str) -> None:
        """Stores a chat's answer mode off the UI thread. Each write stores the latest pick, so writes of
        quick presses that land out of order still leave the last one; a read-only workspace keeps the pick
        for this session."""
        from engine.documents import modes

        self._unwritten_answers[chat_id] = mode
        store = self.workspace.store

        def write() -> str:
            latest = self._unwritten_answers.get(chat_id, mode)
            modes.keep(store, chat_id, latest, self.app.settings.answer_mode)
            return latest

        def landed(written: str) -> None:
            if not store.read_only and self._unwritten_answers.get(chat_id) == written:
                del self._unwritten_answers[chat_id]

        write_off_ui(self, write, landed, "keep the chat's answer mode")

    def action_pick_scope(self) -> None:
        """Opens the document picker for the open chat; what is applied is kept with the chat (off the UI
        thread), or, for a new chat, with its first answer."""
        from engine.documents.scope import Scope, ScopeError, library, resolve

        if self.workspace is None:
            self.notify("The workspace is not open (see the message above)", severity="warning")
            return
        documents = library(self.workspace.store)
        if not documents:
            self.notify("The library has no documents yet: add some in Documents (f2)", severity="warning")
            return
        scope, chat_id = self._open_scope(), self.chat_id
        try:
            picked = {doc_id for doc_id, _ in resolve(self.workspace.store, scope).documents} if scope else set()
        except ScopeError:
            picked = set()
        title = "a new chat"
        if chat_id is not None:
            chat = self.workspace.store.chat(chat_id)
            title = f"“{chat.title}”" if chat else title

        def done(ids: tuple[int, ...] | None) -> None:
            if ids is None:
                return
            paths = dict(documents)
            chosen = Scope(files=tuple(paths[doc_id] for doc_id in ids))  # files: a changed one keeps its place
            if chat_id is None:
                self.pending_scope = chosen
                self._show_scope(chosen)
                return

            def shown(_) -> None:
                if self.chat_id == chat_id:
                    self._show_scope(chosen)

            write_off_ui(self, lambda: self.workspace.store.set_chat_scope(chat_id, chosen.record()), shown,
                         "change the chat's scope")

        self.app.push_screen(ScopePicker(documents, picked, title), done)

    def _mode_line(self) -> Text:
        return Text(f"{MODES[self.mode]} ({actions.key(self.app, 'chat.mode')})")

    def _key(self, action_id: str) -> str:
        return actions.key(self.app, action_id)

    @property
    def workspace(self):
        return self.app.workspace

    def workspace_ready(self) -> None:
        chats = self.workspace.store.chats()
        prompt = self.query_one("#prompt", PromptInput)
        for chat in reversed(chats[:HISTORY_CHATS]):
            for m in self.workspace.store.messages(chat.id):
                if m.role == "user":
                    prompt.remember(m.content)
        self.refresh_chats(select=chats[0].id if chats else None, chats=chats)
        if chats:  # open the last chat, as it was left
            self.call_later(self.load_chat, chats[0].id, chats[0].mode)

    def refresh_chats(self, select: int | None = None, chats: list | None = None, index: int | None = None) -> None:
        """Refills the list; highlights the chat `select`, else the row `index` (clamped)."""
        chats = self.workspace.store.chats() if chats is None else chats
        listing = self.query_one("#chat-list", ListView)
        listing.clear()
        listing.extend(ChatItem(c) for c in chats)
        if not chats:
            return
        if select is not None:
            for i, c in enumerate(chats):
                if c.id == select:
                    listing.index = i
                    return
        if index is not None:
            listing.index = min(max(index, 0), len(chats) - 1)

    # -- conversations ------------------------------------------------------------------------
    @on(ListView.Selected, "#chat-list")
    async def open_chat(self, event: ListView.Selected) -> None:
        chat = event.item.chat
        await self.load_chat(chat.id, chat.mode)

    async def load_chat(self, chat_id: int | None, mode: str | None = None) -> bool:
        """Shows a chat (None: a new one); refused while an answer streams into the open one, whose
        box would be gone when its next piece arrives."""
        if self._generating:
            self.notify(f"An answer is still being written: wait for it, or press {self._key('chat.stop')} to "
                        "stop it", severity="warning", timeout=4)
            return False
        self.chat_id = chat_id
        self.pending_scope = None
        self.pending_answers = None
        self._show_scope(self._open_scope())
        if mode:
            self.mode = mode
            self.query_one("#chat-mode-line", Static).update(self._mode_line())
        log = self.query_one("#chat-log", VerticalScroll)
        await log.remove_children()
        if chat_id is None:
            await log.mount(Static("New conversation. Type below and press enter.", classes="hint", id="chat-empty"))
            return True
        boxes = []
        for m in self.workspace.store.messages(chat_id):
            boxes.append(MessageBox(m.role, m.content, m.stats, m.citations))
            boxes[-1].message_id = m.id
        await log.mount_all(boxes)
        self._scroll_to_end()
        return True

    def _scroll_to_end(self) -> None:
        """Scrolls the conversation to its last line once the layout includes what was just mounted."""
        log = self.query_one("#chat-log", VerticalScroll)
        log.scroll_end(animate=False)
        self.call_after_refresh(log.scroll_end, animate=False)

    async def action_new_chat(self) -> None:
        if not await self.load_chat(None):
            return
        self.query_one("#chat-list", ListView).index = None
        self.query_one("#prompt", PromptInput).focus()

    def _target_chat(self):
        """Gives the chat a rename or delete acts on: the highlighted one when the list has focus,
        otherwise the open one."""
        listing = self.query_one("#chat-list", ListView)
        item = listing.highlighted_child
        if listing.has_focus and isinstance(item, ChatItem):
            return item.chat
        if self.chat_id is not None:
            return self.workspace.store.chat(self.chat_id)
        return item.chat if isinstance(item, ChatItem) else None

    def action_rename_chat(self) -> None:
        chat = self._target_chat() if self.workspace is not None else None
        if chat is None:
            self.notify("Open or select a chat first", severity="warning")
            return

        def done(title: str | None) -> None:
            if title:
                write_off_ui(self, lambda: self.workspace.store.rename_chat(chat.id, title),
                             lambda _: self.refresh_chats(select=chat.id), "rename the chat")

        self.app.push_screen(RenameScreen(chat.title), done)

    def action_delete_chat(self) -> None:
        chat = self._target_chat() if self.workspace is not None else None
        if chat is None:
            self.notify("Open or select a chat first", severity="warning")
            return
        if self._generating and chat.id == self.chat_id:
            self.notify(f"An answer is still being written into this chat: stop it ({self._key('chat.stop')}) "
                        "first", severity="warning", timeout=4)
            return
        listing = self.query_one("#chat-list", ListView)
        position = listing.index or 0

        async def deleted(_) -> None:
            self._deleting.discard(chat.id)
            if self.chat_id == chat.id:
                await self.load_chat(None)
            self.refresh_chats(index=position)
            listing.focus()
            self.notify(f"Deleted “{chat.title}”", markup=False)

        def done(yes: bool | None) -> None:
            if yes:
                self._deleting.add(chat.id)

                def delete() -> None:
                    try:
                        self.workspace.store.delete_chat(chat.id)
                    except BaseException:  # refused or failed: the chat stays, and may be written to
                        self._deleting.discard(chat.id)
                        raise

                write_off_ui(self, delete, deleted, "delete the chat")

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
            self.notify(f"Still answering — press {self._key('chat.stop')} to stop first", severity="warning")
            return
        if self.chat_id in self._deleting:  # its messages would land in a chat about to be gone
            self.notify(f"This chat is being deleted: press {self._key('chat.new')} for a new one",
                        severity="warning")
            return
        event.prompt.clear()
        await self.ask(event.text)

    async def ask(self, text: str) -> None:
        """Shows the question and an answer box waiting for its first token, and starts the answer."""
        log = self.query_one("#chat-log", VerticalScroll)
        for empty in log.query("#chat-empty"):
            await empty.remove()
        self._box_seq += 1
        box_id = f"answer-{self._box_seq}"
        await log.mount_all([MessageBox("user", text),
                             MessageBox("assistant", "", id=box_id, waiting=WAITING[self.mode])])
        self._scroll_to_end()
        self._generating = True
        self._answer_box = box_id
        self.refresh_bindings()
        self._cancel.clear()
        self.generate(text, box_id, self.chat_id, self.mode, self.app.settings,
                      self.pending_scope if self.chat_id is None else None, self.answer_mode())

    @thread_worker("generate", "answer")
    def generate(self, text: str, box_id: str, chat_id: int | None, mode: str, settings, new_scope=None,
                 answers: str = "auto") -> None:
        from engine.documents import modes
        from engine.documents import scope as scoping

        # @names scope this question; else the chat's scope (a new chat's is `new_scope`). A scoped turn is
        # a document question, in either mode.
        question, scope = scoping.for_chat(self.workspace.store, text, chat_id, new_scope)
        if scope is not None:
            mode = "docs"
        if mode == "docs":
            from engine.documents.rag import Ask

            job = Ask(self.workspace, question, chat_id=chat_id, model_id=settings.model,
                      k=settings.top_k_sources, mode=settings.search_mode,
                      extractive=modes.forced(answers),
                      filters=scope.filters() if scope is not None else None)
            params = settings.generation(temperature=0.0)
        else:
            from engine.documents.chat import Turn

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
        result = job.answer if mode == "docs" else job.reply
        if new_scope and chat_id is None and result.chat_id is not None:
            scoping.keep(self.workspace.store, result.chat_id, new_scope)  # the new chat keeps its scope
        self.post_message(AnswerFinished(box_id, result))

    def _box(self, box_id: str) -> MessageBox | None:
        """Gives the answer's box; None when the chat it was in is no longer shown."""
        # The boxes are the log's children: looking one up by id there is a dict lookup, where a query
        # would walk every widget of every message on each streamed piece.
        try:
            box = self.query_one("#chat-log", VerticalScroll).get_child_by_id(box_id)
        except NoMatches:
            return None
        return box if isinstance(box, MessageBox) else None

    @on(AnswerStreamed)
    async def streamed(self, message: AnswerStreamed) -> None:
        log = self.query_one("#chat-log", VerticalScroll)
        at_bottom = log.scroll_y >= log.max_scroll_y - 1
        box = self._box(message.box_id)
        if box is not None:
            await box.append(message.text)
        if at_bottom:
            log.scroll_end(animate=False)

    @on(AnswerFinished)
    async def finished(self, message: AnswerFinished) -> None:
        result = message.result
        box = self._box(message.box_id)
        record = result.record() if hasattr(result, "record") else None
        if getattr(result, "trimmed_turns", 0):
            self.notify(f"{result.trimmed_turns} earlier message(s) did not fit the model's context and were "
                        "left out of this answer", severity="warning", timeout=6)
        new_chat = self.chat_id != result.chat_id
        self.chat_id = result.chat_id
        if new_chat and result.chat_id is not None:  # kept with the chat now
            self.pending_scope = None
            if self.pending_answers:  # the pick as it is now: the key may have been pressed while it answered
                self._keep_answers(result.chat_id, self.pending_answers)
            self.pending_answers = None
        if new_chat:
            self.refresh_chats(select=result.chat_id)
        if box is not None:
            box.message_id = getattr(result, "message_id", None)
            await box.finish(result.text, result.stats.to_dict() if result.stats else None, record)
        # The view ends on the stats, citations and ⚠ line, which were just mounted below the answer.
        self._scroll_to_end()
        self._generating = False
        self.refresh_bindings()
        self.completed += 1

    @on(WorkFailed)
    async def failed(self, message: WorkFailed) -> None:
        """An answer that failed ends its box with the error (the app shows it too)."""
        if message.group != "generate":
            return
        box = self._box(self._answer_box) if self._answer_box else None
        if box is not None:
            await box.fail(message.error)
        self._scroll_to_end()
        self._generating = False
        self.refresh_bindings()
        self.completed += 1

    def action_stop(self) -> None:
        if self._generating:
            self._cancel.set()
            self.notify("Stopped", timeout=2)

    # -- answers: sources, regenerate, edit ---------------------------------------------------
    def _answers(self) -> list[MessageBox]:
        return [b for b in self.query(MessageBox) if b.role == "assistant"]

    def action_focus_sources(self) -> None:
        """Focuses the last answer's citations (or the answer itself when it has none)."""
        answers = self._answers()
        if not answers:
            self.notify("No answer yet", severity="warning", timeout=3)
            return
        self._focus_answer(answers[-1])

    def _focus_answer(self, box: MessageBox) -> None:
        citations = box.query(CitationList)
        target = citations.first() if citations else box
        target.focus()
        if isinstance(target, CitationList) and target.highlighted is None:
            target.highlighted = 0
        box.scroll_visible(animate=False)

    @on(MessageBox.Requested)
    async def answer_requested(self, message: MessageBox.Requested) -> None:
        message.stop()
        if message.action == "step":
            answers = self._answers()
            i = answers.index(message.box) + message.step if message.box in answers else len(answers) - 1
            if 0 <= i < len(answers):
                self._focus_answer(answers[i])
        elif message.action == "prompt":
            self.query_one("#prompt", PromptInput).focus()
        elif message.action in ("regenerate", "edit"):
            self.redo_last_turn(edit=message.action == "edit")
        elif message.action.startswith("rate:"):
            self.rate(message.box, message.action.partition(":")[2])

    def action_regenerate(self) -> None:
        self.redo_last_turn(edit=False)

    def action_edit_last(self) -> None:
        self.redo_last_turn(edit=True)

    def redo_last_turn(self, edit: bool) -> None:
        """Removes the open chat's last question and answer (off the UI thread); then asks it again, or puts
        it in the prompt."""
        if self._generating:
            self.notify(f"Still answering — press {self._key('chat.stop')} to stop first", severity="warning")
            return
        if self.workspace is None or self.chat_id is None:
            self.notify("Open a chat first", severity="warning")
            return
        if self.chat_id in self._redoing:  # a second key before the first removal is written
            return
        store, chat_id = self.workspace.store, self.chat_id
        last = next((m for m in reversed(store.messages(chat_id)) if m.role == "user"), None)
        if last is None:
            self.notify("This chat has no question yet", severity="warning")
            return
        self._redoing.add(chat_id)

        async def removed(_) -> None:
            self._redoing.discard(chat_id)
            if self.chat_id != chat_id or not await self.load_chat(chat_id):
                return  # another chat was opened meanwhile, or an answer is being written
            prompt = self.query_one("#prompt", PromptInput)
            prompt.focus()
            if edit:
                prompt.load_text(last.content)
                prompt.move_cursor(prompt.document.end)
                self.notify("Edit the question and press enter", timeout=3)
                return
            await self.ask(last.content)

        def remove() -> None:
            try:
                store.delete_messages_from(chat_id, last.id)
            except BaseException:  # refused or failed: the turn stays, and may be redone
                self._redoing.discard(chat_id)
                raise

        write_off_ui(self, remove, removed, "remove the last turn")

    # -- ratings: an answer rated good or bad (a bad one may name the passage that answers it) -----
    def action_rate(self, value: str) -> None:
        self.rate(self._last_answer(), value)

    def rate(self, box: MessageBox | None, value: str) -> None:
        """Rates an answer; for a bad one, first asks which passage does answer it (optional). The rating
        is written off the UI thread; a chat deleted meanwhile is one line, nothing stored."""
        if box is None or self.workspace is None:
            self.notify("No answer to rate yet", severity="warning")
            return
        if box.message_id is None:
            self.notify("This answer was not stored (still being written, or the workspace is read-only); it "
                        "cannot be rated", severity="warning")
            return
        from engine.documents.ratings import rate_answer

        ws, message_id = self.workspace, box.message_id

        def store(passage: int | None) -> None:
            write_off_ui(self, lambda: rate_answer(ws, message_id, value, passage),
                         lambda _: self.notify(f"Rated {value}" + (" with its passage" if passage else "")
                                               + ": `quarry eval answers --from-ratings` asks it again",
                                               markup=False, timeout=4),
                         "store the rating", severity="warning")

        if value != "bad":
            store(None)
            return
        from tui.widgets.rating import RatingScreen, answer_sources

        question = self._question_of(box)

        def chosen(result: dict | None) -> None:
            if result is not None:
                store(result["passage"])

        self.app.push_screen(RatingScreen(ws, question, answer_sources(box.record), self.app.settings.search_mode),
                             chosen)

    def _question_of(self, box: MessageBox) -> str:
        """Gives the question an answer box answers: the user message shown just before it."""
        question = ""
        for child in self.query_one("#chat-log", VerticalScroll).children:
            if child is box:
                break
            if isinstance(child, MessageBox) and child.role == "user":
                question = child.text
        return question

    @on(PromptInput.Paged)
    def page_log(self, message: PromptInput.Paged) -> None:
        log = self.query_one("#chat-log", VerticalScroll)
        if message.direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    # -- citations, copy, export --------------------------------------------------------------
    @on(CitationList.Opened)
    def open_citation(self, event: CitationList.Opened) -> None:
        c = event.citation
        row = self.workspace.store.chunks_by_ids([c["chunk_id"]]).get(c["chunk_id"])
        if row is None:
            self.notify("That passage is no longer in the library (re-ingested or removed)", severity="warning")
            return
        span = tuple(c.get("span") or (0, 0))
        self.app.push_screen(ChunkScreen(row.path, row.page, row.heading, row.text, span, row.ocr))

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
        from engine.documents.chat import export_chat

        path = export_chat(self.workspace, self.chat_id)
        self.notify(f"Exported to {path}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Shows Stop in the footer only while an answer is being written."""
        if action == "stop":
            return self._generating
        return True
