"""`quarry classify ...`: texts, a table or file column as a batch job, evaluation as a job, stored runs."""

from __future__ import annotations

from pathlib import Path

import click

from engine.classify.methods import METHODS  # no numpy: the one list of methods
from tui.cli import cli, emit_json, json_option, open_workspace, workspace_option
from tui.params import Number

METHOD_CHOICES = list(METHODS)


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
      quarry classify --table reviews --column text --label-set reviews --ray   (on a local Ray, or RAY_ADDRESS)
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
@click.option("--ray", "ray", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Label a batch on Ray Data: a local Ray, or the cluster at ADDRESS / RAY_ADDRESS"
                   " (needs the scale extra).")
@workspace_option
@json_option
def classify_text(texts: tuple[str, ...], label_set: str | None, method: str, table: str | None, file: Path | None,
                  column: str | None, output: str | None, export: Path | None, model: str | None,
                  ray: str | None, workspace: Path | None, as_json: bool) -> None:
    """Classify texts (or a table/file column as a batch job that resumes after a crash)."""
    from engine.classify import ClassifyError, heads, sets
    from engine.classify.methods import chat_model

    texts = _with_piped(texts, reading=not table and not file)
    with open_workspace(workspace) as ws:
        label_set = label_set or sets.only_name(ws)
        llm_model = chat_model(model) if method in ("llm", "all") else model
        if table or file:
            _batch(ws, label_set, column, table, file, method, output, export, llm_model, as_json, ray)
            return
        if ray is not None:
            raise ClassifyError("--ray labels a batch: give --table or --file with --column")
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


def _batch(ws, label_set, column, table, file, method, output, export, llm_model, as_json, ray=None) -> None:
    from engine.classify import ClassifyError, batch
    from tui.commands.progress import follow

    run = batch.run(ws, label_set, column or "", table, file, method, output, export, llm_model, ray=ray)
    click.echo(f"job {run.id}: classifying into table {run.job.params['output']}", err=True)
    summary = follow(run, quiet=as_json)
    if run.status != "done" or summary is None:
        raise ClassifyError(f"job {run.id} stopped ({run.status}); run the same command again to resume")
    if as_json:
        emit_json({"job": run.id, **summary})
        return
    counts = ", ".join(f"{'unlabelled' if k is None else k} {v}" for k, v in summary["counts"].items()) or "no rows"
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
    from engine.classify import evaluate
    from tui.commands.progress import follow

    params = evaluate.eval_params(label_set, train_file, test_file, text_column, label_column, method,
                                  test_fraction, model)
    with open_workspace(workspace) as ws:
        run = evaluate.start_eval(ws, params)
        report = follow(run, quiet=as_json)
    if report is None:
        raise click.ClickException(f"evaluation cancelled; `quarry jobs resume {run.id}` keeps the methods scored")
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


@classify.command("review")
@click.argument("label_set")
@click.option("--batch", "-b", "batch_table", help="A batch's output table (`quarry classify runs` lists them).")
@click.option("--table", "-t", help="Or a workspace table whose rows are not yet examples of the set ...")
@click.option("--file", "-f", "file", type=click.Path(path_type=Path), help="... or a CSV/Parquet/XLSX file.")
@click.option("--column", "-c", help="The text column of --table or --file.")
@click.option("--method", "-m", default="auto", show_default=True,
              type=click.Choice(["auto", "lexical", "embedding", "stack", "zero-shot"]),
              help="The method refitted after each answer (auto: the batch's, else auto's choice for the set).")
