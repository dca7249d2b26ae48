"""The Chat pane's keys, with real key presses: prompt history, paging, sources, regenerate and edit,
rename and delete targets, the view ending on an answer's extras, help from an empty prompt."""


from textual.widgets import ListView

from tests.tui.helpers import app_on, ask, chunk_opened, hold_the_writer, notified, ready, toasts, wait_for
from tui.widgets.dialogs import HelpScreen, RenameScreen
from tui.widgets.message_box import CitationList, MessageBox

# Questions the demo library does not answer: the refusal (with nearest passages) needs no chat model.
OFF_TOPIC = ["What is the parental leave policy?", "Who won the 1998 football world cup?",
             "What is the capital of Mongolia?"]


def prompt_text(app) -> str:
    return app.query_one("#prompt").text


def answers(app) -> list[MessageBox]:
    return [b for b in app.query(MessageBox) if b.role == "assistant"]


async def test_view_ends_on_the_last_answers_extras_and_pages_from_the_prompt(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        for question in OFF_TOPIC:
            await ask(pilot, question)
        log = app.query_one("#chat-log")
        await wait_for(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, timeout=5)
        last = answers(app)[-1].query(CitationList).last()
        assert last.region.bottom <= log.region.bottom  # the nearest passages are in view
        await pilot.press("pageup")
        assert log.scroll_y < log.max_scroll_y and app.focused is app.query_one("#prompt")
        await pilot.press("pagedown", "pagedown")
        assert log.scroll_y == log.max_scroll_y


async def test_up_and_down_walk_the_prompt_history(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, OFF_TOPIC[0])
        await ask(pilot, OFF_TOPIC[1])
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt_text(app) == OFF_TOPIC[1]
        await pilot.press("up")
        assert prompt_text(app) == OFF_TOPIC[0]
        await pilot.press("down")
        assert prompt_text(app) == OFF_TOPIC[1]
        await pilot.press("down")
        assert prompt_text(app) == "draft"


async def test_sources_key_opens_citations_by_number_and_steps_between_answers(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, OFF_TOPIC[0])
        await ask(pilot, OFF_TOPIC[1])
        await pilot.press("f6")
        first, second = answers(app)
        assert app.focused in second.query(CitationList)
        await pilot.press("1")
        await chunk_opened(pilot)
        await pilot.press("escape")
        await pilot.press("left_square_bracket")
        assert app.focused in first.query(CitationList)
        await pilot.press("j")
        assert app.focused.highlighted == 1
        await pilot.press("escape")
        assert app.focused is app.query_one("#prompt")


async def test_regenerate_and_edit_the_last_turn(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await ask(pilot, OFF_TOPIC[0])
        await ask(pilot, OFF_TOPIC[1])
        await pilot.press("f6", "r")
        await wait_for(pilot, lambda: chat.completed == 3 and not chat._generating, timeout=60)
        stored = app.workspace.store.messages(chat.chat_id)
        assert [m.content for m in stored if m.role == "user"] == OFF_TOPIC[:2]
        assert len(answers(app)) == 2
        await pilot.press("f6", "e")
        await wait_for(pilot, lambda: prompt_text(app) == OFF_TOPIC[1], timeout=10)
        assert app.focused is app.query_one("#prompt")
        assert [m.content for m in app.workspace.store.messages(chat.chat_id)][-1] != OFF_TOPIC[1]
        assert len(answers(app)) == 1


async def test_rename_targets_the_open_chat_and_delete_keeps_a_selection(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        for question in OFF_TOPIC:
            await pilot.press("ctrl+n")
            await ask(pilot, question)
        listing = app.query_one("#chat-list", ListView)
        await wait_for(pilot, lambda: len(listing.children) == 3)
        # Open the oldest chat, then move the list's highlight away without opening another.
        listing.focus()
        await pilot.press("G", "enter")
        await wait_for(pilot, lambda: chat.chat_id == listing.children[-1].chat.id)
        open_title = listing.children[-1].chat.title
        await pilot.press("g")
        assert listing.index == 0
        app.query_one("#prompt").focus()
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, RenameScreen)
        assert app.screen.query_one("#rename-input").value == open_title
        await pilot.press("escape")
        listing.focus()
        await pilot.press("j", "delete", "y")
        await wait_for(pilot, lambda: len(listing.children) == 2)
        assert listing.index == 1 and listing.highlighted_child is not None and app.focused is listing


async def test_a_rename_waits_for_the_writer_without_freezing_the_keys(demo_workspace):
    """A job holding the one write lock (a thread takes it here, standing in for a 2M-event import, too slow
    to start in a test) must not freeze the app: keys are answered, and the rename lands once it is free."""
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, OFF_TOPIC[0])
        listing = app.query_one("#chat-list", ListView)
        await wait_for(pilot, lambda: len(listing.children) == 1)
        release = hold_the_writer(app)
        app.query_one("#prompt").focus()
        await pilot.press("ctrl+r")
        app.screen.query_one("#rename-input").value = ""
        try:
            await pilot.press(*"Renamed", "enter", *"abc")
            assert prompt_text(app) == "abc"  # before: the UI thread sat on the lock until the job let go
            assert listing.children[0].chat.title != "Renamed"
        finally:
            release.set()
        await wait_for(pilot, lambda: listing.children[0].chat.title == "Renamed", timeout=30)
        # A question sent while the open chat's delete waits for the writer would be stored in a chat
        # about to be gone: it is refused.
        release = hold_the_writer(app)
        try:
            app.query_one("#chat-pane").action_delete_chat()
            await pilot.press("y")
            app.query_one("#prompt").focus()
            await pilot.press("enter")  # "abc" is still in the prompt
            await notified(pilot, "being deleted")
            assert prompt_text(app) == "abc"
        finally:
            release.set()
        await wait_for(pilot, lambda: len(listing.children) == 0, timeout=30)
        assert app.workspace.store.chats() == []



async def test_question_mark_shows_help_on_an_empty_prompt_and_types_otherwise(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "f12" in text or "?" in text
        await pilot.press("escape")
        await pilot.press(*"Why", "question_mark")
        assert prompt_text(app) == "Why?" and not isinstance(app.screen, HelpScreen)
        await pilot.press("f12")
        assert isinstance(app.screen, HelpScreen)


async def test_waiting_indicator_until_the_first_token(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        log = app.query_one("#chat-log")
        box = MessageBox("assistant", "", id="probe", waiting="thinking…")
        await log.mount(box)
        await pilot.pause(0.3)
        assert "thinking… 0 s" in str(box.query_one(".waiting").render())
        await box.append("Hello")
        assert not box.query(".waiting")


async def test_new_chat_while_an_answer_streams_is_refused_and_the_answer_finishes(demo_workspace):
    """ctrl+n mid-answer used to remove the box the answer streamed into and crash on its next piece."""
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        chat.action_toggle_mode()  # plain chat: the model writes the whole reply (no refusal shortcut)
        app.settings.max_tokens = 160  # long enough to be mid-answer at ctrl+n, short enough for a loaded CI
        done = chat.completed
        app.query_one("#prompt").focus()
        await pilot.press(*"Write a long story about a lighthouse.", "enter")
        await wait_for(pilot, lambda: chat._generating, timeout=10)
        assert chat._generating
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: any("still being written" in m for m in toasts(app))
                       or not chat._generating, timeout=30)
        assert any("still being written" in m for m in toasts(app))
        await wait_for(pilot, lambda: chat.completed > done, timeout=180)
        assert app.is_running and answers(app)[-1].text.strip()
        await pilot.press("ctrl+n")  # once the answer is in, a new chat opens
        await wait_for(pilot, lambda: chat.chat_id is None, timeout=30)
