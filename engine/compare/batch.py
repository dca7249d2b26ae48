"""Batch comparisons: a prompt set (text or JSONL file, or an ingested DuckDB table) run against the chosen
models as a resumable job; per-model speed figures and, where the set has reference answers, agreement
(contains the reference / embedding similarity to it); export to CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine import jobs
from engine.compare.run import ColumnFinished, CompareError, CompareSettings, Comparison, check_models
from engine.errors import IngestError

KIND = "compare_batch"
MAX_ITEMS = 10_000
PROMPT_KEYS = ("prompt", "question", "input", "text")
REFERENCE_KEYS = ("reference", "answer", "expected", "target")


@dataclass
class Item:
    prompt: str
    reference: str | None = None


def _pick(record: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


PROMPT_SUFFIXES = ("", ".txt", ".text", ".jsonl", ".json", ".ndjson")


def read_prompt_set(source: str, ws=None) -> list[Item]:
    """Gives the prompts (and references) of a .txt file (a prompt a line), a .jsonl file (objects with
    prompt/question and optionally reference/answer) or `table:NAME` (an ingested table's columns)."""
    if source.startswith("table:"):
        name = source.removeprefix("table:")
        if ws is None:
            raise CompareError("reading a table needs a workspace")
        rows = ws.store.compare_table_rows(name, [*PROMPT_KEYS, *REFERENCE_KEYS])
        if not rows:
            raise CompareError(f"no table '{name}' with a prompt or question column in this workspace; "
                               "ingest a CSV with a `prompt` column first")
        items = [Item(p, _pick(r, REFERENCE_KEYS)) for r in rows if (p := _pick(r, PROMPT_KEYS))]
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CompareError(f"{path}: no such prompt file; give a .txt (a prompt a line) or .jsonl file")
        if path.suffix.lower() not in PROMPT_SUFFIXES:  # a document's every line would be run as a prompt
            raise CompareError(f"{path}: not a prompt set (a .txt file, a prompt a line, or .jsonl); rename it"
                               " if it is one, or ingest a table and give table:NAME")
        jsonl = path.suffix.lower() in (".jsonl", ".json", ".ndjson")
        try:
            if jsonl:  # JSON is UTF-8
                text = path.read_text(encoding="utf-8-sig")
            else:  # a prompt a line, as a Chinese Windows' Notepad may save it (GBK): read as ingest reads text
                from engine.documents.ingest.text import decode

                data = path.read_bytes()
                text = decode(data, str(path)) if data.strip() else ""
        except UnicodeDecodeError:
            raise CompareError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        except IngestError as exc:
            raise CompareError(str(exc)) from None
        if jsonl:
            items = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise CompareError(f"{path}:{number}: not a JSON object; give one object per line") from None
                if isinstance(record, str):
                    record = {"prompt": record}
                if not isinstance(record, dict) or not _pick(record, PROMPT_KEYS):
                    raise CompareError(f"{path}:{number}: no \"prompt\" (or \"question\") field")
                items.append(Item(_pick(record, PROMPT_KEYS), _pick(record, REFERENCE_KEYS)))
        else:
            items = [Item(line.strip()) for line in text.splitlines() if line.strip()]
    if not items:
        raise CompareError(f"{source}: no prompts in it")
    if len(items) > MAX_ITEMS:
        raise CompareError(f"{source}: {len(items)} prompts, more than {MAX_ITEMS}; split the set")
    return items


def start_batch(ws, source: str, model_ids: list[str], settings: CompareSettings) -> jobs.JobRun:
    """Records a batch and gives its job run (nothing runs until it is iterated)."""
    ids = check_models(model_ids)
    settings.validate()
    items = read_prompt_set(source, ws)
    batch_id = ws.store.create_compare_batch(source, ids, settings.to_dict(),
                                             [{"prompt": i.prompt, "reference": i.reference} for i in items])
    run = jobs.start(ws, KIND, {"batch_id": batch_id})
    ws.store.set_compare_batch(batch_id, job_id=run.id)
    return run


@jobs.register(KIND, unit="prompts")
def compare_batch(ws, job) -> Iterator:
    """The batch's work function: one comparison per prompt, committed as it finishes; a resumed batch
    skips the prompts already done and redoes one that was cut off half way."""
    batch_id = int(job.params["batch_id"])
    batch = ws.store.compare_batch(batch_id)
    if batch is None:
        raise CompareError(f"no comparison batch {batch_id} in this workspace")
    ws.store.drop_unfinished_compare_runs(batch_id)
    done = ws.store.compare_batch_done_items(batch_id)
    settings = CompareSettings.from_dict(batch.settings)
    total = len(batch.items)
    failed = 0
    yield job.progress(len(done), total, f"batch {batch_id}: {len(done)} of {total} already done")
    for index, item in enumerate(batch.items):
        if index in done:
            continue
        if job.cancelled():
            ws.store.set_compare_batch(batch_id, status="cancelled")
            return summary(ws, batch_id).to_dict()
        comparison = Comparison(ws, item["prompt"], batch.models, CompareSettings.from_dict(settings.to_dict()),
                                batch_id=batch_id, item=index, reference=item.get("reference"))
        warnings = []
        for event in comparison.events(job.cancelled):
            if isinstance(event, ColumnFinished) and event.column.status == "failed":
                failed += 1
                warnings.append(f"prompt {index + 1}, {event.column.model}: {event.column.error}")
        if any(c.status == "cancelled" for c in comparison.run.columns):  # cut off: redone on resume
            ws.store.set_compare_batch(batch_id, status="cancelled")
            return summary(ws, batch_id).to_dict()
        done.add(index)
        yield job.progress(len(done), total, f"prompt {index + 1}: {item['prompt'][:60]}", warnings, failed)
    ws.store.set_compare_batch(batch_id, status="done")
    return summary(ws, batch_id).to_dict()


@dataclass
class ModelSummary:
    model: str
    answered: int = 0
    failed: int = 0
    ttft_ms: float | None = None  # medians over the answered prompts
    tokens_per_s: float | None = None
    completion_tokens: float | None = None
    load_ms: float | None = None
    peak_rss_mb: float | None = None
    contains: float | None = None  # share of answers holding the reference
    similarity: float | None = None  # mean cosine to the reference
    supported_share: float | None = None  # mean, document questions


@dataclass
class BatchSummary:
    batch_id: int
    source: str
    models: list[str]
    settings: dict
    prompts: int
    done: int
    status: str
    rows: list[ModelSummary] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"batch_id": self.batch_id, "source": self.source, "models": self.models,
                "settings": self.settings, "prompts": self.prompts, "done": self.done, "status": self.status,
                "summary": [r.__dict__ for r in self.rows], "answers": self.answers}


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def _mean(values: list[float], digits: int = 3) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), digits) if values else None


