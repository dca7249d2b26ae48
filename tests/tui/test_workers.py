"""The one worker pattern (tui/workers.py): a DuckDB write from Chat and Classify waits for a job holding
the writer off the UI thread while the app keeps answering keys (Compare's reveal: test_compare_pane.py),
and a bug in a worker is a toast naming the log file that holds its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import locations
from engine.workspace import Workspace
from tests.tui.helpers import (
    app_on,
    hold_the_writer,
    notified,
    ready,
    record_write_threads,
    toasts,
    type_text,
    wait_for,
)
from tui.app import QuarryApp

QUESTION = "What is the parental leave policy?"


async def test_a_chat_turn_removed_for_an_edit_waits_for_the_writer_off_the_ui_thread(tmp_path):
    with Workspace(tmp_path / "ws") as ws:  # a chat with one turn, as the app left it
        chat_id = ws.store.create_chat("Leave", None, "docs")
        ws.store.add_message(chat_id, "user", QUESTION)
        ws.store.add_message(chat_id, "assistant", "Not in your documents.")
    app = QuarryApp(tmp_path / "ws", warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await wait_for(pilot, lambda: chat.chat_id == chat_id)
        threads = record_write_threads(app)
        release = hold_the_writer(app)  # as a long job would (a 2M-event import is too slow for a test)
        try:
            await pilot.press("f6", "e")  # edit the last question: its turn is deleted first
            app.query_one("#prompt").focus()
            await pilot.press(*"abc")
            assert app.query_one("#prompt").text == "abc"  # the keys are answered while the write waits
            assert len(app.workspace.store.messages(chat_id)) == 2
        finally:
            release.set()
        await wait_for(pilot, lambda: app.query_one("#prompt").text == QUESTION, timeout=30)
        assert app.workspace.store.messages(chat_id) == []
        assert threads and "UI" not in threads, threads


async def test_a_new_label_set_waits_for_the_writer_off_the_ui_thread(tmp_path):
    app = QuarryApp(tmp_path / "ws", warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3", "ctrl+n")
        threads = record_write_threads(app)
        release = hold_the_writer(app)
        try:
            await pilot.press(*"mood = happy, angry", "enter")
            app.query_one("#cls-text").focus()
            await pilot.press(*"I love it")
            assert app.query_one("#cls-text").value == "I love it"
            assert app.workspace.store.label_set("mood") is None
        finally:
            release.set()
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "mood", timeout=30)
        await notified(pilot, "Created mood with 2 labels")
        assert app.query_one("#cls-new-set").value == ""
        assert threads and "UI" not in threads, threads
        await pilot.press("ctrl+n", *"mood = x, y", "enter")  # a name taken: one line, no bug
        await notified(pilot, "label set 'mood' already exists")
        assert not any("Bug" in m for m in toasts(app))


async def test_a_bug_in_a_worker_is_a_toast_naming_the_log_with_its_traceback(demo_workspace, monkeypatch):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)

        # A fake fault: search has no input that makes it crash, and the point is what a crash does.
        def broken_searcher():
            raise RuntimeError("the index went away\nsecond line")

        monkeypatch.setattr(app.workspace, "searcher", broken_searcher)
        await pilot.press("f2", "ctrl+f")
        await type_text(pilot, "refund")
        log_file = locations.log_file()
        await notified(pilot, "Bug (please report): RuntimeError: the index went away — traceback in "
                              f"{log_file}")
        written = log_file.read_text(encoding="utf-8")
        assert "search the documents failed" in written
        assert "Traceback (most recent call last)" in written and "in broken_searcher" in written
        assert app.is_running  # the app survives its bug
        monkeypatch.undo()
        await type_text(pilot, "s")
        await wait_for(pilot, lambda: " ms · " in str(app.query_one("#hit-count").render()), timeout=30)


async def test_a_bug_on_the_ui_thread_is_logged_before_the_app_closes(tmp_path, monkeypatch):
    from tui.panes.chat import ChatPane

    def broken(self) -> None:  # a fake fault: a handler with a bug, which no key can cause on purpose
        raise RuntimeError("a handler fell over")

    monkeypatch.setattr(ChatPane, "action_toggle_mode", broken)
    app = QuarryApp(tmp_path / "ws", warm_models=False)
    with pytest.raises(RuntimeError, match="a handler fell over"):
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await pilot.press("ctrl+o")
            await pilot.pause(0.5)
    written = locations.log_file().read_text(encoding="utf-8")
    assert "the app failed" in written and "in broken" in written and "RuntimeError: a handler fell over" in written


def test_panes_use_only_the_one_worker_pattern():
    """What `grep -rn "call_from_thread\\|@work(" tui/panes` checks, kept: panes start work only through
    tui/workers.py and tui/jobs.py, and every result type lives in tui/messages.py."""
    for path in sorted((Path(__file__).resolve().parents[2] / "tui" / "panes").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for banned in ("call_from_thread", "@work(", "run_worker(", "threading.Thread", "(Message):"):
            assert banned not in text, f"{path.name} uses {banned}"


def test_a_damaged_database_met_in_a_worker_is_its_one_line_not_a_bug(tmp_path):
    """A block zeroed inside the file passes the open; the work that reads it meets DuckDB's error. A pane's
    worker (and a job in the app) must say the file is damaged, not 'Bug (please report)'."""
    import duckdb

    from tui.workers import failure

    db_path = tmp_path / "quarry.duckdb"
    db = duckdb.connect(str(db_path))
    db.execute("CREATE TABLE t AS SELECT i, repeat('x', 200) AS s FROM range(200000) r(i)")
    db.close()
    data = bytearray(db_path.read_bytes())
    met = None
    for start in range(3 * 4096, len(data), 262144):
        cut = bytearray(data)
        cut[start + 8: start + 262144] = bytes(len(cut[start + 8: start + 262144]))  # the checksum kept
        db_path.write_bytes(bytes(cut))
        try:
            with duckdb.connect(str(db_path)) as again:
                again.execute("SELECT sum(length(s)) FROM t").fetchall()
        except duckdb.Error as exc:
            met = exc
            break
    assert met is not None  # the fault was met, not skipped
    said = failure("search", "search", met)
    assert not said.bug and "damaged" in said.error and "Bug" not in said.error