@click.option("--export", "export", type=click.Path(path_type=Path),
              help="Write the least-sure rows to a .csv or .parquet file instead of asking.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="How many rows --export writes.")
@workspace_option
@json_option
def classify_review(label_set: str, batch_table: str | None, table: str | None, file: Path | None,
                    column: str | None, method: str, export: Path | None, limit: int, workspace: Path | None,
                    as_json: bool) -> None:
    """Review the rows a method is least sure of: answer each with a label; each answer becomes an example,
    the method is refitted and the rest re-ranked. A label given to a batch row replaces the model's in
    that batch's table and export, and stays through a re-run of the batch.

    Answers are read one per line: a label number (1–9), a label name, +NAME to add a new label, s to skip,
    u to undo, q to quit. Piped answers work.

    \b
    Examples:
      quarry classify review reviews --batch c_reviews_reviews
      printf '1\\n2\\ns\\nu\\nq\\n' | quarry classify review reviews --batch c_reviews_reviews
      quarry classify review tickets --table t_support_tickets --column text --method lexical
      quarry classify review reviews --batch c_reviews_reviews --export least-sure.csv --limit 50
    """
    from engine.classify import ClassifyError, review

    if bool(batch_table) + bool(table) + bool(file) != 1:
        raise ClassifyError("give one of --batch OUTPUT_TABLE, --table T --column C or --file F --column C")
    pool = max(review.POOL_ROWS, limit) if export is not None else review.POOL_ROWS  # an export may want more
    with open_workspace(workspace) as ws:
        if batch_table:
            queue = review.for_batch(ws, label_set, batch_table, method, pool)
        else:
            queue = review.for_rows(ws, label_set, column or "", table, file, method, pool)
        click.echo(queue.line(), err=True)
        if export is not None:
            n = review.export_least_sure(queue, export, limit)
            if as_json:
                emit_json({"export": str(export), "rows": n, "method": queue.method, "order": queue.order})
            else:
                click.echo(f"wrote the {n} least-sure rows to {export}; fill its label column, then"
                           f" `quarry labels import {label_set} --file {export} --text-column text"
                           " --label-column label --skip-unlabelled` (rows left blank are left out)")
            return
        try:
            steps = _review_loop(queue, quiet=as_json)
        except KeyboardInterrupt:  # ctrl-c: what was answered is stored; say so, not a bare "Aborted!"
            click.echo(f"\ninterrupted: {queue.answered} answered (stored), {queue.skipped} skipped,"
                       f" {len(queue.pending)} left", err=True)
            raise  # still an interrupt: a holder here stops its clients' commands too
        examples = ws.store.label_set(label_set).examples
    if as_json:
        emit_json({"label_set": label_set, "source": queue.source, "method": queue.method, "order": queue.order,
                   "answered": queue.answered, "skipped": queue.skipped, "left": len(queue.pending),
                   "answers": [{"target": s.row.target, "text": s.row.text, "label": s.label,
                                "feedback_id": s.feedback_id, "seconds": round(s.seconds, 3)} for s in steps]})
        return
    click.echo(f"{queue.answered} answered, {queue.skipped} skipped, {len(queue.pending)} left;"
               f" '{label_set}' now has {examples} examples")


def _review_loop(queue, quiet: bool) -> list:
    """Asks for the current row's label until q, the end of stdin or an empty queue; gives the answers kept.
    A wrong answer (a label the set lacks, undo past the start) is one line on stderr, and the loop goes on."""
    import sys

    from engine.errors import QuarryError

    out = click.echo if not quiet else (lambda *a, **k: None)
    read = 0
    while True:
        row = queue.current
        if row is None:  # the last answer can still be taken back
            click.echo("the queue is empty: every row is answered or skipped (u undoes the last, q ends)",
                       err=True)
            line = sys.stdin.readline()
            if line.strip() != "u":
                break
            try:
                step = queue.undo()
                click.echo(step.undone(), err=True)
            except QuarryError as exc:
                click.echo(f"error: {exc}", err=True)
                break
            continue
        out("")
        out(" ".join(row.text.split())[:400])
        labels = queue.labels
        model = "  ".join(f"{lab} {p:.2f}" for lab, p in row.top)
        out(f"  model: {model}   (margin {row.margin:.2f})")
        out("  " + "  ".join(f"{i + 1} {lab}" for i, lab in enumerate(labels[:9]))
            + ("  …" if len(labels) > 9 else "") + "   s skip  u undo  q quit")
        if not quiet:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:  # the end of piped answers
            out("")
            if not read and sys.stdin.isatty():  # a terminal that gave nothing: a served command has no prompt
                click.echo("no answers read: when the app holds this workspace, review there (the Classify"
                           " pane's review key, listed by ?) or pipe the answers", err=True)
            break
        read += 1
        typed = line.strip()
        if not typed:
            continue
        try:
            typed.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 (a Latin-1 file): a label made of them would be a bug
            click.echo("error: that answer is not UTF-8 text; give a label's number or name in UTF-8", err=True)
            continue
        try:
            if typed == "q":
                break
            if typed == "s":
                queue.skip()
            elif typed == "u":
                step = queue.undo()
                click.echo(step.undone(), err=True)
            else:
                order = queue.order
                step = queue.answer(typed)
                click.echo(f"  -> {step.label} ({step.seconds:.2f} s: stored, refitted, re-ranked)", err=True)
                if queue.order != order:  # a label added here: the queue orders as a set of that many labels
                    click.echo(queue.line(), err=True)
        except QuarryError as exc:
            click.echo(f"error: {exc}", err=True)
    return [s for s in queue.history if s.kind == "answer"]
