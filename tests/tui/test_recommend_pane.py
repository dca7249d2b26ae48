"""The Recommend pane driven by Pilot: a user's recommendations with reasons beside their history, similar
items, a text request, the evaluation table; snapshots at 120×40 and 80×24."""

from __future__ import annotations

import gzip
import shutil

import pytest
from textual.widgets import DataTable, OptionList

from tests.tui.helpers import ready, toasts, wait_for
from tui.app import QuarryApp


@pytest.fixture(scope="session")
def rec_store_dir(tmp_path_factory, encoder):
    """A workspace holding only the demo store (catalog and interactions), built once."""
    from engine import recommend as rec
    from engine.workspace import Workspace

    root = tmp_path_factory.mktemp("rec-pane-ws")
    with Workspace(root) as ws:
        items, interactions = rec.demo_files()
        rec.import_data(ws, interactions, items)
        rec.item_vectors(ws, rec.load_dataset(ws).catalog)  # cached under indexes/: copies skip encoding
    return root


@pytest.fixture
def rec_root(rec_store_dir, tmp_path):
    target = tmp_path / "ws"
    shutil.copytree(rec_store_dir, target)
    return target


@pytest.fixture(scope="session")
def rec_small_dir(rec_store_dir, tmp_path_factory):
    """The demo store cut to its first 300 users' events (a quarter), built once: the pane's evaluation screen
    is the same at any size, and evaluating every method on the whole store is the CLI's test
    (tests/cli/test_cli_recommend.py, on its 30k events) and bench/recommend.py's."""
    from engine import recommend as rec
    from engine.workspace import Workspace

    root = tmp_path_factory.mktemp("rec-small-ws") / "ws"
    shutil.copytree(rec_store_dir, root)  # the catalog and its cached item vectors stay
    log = root.parent / "interactions-300-users.csv"
    with gzip.open(rec.demo_files()[1], "rt", encoding="utf-8") as source, log.open("w", encoding="utf-8") as out:
        out.write(next(source))
        out.writelines(line for line in source if line.split(",", 1)[0] < "u0300")
    with Workspace(root) as ws:
        rec.import_data(ws, str(log))
        assert 250 <= ws.store.rec_counts().users <= 300
    return root


TITLE, REASON, PRICE, ITEM = 1, 2, 3, 5  # columns of the recommendations table


def _app(root):
    return QuarryApp(root, warm_models=False, cursor_blink=False)


async def _open(pilot):
    await ready(pilot)
    await pilot.press("f4")
    pane = pilot.app.query_one("#recommend-pane")
    await wait_for(pilot, lambda: pilot.app.query_one("#rec-list", OptionList).option_count > 0)
    return pane


async def _ask(pilot, pane, text: str) -> None:
    done = pane.answers
    await pilot.press("ctrl+f")
    pilot.app.query_one("#rec-input").value = ""
    await pilot.press(*text, "enter")
    await wait_for(pilot, lambda: pane.answers > done, timeout=120)
    await pilot.pause(0.1)


