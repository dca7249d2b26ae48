"""The Classify pane driven by Pilot: every method side by side, new set and examples, a batch with cancel,
an evaluation with its confusion grid; snapshots at 120x40 and 80x24."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import DataTable

from engine.classify import sets
from engine.workspace import Workspace
from tests.conftest import require_models
from tests.tui.helpers import notified, ready, toasts, type_text, wait_for
from tui.app import QuarryApp

TABLES = Path(__file__).resolve().parents[2] / "demo" / "docs" / "tables"


@pytest.fixture
def classify_root(tmp_path):
    root = tmp_path / "ws"
    with Workspace(root) as ws:
        sets.import_examples(ws, "reviews", "sentiment", file=TABLES / "reviews.csv", text_column="text")
    return root


@pytest.fixture
def small_classify_root(tmp_path):
    """The demo reviews cut to 30 per label, for the screens that fit or evaluate every method: they show the
    same at any size, and the full-size runs are the engine's tests (tests/engine/test_classify.py) and
    bench/classify.py's."""
    with (TABLES / "reviews.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows, kept = list(reader), {}
        fields = reader.fieldnames
    small = tmp_path / "reviews-small.csv"
    with small.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        for row in rows:
            if kept.setdefault(row["sentiment"], 0) < 30:
                kept[row["sentiment"]] += 1
                writer.writerow(row)
    assert sorted(kept.values()) == [30, 30, 30]
    root = tmp_path / "ws"
    with Workspace(root) as ws:
        sets.import_examples(ws, "reviews", "sentiment", file=small, text_column="text")
    return root


def _app(root):
    return QuarryApp(root, warm_models=False, cursor_blink=False)


async def test_a_text_shows_every_method(small_classify_root):
    require_models("minilm-l6", "smollm2-135m")
    app = _app(small_classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        pane = app.query_one("#classify-pane")
        assert app.focused.id == "cls-text"
        await pilot.press(*"Broke after a week, support never replied.", "enter")
        await wait_for(pilot, lambda: pane.classified == 1, timeout=120)
        table = app.query_one("#cls-results", DataTable)
        methods = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert methods == ["auto", "zero-shot", "embedding", "lexical", "stack", "llm"]
        labels = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert labels <= {"好评", "中评", "差评"}


async def test_new_set_and_typed_examples(classify_root):
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3", "ctrl+n")
        await pilot.press(*"mood = happy, angry", "enter")
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "mood")  # written off the UI thread
        await pilot.press(*"I love it")
        await pilot.press("ctrl+l", *"happy", "enter")
        await wait_for(pilot, lambda: "1 examples" in str(app.query_one("#cls-info").render()), timeout=10)
        assert app.workspace.store.label_set("mood").counts == {"happy": 1, "angry": 0}


async def test_batch_runs_and_cancels(classify_root):
    require_models("minilm-l6", "smollm2-135m")
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        pane = app.query_one("#classify-pane")
        app.query_one("#cls-method").value = "lexical"  # the fast method: this test is about the job, not a model
        await pilot.press("ctrl+b")
        await type_text(pilot, f"{TABLES / 'reviews.csv'}:text")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.batches == 1, timeout=120)
        assert pane.last_batch["rows"] == 640 and pane.last_batch["output"] == "c_reviews_reviews"
        app.query_one("#cls-method").value = "llm"
        await pilot.press("ctrl+b", "enter")
        job = app.query_one("#cls-job")
        await wait_for(pilot, lambda: job.busy and job.handle.run is not None and job.handle.run.progress is not None,
                       timeout=120)
        await pilot.press("escape")
        await wait_for(pilot, lambda: pane.batches == 2, timeout=120)
        assert not job.busy
        await notified(pilot, "Batch cancelled")


async def test_evaluation_fills_table_and_confusion_grid(small_classify_root):
    require_models("minilm-l6")
    app = _app(small_classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3", "ctrl+r")
        pane = app.query_one("#classify-pane")
        await wait_for(pilot, lambda: pane.evaluations == 1, timeout=180)
        table = app.query_one("#cls-eval", DataTable)
        assert table.row_count == 5 and str(table.get_row_at(4)[0]).startswith("auto:")
        assert "confusion" in str(app.query_one("#cls-confusion").render())


def _before(pilot_keys=()):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f3", *pilot_keys)
        await pilot.pause(0.3)
    return run_before


def test_pane_snapshot(snap_compare, classify_root):
    assert snap_compare(_app(classify_root), terminal_size=(120, 40), run_before=_before())


def test_pane_snapshot_small(snap_compare, classify_root):
    assert snap_compare(_app(classify_root), terminal_size=(80, 24), run_before=_before())


async def test_label_sets_are_listed_when_the_workspace_opens(classify_root):
    """The pane was never told the workspace was ready: its set chooser stayed empty until F3. It is built
    when first opened now: opened after the workspace is, it is filled at once."""
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await app.pane("classify")
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "reviews")


