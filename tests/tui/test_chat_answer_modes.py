"""The answer-mode key in Chat (ctrl+b): it steps auto → quoted → written → auto, the prompt's title shows
the mode, and each answer's footer says which mode made it ("quoted", "written by MODEL"). The mode picked
is kept with the chat (a new chat's at its first answer) and survives a restart; a chat without a pick
follows the answer_mode setting, and stepping round to the setting's mode makes a chat follow it again."""

from __future__ import annotations

from tests.tui.helpers import app_on, ask, notified, ready, type_text, wait_for
from tui.app import QuarryApp
from tui.widgets.message_box import MessageBox
from tui.widgets.settings_screen import SettingsScreen

QUESTION = "How long do I have to return an unopened item?"


def title(app) -> str:
    return str(app.query_one("#prompt").border_title)


def footer(app) -> str:
    box = [b for b in app.query(MessageBox) if b.role == "assistant"][-1]
    return str(box.query_one(".stats").render())


async def test_the_answer_mode_key_switches_quotes_and_written_answers(demo_workspace, chat_model, monkeypatch):
    monkeypatch.setenv("QUARRY_MAX_TOKENS", "8")  # a written answer needs only to be written, not long
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        assert title(app) == "all documents · ctrl+f scope │ answers: auto · ctrl+b switch"
        await pilot.press("ctrl+b")
        await notified(pilot, "Answers: quoted, the documents' own sentences, cited")
        assert title(app).endswith("│ answers: quoted · ctrl+b switch") and chat.answer_mode() == "quoted"
        await ask(pilot, QUESTION)
        assert footer(app) == "quoted"
        assert "30 days" in [b for b in app.query(MessageBox) if b.role == "assistant"][-1].text
        await pilot.press("ctrl+b")
        await notified(pilot, "Answers: written by smollm2-135m, citations checked")
        assert title(app).endswith("│ answers: written · ctrl+b switch")
        await ask(pilot, QUESTION)
        written = footer(app)
        assert written.startswith(("written by smollm2-135m · TTFT", "quoted: the model's words were not supported"))
        stored = app.workspace.store.messages(chat.chat_id)
        assert [m.citations["mode"] for m in stored if m.role == "assistant"][0] == "quoted"
        assert [m.citations["mode"] for m in stored if m.role == "assistant"][1] in ("written", "quoted instead")
        await pilot.press("ctrl+b")
        assert title(app).endswith("│ answers: auto · ctrl+b switch")
        # the open chat keeps its pick; a new chat starts from the setting and follows it
        await pilot.press("ctrl+b")
        chat_id = chat.chat_id
        await wait_for(pilot, lambda: app.workspace.store.chat(chat_id).answer_mode == "quoted")
        await pilot.press("ctrl+n")
        assert chat.answer_mode() == "auto"
        app.settings.answer_mode = "written"
        assert chat.answer_mode() == "written"
        await chat.load_chat(chat_id)
        assert chat.answer_mode() == "quoted"
        # stepping round to the setting's mode stops keeping one: the chat follows the setting again
        await pilot.press("ctrl+b")
        await notified(pilot, "this chat follows the answer_mode setting again")
        await wait_for(pilot, lambda: app.workspace.store.chat(chat_id).answer_mode is None)
        app.settings.answer_mode = "auto"
        assert chat.answer_mode() == "auto"


async def test_a_chats_answer_mode_is_kept_with_it_after_a_restart(demo_workspace):
    root = demo_workspace.root
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await pilot.press("ctrl+b")  # a new chat: quoted, kept with it at its first answer
        await ask(pilot, QUESTION)
        assert footer(app) == "quoted"
        chat_id = chat.chat_id
        assert app.workspace.store.chat(chat_id).answer_mode == "quoted"
        await pilot.press("ctrl+n")
        assert title(app).endswith("│ answers: auto · ctrl+b switch")
    async with QuarryApp(root, warm_models=False).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await wait_for(pilot, lambda: chat.chat_id == chat_id)  # the last chat opens as it was left
        assert title(app).endswith("│ answers: quoted · ctrl+b switch")
        await ask(pilot, QUESTION)
        assert footer(app) == "quoted"
        await pilot.press("ctrl+b")  # steps on from the kept mode (auto would step to quoted)
        assert title(app).endswith("│ answers: written · ctrl+b switch")
        await wait_for(pilot, lambda: app.workspace.store.chat(chat_id).answer_mode == "written")
        # a mode kept from elsewhere (another terminal's `quarry ask --chat N --extractive`) shows here
        app.workspace.store.set_chat_answer_mode(chat_id, "quoted")
        chat.refresh_title()
        assert title(app).endswith("│ answers: quoted · ctrl+b switch") and chat.answer_mode() == "quoted"


async def test_a_pick_made_while_a_new_chats_first_answer_is_written_is_the_one_kept(demo_workspace, chat_model,
                                                                                  monkeypatch):
    monkeypatch.setenv("QUARRY_MAX_TOKENS", "24")
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await pilot.press("ctrl+b")  # a new chat: quoted
        done = chat.completed
        app.query_one("#prompt").focus()
        await type_text(pilot, QUESTION)
        await pilot.press("enter", "ctrl+b")  # quoted -> written while the answer is made
        await wait_for(pilot, lambda: chat.completed > done, timeout=120)
        chat_id = chat.chat_id
        await wait_for(pilot, lambda: app.workspace.store.chat(chat_id).answer_mode == "written")
        assert title(app).endswith("│ answers: written · ctrl+b switch")


async def test_saving_the_answer_mode_setting_shows_it_in_the_prompt_title(demo_workspace, isolated_user_dirs):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert title(app).endswith("│ answers: auto · ctrl+b switch")  # no pick: the setting's
        await pilot.press("f8")
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#set-answer-mode").value = "written"
        await pilot.click("#save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        assert title(app).endswith("│ answers: written · ctrl+b switch"), title(app)
        await pilot.press("ctrl+b")  # the key steps on from the setting's mode
        assert title(app).endswith("│ answers: auto · ctrl+b switch")


async def test_the_answer_mode_key_in_a_plain_chat_says_what_it_is_for_and_keeps_nothing(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        chat = app.query_one("#chat-pane")
        await pilot.press("ctrl+o")  # plain chat
        await pilot.press("ctrl+b")
        await notified(pilot, "Plain chat answers in the model's words; the answer mode is for document questions")
        assert chat.pending_answers is None and chat.answer_mode() == "auto"
        await pilot.press("ctrl+o", "ctrl+b")  # Document Q&A again: the key steps the mode
        assert chat.answer_mode() == "quoted"
