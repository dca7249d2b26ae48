import tomllib

from textual.command import CommandList, CommandPalette
from textual.widgets import Label, TabbedContent

from tests.conftest import workspace_held_elsewhere
from tests.tui.helpers import notified, ready, toasts, wait_for
from tui.app import QuarryApp
from tui.widgets.dialogs import HelpScreen
from tui.widgets.settings_screen import SettingsScreen


async def test_function_keys_switch_panes(demo_root):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        tabs = app.query_one("#panes", TabbedContent)
        for key, pane in (("f2", "documents"), ("f3", "classify"), ("f4", "recommend"), ("f5", "compare"),
                          ("f1", "chat")):
            await pilot.press(key)
            assert tabs.active == pane


async def test_help_lists_every_binding(demo_root):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.query_one("#chat-list").focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "ctrl+n" in text and "New chat" in text and "Documents" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_settings_are_saved_to_toml(demo_root, isolated_user_dirs):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f8")
        assert isinstance(app.screen, SettingsScreen)
        field = app.screen.query_one("#set-max-tokens")
        field.value = ""
        field.focus()
        await pilot.press(*"99")
        await pilot.click("#save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
    saved = tomllib.loads((isolated_user_dirs / "config.toml").read_text())
    assert saved["max_tokens"] == 99 and app.settings.max_tokens == 99


async def test_settings_reject_out_of_range_values(demo_root):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f8")
        app.screen.query_one("#set-temperature").value = "9"
        await pilot.click("#save")
        assert isinstance(app.screen, SettingsScreen)
        error = str(app.screen.query_one("#settings-error", Label).render())
        assert "temperature = 9.0 is not valid" in error and "0.0 to 2.0" in error


async def test_settings_on_24_rows_reach_save_and_show_the_refusal(demo_root):
    """On 80x24 the fields fill the dialog: Save, Cancel and the error line used to be cut off, so a
    refused value looked like a Save that did nothing."""
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f8")
        app.screen.query_one("#set-temperature").value = "9"
        app.screen.query_one("#save").focus()
        await pilot.press("enter")
        error = app.screen.query_one("#settings-error", Label)
        await wait_for(pilot, lambda: "temperature = 9.0 is not valid" in str(error.render()), timeout=5)
        await wait_for(pilot, lambda: error.region.height > 0 and app.screen.region.contains_region(error.region)
                       and app.screen.query_one("#settings-dialog").region.contains_region(error.region), timeout=5)


async def test_command_palette_runs_actions(demo_root):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Documents")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette)
                       and app.screen.query_one(CommandList).option_count > 0, timeout=5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query_one("#panes", TabbedContent).active == "documents", timeout=5)


async def test_theme_toggles(demo_root):
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        before = app.theme
        await pilot.press("f9")
        assert app.theme != before


async def test_a_settings_file_that_cannot_be_written_is_a_warning(demo_root, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # the config's folder is a file: the save fails even for root
    monkeypatch.setenv("QUARRY_CONFIG", str(blocker / "config.toml"))
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        before = app.theme
        await pilot.press("f9")
        await wait_for(pilot, lambda: any("could not save the settings" in t for t in toasts(app)))
        assert app.theme != before and app.is_running  # the theme still changed for this run


async def test_busy_workspace_is_a_notification_not_a_crash(tmp_path):
    from engine.workspace import Workspace

    Workspace(tmp_path).close()
    with workspace_held_elsewhere(tmp_path):
        app = QuarryApp(tmp_path, warm_models=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.sub_title == "no workspace", timeout=10)
            messages = toasts(app)
            assert any("open in another Quarry process" in m for m in messages)
            await pilot.press(*"hello", "enter")
            await notified(pilot, "workspace is not open")
