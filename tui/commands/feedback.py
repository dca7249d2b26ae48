"""`quarry feedback list|export|remove|rate`: every piece of feedback (labels, answer ratings, accepted and
dismissed suggestions) with its time, listed, exported to CSV or Parquet, removed; an answer rated."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option

DETAIL_CHARS = 60


def _kind(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Checks --kind against the stored kinds when given (the store, and DuckDB with it, load only then:
    every `quarry` command imports this module)."""
    from engine.store.feedback import KINDS

    if value is not None and value not in KINDS:
        raise click.BadParameter(f"{value!r} is not a kind of feedback; use one of {', '.join(KINDS)}")
    return value


def kind_option(fn):
    return click.option("--kind", callback=_kind, metavar="label|rating|accept|dismiss",
                        help="Only this kind of feedback.")(fn)


def _one_line(text: str, limit: int = DETAIL_CHARS) -> str:
    """Gives text on one line (control characters as spaces), cut to `limit` characters with …."""
    flat = " ".join("".join(" " if ch < " " or ch == "\x7f" else ch for ch in str(text)).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _about(item) -> str:
    """Gives what a piece of feedback was about, for the table: the question, the item's title, the text."""
    detail = item.detail or {}
    about = detail.get("question") or detail.get("title") or detail.get("text") or ""
    passage = detail.get("passage")
    if passage:
        about += f" → {passage.get('path', '').rsplit('/', 1)[-1]} (passage {passage.get('chunk_id')})"
    return _one_line(about)


@cli.group()
def feedback() -> None:
    """List, export and remove the feedback given in every pane; rate an answer.

    \b
    Examples:
      quarry feedback list
      quarry feedback list --kind rating --json
      quarry feedback export ratings.parquet --kind rating
      quarry feedback remove 12
      quarry feedback rate 42 bad --passage 318
    """


@feedback.command("list")
@kind_option
@workspace_option
@json_option
def list_cmd(kind: str | None, workspace: Path | None, as_json: bool) -> None:
    """List feedback, oldest first: labels given in review, answer ratings, accepted and dismissed items.

    \b
    Examples:
      quarry feedback list
      quarry feedback list --kind dismiss
      quarry feedback list --kind rating --json
    """
    from tui.commands.recommend import _table

    with open_workspace(workspace) as ws:
        items = ws.store.feedback(kind)
    if as_json:
        emit_json([i.to_dict() for i in items])
        return
    if not items:
        click.echo("no feedback yet" + (f" of kind {kind}" if kind else ""))
        return
    _table(("id", "when", "kind", "subject", "target", "value", "about"),
           [(str(i.id), i.to_dict()["created_at"] or "", i.kind, _one_line(i.subject, 24), _one_line(i.target, 24),
             _one_line(i.value, 16), _about(i)) for i in items])


@feedback.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@kind_option
@workspace_option
def export_cmd(path: Path, kind: str | None, workspace: Path | None) -> None:
    """Write feedback to a CSV or Parquet file (by its suffix), one row each with its time and detail (JSON).

    \b
    Examples:
      quarry feedback export feedback.csv
      quarry feedback export ratings.parquet --kind rating
    """
    target = str(path.expanduser().resolve())
    with open_workspace(workspace) as ws:
        n = ws.store.export_feedback(target, kind)
    click.echo(f"{n} rows written to {target}")


@feedback.command("remove")
@click.argument("feedback_id", type=int)
@workspace_option
def remove_cmd(feedback_id: int, workspace: Path | None) -> None:
    """Remove one piece of feedback by id (an accepted item's interaction goes with it).

    \b
    Example:
      quarry feedback remove 12
    """
    from engine.feedback import remove

    with open_workspace(workspace) as ws:
        item = remove(ws, feedback_id)
    click.echo(f"removed feedback {item.id} ({item.kind} {_one_line(item.value, 16)} on {_one_line(item.target, 40)})")


@feedback.command("rate")
@click.argument("message_id", type=int)
@click.argument("value", type=click.Choice(["good", "bad"]))
@click.option("--passage", "passage", type=int, metavar="CHUNK_ID",
              help="For a bad answer: the passage (chunk id, from `quarry search --json`) that does answer it.")
@workspace_option
def rate_cmd(message_id: int, value: str, passage: int | None, workspace: Path | None) -> None:
    """Rate an answer good or bad (its message id: `quarry ask --json` prints it); a bad one may point at
    the passage that answers it, which makes it a retrieval gold.

    \b
    Examples:
      quarry feedback rate 42 good
      quarry feedback rate 43 bad --passage 318
      quarry eval answers --from-ratings
    """
    from engine.documents.ratings import rate_answer

    with open_workspace(workspace) as ws:
        feedback_id = rate_answer(ws, message_id, value, passage)
    click.echo(f"rated answer {message_id} {value} (feedback {feedback_id})")
