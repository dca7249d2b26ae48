"""The Compare pane: a blind round voted by key, the names revealed, the leaderboard updated and still there
after a restart; snapshots at 120×40 and 80×24."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, SelectionList

from tests.tui.helpers import hold_the_writer, ready, record_write_threads, toasts, wait_for
from tui.app import QuarryApp
from tui.panes.compare import ComparePane
from tui.widgets.compare_columns import AnswerColumn
from tui.widgets.leaderboard import LeaderboardScreen


def _app(root):
    return QuarryApp(root, warm_models=False, cursor_blink=False)


async def _open_compare(pilot) -> ComparePane:
    await ready(pilot)
    await pilot.press("f5")
    pane = pilot.app.query_one(ComparePane)
    listing = pane.query_one("#compare-models", SelectionList)
    await wait_for(pilot, lambda: listing.option_count >= 2)
    await pilot.pause(0.1)
    return pane


async def _leaderboard_rows(pilot) -> list[list[str]]:
    await pilot.press("ctrl+l")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LeaderboardScreen))
    await pilot.pause(0.1)
    table = pilot.app.screen.query_one(DataTable)
    rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    await pilot.press("escape")
    await pilot.pause(0.1)
    return rows


async def test_blind_round_vote_reveal_and_leaderboard_survive_a_restart(tmp_path, chat_model):
    root = tmp_path / "ws"
    app = _app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open_compare(pilot)
        assert pane.selected_models() == ["smollm2-135m", "gemma3-270m"]
        pane.max_tokens = 8
        await pilot.press("ctrl+b")
        assert pane.blind
        pane.query_one("#compare-prompt").focus()
        await pilot.press(*"Say hello.")
        await pilot.press("a")  # a letter typed in the prompt is text, not a vote
        assert pane.run is None
        await pilot.press("backspace", "enter")
        await wait_for(pilot, lambda: pane.completed == 1, timeout=120)
        await pilot.pause(0.2)
        columns = list(pane.query(AnswerColumn))
        assert [c.title for c in columns] == ["A", "B"]  # no names while blind
        assert all(c.finished for c in columns)
        assert pilot.app.focused.id == "compare-columns"
        release = hold_the_writer(pilot.app)  # as a long job would: the vote waits to be written
        try:
            await pilot.press("a", "r")  # r while the vote is being written must not show the names first
            await pilot.pause(0.2)
            assert not pane.run.revealed and not pane.voted
        finally:
            release.set()
        await wait_for(pilot, lambda: pane.voted and pane.run.revealed, timeout=30)  # written off the UI thread
        assert pilot.app.workspace.store.compare_vote(pane.run.id) is not None
        by_label = {c.label: c.model for c in pane.run.columns}
        assert [c.title for c in columns] == [f"A · {by_label['A']}", f"B · {by_label['B']}"]
        assert pilot.app.focused.id == "compare-prompt"  # the round is over: letters type the next prompt
        await pilot.press("b")
        assert pane.query_one("#compare-prompt").text == "b"
        pane.action_vote("b")  # a second vote on the same round is refused, not counted
        await pilot.pause(0.1)
        rows = await _leaderboard_rows(pilot)
        assert [r[1] for r in rows] == [by_label["A"], by_label["B"]]
        assert rows[0][6] == "1" and rows[0][7] == "1-0-0"
        # A second blind round, revealed without a vote while a job holds the writer: the reveal is written
        # off the UI thread, and the keys are answered meanwhile.
        prompt = pane.query_one("#compare-prompt")
        prompt.clear()
        prompt.focus()
        await pilot.press(*"Say hi.", "enter")
        await wait_for(pilot, lambda: pane.completed == 2, timeout=120)
        await pilot.pause(0.2)
        assert pilot.app.focused.id == "compare-columns"
        threads = record_write_threads(pilot.app)
        release = hold_the_writer(pilot.app)
        try:
            await pilot.press("r")
            prompt.focus()
            await pilot.press(*"xyz")
            assert prompt.text == "xyz" and not pane.run.revealed
        finally:
            release.set()
        await wait_for(pilot, lambda: pane.run.revealed, timeout=30)
        assert pilot.app.workspace.store.compare_run(pane.run.id).revealed and not pane.voted
        assert threads and "UI" not in threads, threads
    async with _app(root).run_test(size=(120, 40)) as pilot:
        await _open_compare(pilot)
        rows = await _leaderboard_rows(pilot)
        assert [r[1] for r in rows] == [by_label["A"], by_label["B"]] and rows[1][7] == "0-0-1"


async def test_voting_before_a_round_and_with_one_model_is_refused(tmp_path):
    async with _app(tmp_path / "ws").run_test(size=(120, 40)) as pilot:
        pane = await _open_compare(pilot)
        pane.action_vote("a")
        listing = pane.query_one("#compare-models", SelectionList)
        listing.deselect("gemma3-270m")
        await pane.send("hello")
        assert pane.run is None and not pane.generating
        await pilot.pause()  # the refusals are shown by the pane's handlers
        notes = toasts(pilot.app)
        assert any("Votes are for blind rounds" in m for m in notes)
        assert any("Pick at least two models" in m for m in notes)


async def test_the_pick_key_then_space_and_j_pick_models(tmp_path):
    """ctrl+n focused the model list with no row highlighted: space and j did nothing, and said nothing."""
    async with _app(tmp_path / "ws").run_test(size=(80, 24)) as pilot:
        pane = await _open_compare(pilot)
        listing = pane.query_one("#compare-models", SelectionList)
        assert set(listing.selected) == {"smollm2-135m", "gemma3-270m"}
        await pilot.press("ctrl+n", "space")  # unpicks the first model
        await wait_for(pilot, lambda: "smollm2-135m" not in listing.selected, timeout=5)
        await pilot.press("j", "space", "G", "k", "g")
        await wait_for(pilot, lambda: listing.selected == [] and listing.highlighted == 0, timeout=5)


def _before(size_pause: float = 0.3):
    async def run_before(pilot):
        await _open_compare(pilot)
        await pilot.pause(size_pause)
    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_compare_pane_snapshot(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path / "ws"), terminal_size=size, run_before=_before())
