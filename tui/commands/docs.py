"""`quarry ingest`, `quarry docs`, `quarry search`, `quarry index info`, `quarry eval retrieval`."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, load_settings, open_workspace, workspace_option
from tui.commands.scoping import scope_from, scope_options


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--reembed", is_flag=True, help="Confirm re-embedding after an encoder or chunking change.")
@click.option("--ray", "ray", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Parse and encode on Ray Data: a local Ray, or the cluster at ADDRESS / RAY_ADDRESS"
                   " (needs the scale extra).")
@workspace_option
@json_option
def ingest(paths: tuple[Path, ...], reembed: bool, ray: str | None, workspace: Path | None,
           as_json: bool) -> None:
    """Ingest files and folders (txt md html pdf docx xlsx csv json parquet); incremental.

    Unchanged files are skipped, changed ones replaced and deleted ones removed. Files are committed in
    groups of about a second: an interrupted ingest resumes where it stopped.

    \b
    Examples:
      quarry ingest ~/Documents/policies
      quarry ingest report.pdf prices.xlsx --json
      quarry ingest ~/shared/archive --ray                  # a local Ray (or RAY_ADDRESS)
      quarry ingest /mnt/archive --ray 10.0.0.5:6379        # a Ray cluster; files at the same paths there
    """
    from engine.documents.ingest import start_ingest
    from tui.commands.progress import follow

    with open_workspace(workspace) as ws:
        summary = follow(start_ingest(ws, paths, reembed=reembed, ray=ray), line=_ingest_line, quiet=as_json)
    if as_json:
        emit_json(summary.__dict__)
    else:
        click.echo(summary.line())
    if summary.failed:
        raise SystemExit(1)  # any file that failed makes the run fail (each was named on stderr)


def _ingest_line(progress) -> str | None:
    """Gives the plain stderr line of one ingest progress: one per file ingested, failed or removed."""
    event = progress.data.get("event")
    where = f"[{progress.done}/{progress.total}]"
    if event == "failed":
        return f"{where} error: {progress.data['error']}"
    if event == "special":
        return f"{where} {progress.data['line']}"
    if event == "removed":
        return f"{where} removed {progress.data['path']}"
    if event == "reading":  # a big file before its parse, or a page of a scan read by OCR
        return f"{where} {progress.message}"
    if event == "embedding":
        return f"{where} {progress.message} ({progress.data['chunks_per_s']:.0f} chunks/s)"
    if event == "ingested":
        return (f"{where} {progress.data['path']}: {progress.data['chunks']} chunks"
                f" ({progress.data['chunks_per_s']:.0f} chunks/s)")
    return None


@cli.command()
@click.option("--remove", "remove_id", type=int, help="Remove the document with this id.")
@workspace_option
@json_option
def docs(remove_id: int | None, workspace: Path | None, as_json: bool) -> None:
    """List the library (or remove a document with --remove ID).

    \b
    Examples:
      quarry docs
      quarry docs --remove 12
    """
    from engine.documents.ingest import remove_document

    with open_workspace(workspace) as ws:
        if remove_id is not None:
            chunks = remove_document(ws, remove_id)
            click.echo(f"removed document {remove_id} ({chunks} chunks)")
            return
        rows = ws.store.documents()
    if as_json:
        emit_json([d.__dict__ for d in rows])
        return
    click.echo(f"{'ID':>4}  {'TYPE':7} {'PAGES':>5} {'CHUNKS':>6}  {'STATUS':7} FILE")
    for d in rows:
        click.echo(f"{d.id:>4}  {d.doctype:7} {d.pages or '-':>5} {d.chunks:>6}  {d.status:7} {d.path}")
        if d.error:
            click.echo(f"{'':27}{d.error}")


@cli.command()
@click.argument("query")
@click.option("--k", "k", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many hits (1-1000).")
@click.option("--mode", type=click.Choice(["vector", "keyword", "hybrid"]), default=None,
              help="How to search (default: the settings' search_mode, hybrid unless set).")
@click.option("--type", "doctype", help="Only documents of this type (pdf, md, csv, ...).")
@scope_options
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only documents modified on or after this date.")
@workspace_option
@json_option
def search(query: str, k: int, mode: str, doctype: str | None, path_globs: tuple[str, ...],
           doc_ids: tuple[int, ...], since, workspace: Path | None, as_json: bool) -> None:
    """Search the library: vector, keyword or hybrid (default).

    \b
    Examples:
      quarry search "return window for opened electronics"
      quarry search "退货政策" --mode keyword --json
      quarry search "warranty" --type pdf --path '*products*' --since 2026-01-01
      quarry search "return window" --path '*returns*' --doc 12
    """
    from engine.documents.scope import resolve
    from engine.documents.search import Filters

    scope = scope_from(path_globs, doc_ids)
    with open_workspace(workspace) as ws:
        mode = mode or load_settings().search_mode
        if scope:
            resolve(ws.store, scope)  # a glob or id that matches nothing is one line, not "no results"
        filters = Filters(doctype, None, since, scope.paths, scope.doc_ids)
        result = ws.searcher().search(query, k, mode, filters)
    if as_json:
        emit_json({"query": query, "mode": mode, "weights": result.weights, "timings_ms": result.timings_ms,
                   "hits": [{"file": h.path, "page": h.page, "chunk_id": h.chunk_id, "score": h.score,
                             "vector_score": h.vector_score, "keyword_score": h.keyword_score,
                             "heading": h.heading, "text": h.text, "ocr": h.ocr} for h in result.hits]})
        return
    if not result.hits:
        click.echo("no results")
    for h in result.hits:
        page = (f" p.{h.page}" if h.page else "") + (" (OCR)" if h.ocr else "")
        click.echo(click.style(f"{h.rank}. {h.path}{page}", bold=True) + f"  (score {h.score:.4f}, chunk {h.chunk_id})")
        click.echo("   " + " ".join(h.text.split())[:200])


@cli.group()
def index() -> None:
    """Inspect the search indexes."""


@index.command("info")
@workspace_option
@json_option
def index_info(workspace: Path | None, as_json: bool) -> None:
    """Show the vector index kind (exact or IVF), sizes and the DuckDB state they match.

    \b
    Example:
      quarry index info --json
    """
    with open_workspace(workspace) as ws:
        searcher = ws.searcher()
        info = searcher.vectors.info()
        data = {"vector_index": info.__dict__, "keyword_documents": searcher.keywords.count(),
                "chunks": ws.store.chunk_count(), "generation": ws.store.chunk_generation(),
                "encoder": ws.encoder_id, "encoder_provider": ws.encoder().info.provider,
                "rebuilt_on_open": searcher.rebuilt}
    if as_json:
        emit_json(data)
        return
    kind = "exact (flat inner product)" if info.kind == "flat" else f"IVF, {info.nlist} lists, nprobe {info.nprobe}"
    click.echo(f"vector index   {kind}; {info.vectors} vectors of {info.dimension} dims")
    click.echo(f"encoder        {data['encoder']} on {data['encoder_provider']}")
    click.echo(f"keyword index  tantivy; {data['keyword_documents']} chunks")
    click.echo(f"DuckDB         {data['chunks']} chunks; generation {data['generation']}"
               + (f"; rebuilt on open: {', '.join(searcher.rebuilt)}" if searcher.rebuilt else ""))


@index.command("encoder")
@click.argument("model_id", required=False)
@click.option("--variant", help="Exported graph: int8 or fp32 (default: int8 when on disk, twice as fast at the "
                                "same recall on the bench questions).")
@workspace_option
@json_option
def index_encoder(model_id: str | None, variant: str | None, workspace: Path | None, as_json: bool) -> None:
    """Show the workspace's encoder, or make MODEL_ID (a catalog encoder, e.g. one you added with
    `quarry models add model.onnx`) its encoder; stored chunks are then re-embedded by the next
    `quarry ingest PATH --reembed`.

    \b
    Examples:
      quarry index encoder
      quarry models add ~/models/e5-small/model.onnx --id e5-small
      quarry index encoder e5-small && quarry ingest ~/Documents --reembed
      quarry index encoder minilm-l6 --variant int8 && quarry ingest ~/Documents --reembed
    """
    from engine.runtime.encoder import available_variants

    with open_workspace(workspace) as ws:
        if model_id:
            ws.use_encoder(model_id, variant)
        data = {"encoder": ws.encoder_id, "variant": ws.encoder_variant,
                "variants_on_disk": available_variants(ws.encoder_id), "chunks": ws.store.chunk_count(),
                "reembed_needed": _reembed_needed(ws)}
    if as_json:
        emit_json(data)
        return
    click.echo(f"encoder  {data['encoder']} ({data['variant']}; on disk: {', '.join(data['variants_on_disk'])})")
    if data["reembed_needed"]:
        click.echo(f"{data['reembed_needed']} stored chunks were embedded with another encoder: "
                   "run `quarry ingest PATH --reembed`", err=True)


def _reembed_needed(ws) -> int:
    from engine.documents.ingest import reembed_needed

    return reembed_needed(ws)


@cli.group()
def eval() -> None:  # noqa: A001  (the command is called eval)
    """Evaluate retrieval and answers on your own question sets."""


def _questions_or_ratings(questions: Path | None, from_ratings: bool) -> None:
    if (questions is None) == (not from_ratings):
        raise click.UsageError("give a QUESTIONS file or --from-ratings (one of the two)")


@eval.command("retrieval")
@click.argument("questions", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--k", "k", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--from-ratings", is_flag=True,
              help="The golds of your ratings: each bad answer's question with the passage you pointed at.")
@workspace_option
@json_option
def eval_retrieval(questions: Path | None, k: int, from_ratings: bool, workspace: Path | None,
                   as_json: bool) -> None:
    """Recall@k and MRR per search mode over a JSONL file of {question, expected_file[, answer]}, or over
    the questions of answers rated bad with the passage that answers them.

    \b
    Examples:
      quarry eval retrieval bench/questions.jsonl --k 5
      quarry eval retrieval --from-ratings
    """
    from engine.documents.evaluate import evaluate_retrieval, read_questions

    _questions_or_ratings(questions, from_ratings)
    with open_workspace(workspace) as ws:
        left_out = 0
        if from_ratings:
            from engine.documents.ratings import retrieval_golds

            asked, left_out = retrieval_golds(ws)
        else:
            asked = read_questions(questions)
        report = evaluate_retrieval(ws, asked, k)
    if left_out:
        report["left_out"] = left_out
        click.echo(f"note: {left_out} rated question(s) left out: the passage they point at is in a document no"
                   " longer in the library", err=True)
    if as_json:
        emit_json(report)
        return
    click.echo(f"{'MODE':8} {'LANG':4} {'N':>4} {'RECALL@' + str(k):>9} {'MRR':>6}")
    for row in report["rows"]:
        click.echo(f"{row['mode']:8} {row['lang']:4} {row['n']:>4} {row['recall']:>9.3f} {row['mrr']:>6.3f}")


@eval.command("refusals")
@click.option("--lang", default="zh", show_default=True, type=click.Choice(["zh", "en"]),
              help="The language whose bar to fit (each language has its own).")
@click.option("--apply", is_flag=True, help="Store the fitted bar: this workspace then refuses below it.")
@workspace_option
@json_option
def eval_refusals(lang: str, apply: bool, workspace: Path | None, as_json: bool) -> None:
    """Refit this workspace's refusal bar from your rated answers: fitted on one half of them, false and
    right refusals reported on the other half (before and after). A good answer, a bad one with the passage
    that answers it, or a refusal rated bad count as questions your documents answer; a good refusal or a
    bad answer with no passage, as questions they do not.

    \b
    Examples:
      quarry eval refusals --lang zh
      quarry eval refusals --lang zh --apply
    """
    from engine.documents.ratings import refit_refusal_bar

    with open_workspace(workspace) as ws:
        report = refit_refusal_bar(ws, lang, apply=apply)
    if as_json:
        emit_json(report)
        return

    def line(name: str, rates: dict) -> str:
        def share(n, of):
            return f"{n}/{of}" + (f" ({n / of:.0%})" if of else "")

        false = share(rates["false_refusals"], rates["answerable"])
        right = share(rates["right_refusals"], rates["unanswerable"])
        return f"{name:22} bar {rates['bar']:.3f}  false refusals {false}  right refusals {right}"

    click.echo(f"{report['rated']} rated {lang} document answers")
    if report.get("set_aside") is not None:
        click.echo(f"note: this workspace's bar {report['set_aside']:.3f} was fitted under an earlier scoring and"
                   " is set aside (the default serves until --apply stores a new one)", err=True)
    click.echo(line("report half, before", report["report_before"]))
    click.echo(line("report half, fitted", report["report"]))
    click.echo(f"bar {report['bar']:.3f} " + ("stored for this workspace" if apply else "not stored (add --apply)"))


@eval.command("answers")
@click.argument("questions", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--model", "-m", "model_id", help="Catalog model id.")
@click.option("--max-tokens", type=click.IntRange(1, 32768), default=128, show_default=True)
@click.option("--extractive/--generate", " /--generated", "extractive", default=None,
              help="Force quoted or written answers (default: as `quarry ask` answers each question).")
@click.option("--from-ratings", is_flag=True,
              help="Ask the questions of your rated answers again and report what changed.")
@workspace_option
@json_option
def eval_answers(questions: Path | None, model_id: str | None, max_tokens: int, extractive: bool | None,
                 from_ratings: bool, workspace: Path | None, as_json: bool) -> None:
    """Answer accuracy with citations, and refusal rates, per language and over all questions; or, with
    --from-ratings, each rated answer asked again: a good one kept or changed, a bad one now citing the
    passage you pointed at or not.

    \b
    Examples:
      quarry eval answers bench/questions_zh.jsonl --json
      quarry eval answers --from-ratings
    """
    from engine.documents.evaluate import answers_params, start_answers
    from tui.commands.progress import follow

    _questions_or_ratings(questions, from_ratings)
    with open_workspace(workspace) as ws:
        if from_ratings:
            from engine.documents.ratings import answer_params

            params = answer_params(ws, model_id, max_tokens, extractive)
        else:
            params = answers_params(questions, model_id, max_tokens, extractive)
        run = start_answers(ws, params)
        report = follow(run, quiet=as_json)
    if report is None:
        raise click.ClickException(f"evaluation cancelled; `quarry jobs resume {run.id}` keeps the answers made")
    if as_json:
        emit_json(report)
        return
    if from_ratings:
        _print_ratings(report)
        return
    columns = {"all": report, **report["by_lang"]}
    click.echo(f"{'':28}" + "".join(f"{lang:>8}" for lang in columns))
    for key in ("n", "contains_answer", "answered_correctly", "cites_expected_file", "citation_precision",
                "refusal_rate_unanswerable", "false_refusal_rate", "median_chars"):
        cells = [c[key] for c in columns.values()]
        click.echo(f"{key:28}" + "".join(f"{'-' if v is None else v if isinstance(v, int) else f'{v:.3f}':>8}"
                                         for v in cells))


def _print_ratings(report: dict) -> None:
    from engine.documents.ratings import OUTCOMES
    from tui.commands.feedback import _one_line
    from tui.commands.recommend import _table

    _table(("answer", "was", "now", "question"),
           [(str(r["message_id"]), r["was"], r["outcome"], _one_line(r["question"], 70)) for r in report["ratings"]])
    for key, n in sorted(report["outcomes"].items()):
        was, now = key.split(":")
        click.echo(f"{n} rated {was}: {OUTCOMES[now]}", err=True)
