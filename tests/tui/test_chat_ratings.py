"""Rating answers in the Chat pane with real keys: - on an answer opens the passage picker (its sources or a
search), + rates it good; the ratings are what `quarry eval answers --from-ratings` asks again."""

import json

from tests.helpers import run_cli
from tests.tui.helpers import app_on, ask, notified, ready, type_text, wait_for
from tui.widgets.rating import RatingScreen

# Questions the demo library does not answer: the refusal (with nearest passages) needs no chat model.
PARENTAL = "What is the parental leave policy?"
MONGOLIA = "What is the capital of Mongolia?"


async def test_rate_bad_with_a_found_passage_then_eval_from_ratings(demo_workspace):
    root = demo_workspace.root
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        store = app.workspace.store
        await ask(pilot, PARENTAL)
        await pilot.press("f6", "minus")
        await wait_for(pilot, lambda: isinstance(app.screen, RatingScreen), timeout=10)
        screen = app.screen
        assert str(screen.query_one("#rating-question").render()) == PARENTAL
        assert screen.query_one("#rating-options").option_count == 1 + len(screen.sources) > 1  # the nearest
        await pilot.press("tab")  # from the passages to the search
        assert app.focused is screen.query_one("#rating-search")
        await type_text(pilot, "refund window")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.searches == 1, timeout=30)
        found = screen.hits[0]
        await pilot.press("enter")  # the first hit is highlighted
        await wait_for(pilot, lambda: store.feedback("rating") != [], timeout=10)
        await notified(pilot, "Rated bad with its passage")
        rating = store.feedback("rating")[0]
        assert rating.value == "bad" and rating.detail["question"] == PARENTAL and rating.detail["refused"]
        assert rating.detail["passage"]["chunk_id"] == found["chunk_id"]
        assert rating.detail["passage"]["path"] == found["path"] and rating.detail["passage"]["text"]

        await pilot.press("escape")  # back to the prompt
        await ask(pilot, MONGOLIA)
        await pilot.press("f6", "plus")
        await wait_for(pilot, lambda: len(store.feedback("rating")) == 2, timeout=10)
        assert store.feedback("rating")[1].value == "good"
        await pilot.press("minus", "escape")  # a bad rating cancelled stores nothing
        await pilot.pause(0.2)
        assert len(store.feedback("rating")) == 2

    result = run_cli("eval", "answers", "--from-ratings", "--json", "-w", root)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_question = {r["question"]: r for r in report["ratings"]}
    assert set(by_question) == {PARENTAL, MONGOLIA}
    assert by_question[PARENTAL]["was"] == "bad" and by_question[PARENTAL]["passage"]["chunk_id"] == found["chunk_id"]
    assert by_question[PARENTAL]["outcome"] == "missed" and by_question[MONGOLIA]["outcome"] == "same"


async def test_the_bad_rating_dialog_is_centred_and_whole_at_80x24(demo_workspace):
    """It opened in the top-left corner (the other dialogs are centred), and at 80 columns its title was
    cut to "(optional; esc c"."""
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await ask(pilot, PARENTAL)
        await pilot.press("f6", "minus")
        await wait_for(pilot, lambda: isinstance(app.screen, RatingScreen), timeout=10)
        await pilot.pause(0.1)
        dialog = app.screen.query_one("#rating-dialog")
        assert dialog.region.x > 0 and dialog.region.y > 0
        assert abs(dialog.region.x - (80 - dialog.region.right)) <= 1  # as much room left as right
        title = app.screen.query_one("#rating-title")
        assert title.size.height == 2 and title.size.width <= dialog.content_region.width
        await pilot.press("tab", "enter")  # enter on the empty search box did nothing, silently
        await notified(pilot, "Type words to search the library")
