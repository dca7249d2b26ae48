"""Every command a user can run shows an example in its --help. The test walks the whole click tree, so a
command added later without an example fails here, by its name."""

from __future__ import annotations

import click

from tests.helpers import run_cli
from tui.cli import cli


def _tree(group: click.Group, path: tuple[str, ...] = ()):
    """Gives (words to type, command, its group) for every command under `group`, depth first."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command, group
        if isinstance(command, click.Group):
            yield from _tree(command, (*path, name))


def _runnable() -> list[tuple[str, ...]]:
    """The words of each command that does something when run: every leaf, and every group that runs on
    its own (`quarry`, `quarry jobs`, `quarry recommend --user U`). A hidden leaf (`classify text`, which
    runs as `quarry classify TEXT`) is shown to users by its group's help, so the group's help is checked."""
    paths = [()]  # bare `quarry` opens the app
    for path, command, _ in _tree(cli):
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                paths.append(path)
        else:
            paths.append(path[:-1] if command.hidden else path)
    return list(dict.fromkeys(paths))


def test_every_runnable_command_help_has_an_example():
    paths = _runnable()
    leaves = [p for p, c, _ in _tree(cli) if not isinstance(c, click.Group)]
    assert len(leaves) >= 30 and ("models", "add-remote") in leaves  # the walk reached every group's leaves
    missing = []
    for path in paths:
        result = run_cli(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        if "Example" not in result.output or "quarry" not in result.output.split("Example", 1)[1]:
            missing.append(" ".join(("quarry", *path)))
    assert missing == [], f"--help without an example (an 'Examples:' block of quarry lines): {missing}"
