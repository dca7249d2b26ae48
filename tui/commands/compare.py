"""`quarry compare`, `quarry compare batch`, `quarry leaderboard` and `quarry models add-remote`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, load_settings, open_workspace, workspace_option
from tui.commands.models import models
from tui.params import FileOrTable, Number

OUTCOME_KEYS = {"a": "a", "b": "b", "t": "tie", "x": "both_bad"}


class CompareGroup(click.Group):
    """`quarry compare PROMPT ...` runs a comparison; `quarry compare batch|vote|...` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _models_option(fn):
    return click.option("--models", "-m", "models_csv", default=None,
                        help="Comma-separated catalog model ids, 2 to 4 (see `quarry models list`).")(fn)


def _settings_options(fn):
    fn = click.option("--temperature", type=Number(0, 2), default=None,
                      help="Sampling temperature for every model (0 greedy; default: settings, 0 with --rag).")(fn)
    fn = click.option("--max-tokens", type=click.IntRange(1, 8192), default=None,
                      help="Most tokens each model may write (default: settings).")(fn)
    fn = click.option("--seed", type=int, default=42, show_default=True, help="Sampling seed for every model.")(fn)
    fn = click.option("--system", "system_prompt", default=None, help="System prompt for plain prompts.")(fn)
    fn = click.option("--rag", is_flag=True, help="A document question: same sources and citation check for all.")(fn)
    fn = click.option("--k", type=click.IntRange(1, 10), default=None, help="Most sources (with --rag).")(fn)
    return fn


def _settings(temperature, max_tokens, seed, system_prompt, rag, k):
    from engine.compare import CompareSettings

    return CompareSettings.from_settings(load_settings(), rag, temperature, max_tokens, seed, system_prompt, k)


def _split(models_csv: str | None) -> list[str]:
    if not models_csv:
        raise click.UsageError("give the models to compare: --models a,b (see `quarry models list`)")
    return [m for m in models_csv.split(",") if m.strip()]


def _heading(run, column) -> str:
    if run.blind and not run.revealed:
        return f"── {column.label} ──"
    return f"── {column.model}{f' ({column.label})' if column.label else ''} ──"


@cli.group(cls=CompareGroup)
def compare() -> None:
    """Compare 2–4 models on one prompt, blind or named, or on a prompt set.

    \b
    Examples:
      quarry compare "Summarise our travel policy" --models smollm2-135m,gemma3-270m --rag
      quarry compare --blind "Write a refund apology" --models smollm2-135m,gemma3-270m
      quarry compare --rerun 12
      quarry compare batch prompts.jsonl --models smollm2-135m,gemma3-270m
      quarry leaderboard
    """


@compare.command("run")
@click.argument("prompt", nargs=-1)
@_models_option
@_settings_options
@click.option("--blind", is_flag=True, help="Hide the names (A/B in random order) and ask for a vote.")
@click.option("--rerun", "rerun_id", type=int, default=None, help="Repeat a stored run exactly (same settings).")
@workspace_option
@json_option
def compare_run(prompt, models_csv, temperature, max_tokens, seed, system_prompt, rag, k, blind, rerun_id,
                workspace: Path | None, as_json: bool) -> None:
    """Send one prompt to 2–4 models; answers stream one model after another on CPU.

    \b
    Examples:
      quarry compare "Summarise our travel policy" --models smollm2-135m,gemma3-270m --rag
      quarry compare --json "Name three churn risks" --models smollm2-135m,gemma3-270m
      quarry compare --rerun 12
    """
    from engine import compare as cmp

    with open_workspace(workspace) as ws:
        if rerun_id is not None:
            comparison = cmp.rerun(ws, rerun_id)
        else:
            from tui.commands.talk import _prompt_text

            text = _prompt_text(prompt)
            ids = _split(models_csv)
            if blind:
                ids = cmp.pick_pair(ws, ids)
            comparison = cmp.Comparison(ws, text, ids, _settings(temperature, max_tokens, seed, system_prompt,
                                                                  rag, k), blind=blind)
        live = not as_json
        for event in comparison.events():
            if not live:
                continue
            if isinstance(event, cmp.Started):
                mode = "at the same time" if event.run.concurrent else "one after another (CPU)"
                click.echo(f"run {event.run.id}: {len(event.run.columns)} models answer {mode}", err=True)
            elif isinstance(event, cmp.ColumnStarted):
                click.echo(_heading(comparison.run, comparison.run.columns[event.position]))
            elif isinstance(event, cmp.Piece) and not comparison.settings.rag:
                click.echo(event.text, nl=False)
            elif isinstance(event, cmp.ColumnFinished):
                column = event.column
                if comparison.settings.rag and column.text:
                    click.echo(column.text, nl=False)
                click.echo()
                if column.error:
                    click.echo(click.style(f"error: {column.error}", fg="red"), err=True)
                click.echo(column.figures_line(), err=True)
        run = comparison.run
        if as_json:
            emit_json(run.to_dict())
            return
        from engine.serve.session import current as served

        # A command served for another process has that client's stdin replayed, not its terminal: it
        # cannot ask, so it says how to vote, as for piped input.
        if run.blind and sys.stdin.isatty() and served() is None and all(c.status == "done" for c in run.columns):
            choice = click.prompt("Which is better? a / b / t(ie) / x (both bad) / s(kip)",
                                  type=click.Choice(["a", "b", "t", "x", "s"]), show_choices=False, err=True)
            if choice != "s":
                cmp.vote(ws, run.id, OUTCOME_KEYS[choice])
            names = cmp.reveal(ws, run.id, skip_vote=choice == "s")
            click.echo(" · ".join(f"{label} was {model}" for label, model in names.items()), err=True)
        elif run.blind:
            click.echo(f"vote with `quarry compare vote {run.id} a|b|tie|both_bad`, "
                       f"then `quarry compare reveal {run.id}`", err=True)


