"""`quarry labels ...` (label sets) and `quarry classify ...` (texts, batches, evaluation, runs)."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, load_settings, open_workspace, workspace_option
from tui.params import Number

METHOD_CHOICES = ["auto", "zero-shot", "embedding", "lexical", "stack", "llm", "tabular"]
DEMO_CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"
DEMO_SETS = [  # (set, ingested table or a demo file, text column, features, label column)
    ("reviews", "t_reviews", "text", None, "sentiment"),
    ("tickets", "t_support_tickets", "text", None, "intent"),
    ("credit", DEMO_CREDIT, None,
     ["age", "income", "debt_ratio", "employment_years", "past_defaults", "region", "loan_amount"], "outcome"),
]


def _llm_model(model: str | None) -> str:
    if model:
        return model
    return load_settings().model


# -- labels ---------------------------------------------------------------------------------------
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
        click.echo(f"{s.name:16} {s.kind:8} {len(s.labels):>6} {s.examples:>8}  {', '.join(s.labels)[:60]}")


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
@workspace_option
@json_option
def labels_import(name: str, table: str | None, file: Path | None, text_column: str | None, features: str | None,
                  label_column: str, workspace: Path | None, as_json: bool) -> None:
    """Import labelled examples from a table or file into a label set (created if new).

    \b
    Examples:
      quarry labels import reviews --table reviews --text-column text --label-column sentiment
      quarry labels import credit --file apps.parquet --features '*' --label-column outcome
    """
    from engine.classify import sets

    feature_list = [f.strip() for f in features.split(",") if f.strip()] if features else None
    with open_workspace(workspace) as ws:
        found, added = sets.import_examples(ws, name, label_column, table, file, text_column, feature_list)
    if as_json:
        emit_json({"name": found.name, "added": added, "labels": found.labels, "counts": found.counts})
    else:
        click.echo(f"imported {added} examples into '{found.name}' ({found.kind}); "
                   + ", ".join(f"{k} {v}" for k, v in found.counts.items()))


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
    from engine.classify import sets

    with open_workspace(workspace) as ws:
        found = sets.get(ws, name)
        trained = ws.store.heads(found.id)
    if as_json:
        emit_json({"name": found.name, "kind": found.kind, "features": found.features, "labels": [
            {"name": n, "description": found.descriptions.get(n, ""), "examples": found.counts.get(n, 0)}
            for n in found.labels], "heads": [{"method": m, "detail": d, "trained_at": t} for m, d, t in trained]})
        return
    click.echo(f"{found.name} ({found.kind}, {found.examples} examples)")
    if found.features:
        click.echo(f"features: {', '.join(found.features)}")
    for n in found.labels:
        description = found.descriptions.get(n) or ""
        click.echo(f"  {n:24} {found.counts.get(n, 0):>6}  {description}")
    for method, detail, when in trained:
        choice = detail.get("choice") or {}
        picked = f" -> {choice['method']}" if choice.get("method") else ""
        click.echo(f"head {method}{picked} trained {when:%Y-%m-%d %H:%M}")


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
        for name, table, text_column, features, label_column in DEMO_SETS:
            if ws.store.label_set(name) is not None:
                click.echo(f"label set '{name}' exists")
                continue
            file = table if isinstance(table, Path) else None
            if file is None and not ws.store.table_exists(table):
                click.echo(f"skipped '{name}': no table {table} (ingest demo/docs first)", err=True)
                continue
            if file is not None and not file.exists():
                click.echo(f"skipped '{name}': no file {file}", err=True)
                continue
            found, added = sets.import_examples(ws, name, label_column, None if file else table, file,
                                                text_column, features)
            click.echo(f"label set '{name}': {added} examples, labels {', '.join(found.labels)}")


# -- classify -------------------------------------------------------------------------------------
class ClassifyGroup(click.Group):
    """`quarry classify TEXT...` runs the hidden `text` command unless the first word is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["text", *args]
        elif not args:
            args = ["text"]
        return super().parse_args(ctx, args)


