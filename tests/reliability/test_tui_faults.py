"""The same faults in the app: it opens, shows one notification naming the thing, and stays up."""

from __future__ import annotations

import shutil

from engine.store import DB_NAME
from tests.tui.helpers import toasts, wait_for
from tui.app import QuarryApp


def notes(app) -> list[str]:
    return toasts(app)


async def test_a_broken_config_is_a_notification_naming_key_and_file(demo_root, config):
    config.write_text('max_tokens = "lots"\n')
    app = QuarryApp(demo_root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any("max_tokens" in n for n in notes(app)))
        assert any(str(config) in n for n in notes(app))
        await wait_for(pilot, lambda: app.workspace is not None)  # the defaults carry on
        assert app.is_running


async def test_a_damaged_database_is_a_notification_and_the_app_stays_up(demo_workspace_dir, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    db = root / DB_NAME
    data = bytearray(db.read_bytes())
    data[:8192] = bytes(8192)
    db.write_bytes(bytes(data))
    app = QuarryApp(root, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any(DB_NAME in n for n in notes(app)))
        assert app.sub_title == "no workspace" and app.is_running
        line = next(n for n in notes(app) if DB_NAME in n)
        assert "\n" not in line and "move it aside" in line
