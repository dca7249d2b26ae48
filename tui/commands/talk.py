"""`quarry chat` and `quarry ask`: streamed answers, stats on stderr, one JSON document with --json."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option


def _stats_line(stats) -> str:
    return (f"{stats.model} · TTFT {stats.ttft_ms:.0f} ms · {stats.completion_tokens} tokens · "
            f"{stats.tokens_per_s:.1f} tok/s · prompt {stats.prompt_tokens} "
            f"({stats.cached_tokens} cached)")


def _prompt_text(prompt: tuple[str, ...]) -> str:
    text = " ".join(prompt)
    if not sys.stdin.isatty():
        piped = sys.stdin.read().strip()
        text = f"{text}\n\n{piped}".strip() if piped else text
    if not text:
        raise click.UsageError("give a prompt, or pipe text on stdin")
    return text


@cli.command()
@click.argument("prompt", nargs=-1)
@click.option("--model", "-m", "model_id", help="Catalog model id (default: the settings' model).")
@click.option("--max-tokens", type=int, default=None, help="Most tokens to generate.")
@click.option("--temperature", type=float, default=None, help="0 for greedy.")
@click.option("--chat", "chat_id", type=int, help="Continue this chat id (see `quarry chats`).")
@workspace_option
@json_option
def chat(prompt, model_id, max_tokens, temperature, chat_id, workspace: Path | None, as_json: bool) -> None:
    """Chat with a local model; the answer streams to stdout, stats go to stderr.

    \b
    Examples:
      quarry chat "Name three ways to reduce customer churn."
      quarry chat --json --max-tokens 64 "Summarise our Q3 plan"
      cat notes.txt | quarry chat "Summarise this"
    """
    from engine import settings
    from engine.chat import Turn

    text = _prompt_text(prompt)
    conf = settings.load()
    params = conf.generation(max_tokens=max_tokens, temperature=temperature)
    with open_workspace(workspace) as ws:
        turn = Turn(ws, text, model_id=model_id or conf.model, chat_id=chat_id)
        for piece in turn.stream(params):
            if not as_json:
                click.echo(piece, nl=False)
        reply = turn.reply
    if as_json:
        emit_json({"chat_id": reply.chat_id, "message_id": reply.message_id, "answer": reply.text,
                   **reply.stats.to_dict()})
    else:
        click.echo()
        click.echo(_stats_line(reply.stats), err=True)


@cli.command()
@workspace_option
@json_option
def chats(workspace: Path | None, as_json: bool) -> None:
    """List the stored chats, newest first.

    \b
    Example:
      quarry chats --json
    """
    with open_workspace(workspace) as ws:
        rows = ws.store.chats()
    if as_json:
        emit_json([c.__dict__ for c in rows])
        return
    for c in rows:
        click.echo(f"{c.id:5}  {c.mode:5} {c.model or '-':14} {c.title}")
