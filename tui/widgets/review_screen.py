"""Classify's review screen: the rows the method is least sure of, one at a time, with the model's top
labels; a key per label (1–9), a box to type one (+name adds a label), skip, undo. The queue opens in a
worker; each answer and undo is written off the UI thread (tui/workers.py); keys come from the keymap."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from tui import actions
from tui.messages import ReviewReady, WorkFailed
from tui.workers import thread_worker, write_off_ui

OTHER_ROWS = 16  # what the row's box leaves: title, why (3), model (margin + 2), labels (4), type box, status, keys


class ReviewScreen(Screen):
    BINDINGS = actions.bindings("review")
    DEFAULT_CSS = """
    ReviewScreen { padding: 0 1; }
    ReviewScreen #rv-title { height: 1; text-style: bold; }
    ReviewScreen #rv-why { height: auto; max-height: 3; color: $text-muted; }
    ReviewScreen #rv-text-box { height: auto; max-height: 60%; min-height: 3; border: round $primary; padding: 0 1; }
    ReviewScreen #rv-model { height: auto; margin-top: 1; }
    ReviewScreen #rv-labels { height: auto; max-height: 4; }
    ReviewScreen #rv-type { width: 1fr; }
    ReviewScreen #rv-status { height: 1; color: $text-muted; }
    ReviewScreen #rv-hint { height: 1; color: $text-muted; }
    """

    def __init__(self, workspace, label_set: str, batch: str, method: str = "auto") -> None:
        super().__init__()
        self.workspace = workspace
        self.label_set = label_set
        self.batch = batch
        self.method = method
        self.queue = None
        self.busy = True  # until the queue is open; then while an answer or undo is being written
        self.answers = 0  # answers stored, for tests that wait on them

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Review · {self.label_set} · table {self.batch}"), id="rv-title")
            yield Static(Text("Ranking the rows by how sure the model is …"), id="rv-why")
            with VerticalScroll(id="rv-text-box"):
                yield Static("", id="rv-text", markup=False)
            yield Static("", id="rv-model", markup=False)
            yield Static("", id="rv-labels", markup=False)
            yield Input(placeholder="Type a label and enter (+name adds a new label)", id="rv-type")
            yield Static("", id="rv-status", markup=False)
            yield Static(Text(self._hint()), id="rv-hint")

    def _hint(self) -> str:
        return actions.hint(self.app, ("review.label_1", "label"), ("review.skip", "skip"), ("review.undo", "undo"),
                            ("review.type", "type a label"), ("review.close", "close"))

    def on_mount(self) -> None:
        self.query_one("#rv-text-box").focus()
        self._fit_text_box()
        self.open_queue()

    def on_resize(self) -> None:
        self._fit_text_box()

    def _fit_text_box(self) -> None:
        """Caps the row's box so the rest always shows: at 80x24 a long row (60% of the height) pushed the
        type box and the key line off the screen."""
        height = self.size.height
        self.query_one("#rv-text-box").styles.max_height = max(3, min(height * 6 // 10, height - OTHER_ROWS))

    @thread_worker("review-open", "open the review queue")
    def open_queue(self) -> None:
        from engine.classify import review

        self.post_message(ReviewReady(review.for_batch(self.workspace, self.label_set, self.batch, self.method)))

    @on(ReviewReady)
    def ready(self, message: ReviewReady) -> None:
        self.queue = message.queue
        self.busy = False
        if not self.is_attached:  # closed while the queue was opening
            return
        self.show()

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        """A failed open or write clears the busy state (the app shows the one line); a queue that could not
        open closes the screen."""
        self.busy = False
        if message.group == "review-open" and self.is_attached:
            self.query_one("#rv-why", Static).update(Text(message.error))
            self.dismiss()

    def show(self, status: str = "") -> None:
        """Shows the current row, the model's labels and the label keys, literally."""
        queue = self.queue
        row = queue.current
        left = len(queue.pending)
        self.query_one("#rv-why", Static).update(Text(queue.line()))  # a label added changes the order
        self.query_one("#rv-title", Static).update(Text(
            f"Review · {self.label_set} · table {self.batch} · {left} left · {queue.answered} answered"
            f" · {queue.skipped} skipped"))
        if row is None:
            self.query_one("#rv-text", Static).update(Text("Nothing left to review: every row is answered or"
                                                           " skipped (undo brings the last one back)."))
            self.query_one("#rv-model", Static).update(Text(""))
        else:
            self.query_one("#rv-text", Static).update(Text(row.text))
            model = Text("model: ", style="dim")
            for i, (label, p) in enumerate(row.top):
                model.append(label, style="bold" if i == 0 else "")
                model.append(f" {p:.2f}   ")
            model.append(f"(margin {row.margin:.2f})", style="dim")
            self.query_one("#rv-model", Static).update(model)
        keys = Text()
        for i, label in enumerate(queue.labels[:9]):
            keys.append(self._label_key(i + 1), style="bold reverse")
            keys.append(f"\u00a0{label}   ")  # a line breaks between labels, never after a key
        if len(queue.labels) > 9:
            keys.append(f"… {len(queue.labels) - 9} more: {actions.key(self.app, 'review.type')} types one",
                        style="dim")
        self.query_one("#rv-labels", Static).update(keys)
        self.query_one("#rv-status", Static).update(Text(status))

    def _label_key(self, n: int) -> str:
        """Gives the key of label n as the keymap has it (the help's "1…9" shorthand is for the whole row)."""
        action_id = f"review.label_{n}"
        key = (getattr(self.app, "keys", None) or {}).get(action_id) or actions.BY_ID[action_id].key
        return key.split(",")[0].strip()

    # -- keys -------------------------------------------------------------------------------------
    def _can_act(self) -> bool:
        return self.queue is not None and not self.busy

    def _nothing_left(self) -> bool:
        """Says so when the queue is empty (a key that answers or skips would otherwise do nothing, silently)."""
        if self.queue.current is not None:
            return False
        self.notify(f"Nothing left to review: {actions.key(self.app, 'review.undo')} brings the last row back,"
                    f" {actions.key(self.app, 'review.close')} closes", severity="warning", markup=False)
        return True

    def action_answer_number(self, n: int) -> None:
        if not self._can_act() or self._nothing_left():
            return
        labels = self.queue.labels
        if n > len(labels):
            self.notify(f"No label {n}: '{self.label_set}' has {len(labels)} labels, keys 1–{min(9, len(labels))}",
                        severity="warning", markup=False)
            return
        self._answer(str(n))

    def action_type_label(self) -> None:
        self.query_one("#rv-type", Input).focus()

    @on(Input.Submitted, "#rv-type")
    def typed(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value and self._can_act() and not self._nothing_left():
            event.input.value = ""
            self._answer(value)
        self.query_one("#rv-text-box").focus()

    def _answer(self, typed: str) -> None:
        queue = self.queue
        if queue.current is None:
            return
        self.busy = True

        def done(step) -> None:
            self.busy = False
            self.answers += 1
            if not self.is_attached:  # closed while the answer was being stored: it is stored all the same
                return
            self.show(f"→ {step.label}: stored as an example, {queue.method} refitted, the rest re-ranked"
                      f" ({step.seconds:.2f} s)")

        # a label the set lacks is one line (a warning: the user retypes it) and nothing is stored
        write_off_ui(self, lambda: queue.answer(typed), done, "store the label", severity="warning")

    def action_skip(self) -> None:
        if self._can_act() and not self._nothing_left():
            self.queue.skip()
            self.show("skipped")

    def action_undo(self) -> None:
        if not self._can_act():
            return
        queue = self.queue
        self.busy = True

        def done(step) -> None:
            self.busy = False
            if step.kind == "answer":
                self.answers -= 1
            if not self.is_attached:
                return
            self.show(step.undone())

        write_off_ui(self, queue.undo, done, "undo", severity="warning")

    def action_close(self) -> None:
        if self.app.focused is self.query_one("#rv-type", Input):
            self.query_one("#rv-text-box").focus()
            return
        self.dismiss()  # the pane shows the set's new counts