def _rows(app, table_id: str) -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_user_recommendations_beside_history(rec_root):
    app = _app(rec_root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        assert app.focused.id == "rec-input"
        await _ask(pilot, pane, "u0042")
        rows = _rows(app, "#rec-table")
        assert len(rows) == 10 and all(row[REASON] for row in rows)  # a reason on every row
        assert app.query_one("#rec-history", DataTable).row_count > 0
        # choosing another method re-asks for the same user
        done = pane.answers
        await pilot.press("ctrl+o")  # hybrid -> sequence
        await wait_for(pilot, lambda: pane.answers > done, timeout=60)
        assert any("often bought after" in row[REASON] for row in _rows(app, "#rec-table"))


async def test_searching_users_and_picking_from_the_list(rec_root):
    app = _app(rec_root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        await pilot.press(*"u000")
        listing = app.query_one("#rec-list", OptionList)
        await wait_for(pilot, lambda: listing.option_count == 9)  # u0001 … u0009
        done = pane.answers
        listing.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: pane.answers > done, timeout=60)
        assert app.query_one("#rec-table", DataTable).row_count == 10


async def test_similar_items_and_text_request(rec_root):
    app = _app(rec_root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        await _ask(pilot, pane, "SD-001")
        rows = _rows(app, "#rec-table")
        assert rows and all(row[ITEM] != "SD-001" for row in rows)
        assert not app.query_one("#rec-history", DataTable).display
        await _ask(pilot, pane, "a quiet office chair under 200")
        rows = _rows(app, "#rec-table")
        assert "office chair" in rows[0][TITLE] and all(float(row[PRICE]) <= 200 for row in rows)
        await _ask(pilot, pane, "NOPE-1 and more")
        assert app.query_one("#rec-table", DataTable).row_count > 0


async def test_evaluation_table(rec_small_dir, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(rec_small_dir, root)
    app = _app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: pane.evaluations == 1, timeout=180)
        await pilot.pause(0.2)
        methods = [row[0] for row in _rows(app, "#rec-eval-table")]
        assert methods == ["popular", "popular_category", "content", "als", "cooccur", "sequence", "hybrid"]
        assert app.query_one("#rec-views").current == "rec-eval"
        await pilot.press("ctrl+t")
        assert app.query_one("#rec-views").current == "rec-results"


async def test_empty_workspace_says_how_to_import(tmp_path):
    app = _app(tmp_path / "empty")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await pilot.pause(0.5)
        heading = str(app.query_one("#rec-heading").render())
        assert "quarry recommend import --demo" in heading
        pane = app.query_one("#recommend-pane")
        await pilot.press("ctrl+b")  # import the demo store from the pane
        await wait_for(pilot, lambda: app.query_one("#rec-list", OptionList).option_count > 0, timeout=60)
        assert any("interactions of 1200 users" in text for text in toasts(app))
        assert pane.counts[2] > 30000


def _snap_before(*keys):
    async def run_before(pilot):
        pane = await _open(pilot)
        pilot.app.query_one("#rec-method").value = "sequence"
        await _ask(pilot, pane, "u0042")
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.3)
    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_recommend_snapshot(snap_compare, rec_root, size):
    assert snap_compare(_app(rec_root), terminal_size=size, run_before=_snap_before())


async def test_dismissed_suggestion_stays_gone_after_a_restart(rec_root):
    async def shown(pilot, pane) -> list[str]:
        await _ask(pilot, pane, "u0042")
        return [row[ITEM] for row in _rows(pilot.app, "#rec-table")]

    app = _app(rec_root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        pilot.app.query_one("#rec-method").value = "sequence"
        first = await shown(pilot, pane)
        table = app.query_one("#rec-table", DataTable)
        assert "a accept" in str(table.border_subtitle) and "d dismiss" in str(table.border_subtitle)
        table.focus()
        await pilot.press("down")  # the second suggestion
        done = pane.answers
        await pilot.press("d")
        await wait_for(pilot, lambda: pane.answers > done, timeout=60)
        assert first[1] not in [row[ITEM] for row in _rows(app, "#rec-table")]
        assert any(f"Dismissed {first[1]} for u0042" in t for t in toasts(app))
    app = _app(rec_root)  # the app again, on the same workspace
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        pilot.app.query_one("#rec-method").value = "sequence"
        again = await shown(pilot, pane)
        assert first[1] not in again and again[0] == first[0]
        app.query_one("#rec-table", DataTable).focus()
        done = pane.answers
        await pilot.press("u")  # undo brings it back
        await wait_for(pilot, lambda: pane.answers > done, timeout=60)
        assert [row[ITEM] for row in _rows(app, "#rec-table")] == first
        assert app.workspace.store.feedback() == []


async def test_accept_is_an_interaction(rec_root):
    app = _app(rec_root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _open(pilot)
        pilot.app.query_one("#rec-method").value = "sequence"
        await _ask(pilot, pane, "u0042")
        first = _rows(app, "#rec-table")[0][ITEM]
        app.query_one("#rec-table", DataTable).focus()
        done = pane.answers
        await pilot.press("a")
        await wait_for(pilot, lambda: pane.answers > done, timeout=60)
        assert first not in [row[ITEM] for row in _rows(app, "#rec-table")]
        history = _rows(app, "#rec-history")
        assert history[0][1] == "accept" and history[0][2] == first  # newest first
        await pilot.press("ctrl+f", "a")  # in the request box the letters are typed, not keys
        assert app.query_one("#rec-input").value.endswith("a") and len(app.workspace.store.feedback()) == 1
