"""Batch: classify a column of a workspace table or of a CSV/Parquet/XLSX file into a table (and a file on
request), as the job "classify_batch". Finished rows are committed in batches and never redone: a resumed
job (after a cancel, a crash or `kill -9`) starts after the last committed row."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from engine import jobs
from engine.classify.base import MAX_TEXT_CHARS, ClassifyError, one_thread
from engine.store.review import REVIEW_METHOD

BATCH_ROWS = 512  # the first slice; later ones are sized to take about SLICE_S
MAX_BATCH_ROWS = 4096
SLICE_S = 2.0  # a slice is the unit of commit and of cancel: about this long, so cancel answers within it
LLM_BATCH_ROWS = 16


def output_name(label_set: str, source: str) -> str:
    """Gives the default output table: c_<source>_<label set>, in ASCII.

    Table names stay ASCII so every front (and the output check) takes them as typed; a part with other
    characters (t_评论, 情感) keeps what ASCII it has plus a short hash, so different names stay apart."""
    stem = Path(source).stem if "/" in source or "." in source else source
    return "c_" + "_".join(_ascii_part(part) for part in (stem, label_set))


def _ascii_part(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if text.isascii():
        return slug or "x"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}_{digest}" if slug else digest


def params(ws, label_set: str, column: str, table: str | None = None, file: Path | None = None,
           method: str = "auto", output: str | None = None, export: Path | None = None,
           llm_model: str | None = None, ray: str | None = None) -> dict:
    """Checks a batch request (table or file, column, label set, method, output, export, Ray) and gives the
    job's params; every check runs here, before any work, so each front shows one line.

    `ray` ("local", or a Ray cluster's address) runs the encode + predict stage on Ray Data."""
    from engine.classify import heads, sets
    from engine.classify.sources import open_source

    found = sets.get(ws, label_set)
    heads.check_method(method, found.kind == "tabular")
    if method == "all":
        raise ClassifyError("a batch runs one method; give --method auto (the default) or one method")
    if ray is not None:
        if method == "llm":
            raise ClassifyError("the llm method runs on this machine's chat model, not on Ray; drop --ray or"
                                " pick another method")
        from engine import scale

        scale.check(ray)  # Ray missing, or an address that does not answer: one line, before any work
    if found.kind != "tabular" and not (column or "").strip():
        raise ClassifyError("give the column with the text to classify (--column C; in the app: table.column"
                            " or path/file.csv:column)")
    source = open_source(ws, table, file, min_columns=1)  # a text column alone is enough to classify
    if found.kind == "tabular":
        source.require(*found.features)
    else:
        source.require(column)
    if export is not None:
        _check_export(Path(export))
    name = output or output_name(label_set, table or str(file))
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ClassifyError(f"output table '{name}': use letters, digits and _ only")
    _check_output(ws.store, name)
    request = {"label_set": label_set, "column": column or "", "table": table, "file": str(file) if file else None,
               "method": method, "output": name, "export": str(export) if export else None, "llm_model": llm_model}
    if ray is not None:
        request["ray"] = ray  # only then: an in-process request's params (and its resume) stay as they were
    return request


def _check_export(path: Path) -> None:
    """Refuses an export file that could not be written, before the batch spends its time."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ClassifyError(f"{path}: export to a .csv or .parquet file")
    folder = path.expanduser().parent
    if not folder.is_dir():
        raise ClassifyError(f"{path}: no folder {folder}; create it or export elsewhere")
    if path.expanduser().is_dir():
        raise ClassifyError(f"{path}: is a folder; give a file name ending in .csv or .parquet")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ClassifyError(f"{path}: the folder {folder} is not writable; export elsewhere")


def _check_output(store, name: str) -> None:
    """A batch replaces its output table, so that table must be one a classify batch made (or a new name):
    `--output documents` would otherwise drop the library."""
    existing = store.table_named(name)
    if existing is not None and not store.is_batch_output(existing):
        raise ClassifyError(f"output table '{name}' already exists and was not made by classify; "
                            f"pick another --output name (e.g. c_{name.lower()})")


def _staging(output: str) -> str:
    return f"_stage_{output}"


@jobs.register("classify_batch", unit="rows")
def classify_batch(ws, job) -> Iterator[jobs.Progress]:
    """Classifies the rows not yet in the output table, committing slice by slice; gives a summary."""

    from engine.classify import heads, sets
    from engine.classify.sources import open_source

    p = job.params
    store = ws.store
    found = sets.get(ws, p["label_set"])
    tabular = found.kind == "tabular"
    output, staging = p["output"], _staging(p["output"])
    if not store.table_exists(staging):
        source = open_source(ws, p.get("table"), Path(p["file"]) if p.get("file") else None, min_columns=1)
        if tabular:
            source.require(*found.features)
        else:
            source.require(p["column"])
        _stage(ws, source, staging, p["column"], found.features if tabular else None)
    total = store.table_row_count(staging)
    if not tabular and total and store.staged_text_rows(staging) == 0:
        store.drop_table(staging)
        raise ClassifyError(f"column '{p['column']}' holds no text (empty or numbers in all {total} rows);"
                            " pick the column with the text")
    store.create_batch_output(output)
    done, last = store.batch_done(output)
    attempt = store.batch_attempts(output) + 1
    head = heads.trained(ws, p["label_set"], p["method"], p.get("llm_model"))
    if head.method.name == "llm":
        head.method.warm()
    method_name = f"auto:{head.choice.method}" if head.choice else head.name
    skipped = store.batch_skipped(output)
    # labels people gave these rows in review win over the model's, in this run too (engine/classify/review.py)
    corrections = store.batch_corrections(p["label_set"], output)
    message = head.choice.line() if head.choice else f"method {method_name}"
    if p.get("ray") is not None:
        from engine import scale

        message += f", on Ray ({scale.resolve(p['ray'])})"
    yield job.progress(done, total, message)
    if p.get("ray") is not None:
        from engine.scale.classify import label_on_ray

        slices = label_on_ray(ws, head.method, method_name, tabular, staging, last, attempt, p["ray"])
    else:
        slices = _label_here(store, head.method, method_name, tabular, staging, last, attempt, job)
    for out in slices:
        out = _corrected(out, corrections)
        store.commit_batch(output, out)
        unlabelled = sum(1 for row in out if row[2] is None)
        skipped += unlabelled
        done += len(out)
        warnings = [f"{unlabelled} rows with no text (empty, a number or too long) left unlabelled"] * bool(unlabelled)
        yield job.progress(done, total, message, warnings=warnings, failed=skipped)
        if job.cancelled():
            slices.close()  # on Ray: stops the dataset (and a local Ray this job started)
            break
    if job.cancelled():
        return None
    if p.get("export"):
        fmt = "parquet" if p["export"].lower().endswith(".parquet") else "csv"
        store.export_batch(output, p["export"], fmt)  # a failed write is one ClassifyError naming the file
    store.drop_table(staging)
    counts = store.batch_counts(output)
    summary = {"output": output, "rows": done, "skipped": skipped, "method": method_name,
               "counts": counts, "export": p.get("export")}
    store.add_classify_run("batch", p["label_set"], p.get("table") or p.get("file"), method_name, summary)
    return summary


def _label_here(store, method, method_name: str, tabular: bool, staging: str, last: int, attempt: int,
                job) -> Iterator[list[tuple]]:
    """Yields the output rows of the staged rows after `last`, a slice at a time, labelled in this process."""
    size = LLM_BATCH_ROWS if method.name == "llm" else BATCH_ROWS  # cancel answers within a slice
    while not job.cancelled():
        rows = store.batch_rows(staging, last, size)
        if not rows:
            return
        started = time.perf_counter()
        out = label_rows(method, method_name, tabular, [r[0] for r in rows], [r[1] for r in rows], attempt)
        took = time.perf_counter() - started
        if method.name != "llm" and took > 0:
            # The encoder sorts a call's texts by length to pad less, so bigger slices run faster (measured
            # on 10,000 reviews: 512-row slices at 0.93 of one call, 2,048-row ones at 0.95-1.02).
            size = max(BATCH_ROWS, min(MAX_BATCH_ROWS, int(len(rows) / took * SLICE_S)))
        last = rows[-1][0]
        yield out


def label_rows(method, method_name: str, tabular: bool, ids: list[int], values: list, attempt: int) -> list[tuple]:
    """Gives the output rows (row_id, text, label, confidence, runner_up, method, attempt) of staged rows:
    a row with no text is kept unlabelled. The one labelling step of both paths, here and on Ray."""
    import json

    if tabular:
        inputs = [json.loads(v) if v else {} for v in values]
        good = list(range(len(ids)))
    else:
        inputs, good = [], []
        for i, v in enumerate(values):
            if _is_text(v):
                good.append(i)
                inputs.append(str(v))
    with one_thread():
        predictions = method.predict(inputs) if inputs else []
    out = [(row_id, None if tabular else _text(v), None, None, None, "skipped: not text", attempt)
           for row_id, v in zip(ids, values)]
    for i, pred in zip(good, predictions):
        out[i] = (ids[i], None if tabular else _text(values[i]), pred.label, pred.confidence, pred.runner_up,
                  method_name, attempt)
    return out


def _corrected(out: list[tuple], corrections: dict) -> list[tuple]:
    """Gives a slice's rows with the labels people gave in review in place of the model's, where the row
    still holds the text they labelled (a re-run over another source has other rows under these ids)."""
    if not corrections:
        return out
    fixed_rows = []
    for row in out:
        fixed = corrections.get(row[0])
        if fixed is not None and row[2] is not None and fixed[1] == row[1]:
            runner_up = row[2] if row[2] != fixed[0] else row[4]
            row = (row[0], row[1], fixed[0], 1.0, runner_up, REVIEW_METHOD, row[6])
        fixed_rows.append(row)
    return fixed_rows


def _is_text(value) -> bool:
    """Tells whether a cell holds text to classify (not empty, not a number, not oversized)."""
    if value is None or isinstance(value, bool | int | float):
        return False
    text = str(value).strip()
    if not text or len(text) > MAX_TEXT_CHARS:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def _text(value) -> str | None:
    return None if value is None else str(value)


def _stage(ws, source, staging: str, column: str, features: list[str] | None) -> None:
    """Copies what to classify into a staging table with stable row ids (text, or a record as JSON)."""
    import json

    from engine.classify.sets import _plain
    from engine.classify.sources import read

    store = ws.store
    if features:
        rows = read(ws, source, features)
        values = [json.dumps(dict(zip(features, (_plain(v) for v in row))), default=str) for row in rows]
        store.stage_values(staging, values)
        return
    if source.rows is not None:
        store.stage_values(staging, [None if r[0] is None else str(r[0]) for r in read(ws, source, [column])])
        return
    store.stage_batch_source(staging, source.relation, column, source.params)


def run(ws, label_set: str, column: str, table: str | None = None, file: Path | None = None,
        method: str = "auto", output: str | None = None, export: Path | None = None,
        llm_model: str | None = None, cancel=None, ray: str | None = None) -> jobs.JobRun:
    """Starts a batch job, or resumes the unfinished one with the same request; iterate the run for progress
    (nothing runs until then). A new batch replaces an earlier output table of the same name. `ray`
    ("local", or a Ray cluster's address) labels the rows on Ray Data."""
    request = params(ws, label_set, column, table, file, method, output, export, llm_model, ray)
    for record in jobs.unfinished(ws):
        if record.kind == "classify_batch" and record.params == request:
            return jobs.resume(ws, record.id, cancel)
    ws.store.drop_table(request["output"])
    ws.store.drop_table(_staging(request["output"]))
    return jobs.start(ws, "classify_batch", request, cancel)


def wait(run_: jobs.JobRun) -> dict | None:
    """Runs a batch to its end in this thread; gives its summary."""
    started = time.perf_counter()
    result = run_.wait()
    if isinstance(result, dict):
        result["seconds"] = time.perf_counter() - started
    return result