@compare.command("vote")
@click.argument("run_id", type=int)
@click.argument("outcome", type=click.Choice(["a", "b", "tie", "both_bad"], case_sensitive=False))
@workspace_option
@json_option
def compare_vote(run_id: int, outcome: str, workspace: Path | None, as_json: bool) -> None:
    """Vote on a blind run: A better, B better, a tie, or both bad.

    \b
    Example:
      quarry compare vote 12 a
    """
    from engine import compare as cmp

    with open_workspace(workspace) as ws:
        cmp.vote(ws, run_id, outcome)
    if as_json:
        emit_json({"run_id": run_id, "outcome": outcome.lower()})
    else:
        click.echo(f"vote recorded for run {run_id}: {outcome.lower()}")


@compare.command("reveal")
@click.argument("run_id", type=int)
@click.option("--skip-vote", is_flag=True,
              help="Reveal a blind run that has no vote; it then takes none (a vote after a reveal is not blind).")
@workspace_option
@json_option
def compare_reveal(run_id: int, skip_vote: bool, workspace: Path | None, as_json: bool) -> None:
    """Show which model answered as A and which as B (a run's vote comes first, or --skip-vote).

    \b
    Examples:
      quarry compare reveal 12
      quarry compare reveal 12 --skip-vote
    """
    from engine import compare as cmp

    with open_workspace(workspace) as ws:
        names = cmp.reveal(ws, run_id, skip_vote=skip_vote)
    if as_json:
        emit_json({"run_id": run_id, "labels": names})
    else:
        for label, model in names.items():
            click.echo(f"{label}: {model}")


@compare.command("runs")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@workspace_option
@json_option
def compare_runs(limit: int, workspace: Path | None, as_json: bool) -> None:
    """List recent comparison runs, newest first.

    \b
    Example:
      quarry compare runs --limit 5
    """
    with open_workspace(workspace) as ws:
        runs = ws.store.compare_runs(limit=limit)
        votes = {v.run_id: v.outcome for v in ws.store.compare_votes()}
    if as_json:
        emit_json([{"run_id": r.id, "prompt": r.prompt, "models": None if r.blind and not r.revealed else r.models,
                    "blind": r.blind, "vote": votes.get(r.id), "settings": r.settings, "status": r.status,
                    "created_at": r.created_at} for r in runs])
        return
    for r in runs:
        who = "blind" if r.blind and not r.revealed else ", ".join(r.models)
        vote = f" vote {votes[r.id]}" if r.id in votes else ""
        click.echo(f"{r.id:5}  {who:32} {' '.join(r.prompt.split())[:60]}{vote}")