async def test_label_set_and_label_names_with_brackets_are_shown_literally(classify_root):
    """A set named `a[/]b` crashed the app (its name was read as markup in the set chooser)."""
    require_models("minilm-l6")
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3", "ctrl+n")
        await pilot.press(*"a[/]b = [bold]yes, no[/]", "enter")
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "a[/]b")  # written off the UI thread
        chooser = app.query_one("#cls-set")
        assert str(chooser.query_one("SelectCurrent #label").render()) == "a[/]b"
        chooser.expanded = True  # the option list renders every set's name too
        await pilot.pause(0.2)
        chooser.expanded = False
        app.query_one("#cls-text").focus()
        assert "2 labels" in str(app.query_one("#cls-info").render())
        await notified(pilot, "Created a[/]b with 2 labels")
        assert "Created a[/]b with 2 labels" in toasts(app)  # the whole toast, literally
        pane = app.query_one("#classify-pane")
        app.query_one("#cls-method").value = "zero-shot"
        await pilot.press(*"I agree, yes", "enter")
        await wait_for(pilot, lambda: pane.classified == 1, timeout=120)
        table = app.query_one("#cls-results", DataTable)
        row = table.get_row_at(0)
        assert {str(row[1]), str(row[3])} == {"[bold]yes", "no[/]"}
        await pilot.pause(0.1)  # the table renders its literal cells without a MarkupError


async def test_a_batch_target_without_a_column_is_one_line(classify_root):
    """`t_reviews` (no .column) reached DuckDB with an empty column and showed as a bug."""
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        pane = app.query_one("#classify-pane")
        await pilot.press("ctrl+b", *"t_reviews", "enter")
        await wait_for(pilot, lambda: pane.batches == 1, timeout=60)
        seen = toasts(app)
        assert any(m.startswith("give the column with the text to classify") for m in seen), seen
        assert not any("Bug" in m for m in seen)
        assert not app.query_one("#cls-job").busy
        # a file without its column: the same line, naming the file form too (it named table.column only)
        await pilot.press("ctrl+b", "ctrl+u", *str(TABLES / "reviews.csv"), "enter")
        await wait_for(pilot, lambda: pane.batches == 2, timeout=60)
        assert any("path/file.csv:column" in m for m in toasts(app)), toasts(app)


async def test_a_missing_chat_model_fails_its_row_and_the_table_stops_loading(classify_root):
    """A missing model escaped compare's per-method catch and left the results table loading forever."""
    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.settings.model = "no-such-model"
        await pilot.press("f3")
        pane = app.query_one("#classify-pane")
        app.query_one("#cls-method").value = "llm"
        await pilot.press(*"Great desk", "enter")
        await wait_for(pilot, lambda: pane.classified == 1, timeout=60)
        table = app.query_one("#cls-results", DataTable)
        assert not table.loading and table.row_count == 1
        assert "unknown model 'no-such-model'" in str(table.get_row_at(0)[5])


async def test_the_blank_entry_picked_says_so_not_that_there_are_no_sets(classify_root):
    """Picking the list's blank entry said "no label sets: create one", with a set right there."""
    from textual.widgets import Select

    app = _app(classify_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        chooser = app.query_one("#cls-set", Select)
        await wait_for(pilot, lambda: chooser.value == "reviews")
        chooser.clear()  # as picking the blank entry at the list's top
        await pilot.pause(0.1)
        info = str(app.query_one("#cls-info").render())
        assert info.startswith("no label set picked: pick one above") and "no label sets" not in info


def test_a_batch_target_file_may_hold_a_colon_or_lack_its_column():
    """'/data/we:ird.csv:text' was read as table '/data/we:ird' (the suffix was looked for before the first
    colon), and 'reviews.csv' as table 'reviews', column 'csv'."""
    from tui.panes.classify import parse_batch_target

    assert parse_batch_target("/data/we:ird.csv:text") == (None, "/data/we:ird.csv", "text")
    assert parse_batch_target("/data/reviews.csv") == (None, "/data/reviews.csv", "")
    assert parse_batch_target("data/reviews.XLSX:body") == (None, "data/reviews.XLSX", "body")
    assert parse_batch_target("t_reviews.text") == ("t_reviews", None, "text")
    assert parse_batch_target("t_reviews") == ("t_reviews", None, "")
