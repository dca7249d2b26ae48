"""Classify's review screen driven by Pilot: opened from the pane after a batch, three rows labelled by key
(examples and feedback stored, the queue re-ranked), undo, a typed label the set lacks, literal text;
snapshots at 120x40 and 80x24."""

from __future__ import annotations

import shutil

import pytest

from tests.engine.test_review import least_sure_first, review_template  # noqa: F401 -- the module's workspace, shared
from tests.tui.helpers import ready, toasts, type_text, wait_for
from tui.app import QuarryApp
from tui.widgets.review_screen import ReviewScreen


@pytest.fixture
def review_root(review_template, tmp_path):  # noqa: F811
    shutil.copytree(review_template, tmp_path / "copy")
    return tmp_path / "copy" / "ws"


def _app(root):
    return QuarryApp(root, warm_models=False, cursor_blink=False)


async def _open_review(pilot) -> ReviewScreen:
    await ready(pilot)
    await pilot.press("f3")
    await wait_for(pilot, lambda: pilot.app.query_one("#cls-set").value == "reviews")
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.queue is not None, timeout=60)
    return screen


async def test_three_rows_labelled_by_key_are_stored_and_the_queue_reranked(review_root):
    app = _app(review_root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_review(pilot)
        queue = screen.queue
        assert len(queue.pending) == 60
        seen = []
        for n, key in enumerate(("1", "3", "2"), start=1):
            seen.append((queue.current.target, queue.current.text, queue.labels[int(key) - 1]))
            before = {r.target: r.top for r in queue.pending[1:]}
            await pilot.press(key)
            await wait_for(pilot, lambda n=n: screen.answers == n, timeout=30)
            assert any(r.top != before[r.target] for r in queue.pending)  # scored again after the refit
            assert least_sure_first(queue.pending, len(queue.labels))
        store = app.workspace.store
        assert store.label_set("reviews").examples == 12 + 3
        feedback = store.feedback("label", "reviews")
        assert [(f.target, f.detail["text"], f.value) for f in feedback] == seen
        examples = store.examples(store.label_set("reviews").id)
        assert all((text, None, label) in examples for _, text, label in seen)
        assert "57 left · 3 answered" in str(screen.query_one("#rv-title").render())
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.answers == 2, timeout=30)
        assert len(store.feedback("label", "reviews")) == 2 and store.label_set("reviews").examples == 14
        await pilot.press("escape")  # the pane shows the set as the review left it
        await wait_for(pilot, lambda: not isinstance(app.screen, ReviewScreen))
        assert "14 examples" in str(app.query_one("#cls-info").render())


async def test_a_typed_label_not_in_the_set_is_one_line_shown_literally(review_root):
    app = _app(review_root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_review(pilot)
        await pilot.press("u")  # undo past the start
        await wait_for(pilot, lambda: any("nothing to undo" in t for t in toasts(app)), timeout=30)
        await pilot.press("t")
        await type_text(pilot, "[bold]great")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("no label '[bold]great'" in t for t in toasts(app)), timeout=30)
        assert not screen.busy and app.workspace.store.feedback("label") == []
        await pilot.press("t", "+", *"中性", "enter")  # +name adds the label
        await wait_for(pilot, lambda: screen.answers == 1, timeout=30)
        assert "中性" in app.workspace.store.label_set("reviews").labels
        await pilot.press("s")
        assert screen.queue.skipped == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReviewScreen))


async def test_closing_while_an_answer_is_written_keeps_it_and_the_app_up(review_root):
    app = _app(review_root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_review(pilot)
        await pilot.press("1", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReviewScreen))
        await wait_for(pilot, lambda: screen.answers == 1, timeout=30)
        await pilot.pause(0.2)
        assert len(app.workspace.store.feedback("label", "reviews")) == 1
        assert not any("Bug" in t for t in toasts(app))


async def test_review_without_a_batch_says_so(tmp_path):
    from engine.classify import sets
    from engine.workspace import Workspace
    from tests.engine.test_review import write_reviews

    seed = write_reviews(tmp_path / "seed.csv", 4)
    with Workspace(tmp_path / "ws") as ws:
        sets.import_examples(ws, "reviews", "sentiment", file=seed, text_column="text")
    app = _app(tmp_path / "ws")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "reviews")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: any("Run a batch with 'reviews' first" in t for t in toasts(app)))
        assert not isinstance(app.screen, ReviewScreen)


def _before():
    async def run_before(pilot):
        await _open_review(pilot)
        await pilot.pause(0.3)
    return run_before


def test_review_snapshot(snap_compare, review_root):
    assert snap_compare(_app(review_root), terminal_size=(120, 40), run_before=_before())


def test_review_snapshot_small(snap_compare, review_root):
    assert snap_compare(_app(review_root), terminal_size=(80, 24), run_before=_before())


async def test_review_of_a_table_row_set_says_it_reads_text(tmp_path):
    from engine.classify import sets
    from engine.workspace import Workspace
    from tests.engine.test_review import CREDIT

    with Workspace(tmp_path / "ws") as ws:
        sets.import_examples(ws, "credit", "outcome", file=CREDIT, features=["*"])
    app = _app(tmp_path / "ws")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query_one("#cls-set").value == "credit")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: any("'credit' holds table rows" in t for t in toasts(app)))
        assert not isinstance(app.screen, ReviewScreen)


async def test_keys_that_cannot_answer_say_why(review_root):
    """A number past the set's labels, and every answering key once the queue is empty, did nothing at all:
    no toast, no status, the screen as it was."""
    app = _app(review_root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_review(pilot)
        await pilot.press("5")  # 'reviews' has three labels
        await wait_for(pilot, lambda: any("No label 5: 'reviews' has 3 labels, keys 1–3" in t for t in toasts(app)))
        assert screen.answers == 0 and screen.queue.skipped == 0
        while len(screen.queue.pending) > 1:  # skip to the last row (60 key presses take seconds)
            screen.queue.skip()
        await pilot.press("s")
        assert screen.queue.current is None
        for keys in (("1",), ("s",), ("t", *"好评", "enter")):
            before = len(toasts(app))
            await pilot.press(*keys)
            await wait_for(pilot, lambda before=before: len(toasts(app)) > before)
            assert "Nothing left to review: u brings the last row back, esc closes" in toasts(app)[-1], keys
        assert screen.answers == 0 and app.workspace.store.feedback("label") == []
        await pilot.press("u")  # the last skip comes back, and can be answered
        await wait_for(pilot, lambda: screen.queue.current is not None)
        await pilot.press("1")
        await wait_for(pilot, lambda: screen.answers == 1, timeout=30)


async def test_a_long_row_leaves_the_type_box_and_keys_on_screen_at_80x24(review_root):
    """A 5,000-character row took 60% of a 24-row terminal, and the type box, status and key line below
    it fell off the screen."""
    app = _app(review_root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        screen.query_one("#rv-text").update("x" * 5000)
        await pilot.pause(0.1)
        for part in ("#rv-labels", "#rv-type", "#rv-status", "#rv-hint"):
            region = screen.query_one(part).region
            assert region.height and region.bottom <= 24, (part, region)
        assert screen.query_one("#rv-text-box").region.height >= 3