@compare.command("batch")
@click.argument("source", required=False, type=FileOrTable())
@_models_option
@_settings_options
@click.option("--resume", "resume_id", type=int, default=None, help="Go on with an unfinished batch's job id.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the CSV and Markdown export (default: <workspace>/exports).")
@workspace_option
@json_option
def compare_batch(source, models_csv, temperature, max_tokens, seed, system_prompt, rag, k, resume_id,
                  out: Path | None, workspace: Path | None, as_json: bool) -> None:
    """Run a prompt set against the models: a .txt file (a prompt a line), a .jsonl file
    ({"prompt": ..., "reference": ...} a line) or table:NAME (an ingested table with a prompt column).
    Prints per-model speed and, with references, agreement; writes CSV and Markdown.

    \b
    Examples:
      quarry compare batch prompts.txt --models smollm2-135m,gemma3-270m
      quarry compare batch bench/questions.jsonl --models smollm2-135m,gemma3-270m --rag --json
      quarry compare batch table:eval_prompts --models smollm2-135m,gemma3-270m
    """
    from engine import jobs
    from engine.compare import batch as batches
    from tui.commands.progress import follow

    with open_workspace(workspace) as ws:
        if resume_id is not None:
            run = jobs.resume(ws, resume_id)
        elif not source:
            raise click.UsageError("give a prompt set (FILE or table:NAME), or --resume JOB")
        else:
            run = batches.start_batch(ws, source, _split(models_csv),
                                      _settings(temperature, max_tokens, seed, system_prompt, rag, k))
        result = follow(run, quiet=as_json)
        if run.status != "done" or not result:
            raise click.ClickException(f"batch job {run.id} {run.status}: {run.error or 'stopped'}; "
                                       f"`quarry compare batch --resume {run.id}` goes on")
        csv_path, md_path = batches.export(ws, result["batch_id"], out)
    if as_json:
        emit_json(result | {"csv": str(csv_path), "markdown": str(md_path)})
        return
    _print_summary(result)
    click.echo(f"wrote {csv_path} and {md_path}", err=True)


def _print_summary(result: dict) -> None:
    columns = ["model", "answered", "failed", "ttft_ms", "tokens_per_s", "contains", "similarity",
               "supported_share"]
    rows = [[("–" if r[c] is None else f"{r[c]:g}" if isinstance(r[c], float) else str(r[c])) for c in columns]
            for r in result["summary"]]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)))


@cli.command()
@click.option("--rounds", type=click.IntRange(10, 5000), default=200, show_default=True,
              help="Bootstrap resamples behind the 95% intervals.")
@workspace_option
@json_option
def leaderboard(rounds: int, workspace: Path | None, as_json: bool) -> None:
    """Show model ratings from blind votes: Elo and Bradley–Terry with 95% bootstrap intervals.

    \b
    Examples:
      quarry leaderboard
      quarry leaderboard --json
    """
    from engine import compare as cmp

    with open_workspace(workspace) as ws:
        board = cmp.board(ws, [e.id for e in cmp.chat_models()], rounds=rounds)
    if as_json:
        emit_json(board.to_dict())
        return
    if not board.ratings:
        click.echo("No votes yet: run `quarry compare --blind \"...\" --models a,b` and vote.")
    else:
        click.echo(f"{'#':>2}  {'MODEL':24} {'BT':>6} {'95% CI':>13} {'ELO':>6} {'95% CI':>13} {'VOTES':>5}  W-T-L")
        for i, r in enumerate(board.ratings, start=1):
            click.echo(f"{i:>2}  {r.model:24} {r.bt:6.0f} {f'{r.bt_low:.0f}–{r.bt_high:.0f}':>13} {r.elo:6.0f} "
                       f"{f'{r.elo_low:.0f}–{r.elo_high:.0f}':>13} {r.votes:>5}  {r.wins}-{r.ties + r.both_bad}-"
                       f"{r.losses}")
    if board.next_pair:
        click.echo(f"\nLeast certain next: {board.next_pair[0]} vs {board.next_pair[1]}", err=True)


@models.command("add-remote")
@click.argument("url")
@click.option("--name", "api_model", required=True, help="The model name the server serves.")
@click.option("--id", "model_id", help="Id to give it in Quarry (default: the name).")
@click.option("--api-key-env", help="Environment variable that holds the API key (the key is never stored).")
@click.option("--timeout", "timeout_s", type=Number(0.1, 3600), default=None,
              help="Seconds to wait for the server before giving up (default 60).")
@click.option("--n-ctx", type=click.IntRange(16, 1 << 21), default=None, help="The server's context length.")
@click.option("--lang", "languages", default="en", show_default=True, help="Languages it reads, e.g. zh,en.")
def models_add_remote(url, api_model, model_id, api_key_env, timeout_s, n_ctx, languages) -> None:
    """Register a model on an OpenAI-compatible server (llama.cpp's server, vLLM) by URL and name.

    \b
    Examples:
      quarry models add-remote http://gpu-box:8080/v1 --name qwen2.5-7b-instruct --id team-qwen
      quarry models add-remote https://llm.example.com/v1 --name llama-3.1-8b --api-key-env TEAM_LLM_KEY
    """
    from engine.models import catalog

    entry = catalog.add_remote(url, api_model, model_id, api_key_env, timeout_s, n_ctx, languages)
    key = f" (API key from ${entry.api_key_env})" if entry.api_key_env else ""
    click.echo(f"{entry.id}: registered remote model {entry.api_model} at {entry.url}{key}")
