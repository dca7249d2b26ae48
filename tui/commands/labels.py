"""`quarry labels ...`: label sets, the labels to classify into and their labelled examples."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option


@cli.group()
def labels() -> None:
    """Label sets: the labels to classify into and labelled examples.

    \b
    Examples:
      quarry labels create sentiment --label 好评 --label 中评 --label 差评
      quarry labels import reviews --table reviews --text-column text --label-column sentiment
      quarry labels list
    """


@labels.command("list")
@workspace_option
@json_option
def labels_list(workspace: Path | None, as_json: bool) -> None:
    """List label sets with their labels and example counts.

    \b
    Example:
      quarry labels list --json
    """
    with open_workspace(workspace) as ws:
        found = [ws.store.label_set(name) for name in ws.store.label_set_names()]
    if as_json:
        emit_json([{"name": s.name, "kind": s.kind, "labels": s.labels, "examples": s.examples} for s in found])
        return
    if not found:
        click.echo("no label sets (create one with `quarry labels create` or `quarry labels import`)")
        return
    click.echo(f"{'NAME':16} {'KIND':8} {'LABELS':>6} {'EXAMPLES':>8}  LABEL NAMES")
    for s in found:
        click.echo(f"{_pad(s.name, 16)} {s.kind:8} {len(s.labels):>6} {s.examples:>8}  {', '.join(s.labels)[:60]}")


@labels.command("create")
@click.argument("name")
@click.option("--label", "-l", "label_specs", multiple=True, required=True,
              help="A label, optionally with a description: 'refund=asks for money back'. Repeat.")
@workspace_option
@json_option
def labels_create(name: str, label_specs: tuple[str, ...], workspace: Path | None, as_json: bool) -> None:
    """Create a label set from label names (and descriptions, which zero-shot and the LLM read).

    \b
    Examples:
      quarry labels create sentiment -l 好评 -l 中评 -l 差评
      quarry labels create intent -l "refund=wants money back" -l "shipping=where is my parcel"
    """
    from engine.classify import sets

    pairs = [tuple(spec.split("=", 1)) if "=" in spec else (spec, "") for spec in label_specs]
    with open_workspace(workspace) as ws:
        found = sets.create(ws, name, pairs)
    if as_json:
        emit_json({"name": found.name, "labels": found.labels})
    else:
        click.echo(f"created label set '{found.name}' with {len(found.labels)} labels: {', '.join(found.labels)}")


@labels.command("import")
@click.argument("name")
@click.option("--table", "-t", help="A workspace table (an ingested CSV is t_<file stem>; the stem works too).")
@click.option("--file", "-f", "file", type=click.Path(path_type=Path), help="A CSV, Parquet or XLSX file.")
@click.option("--text-column", help="The column with the text (text label sets).")
@click.option("--features", help="Comma-separated feature columns, or '*' for all but the label (tabular sets).")
@click.option("--label-column", required=True, help="The column with the label.")
@click.option("--skip-unlabelled", is_flag=True,
              help="Leave out rows with a blank label, and rows already imported with the same label (a "
                   "least-sure export filled in part, imported as you go); without it a blank label is an error.")
@workspace_option
@json_option
def labels_import(name: str, table: str | None, file: Path | None, text_column: str | None, features: str | None,
                  label_column: str, skip_unlabelled: bool, workspace: Path | None, as_json: bool) -> None:
    """Import labelled examples from a table or file into a label set (created if new).

    \b
    Examples:
      quarry labels import reviews --table reviews --text-column text --label-column sentiment
      quarry labels import credit --file apps.parquet --features '*' --label-column outcome
      quarry labels import reviews --file least-sure.csv --text-column text --label-column label --skip-unlabelled
    """
    from engine.classify import sets

    feature_list = [f.strip() for f in features.split(",") if f.strip()] if features else None
    with open_workspace(workspace) as ws:
        before = ws.store.label_set(name)
        found, added, skipped = sets.import_examples(ws, name, label_column, table, file, text_column, feature_list,
                                                     skip_unlabelled)
    # a label the set lacked is added, not refused (a set grows with its data); said, since a typo in a
    # filled-in review export otherwise became a label of its own without a word
    new = [label for label in found.labels if before is not None and label not in before.labels]
    if as_json:
        emit_json({"name": found.name, "added": added, "labels": found.labels, "counts": found.counts,
                   "skipped": skipped, "new_labels": new})
        return
    left_out = [f"{n} {why}" for why, n in (("with no label", skipped["unlabelled"]),
                                             ("already examples", skipped["already"])) if n]
    click.echo(f"imported {added} examples into '{found.name}' ({found.kind}); "
               + ", ".join(f"{k} {v}" for k, v in found.counts.items())
               + (f"; left out {' and '.join(left_out)}" if left_out else ""))
    if new:
        click.echo(f"warning: {len(new)} new label{'s' if len(new) > 1 else ''} in '{found.name}': "
                   f"{', '.join(new[:10])}{' …' if len(new) > 10 else ''} (a typo? `quarry labels show"
                   f" {found.name}` lists its labels)", err=True)


@labels.command("show")
@click.argument("name")
@workspace_option
@json_option
def labels_show(name: str, workspace: Path | None, as_json: bool) -> None:
    """Show a label set: labels, descriptions, example counts and trained heads.

    \b
    Example:
      quarry labels show reviews
    """
    from dataclasses import asdict

    from engine.classify import sets

    with open_workspace(workspace) as ws:
        found = sets.get(ws, name)
        trained = ws.store.heads(found.id)
    if as_json:
        emit_json({"name": found.name, "kind": found.kind, "features": found.features, "labels": [
            {"name": n, "description": found.descriptions.get(n, ""), "examples": found.counts.get(n, 0)}
            for n in found.labels], "heads": [asdict(h) for h in trained]})
        return
    click.echo(f"{found.name} ({found.kind}, {found.examples} examples)")
    if found.features:
        click.echo(f"features: {', '.join(found.features)}")
    for n in found.labels:
        description = found.descriptions.get(n) or ""
        click.echo(f"  {_pad(n, 24)} {found.counts.get(n, 0):>6}  {description}")
    for head in trained:
        choice = head.detail.get("choice") or {}
        picked = f" -> {choice['method']}" if choice.get("method") else ""
        click.echo(f"head {head.method}{picked} trained {head.trained_at:%Y-%m-%d %H:%M}")


@labels.command("delete")
@click.argument("name")
@workspace_option
def labels_delete(name: str, workspace: Path | None) -> None:
    """Delete a label set with its examples and trained heads.

    \b
    Example:
      quarry labels delete old-intents
    """
    from engine.classify import sets

    with open_workspace(workspace) as ws:
        sets.delete(ws, name)
    click.echo(f"deleted label set '{name}'")


@labels.command("add")
@click.argument("name")
@click.argument("label")
@click.argument("text")
@click.option("--new-label", is_flag=True, help="Add LABEL to the set when it does not have it yet.")
@workspace_option
def labels_add(name: str, label: str, text: str, new_label: bool, workspace: Path | None) -> None:
    """Add one typed example to a label set (a label it does not have needs --new-label).

    \b
    Examples:
      quarry labels add tickets refund_request "I want my money back"
      quarry labels add tickets complaint "This is the third broken chair" --new-label
    """
    from engine.classify import sets

    with open_workspace(workspace) as ws:
        found = sets.add_example(ws, name, text, label, new_label=new_label)
    click.echo(f"'{found.name}' now has {found.examples} examples")


@labels.command("demo")
@workspace_option
def labels_demo(workspace: Path | None) -> None:
    """Create the demo label sets (reviews, tickets, credit) from the ingested demo tables; skips existing ones.

    \b
    Example:
      quarry ingest demo/docs && quarry labels demo
    """
    from engine.classify import sets

    with open_workspace(workspace) as ws:
        for _name, created, line in sets.create_demo(ws):
            click.echo(line, err=not created and "skipped" in line)


def _pad(text: str, width: int) -> str:
    """Gives `text` padded to `width` terminal cells (a Chinese character takes two: f"{x:24}" counts one)."""
    from rich.cells import cell_len

    return text + " " * (width - cell_len(text))
