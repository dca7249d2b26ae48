"""Pilot helpers: wait for a condition instead of sleeping."""

from __future__ import annotations

import contextlib
import threading
import time

from textual.app import App


def _record_toasts() -> None:
    """Makes every App remember each notification it was asked to show. A toast lives a few seconds and
    App._notifications drops it then; on a loaded machine a test's next look can come later than that.
    The recorder passes every call through unchanged."""
    original = App.notify
    if getattr(original, "records_toasts", False):
        return

    def notify(self, message, *args, **kwargs):
        self.__dict__.setdefault("_toasts_seen", []).append(str(message))
        return original(self, message, *args, **kwargs)

    notify.records_toasts = True
    App.notify = notify


_record_toasts()


def toasts(app) -> list[str]:
    """Every notification the app has shown so far, expired ones included."""
    return list(app.__dict__.get("_toasts_seen", []))


async def wait_for(pilot, predicate, timeout: float = 60.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {getattr(predicate, '__name__', predicate)}")
        await pilot.pause(step)


async def ready(pilot) -> None:
    """Waits until the app opened its workspace and filled the panes."""
    await wait_for(pilot, lambda: pilot.app.workspace is not None and "·" in pilot.app.sub_title)
    await pilot.pause(0.1)


async def ask(pilot, text: str) -> None:
    """Types a prompt in the Chat pane, sends it and waits for the answer to finish."""
    chat = pilot.app.query_one("#chat-pane")
    done = chat.completed
    pilot.app.query_one("#prompt").focus()
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: chat.completed > done, timeout=120)
    await pilot.pause(0.1)


def app_on(workspace, **kwargs):
    """Gives a QuarryApp on a test workspace, closing the test's own handle so the app can open it."""
    from tui.app import QuarryApp

    root = workspace.root
    workspace.close()
    return QuarryApp(root, **kwargs)


async def notified(pilot, *parts: str, timeout: float = 30.0) -> None:
    """Waits for a notification holding every one of `parts`: the code that shows it may run later (a
    worker, a message handler)."""
    await wait_for(pilot, lambda: any(all(p in m for p in parts) for m in toasts(pilot.app)),
                   timeout=timeout)


async def type_text(pilot, text: str) -> None:
    """Puts text into the focused Input or TextArea at its cursor, as typing does, but in one step: Pilot
    refreshes the screen after every key, and a temporary folder's path is 60-80 keys. Tests of key handling
    press their keys."""
    widget = pilot.app.focused
    if hasattr(widget, "insert_text_at_cursor"):
        widget.insert_text_at_cursor(text)
    else:
        widget.insert(text)
    await pilot.pause()


async def chunk_opened(pilot) -> None:
    """Waits for the passage screen: opening a citation or a hit posts a message, and its handler pushes it."""
    from tui.widgets.dialogs import ChunkScreen

    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChunkScreen), timeout=30)


def hold_the_writer(app) -> threading.Event:
    """Holds the process's one write lock in a thread, as a long job would, until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.workspace.store.writing():
            held.set()
            release.wait(30)  # the test sets it; the bound only keeps a failing test from hanging long

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(5)
    return release


def record_write_threads(app) -> list[str]:
    """Records the thread of every write transaction the app's store begins from now on (a pass-through:
    each write still takes the one lock), so a test can show that none ran on the UI thread."""
    store = app.workspace.store
    real = store.writing
    threads: list[str] = []

    @contextlib.contextmanager
    def writing():
        current = threading.current_thread()
        threads.append("UI" if current is threading.main_thread() else current.name)
        with real():
            yield

    store.writing = writing
    return threads
