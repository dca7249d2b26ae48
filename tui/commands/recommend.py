"""`quarry recommend` (for a user, an item or a text request), `quarry recommend import`, `quarry recommend eval`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import click

from engine.recommend.methods import METHODS  # no numpy: the one list of methods
from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option
from tui.params import FileOrTable, Number

METHOD_CHOICE = click.Choice(METHODS)
MAPPED = ("user", "item", "time", "event", "weight", "title", "text", "category", "price")


def mapping_options(fn: Callable) -> Callable:
    """Adds --interactions/--items and the --X-col column mapping options."""
    for key in reversed(MAPPED):
        fn = click.option(f"--{key}-col", f"{key}_col", metavar="COLUMN",
                          help=f"Column holding the {key} (default: found by its usual names).")(fn)
    fn = click.option("--items", "items", type=FileOrTable(), metavar="FILE|TABLE",
                      help="Catalog: CSV, Parquet or a DuckDB table (item id, title, text, category, price).")(fn)
    fn = click.option("--interactions", "interactions", type=FileOrTable(), metavar="FILE|TABLE",
                      help="Interactions: CSV, Parquet or a DuckDB table (user, item, time[, event, weight]).")(fn)
    return fn


def _mapping(kwargs: dict):
    from engine.store.recommendations import Mapping

    return Mapping(**{key: kwargs.pop(f"{key}_col") for key in MAPPED})


@cli.group(invoke_without_command=True)
@click.option("--user", "user", metavar="USER", help="Recommend for this user id.")
@click.option("--item", "item", metavar="ITEM", help="Items similar to this item id.")
@click.option("--query", "query", metavar="TEXT", help="Catalog items matching a request (filters parsed from it).")
@click.option("--method", "method", type=METHOD_CHOICE, default="hybrid", show_default=True,
              help="Which method ranks the items (ignored by --query).")
@click.option("--k", "k", type=int, default=10, show_default=True, help="How many items.")
@click.option("--category", help="Only items of this category.")
@click.option("--min-price", type=Number(), help="Only items at or above this price.")
@click.option("--max-price", type=Number(), help="Only items at or below this price.")
@click.option("--include-bought", is_flag=True, help="Keep items the user already bought.")
@workspace_option
@json_option
@click.pass_context
def recommend(ctx: click.Context, user: str | None, item: str | None, query: str | None, method: str, k: int,
              category: str | None, min_price: float | None, max_price: float | None, include_bought: bool,
              workspace: Path | None, as_json: bool) -> None:
    """Recommend items for a user, items like an item, or items matching a request, each with a reason.

    \b
    Examples:
      quarry recommend import --demo                       # the demo store's catalog and log
      quarry recommend --user u0042
      quarry recommend --user u0042 --method sequence --k 5 --json
      quarry recommend --item SD-001
      quarry recommend --query "a quiet chair for a small office under 200"
      quarry recommend eval
      quarry recommend dismiss u0042 SD-001
      quarry recommend undo u0042
    """
    if ctx.invoked_subcommand is not None:
        return
    from engine import recommend as rec
    from engine.errors import RecommendError

    given = [name for name, value in (("--user", user), ("--item", item), ("--query", query)) if value]
    if len(given) != 1:
        raise click.UsageError("give one of --user USER, --item ITEM or --query TEXT "
                               "(or a command: import, eval, accept, dismiss, undo); see --help")
    if k < 1:
        raise RecommendError(f"--k {k}: give a positive number of items, e.g. --k 10")
    filters = rec.Filters(category, min_price, max_price, exclude_bought=not include_bought)
    with open_workspace(workspace) as ws:
        engine = rec.recommender(ws)
        if user:
            result = engine.for_user(user, method, k, filters)
        elif item:
            filters.exclude_bought = False
            result = engine.similar(item, method, k, filters)
        else:
            filters.exclude_bought = False
            given_filters = filters if rec.filters_given(filters) else None
            result = engine.query(query, k, given_filters)
    if as_json:
        emit_json({"method": result.method, "note": result.note, "elapsed_ms": round(result.elapsed_ms, 2),
                   "filters": asdict(result.filters), "items": [asdict(r) for r in result.items]})
        return
    if result.note:
        click.echo(result.note)
    if not result.items:
        click.echo("no items pass the filters; widen the category or price range")
        return
    _print_items(result)
    click.echo(f"{result.method} · {result.elapsed_ms:.1f} ms", err=True)


def _print_items(result) -> None:
    rows = [(str(r.rank), r.item_id, r.title[:40], "" if r.price is None else f"{r.price:.2f}", f"{r.score:.3f}",
             r.reason) for r in result.items]
    _table(("#", "item", "title", "price", "score", "reason"), rows)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    from rich.cells import cell_len

    widths = [max(cell_len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells) -> str:
        return "  ".join(str(c) + " " * (w - cell_len(str(c))) for c, w in zip(cells, widths)).rstrip()

    click.echo(line(header))
    for row in rows:
        click.echo(line(row))


@recommend.command("import")
@mapping_options
@click.option("--demo", is_flag=True, help="Import the demo store (demo/store: 336 items, 1,200 users).")
@click.option("--append", is_flag=True, help="Add to what is there instead of replacing it.")
@workspace_option
@json_option
def import_cmd(interactions: str | None, items: str | None, demo: bool, append: bool, workspace: Path | None,
               as_json: bool, **cols) -> None:
    """Import a catalog and interactions (CSV, Parquet or a DuckDB table) with a column mapping.

    Columns are found by their usual names (user_id, item_id, timestamp, event, title, category, price …);
    name others with --user-col, --item-col, --time-col …. Exact duplicate events are dropped and counted;
    interactions for items missing from the catalog are kept and counted. A bad file changes nothing.

    \b
    Examples:
      quarry recommend import --demo
      quarry recommend import --items products.csv --interactions orders.parquet \\
          --user-col customer --item-col sku --time-col ordered_at
    """
    from engine import recommend as rec
    from tui.commands.progress import follow

    mapping = _mapping(cols)
    if demo:
        items, interactions = rec.demo_files()
    with open_workspace(workspace) as ws:
        run = rec.start_import(ws, interactions, items, mapping, append=append)
        reports = follow(run, quiet=as_json)
    if reports is None:
        raise click.ClickException(f"import cancelled (job {run.id}); the file it was reading changed nothing")
    if as_json:
        emit_json([asdict(r) for r in reports])
        return
    for report in reports:
        click.echo(report.line())
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)


@recommend.command("eval")
@mapping_options
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Cut-off of the metrics.")
@click.option("--max-users", type=click.IntRange(min=1), help="Score a random sample of this many test users.")
@click.option("--no-content", is_flag=True, help="Leave out the content method (no encoder needed).")
@workspace_option
@json_option
def eval_cmd(interactions: str | None, items: str | None, k: int, max_users: int | None, no_content: bool,
             workspace: Path | None, as_json: bool, **cols) -> None:
    """Evaluate every method leave-last-out by time; print HR, NDCG, MAP, coverage and novelty.

    Each user's last interaction is the test, the one before it tunes the hybrid's weights. Without
    --interactions the workspace's data is used; with it, the files are evaluated in a scratch workspace
    and the workspace's own data is left as it is. Every run is stored.

    \b
    Examples:
      quarry recommend eval
      quarry recommend eval --json
      quarry recommend eval --interactions ratings.csv --items movies.csv \\
          --user-col userId --item-col movieId --time-col timestamp
    """
    from engine import recommend as rec
    from tui.commands.progress import follow

    params = rec.eval_params(k, max_users, not no_content, interactions, items, _mapping(cols))
    with open_workspace(workspace) as ws:
        result = follow(rec.start_eval(ws, params), quiet=as_json)
    if result is None:
        raise click.ClickException("evaluation cancelled; nothing stored")
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(f"leave-last-out on {result.users:,} users, {result.events:,} interactions, {result.items:,} items"
               f" (run {result.run_id})")
    _table(("method", f"HR@{k}", f"NDCG@{k}", f"MAP@{k}", "coverage", "novelty", "fit s"),
           [(r.method, f"{r.hr:.3f}", f"{r.ndcg:.3f}", f"{r.map:.3f}", f"{r.coverage:.2f}", f"{r.novelty:.2f}",
             f"{r.fit_s:.2f}") for r in result.rows])
    click.echo("hybrid weights (tuned on validation): "
               + ", ".join(f"{n} {w:g}" for n, w in result.weights.items()))
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


@recommend.command("accept")
@click.argument("user")
@click.argument("item")
@workspace_option
def accept_cmd(user: str, item: str, workspace: Path | None) -> None:
    """Store that USER accepted the suggested ITEM: an interaction of its own type (`accept`) that the next fit
    learns from, kept out of evaluation's test steps; the item is no longer suggested to the user.

    \b
    Examples:
      quarry recommend accept u0042 SD-001
      quarry recommend undo u0042 SD-001
    """
    from engine.recommend.feedback import accept

    with open_workspace(workspace) as ws:
        feedback_id = accept(ws, user, item)
    click.echo(f"{user} accepted {item} (feedback {feedback_id}); the next recommendation refits with it")


@recommend.command("dismiss")
@click.argument("user")
@click.argument("item")
@workspace_option
def dismiss_cmd(user: str, item: str, workspace: Path | None) -> None:
    """Store that USER dismissed the suggested ITEM: it is never recommended to that user again (until undone).

    \b
    Examples:
      quarry recommend dismiss u0042 SD-001
      quarry recommend undo u0042
    """
    from engine.recommend.feedback import dismiss

    with open_workspace(workspace) as ws:
        feedback_id = dismiss(ws, user, item)
    click.echo(f"{user} dismissed {item} (feedback {feedback_id}); it is no longer suggested to {user}")


@recommend.command("undo")
@click.argument("user")
@click.argument("item", required=False)
@workspace_option
def undo_cmd(user: str, item: str | None, workspace: Path | None) -> None:
    """Undo USER's latest accept or dismissal (of ITEM when given).

    \b
    Examples:
      quarry recommend undo u0042
      quarry recommend undo u0042 SD-001
    """
    from engine.recommend.feedback import undo

    with open_workspace(workspace) as ws:
        undone = undo(ws, user, item)
    click.echo(f"undid {user}'s {undone.kind} of {undone.target} (feedback {undone.id})")