def summary(ws, batch_id: int) -> BatchSummary:
    """Gives a batch's per-model figures and every answer."""
    batch = ws.store.compare_batch(batch_id)
    if batch is None:
        raise CompareError(f"no comparison batch {batch_id}; `quarry compare batches` lists them")
    runs = ws.store.compare_runs(batch_id=batch_id)
    out = BatchSummary(batch_id, batch.source, batch.models, batch.settings, len(batch.items),
                       sum(1 for r in runs if r.status == "done"), batch.status)
    per_model: dict[str, list] = {m: [] for m in batch.models}
    for run in runs:
        for a in run.answers:
            per_model.setdefault(a.model, []).append(a)
            out.answers.append({"item": run.item, "prompt": run.prompt, "reference": run.reference,
                                "model": a.model, "status": a.status, "answer": a.text, "error": a.error,
                                "ttft_ms": a.stats.get("ttft_ms"), "tokens_per_s": a.stats.get("tokens_per_s"),
                                "completion_tokens": a.stats.get("completion_tokens"),
                                "contains": a.checks.get("contains"), "similarity": a.checks.get("similarity"),
                                "supported_share": a.checks.get("supported_share")})
    for model, answers in per_model.items():
        ok = [a for a in answers if a.status == "done"]
        row = ModelSummary(model, len(ok), len(answers) - len(ok))
        row.ttft_ms = _median([a.stats.get("ttft_ms") for a in ok if a.stats.get("completion_tokens")])
        row.tokens_per_s = _median([a.stats.get("tokens_per_s") for a in ok if a.stats.get("completion_tokens")])
        row.completion_tokens = _median([a.stats.get("completion_tokens") for a in ok])
        row.load_ms = _median([a.stats.get("load_ms") for a in ok])
        row.peak_rss_mb = max((a.stats.get("peak_rss_mb") or 0 for a in ok), default=None) or None
        with_ref = [a for a in ok if "contains" in a.checks]
        if with_ref:
            row.contains = _mean([float(a.checks["contains"]) for a in with_ref])
            row.similarity = _mean([a.checks.get("similarity") for a in with_ref])
        row.supported_share = _mean([a.checks.get("supported_share") for a in ok if "supported_share" in a.checks])
        out.rows.append(row)
    return out


SUMMARY_COLUMNS = ["model", "answered", "failed", "ttft_ms", "tokens_per_s", "completion_tokens", "load_ms",
                   "peak_rss_mb", "contains", "similarity", "supported_share"]
ANSWER_COLUMNS = ["item", "model", "status", "prompt", "reference", "answer", "error", "ttft_ms", "tokens_per_s",
                  "completion_tokens", "contains", "similarity", "supported_share"]


def to_csv(result: BatchSummary) -> str:
    """Gives every answer of a batch as CSV, one row per (prompt, model)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ANSWER_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in result.answers:
        writer.writerow(row)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return "–"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: BatchSummary) -> str:
    """Gives a batch's summary table, settings and answers as Markdown."""
    s = result.settings
    lines = [f"# Comparison batch {result.batch_id}", "",
             f"Prompt set: `{result.source}` · {result.done} of {result.prompts} prompts · {result.status}", "",
             f"Settings: temperature {s.get('temperature')}, max tokens {s.get('max_tokens')}, "
             f"seed {s.get('seed')}, documents {'on' if s.get('rag') else 'off'}", "",
             "| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    for row in result.rows:
        lines.append("| " + " | ".join(_cell(getattr(row, c)) for c in SUMMARY_COLUMNS) + " |")
    lines += ["", "## Answers", ""]
    for a in result.answers:
        lines.append(f"- **{_cell(a['item'] + 1 if a['item'] is not None else None)} · {a['model']}**"
                     f" ({a['status']}): {_cell(a['answer'] or a['error'])}")
    return "\n".join(lines) + "\n"


def export(ws, batch_id: int, folder: Path | None = None) -> tuple[Path, Path]:
    """Writes a batch's CSV and Markdown (default: <workspace>/exports/) and gives their paths."""
    result = summary(ws, batch_id)
    folder = folder or ws.root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"compare-batch-{batch_id}.csv"
    md_path = folder / f"compare-batch-{batch_id}.md"
    csv_path.write_text(to_csv(result), encoding="utf-8")
    md_path.write_text(to_markdown(result), encoding="utf-8")
    return csv_path, md_path
