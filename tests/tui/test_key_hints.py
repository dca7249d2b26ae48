"""Hints are built from the keymap: a key remapped in the config's [keys] table shows in the panes' hints
(and works); the defaults show where nothing is remapped."""

from __future__ import annotations

from tests.tui.helpers import notified, ready, wait_for
from tui import actions
from tui.app import QuarryApp


def _text(app, selector: str) -> str:
    return str(app.query_one(selector).render())


async def test_a_remapped_key_shows_in_the_hints_and_works(tmp_path, isolated_user_dirs):
    (isolated_user_dirs / "config.toml").write_text('[keys]\n"compare.blind" = "f10"\n"chat.new" = "f11"\n',
                                                    encoding="utf-8")
    app = QuarryApp(tmp_path / "ws", warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert "f11 new · ctrl+r rename" in _text(app, "#chat-hint") and "ctrl+n" not in _text(app, "#chat-hint")
        await pilot.press("f5")
        pane = app.query_one("#compare-pane")
        assert "f10 blind · ctrl+l ratings" in _text(app, "#compare-hint")
        assert "blind off (f10)" in _text(app, "#compare-settings")
        await pilot.press("f10")
        await wait_for(pilot, lambda: pane.blind)
        assert "blind on: A/B, then vote (f10)" in _text(app, "#compare-settings")
        pane.action_vote("a")  # refused before a round: the refusal names the remapped key too
        await notified(pilot, "Votes are for blind rounds: f10, pick models, send")
        assert app.settings.keys == {"compare.blind": "f10", "chat.new": "f11"}


async def test_the_defaults_show_where_nothing_is_remapped(tmp_path):
    app = QuarryApp(tmp_path / "ws", warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert "ctrl+n new · ctrl+r rename" in _text(app, "#chat-hint")
        assert app.query_one("#prompt").border_subtitle == ("enter send · ctrl+j new line · ↑ history · "
                                                            "f6 sources · ? keys")
        assert actions.hint(app, ("compare.blind", "blind"), ("documents.remove", "removes")) == \
            "ctrl+b blind · del removes"
