from textual.widgets import ListView

from tests.tui.helpers import app_on, ask, chunk_opened, notified, ready, wait_for
from tui.app import QuarryApp
from tui.widgets.dialogs import ConfirmScreen, RenameScreen
from tui.widgets.message_box import CitationList, MessageBox


def answers(app) -> list[MessageBox]:
    return [b for b in app.query(MessageBox) if b.role == "assistant"]


async def test_question_streams_a_cited_answer_and_opens_the_chunk(demo_workspace, chat_model, monkeypatch):
    monkeypatch.setenv("QUARRY_ANSWER_MODE", "written")  # the model writes it (English quotes by default)
    app = app_on(demo_workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "What is the return window for opened electronics?")
        box = answers(app)[-1]
        assert box.text and str(box.query_one(".stats").render()).startswith(("written by smollm2-135m · TTFT",
                                                                              "quoted: the model's words"))
        citations = box.query_one(CitationList)
        assert citations.citations[0]["path"].endswith("returns-policy.pdf")
        citations.focus()
        citations.highlighted = 0
        await pilot.press("enter")
        await chunk_opened(pilot)
        where = str(app.screen.query_one("#chunk-where").render())
        assert "returns-policy.pdf" in where and "page 1" in where
        await pilot.press("escape")


async def test_plain_chat_mode_and_history_survive_restart(demo_workspace, chat_model):
    root = demo_workspace.root
    demo_workspace.close()
    app = QuarryApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+o")
        assert app.query_one("#chat-pane").mode == "chat"
        await ask(pilot, "Say hello in five words.")
        assert answers(app)[-1].text
        await wait_for(pilot, lambda: len(app.query_one("#chat-list", ListView).children) == 1)
    again = QuarryApp(root, warm_models=False)
    async with again.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        listing = again.query_one("#chat-list", ListView)
        assert len(listing.children) == 1
        listing.focus()
        listing.index = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(again.query(MessageBox)) == 2)
        assert [b.role for b in again.query(MessageBox)] == ["user", "assistant"]


async def test_escape_stops_generation(demo_workspace, chat_model):
    app = app_on(demo_workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.settings.max_tokens = 400
        await pilot.press("ctrl+o")
        chat = app.query_one("#chat-pane")
        app.query_one("#prompt").focus()
        await pilot.press(*"Write a very long story about a lighthouse.")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(answers(app)[-1].text), timeout=30)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not chat._generating, timeout=30)
        stored = app.workspace.store.messages(chat.chat_id)[-1]
        assert stored.stats["stop_reason"] == "cancelled" and stored.stats["completion_tokens"] < 400


async def test_refusal_shows_nearest_passages(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "What is the parental leave policy?")
        box = answers(app)[-1]
        assert "do not answer" in box.text
        assert box.query(CitationList)


async def test_new_rename_delete_copy_and_export(demo_workspace, chat_model):
    app = app_on(demo_workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "How long must passwords be?")
        await pilot.press("ctrl+t")
        assert app.clipboard == answers(app)[-1].text
        await notified(pilot, "characters)")
        await pilot.press("ctrl+g")
        chat_id = app.query_one("#chat-pane").chat_id
        exported = app.workspace.root / "exports" / f"chat-{chat_id}.md"
        assert exported.exists() and "How long must passwords be?" in exported.read_text()
        listing = app.query_one("#chat-list", ListView)
        await wait_for(pilot, lambda: len(listing.children) == 1)
        listing.focus()
        listing.index = 0
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, RenameScreen)
        app.screen.query_one("#rename-input").value = ""
        await pilot.press(*"Password rules", "enter")
        await wait_for(pilot, lambda: app.workspace.store.chats()[0].title == "Password rules", timeout=10)
        await pilot.press("ctrl+n")
        assert app.query_one("#chat-pane").chat_id is None
        listing.focus()
        listing.index = 0
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.workspace.store.chats() == [])