@cli.group(cls=ClassifyGroup)
def classify() -> None:
    """Classify texts, a table column or a file with a label set; evaluate methods; list runs.

    \b
    Examples:
      quarry classify "Where is my parcel?" --label-set tickets
      quarry classify "物流很快，质量不错" --label-set reviews --method all
      cat texts.txt | quarry classify --label-set tickets      (one text per line)
      quarry classify --table reviews --column text --label-set reviews --export out.csv
      quarry classify --file apps.csv --label-set credit --method tabular
      quarry classify eval --label-set reviews --method all
      quarry classify runs
    """


@classify.command("text", hidden=True)
@click.argument("texts", nargs=-1)
@click.option("--label-set", "-s", "label_set", help="The label set (default: the only one, if only one).")
@click.option("--method", "-m", default="auto", show_default=True, type=click.Choice(METHOD_CHOICES + ["all"]),
              help="Method; 'all' shows every method side by side (texts only).")
@click.option("--table", "-t", help="Classify a column of this workspace table (a batch job).")
@click.option("--file", "-f", "file", type=click.Path(path_type=Path), help="Classify a column of this file.")
@click.option("--column", "-c", help="The text column (batch); tabular sets read their feature columns.")
@click.option("--output", "-o", help="Output table (default c_<source>_<label set>).")
@click.option("--export", "export", type=click.Path(path_type=Path), help="Also write a .csv or .parquet file.")
@click.option("--model", help="Chat model of the llm method (default: the settings' model).")
@workspace_option
@json_option
def classify_text(texts: tuple[str, ...], label_set: str | None, method: str, table: str | None, file: Path | None,
                  column: str | None, output: str | None, export: Path | None, model: str | None,
                  workspace: Path | None, as_json: bool) -> None:
    """Classify texts (or a table/file column as a batch job that resumes after a crash)."""
    from engine.classify import ClassifyError, heads

    texts = _with_piped(texts, reading=not table and not file)
    with open_workspace(workspace) as ws:
        label_set = label_set or _only_set(ws)
        llm_model = _llm_model(model) if method in ("llm", "all") else model
        if table or file:
            _batch(ws, label_set, column, table, file, method, output, export, llm_model, as_json)
            return
        if not texts:
            raise ClassifyError("give texts to classify, or --table/--file with --column")
        if method == "all":
            rows = [heads.compare(ws, label_set, text, llm_model) for text in texts]
            _print_compare(texts, rows, as_json)
            return
        predictions, head = heads.classify(ws, label_set, list(texts), method, llm_model)
    if head.choice:
        click.echo(head.choice.line(), err=True)
    if as_json:
        emit_json({"label_set": label_set, "method": head.used, "auto": head.choice.to_dict() if head.choice else None,
                   "predictions": [{"text": t, **p.to_dict()} for t, p in zip(texts, predictions)]})
        return
    for text, p in zip(texts, predictions):
        runner = f"  (then {p.runner_up})" if p.runner_up else ""
        click.echo(f"{p.label}\t{p.confidence:.2f}\t{p.method}{runner}\t{' '.join(text.split())[:70]}")


def _with_piped(texts: tuple[str, ...], reading: bool) -> tuple[str, ...]:
    """Gives the texts, adding one per line of stdin when it has data now or `-` is given; an idle pipe
    is never waited on, and stdin is size-limited and decoded like chat's (one reader for both)."""
    from tui.commands.talk import _read_stdin, _stdin_ready

    wait = "-" in texts
    texts = tuple(t for t in texts if t != "-")
    if reading and (wait or (not texts and _stdin_ready())):
        texts += tuple(line for line in _read_stdin().splitlines() if line.strip())
    return texts


