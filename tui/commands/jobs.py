"""`quarry jobs`: list the workspace's jobs, and resume one that stopped before its end."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option


@cli.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Also list jobs that finished.")
@workspace_option
@json_option
@click.pass_context
def jobs(ctx: click.Context, show_all: bool, workspace: Path | None, as_json: bool) -> None:
    """List jobs that stopped before their end (a crash, a kill, a cancel); --all lists every job.

    \b
    Examples:
      quarry jobs
      quarry jobs --all --json
      quarry jobs resume 7
    """
    if ctx.invoked_subcommand is not None:
        return
    from engine import jobs as engine_jobs

    with open_workspace(workspace) as ws:
        records = ws.store.jobs() if show_all else engine_jobs.unfinished(ws)
    if as_json:
        emit_json([r.__dict__ for r in records])
        return
    if not records:
        click.echo("no unfinished jobs" if not show_all else "no jobs")
        return
    click.echo(f"{'ID':>4}  {'KIND':14} {'STATUS':9} {'DONE':>11}  STARTED")
    for r in records:
        done = f"{r.done}/{r.total}" if r.total is not None else str(r.done)
        started = r.started_at.strftime("%Y-%m-%d %H:%M") if r.started_at else "-"
        click.echo(f"{r.id:>4}  {r.kind:14} {r.status:9} {done:>11}  {started}  {r.unit}")
        if r.error:
            click.echo(f"{'':6}{r.error}")


@jobs.command("resume")
@click.argument("job_id", type=int)
@workspace_option
@json_option
def resume(job_id: int, workspace: Path | None, as_json: bool) -> None:
    """Resume a job with its stored params; what it committed before is skipped.

    \b
    Example:
      quarry jobs resume 7
    """
    import dataclasses

    from engine import jobs as engine_jobs
    from tui.commands.progress import follow

    with open_workspace(workspace) as ws:
        run = engine_jobs.resume(ws, job_id)
        result = follow(run, quiet=as_json)
    data = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else result
    if as_json:
        emit_json({"job_id": run.id, "kind": run.kind, "status": run.status, "result": data})
    else:
        if hasattr(result, "line"):
            line = result.line()
        elif isinstance(result, list) and all(hasattr(r, "line") for r in result):
            line = "; ".join(r.line() for r in result)
        else:  # a long result (an answer evaluation's rows) is for --json
            line = "" if data is None else str(data) if len(str(data)) <= 200 else "`--json` prints the result"
        click.echo(f"job {run.id} ({run.kind}) {run.status}" + (f": {line}" if line else ""))
