"""Following a job from the CLI: a bar on a terminal (stderr), plain lines otherwise; stdout stays clean."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

LINE_EVERY_S = 1.0  # plain lines of the default formatter at most this often

LineFn = Callable[[object], str | None]


def default_line(progress) -> str | None:
    total = f"/{progress.total}" if progress.total is not None else ""
    line = f"[{progress.done}{total} {progress.unit}]"
    if progress.rate:
        line += f" {progress.rate:.1f} {progress.unit}/s"
    return f"{line} {progress.message}".rstrip()


def follow(run, line: LineFn | None = None, quiet: bool = False, bar: bool | None = None) -> object:
    """Runs a job to its end showing its progress on stderr; gives its result.

    `line(progress)` gives the plain line for one progress (None: no line); without it a line is
    printed at most once a second. `quiet` prints only warnings and errors (for --json). `bar` forces
    the bar on or off (default: on when stderr is a terminal). Ctrl-C cancels the job, keeping what
    it committed."""
    use_bar = (sys.stderr.isatty() if bar is None else bar) and not quiet
    try:
        if use_bar:
            _with_bar(run)
        else:
            _with_lines(run, line, quiet)
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted; job {run.id} keeps what it finished"
                                   f" (`quarry jobs resume {run.id}` goes on)") from None
    return run.result


def _warn(progress) -> None:
    for warning in progress.warnings:
        click.echo(f"warning: {warning}", err=True)


def _with_lines(run, line: LineFn | None, quiet: bool) -> None:
    last = 0.0
    for progress in run:
        _warn(progress)
        if quiet:
            error = progress.data.get("error")
            if error:
                click.echo(f"error: {error}", err=True)
            continue
        if line is not None:
            text = line(progress)
        else:
            now = time.monotonic()
            text = default_line(progress) if now - last >= LINE_EVERY_S else None
            last = now if text else last
        if text:
            click.echo(text, err=True)


def _with_bar(run) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}", markup=False), TimeRemainingColumn())
    with Progress(*columns, console=console) as shown:
        task = shown.add_task(run.kind, total=None, rate="")
        for progress in run:
            for warning in progress.warnings:
                console.print("warning: " + warning, style="yellow", markup=False, highlight=False)
            error = progress.data.get("error")
            if error:
                console.print("error: " + error, style="red", markup=False, highlight=False)
            rate = progress.data.get("rate_text") or (
                f"{progress.rate:.1f} {progress.unit}/s" if progress.rate else "")
            shown.update(task, total=progress.total, completed=progress.done, rate=rate,
                         description=(progress.data.get("label") or progress.message or run.kind)[:30])