def _only_set(ws) -> str:
    from engine.classify import ClassifyError

    names = ws.store.label_set_names()
    if len(names) == 1:
        return names[0]
    if not names:
        raise ClassifyError("no label sets yet; create one with `quarry labels create` or `quarry labels import`")
    raise ClassifyError(f"give --label-set: one of {', '.join(names[:12])}")


def _print_compare(texts, rows, as_json: bool) -> None:
    if as_json:
        emit_json([{"text": t, "methods": [{"method": c.method, "ms": round(c.ms, 1), "error": c.error,
                                             "note": c.note, **(c.prediction.to_dict() if c.prediction else {})}
                                            for c in compared]} for t, compared in zip(texts, rows)])
        return
    for text, compared in zip(texts, rows):
        click.echo(" ".join(text.split())[:100])
        for c in compared:
            if c.prediction is None:
                click.echo(f"  {c.method:10} -  {c.error}")
                continue
            p = c.prediction
            extra = f"  [{c.note}]" if c.note else ""
            click.echo(f"  {c.method:10} {p.label:20} {p.confidence:5.2f}  then {p.runner_up or '-':16} "
                       f"{c.ms:7.1f} ms{extra}")


def _batch(ws, label_set, column, table, file, method, output, export, llm_model, as_json) -> None:
    from engine.classify import ClassifyError, batch
    from tui.commands.progress import follow

    run = batch.run(ws, label_set, column or "", table, file, method, output, export, llm_model)
    click.echo(f"job {run.id}: classifying into table {run.job.params['output']}", err=True)
    summary = follow(run, quiet=as_json)
    if run.status != "done" or summary is None:
        raise ClassifyError(f"job {run.id} stopped ({run.status}); run the same command again to resume")
    if as_json:
        emit_json({"job": run.id, **summary})
        return
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items())
    click.echo(f"{summary['rows']} rows into {summary['output']} ({summary['method']}): {counts}")
    if summary.get("export"):
        click.echo(f"wrote {summary['export']}")


@classify.command("eval")
@click.option("--label-set", "-s", "label_set", help="Evaluate on this label set's examples (held-out split).")
@click.option("--train", "train_file", type=click.Path(path_type=Path), help="Training file (CSV/Parquet/XLSX).")
@click.option("--test", "test_file", type=click.Path(path_type=Path), help="Test file (CSV/Parquet/XLSX).")
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option("--method", "-m", default="all", show_default=True, type=click.Choice(METHOD_CHOICES + ["all"]))
@click.option("--test-fraction", default=0.25, show_default=True, type=Number(0.05, 0.9),
              help="Held-out share of a label set's examples.")
@click.option("--model", help="Chat model of the llm method (default: the settings' model).")
@workspace_option
@json_option
def classify_eval(label_set: str | None, train_file: Path | None, test_file: Path | None, text_column: str,
                  label_column: str, method: str, test_fraction: float, model: str | None, workspace: Path | None,
                  as_json: bool) -> None:
    """Evaluate methods: accuracy, macro-F1, per-label P/R, confusion matrix, texts/s, learning curve.

    \b
    Examples:
      quarry classify eval --label-set reviews
      quarry classify eval --label-set credit --json
      quarry classify eval --train train.csv --test test.csv --text-column text --label-column intent -m lexical
    """
    from engine.classify import ClassifyError, evaluate, heads, sets
    from engine.classify.sources import open_file, read

    def say(message: str) -> None:
        click.echo(message, err=True)

    with open_workspace(workspace) as ws:
        if label_set:
            found = sets.get(ws, label_set)
            data = sets.examples(ws, found)
            if test_file:
                source = open_file(ws, test_file)
                rows = read(ws, source, [text_column, label_column])
                test = sets.from_rows([r[0] for r in rows], [r[1] for r in rows], str(test_file), found.labels)
                train = data
            else:
                train, test = evaluate.split(data, test_fraction)
            source_name = f"label set {label_set}"
            tabular = found.kind == "tabular"
        elif train_file and test_file:
            parts = []
            for path, known in ((train_file, None), (test_file, "train")):
                source = open_file(ws, path)
                rows = read(ws, source, [text_column, label_column])
                parts.append(sets.from_rows([r[0] for r in rows], [r[1] for r in rows], str(path),
                                            parts[0].labels if known else None))
            train, test = parts
            source_name = f"{train_file.name} -> {test_file.name}"
            tabular = False
        else:
            raise ClassifyError("give --label-set S, or --train FILE and --test FILE")
        if method == "all":
            methods = ["tabular", "auto"] if tabular else ["zero-shot", "embedding", "lexical", "stack", "llm", "auto"]
        else:
            heads.check_method(method, tabular)
            methods = [method]
        llm_model = _llm_model(model) if "llm" in methods else None
        report = evaluate.evaluate(ws, train, test, methods, source_name, llm_model, progress=say,
                                   label_set=label_set)
    if as_json:
        emit_json(report.to_dict())
        return
    print_report(report)


