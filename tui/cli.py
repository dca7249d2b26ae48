"""The `quarry` command: a thin front on the engine. Bare `quarry` opens the TUI."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine import offline
from engine.errors import QuarryError

if TYPE_CHECKING:
    from engine.settings import Settings

offline.enforce()


class QuarryGroup(click.Group):
    """Turns every QuarryError into one line on stderr and a non-zero exit; any other exception is a bug:
    its traceback goes to the log file, and the line says so and names the file."""

    def invoke(self, ctx: click.Context):
        _refuse_undecodable([*getattr(ctx, "_protected_args", []), *ctx.args])
        try:
            return super().invoke(ctx)
        except QuarryError as exc:
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # the reader left (`quarry labels show X | head -1`): stop, saying nothing
            import os
            import sys

            # stdout still holds what could not be written, and Python would complain flushing it at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except Exception as exc:  # a bug (logged), or a damaged database met half-way: one line either way
            from engine import log

            raise click.ClickException(log.report(exc, f"quarry {ctx.invoked_subcommand or ''}".strip())[0]) \
                from None


def _refuse_undecodable(args: list[str]) -> None:
    """Refuses, in one line, an argument holding bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which DuckDB, Arrow and the tokenizer each failed on as a bug). A path may hold them: file
    names are bytes on POSIX, and the file functions take them back as they were."""
    import os

    for arg in args:
        if not isinstance(arg, str) or "/" in arg or arg.isascii():
            continue
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if os.path.exists(arg):
                continue
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise click.UsageError(f"the argument '{shown[:60]}' is not UTF-8 text (\ufffd marks the bytes that"
                                   " are not); give it in UTF-8, e.g. converted with `iconv -t UTF-8`") from None


def workspace_option(fn: Callable) -> Callable:
    return click.option("--workspace", "-w", "workspace", type=click.Path(file_okay=False, path_type=Path),
                        default=None,
                        help="Workspace folder (default: the user data dir; env QUARRY_WORKSPACE).")(fn)


def json_option(fn: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON document.")(fn)


def emit_json(data) -> None:
    """Prints one strict JSON document: a NaN or an infinity anywhere becomes null (they are not JSON)."""
    click.echo(json.dumps(_finite(data), ensure_ascii=False, default=str, indent=2, allow_nan=False))


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a numpy scalar or array
        return _finite(value.tolist())
    return value


def load_settings() -> Settings:
    """Gives the one settings object of this run, loaded once: a bad value or a file that is not TOML is
    one line naming the key and the file, from whichever command reads it first."""
    from engine import settings

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None:
        return settings.load()
    if not isinstance(root.obj, dict):
        root.obj = {}
    if "settings" not in root.obj:
        root.obj["settings"] = settings.load()
    return root.obj["settings"]


def open_workspace(path: Path | None):
    """Opens the command's --workspace, else the nearest one given before it (`quarry recommend -w DIR eval`,
    `quarry -w DIR ask`). When another Quarry process holds it, the command runs there (tui/serving.py).
    The settings are read first, so every command that opens a workspace refuses a bad config as `chat` does."""
    from tui import serving

    load_settings()
    return serving.open_workspace(given_workspace(path))


def given_workspace(path: Path | None) -> Path | None:
    """Gives the command's --workspace, else the nearest one given before it; None when none was."""
    ctx = click.get_current_context(silent=True)
    while path is None and ctx is not None:
        path = ctx.params.get("workspace")
        ctx = ctx.parent
    return path


@click.group(cls=QuarryGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@workspace_option
@click.option("--verbose", "-v", is_flag=True,
              help="Mirror the log to stderr (it is always written to the file `quarry locate` shows).")
@click.version_option(package_name="quarry")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, verbose: bool) -> None:
    """Quarry: chat with your documents on local models, offline.

    Run with no command to open the terminal app.

    \b
    Examples:
      quarry                                  # open the app
      quarry models pull smollm2-135m         # provision the default chat model
      quarry chat "Name three ways to reduce customer churn."
      quarry ingest ~/docs && quarry ask "What is our refund window?"
    """
    import logging

    from engine import log
    from engine.serve.session import current

    if current() is None:  # a command served in another process leaves that process's logging as it is
        log.setup(verbose)
    # the command's name only: its arguments may be a question or a document's text
    logging.getLogger("quarry").info("quarry %s", ctx.invoked_subcommand or "(the app)")
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    if ctx.invoked_subcommand is None:
        from tui.app import run_app

        log.stop_verbose()  # the app owns the terminal; its log stays in the file
        run_app(workspace)


def main() -> None:
    import sys

    from tui import serving

    serving.record_invocation(sys.argv[1:])  # a command from a shell may be handed to the workspace's holder
    cli(prog_name="quarry")


from tui.commands import classify as _classify  # noqa: E402,F401  (registers commands)
from tui.commands import compare as _compare  # noqa: E402,F401
from tui.commands import docs as _docs  # noqa: E402,F401
from tui.commands import feedback as _feedback  # noqa: E402,F401
from tui.commands import jobs as _jobs  # noqa: E402,F401
from tui.commands import labels as _labels  # noqa: E402,F401
from tui.commands import models as _models  # noqa: E402,F401
from tui.commands import recommend as _recommend  # noqa: E402,F401
from tui.commands import talk as _talk  # noqa: E402,F401
