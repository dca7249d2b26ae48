"""The Chat pane's scope, with real keys: the document picker scopes the open chat, the prompt's title shows
the scope, it survives an app restart, @name completes on tab and scopes one question. Answers are quoted
(extractive, by the settings' env override), so no test waits on the chat model: the scope acts on the
search, which both answer modes share."""

from __future__ import annotations

import pytest

from tests.tui.helpers import ask, notified, ready, type_text, wait_for
from tui.app import QuarryApp
from tui.widgets.scope_picker import ScopePicker


@pytest.fixture(autouse=True)
def quoted_answers(monkeypatch):
    monkeypatch.setenv("QUARRY_EXTRACTIVE", "true")


def _app(root) -> QuarryApp:
    return QuarryApp(root, warm_models=False)


def title(app) -> str:
    """The scope part of the prompt's title (the answer mode follows it, after │)."""
    return str(app.query_one("#prompt").border_title).split(" │ ")[0]


def cited_files(app) -> set[str]:
    """The files the open chat's last answer cites or shows as nearest."""
    pane = app.query_one("#chat-pane")
    last = app.workspace.store.messages(pane.chat_id)[-1].citations
    return {r["path"].rsplit("/", 1)[-1] for r in last["citations"] + last["nearest"]}


async def pick(pilot, typed: str, *keys: str) -> None:
    """Opens the picker, types to narrow the list, presses `keys`, and waits for the picker to close."""
    await pilot.press("ctrl+f")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ScopePicker), timeout=10)
    await type_text(pilot, typed)
    await pilot.press(*keys)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ScopePicker), timeout=10)


async def test_the_picker_scopes_the_chat_and_the_scope_survives_a_restart(demo_root):
    async with _app(demo_root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await ready(pilot)
        assert title(app) == "all documents · ctrl+f scope"
        await pick(pilot, "returns", "space", "enter")
        assert title(app) == "scope: 1 doc — returns-policy.pdf · ctrl+f change"
        await ask(pilot, "How long do I have to return an unopened item?")
        assert cited_files(app) == {"returns-policy.pdf"}
        # the travel question in this chat does not reach the travel policy
        await ask(pilot, "What is the hotel cap per night in New York?")
        assert cited_files(app) <= {"returns-policy.pdf"}
        chat_id = app.query_one("#chat-pane").chat_id
        # the open (stored) chat: add a second document; escape in the picker changes nothing
        await pick(pilot, "travel", "space", "enter")
        await wait_for(pilot, lambda: title(app).startswith("scope: 2 docs"), timeout=10)
        await pick(pilot, "faq", "space", "escape")
        assert title(app) == "scope: 2 docs — returns-policy.pdf, travel-policy.docx · ctrl+f change"
    async with _app(demo_root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await ready(pilot)
        await wait_for(pilot, lambda: app.query_one("#chat-pane").chat_id == chat_id, timeout=10)
        assert title(app) == "scope: 2 docs — returns-policy.pdf, travel-policy.docx · ctrl+f change"
        # unpicking everything gives the chat back the whole library
        await pick(pilot, "", "space", "down", "space", "enter")
        await wait_for(pilot, lambda: title(app) == "all documents · ctrl+f scope", timeout=10)
        assert app.workspace.store.chat(chat_id).scope is None


async def test_at_name_completes_on_tab_and_scopes_one_question(demo_root):
    async with _app(demo_root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await ready(pilot)
        prompt = app.query_one("#prompt")
        prompt.focus()
        await pilot.press("@", "r", "e", "t", "u", "tab")
        assert prompt.text == "@returns-policy.pdf" and app.focused is prompt
        await type_text(pilot, " How long do I have to return an unopened item?")
        await pilot.press("enter")
        pane = app.query_one("#chat-pane")
        await wait_for(pilot, lambda: pane.completed == 1, timeout=60)
        assert cited_files(app) == {"returns-policy.pdf"}
        assert app.workspace.store.chat(pane.chat_id).scope is None  # @name scopes that question only
        assert title(app) == "all documents · ctrl+f scope"
        # a second tab gives the next name; a name that matches nothing is one line
        prompt.clear()
        await pilot.press("@", "p", "o", "l", "tab")
        first = prompt.text
        await pilot.press("tab")
        assert first.startswith("@") and prompt.text.startswith("@") and prompt.text != first
        prompt.clear()
        await pilot.press("@", "z", "z", "z", "tab")
        await notified(pilot, "@zzz matches no document name")
        await ask(pilot, "@zzz how long?")
        await notified(pilot, "@zzz matches no document name; type @ and part of a file name")


async def test_the_picker_key_can_be_remapped_and_the_title_names_it(demo_root, isolated_user_dirs):
    (isolated_user_dirs / "config.toml").write_text('[keys]\n"chat.scope" = "f10"\n', encoding="utf-8")
    async with _app(demo_root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await ready(pilot)
        assert title(app) == "all documents · f10 scope"
        app.query_one("#prompt").focus()
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker), timeout=10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ScopePicker), timeout=10)
        assert title(app) == "all documents · f10 scope"