def print_report(report) -> None:
    click.echo(f"{report.source}: {report.n_train} train, {report.n_test} test, {len(report.labels)} labels"
               f" (run {report.run_id})")
    click.echo(f"{'METHOD':18} {'ACC':>6} {'MACRO-F1':>8} {'TEXTS/S':>9} {'FIT S':>7}  CURVE (macro-F1 @ per label)")
    for m in report.methods:
        name = f"auto:{m.chosen}" if m.chosen else m.method
        curve = "  ".join(f"{p['per_label']}:{p['macro_f1']:.2f}" for p in m.curve)
        rate_digits = 0 if m.texts_per_s >= 10 else 1  # the LLM on 2 cores: under one text a second
        click.echo(f"{name:18} {m.accuracy:6.3f} {m.macro_f1:8.3f} {m.texts_per_s:9.{rate_digits}f} "
                   f"{m.fit_s:7.2f}  {curve}")
        if m.cv:
            click.echo(f"{'':18} CV macro-F1 {m.cv[0]:.3f} ± {m.cv[1]:.3f}")
        if m.note:
            click.echo(f"{'':18} {m.note}")
    best = report.best()
    click.echo(f"\nper label ({best.method}):")
    for label, v in best.per_label.items():
        click.echo(f"  {label:24} P {v['precision']:.2f}  R {v['recall']:.2f}  F1 {v['f1']:.2f}  n {v['support']}")
    click.echo(f"confusion ({best.method}; rows true, columns predicted):")
    width = max(6, *(len(label) for label in report.labels))
    click.echo(" " * (width + 2) + " ".join(f"{label[:6]:>6}" for label in report.labels))
    for label, row in zip(report.labels, best.confusion):
        click.echo(f"  {label:{width}}" + " ".join(f"{n:>6}" for n in row))


@classify.command("runs")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@workspace_option
@json_option
def classify_runs(limit: int, workspace: Path | None, as_json: bool) -> None:
    """List stored evaluation and batch runs, newest first.

    \b
    Example:
      quarry classify runs --limit 5
    """
    with open_workspace(workspace) as ws:
        rows = ws.store.classify_runs(limit)
    if as_json:
        emit_json([{"id": r.id, "kind": r.kind, "label_set": r.label_set, "source": r.source, "methods": r.methods,
                    "created_at": r.created_at, "summary": r.summary} for r in rows])
        return
    if not rows:
        click.echo("no runs yet (`quarry classify eval` or a batch makes one)")
        return
    for r in rows:
        if r.kind == "eval":
            scores = ", ".join(f"{(('auto:' + m['chosen']) if m.get('chosen') else m['method'])} "
                               f"{m['macro_f1']:.3f}" for m in r.summary.get("methods", []))
        else:
            scores = f"{r.summary.get('rows', 0)} rows -> {r.summary.get('output', '')}"
        click.echo(f"{r.id:>4} {r.created_at:%Y-%m-%d %H:%M} {r.kind:5} {r.label_set or '-':12} {scores}")
