"""The review queue: the rows a method is least sure of, one at a time, over a batch's output table or a
label set's unlabelled rows (a table or file column). Each answer stores the row as an example of the set
and as feedback (one transaction, engine/store/review.py), refits the method (engine/classify/learner.py)
and re-ranks the rest; skip and undo step through the same history.

Least sure = the smallest margin between the top two labels' probabilities. With two labels it orders
rows as lowest confidence does; with many, lowest confidence favours rows the model finds vague across
every label, while a small margin marks a row between two labels, which is where one answer moves the
boundary (Scheffer et al. 2001; Settles' active learning survey). With more than two labels the margin is
weighted by how typical a row is of the queue (information density, Settles & Craven 2008): among many
labels the smallest margins go to odd rows (a review of a product no other row names), whose answer
teaches little about the rest. Chosen by bench/feedback_order.py on seeds 0-4 (100 labels over random:
9 categories +0.015 weighted, -0.002 by margin alone; 2 sentiments +0.041 by margin, +0.020 weighted;
12 English intents +0.013 both, which tells nothing: +100 labels are 85% of that set's 118-row pool in
either order) and reported on seeds 5-9 (categories +0.029, sentiments +0.010). Three labels were not
measured apart; they take the many-label order.
bench/feedback.py measures the queue's order against random picks."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.classify.base import ClassifyError, check_texts, one_thread
from engine.classify.learner import LIVE_METHODS, Learner

POOL_ROWS = 2000  # rows a queue re-ranks: a batch's least confident, or a sample of a column's unlabelled
TOP_LABELS = 3
# what "least sure" means here (see the module's docstring): "margin" for two labels, "density" for more
ORDERS = {"margin": "smallest margin between the top two labels",
          "density": "smallest margin between the top two labels, weighted to rows typical of the queue"}


@dataclass
class Row:
    """One queued row: its text, where it came from, and the live model's labels, best first."""

    target: str                      # the feedback target: "<batch table>:<row id>" or "text:<sha1>"
    text: str
    index: int                       # position among the queue's texts (the learner's pool)
    row_id: int | None = None        # a batch row's id
    batch_label: str | None = None   # what the batch wrote
    batch_confidence: float | None = None
    batch_runner_up: str | None = None
    batch_method: str | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    typical: float = 1.0             # its likeness to the queue's rows, over the mean (see `typicality`)

    @property
    def margin(self) -> float:
        if not self.top:
            return 1.0
        return self.top[0][1] - (self.top[1][1] if len(self.top) > 1 else 0.0)

    def to_dict(self) -> dict:
        return {"target": self.target, "row_id": self.row_id, "text": self.text,
                "labels": [{"label": lab, "p": round(float(p), 4)} for lab, p in self.top],
                "margin": round(float(self.margin), 4), "typicality": round(self.typical, 4),
                "batch_label": self.batch_label, "batch_confidence": self.batch_confidence}


@dataclass
class Step:
    """One thing done in the queue: an answer (with its stored ids) or a skip; undo pops them."""

    kind: str        # answer | skip
    row: Row
    label: str | None = None
    feedback_id: int | None = None
    example_id: int | None = None
    seconds: float = 0.0  # answer → stored → refit → re-ranked
    gone: bool = False  # undone here after it was removed elsewhere (`quarry feedback remove`)

    def undone(self) -> str:
        """Gives the line that says what an undo of this step did."""
        if self.kind == "skip":
            return "undid a skip"
        if self.gone:
            return (f"the answer {self.label} was removed meanwhile (quarry feedback remove?); its row is"
                    " back in the queue")
        return f"undid the label {self.label}"


def text_target(text: str) -> str:
    return "text:" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def method_for(requested: str, batch_method: str | None, auto_choice: str | None) -> tuple[str, str]:
    """Gives (method the queue refits, why): the one asked for, else the batch's own, else what auto chose
    for the set, else the stack of the embedding and lexical heads."""
    def live(name: str, why: str) -> tuple[str, str]:
        if name in LIVE_METHODS:
            return name, why
        if name == "llm":
            return "stack", f"{why}; the llm method does not learn from examples, so the queue ranks with stack"
        raise ClassifyError(f"method '{name}' cannot rank a review queue; use one of {', '.join(LIVE_METHODS)}")

    if requested and requested != "auto":
        return live(requested, f"method {requested}")
    if batch_method:
        name = batch_method.removeprefix("auto:")
        return live(name, f"the batch's method, {name}")
    if auto_choice:
        return live(auto_choice, f"auto's choice for the set, {auto_choice}")
    return "stack", "stack (embedding + lexical): the set has no auto choice saved yet"


class Queue:
    """A review queue: `current` is the row to answer; `answer`, `skip` and `undo` move through it."""

    def __init__(self, ws, label_set: str, rows: list[Row], method: str, why: str, source: str,
                 batch: str | None = None) -> None:
        from engine.classify import heads, sets

        self.ws = ws
        self.found = sets.get(ws, label_set)
        self.label_set = label_set
        self.method = method
        self.why = why
        self.source = source
        self.batch = batch
        self.rows = rows
        data = sets.examples(ws, self.found)

        def embed(texts):  # the encoder loads only for a method that reads vectors
            return heads.embedder(ws)(texts)

        started = time.perf_counter()
        with one_thread():  # BLAS/OpenMP threads spin against each other on a busy machine (engine/classify/base.py)
            self.learner = Learner(method, data, [r.text for r in rows], embed)
        self.start_seconds = time.perf_counter() - started
        for row, typical in zip(rows, typicality([r.text for r in rows])):
            row.typical = float(typical)
        self.pending: list[Row] = list(rows)  # not yet answered or skipped, least sure first
        self.history: list[Step] = []
        self._rank()

    # -- what the fronts show ---------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(self.learner.labels)

    @property
    def current(self) -> Row | None:
        return self.pending[0] if self.pending else None

    @property
    def answered(self) -> int:
        return sum(1 for s in self.history if s.kind == "answer")

    @property
    def skipped(self) -> int:
        return sum(1 for s in self.history if s.kind == "skip")

    def least_sure(self, limit: int) -> list[Row]:
        return self.pending[:limit]

    @property
    def order(self) -> str:
        """Gives how the queue is ordered now: 'margin' (two labels) or 'density' (more; see the module)."""
        return order_for(len(self.learner.labels))

    def line(self) -> str:
        """Gives the queue's one-line description: what it reviews, with what, ordered how."""
        return (f"{len(self.pending)} rows of {self.source} to review for '{self.label_set}', least sure first"
                f" ({ORDERS[self.order]}); refitting {self.method}: {self.why}")

    # -- moves ------------------------------------------------------------------------------------
    def resolve(self, typed: str) -> tuple[str, bool]:
        """Gives (label, new) for what was typed: a label number 1–9, a label name, or +name to add a label.
        A label the set lacks is refused in one line naming it and the fix."""
        import difflib

        typed = typed.strip()
        labels = self.labels
        if typed.isascii() and typed.isdigit():  # "²" is a digit to str.isdigit, not to int()
            n = int(typed) if len(typed) <= 3 else 0  # int() refuses more than 4,300 digits as a bug would
            if 1 <= n <= min(9, len(labels)):
                return labels[n - 1], False
            raise ClassifyError(f"no label {_shown(typed)}: '{self.label_set}' has {len(labels)} labels, numbered"
                                f" 1–{min(9, len(labels))}; type a label's name for the rest")
        if typed.startswith("+"):
            name = typed[1:].strip()
            if not name or "\n" in name or len(name) > 80:
                raise ClassifyError(f"a new label needs a name of 1 to 80 characters on one line: +name"
                                    f" (this one has {len(name)})")
            return name, name not in labels
        if typed in labels:
            return typed, False
        close = difflib.get_close_matches(typed[:200], labels, n=1, cutoff=0.0)
        closest = f"; the closest is '{close[0]}'" if close else ""
        add = f", or +{typed} to add it as a new label" if len(typed) <= 80 and "\n" not in typed else ""
        raise ClassifyError(f"'{self.label_set}' has no label '{_shown(typed)}'{closest}; type one of its"
                            f" labels{add}")

    def answer(self, typed: str) -> Step:
        """Labels the current row: stores example and feedback together, refits, re-ranks; gives the step."""
        row = self.current
        if row is None:
            raise ClassifyError("the review queue is empty: nothing left to label")
        label, new_label = self.resolve(typed)
        started = time.perf_counter()
        detail = {"text": row.text, "model_label": row.top[0][0] if row.top else None,
                  "model_confidence": round(float(row.top[0][1]), 4) if row.top else None,
                  "method": self.method, "source": self.source}
        if row.row_id is not None:
            detail.update({"batch": self.batch, "row_id": row.row_id, "model_label": row.batch_label,
                           "model_confidence": row.batch_confidence, "model_runner_up": row.batch_runner_up,
                           "model_method": row.batch_method,
                           "queue_label": row.top[0][0] if row.top else None})
        feedback_id, example_id = self.ws.store.add_review_answer(
            self.found.id, self.label_set, row.target, row.text, label, detail, new_label,
            (self.batch, row.row_id) if row.row_id is not None else None)
        self.pending.pop(0)
        with one_thread():
            self.learner.add(row.index, label)
        self._rank()
        step = Step("answer", row, label, feedback_id, example_id, time.perf_counter() - started)
        self.history.append(step)
        return step

    def skip(self) -> Step:
        row = self.current
        if row is None:
            raise ClassifyError("the review queue is empty: nothing left to skip")
        self.pending.pop(0)
        step = Step("skip", row)
        self.history.append(step)
        return step

    def undo(self) -> Step:
        """Takes back the last answer (example and feedback removed together, refit) or skip; the row
        comes back first."""
        if not self.history:
            raise ClassifyError("nothing to undo: no answer or skip in this review yet")
        step = self.history.pop()
        self.pending.insert(0, step.row)
        if step.kind == "answer":
            step.gone = self.ws.store.undo_review_answer(step.feedback_id) is None
            with one_thread():
                self.learner.remove_last()
                if step.label not in self.ws.store.label_set(self.label_set).labels:  # its +name undone too
                    self.learner.drop_label(step.label)
            self._rank()  # the row too: its labels were shown before its answer was learned
            self.pending.remove(step.row)
            self.pending.insert(0, step.row)
        return step

    # -- ranking ----------------------------------------------------------------------------------
    def _rank(self) -> None:
        """Scores the rows still pending with the live model and orders them least sure first."""
        if not self.pending:
            return
        with one_thread():
            probs = self.learner.scores([r.index for r in self.pending])
        labels = self.learner.labels
        for row, p in zip(self.pending, probs):
            order = p.argsort()[::-1][:TOP_LABELS]
            row.top = [(labels[j], float(p[j])) for j in order]
        n = len(labels)
        self.pending.sort(key=lambda r: (least_sure_key(r.margin, r.typical, n), r.index))


def _shown(typed: str, width: int = 40) -> str:
    """Gives what was typed as an error shows it: one line, cut to `width` (a pasted paragraph stays short)."""
    line = " ".join(typed.split())
    return line if len(line) <= width else line[:width - 1] + "…"


def order_for(n_labels: int) -> str:
    """Gives the queue's order for a set of `n_labels` labels (see the module's docstring)."""
    return "margin" if n_labels <= 2 else "density"


def least_sure_key(margin, typical, n_labels: int):
    """Gives the queue's sort key for rows (floats or arrays), least sure first: the margin for two labels;
    for more, the margin's complement weighted by typicality, negated."""
    return margin if order_for(n_labels) == "margin" else density_key(margin, typical)


def density_key(margin, typical):
    """Gives the margin weighted by typicality as a sort key, smallest first (information density)."""
    return -(1 - margin) * typical


def typicality(texts: list[str]):
    """Gives each text's likeness to the others of its script: the cosine of its character-unigram and
    bigram TF-IDF vector with their mean, over the mean of those cosines (1 where there are too few).

    Chinese and Latin-script texts are compared within their own group: they share no characters, so in
    one group the fewer would all look odd, and a mostly English queue would put its Chinese rows last
    whatever their margins (seen in a 640-review queue, 284 of them Chinese: none in its first 294)."""
    import numpy as np

    from engine.documents.ingest.text import has_cjk

    out = np.ones(len(texts))
    groups: dict[bool, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(has_cjk(text), []).append(i)
    for members in groups.values():
        out[members] = _typicality([texts[i] for i in members])
    return out


def _typicality(texts: list[str]):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 3:
        return np.ones(len(texts))
    try:
        x = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), min_df=2,
                            sublinear_tf=True).fit_transform(texts)
    except ValueError:  # no character shared by two texts
        return np.ones(len(texts))
    closeness = np.asarray(x @ np.asarray(x.mean(0)).ravel()).ravel()
    mean = closeness.mean()
    return closeness / mean if mean > 0 else np.ones(len(texts))


def margins(probs):
    """Gives each row's margin between its top two label probabilities (the queue's order, smallest first)."""
    import numpy as np

    if probs.shape[1] < 2:
        return np.ones(len(probs))
    top = np.sort(probs, axis=1)
    return top[:, -1] - top[:, -2]


# -- opening a queue --------------------------------------------------------------------------------
def _auto_choice(ws, set_id: int) -> str | None:
    for head in ws.store.heads(set_id):
        if head.method == "auto" and (head.detail.get("choice") or {}).get("method"):
            return head.detail["choice"]["method"]
    return None


def _check_set(ws, label_set: str):
    from engine.classify import sets

    found = sets.get(ws, label_set)
    if found.kind != "text":
        raise ClassifyError(f"label set '{label_set}' holds table rows; the review queue reads text"
                            " (a text label set, a batch of a text column)")
    return found


def for_batch(ws, label_set: str, output: str, method: str = "auto", pool: int = POOL_ROWS) -> Queue:
    """Gives a queue over a batch's output table: its rows no person has labelled, the `pool` least
    confident by the batch's own score, re-ranked by the live model."""
    store = ws.store
    found = _check_set(ws, label_set)
    table = store.table_named(output)
    if table is None or not store.is_batch_output(table):
        raise ClassifyError(f"no batch output table '{output}'; run a batch first (`quarry classify --table T"
                            f" --column C -s {label_set}`) and give its output table (`quarry classify runs`"
                            " lists them)")
    made_by = next((r.label_set for r in store.classify_runs(200)
                    if r.kind == "batch" and store.table_named(r.summary.get("output") or "") == table), None)
    if made_by is not None and made_by != label_set:  # its answers would label another set's rows
        raise ClassifyError(f"table {table} is a batch of '{made_by}', not '{label_set}'; review it with"
                            f" `quarry classify review {made_by} --batch {table}`")
    candidates = store.review_candidates(table, pool)
    if not candidates:
        total = store.table_row_count(table)
        reason = "it has no rows" if total == 0 else f"all {total} rows are labelled by hand or hold no text"
        raise ClassifyError(f"table {table}: nothing to review ({reason}); run a batch with rows to classify")
    chosen, why = method_for(method, store.batch_method(table), _auto_choice(ws, found.id))
    rows = [Row(f"{table}:{rid}", text, i, rid, label, conf, runner, meth)
            for i, (rid, text, label, conf, runner, meth) in enumerate(candidates)]
    return Queue(ws, label_set, rows, chosen, why, f"table {table}", batch=table)


def for_rows(ws, label_set: str, column: str, table: str | None = None, file: Path | None = None,
             method: str = "auto", pool: int = POOL_ROWS, seed: int = 0) -> Queue:
    """Gives a queue over a table or file column's rows that are not yet examples of the set (a random
    `pool` of them when there are more), ranked by the live model."""
    from engine.classify.sources import open_source, read

    found = _check_set(ws, label_set)
    if not (column or "").strip():
        raise ClassifyError("give the column with the text to review (--column C)")
    source = open_source(ws, table, file, min_columns=1)  # texts to review: no label column
    known = ws.store.example_texts(found.id)
    texts = []
    for (value,) in read(ws, source, [column]):
        if value is None or not str(value).strip():
            continue
        text = str(value)
        if text not in known:
            texts.append(text)
    texts = list(dict.fromkeys(texts))
    if not texts:
        raise ClassifyError(f"{source.name}: no unlabelled rows in column '{column}' (empty, or every text is"
                            f" already an example of '{label_set}')")
    if len(texts) > pool:
        texts = random.Random(seed).sample(texts, pool)
    texts = check_texts(texts)
    chosen, why = method_for(method, None, _auto_choice(ws, found.id))
    rows = [Row(text_target(t), t, i) for i, t in enumerate(texts)]
    return Queue(ws, label_set, rows, chosen, why, f"{source.name} column {column}")


def export_least_sure(queue: Queue, path: Path, limit: int) -> int:
    """Writes the `limit` least-sure rows to a CSV or Parquet file for labelling elsewhere: a blank
    `label` column to fill (then `quarry labels import`), the model's labels beside it. Gives how many."""
    import csv

    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ClassifyError(f"{path}: export to a .csv or .parquet file")
    if not path.parent.is_dir():
        raise ClassifyError(f"{path}: no folder {path.parent}; create it or export elsewhere")
    rows = queue.least_sure(limit)
    names = ["text", "label", "model_label", "confidence", "runner_up", "runner_up_confidence", "margin",
             "typicality", "row_id", "target"]
    records = []
    for r in rows:
        first = r.top[0] if r.top else (None, None)
        second = r.top[1] if len(r.top) > 1 else (None, None)
        records.append([r.text, "", first[0], round(first[1], 4) if first[1] is not None else None, second[0],
                        round(second[1], 4) if second[1] is not None else None, round(r.margin, 4),
                        round(r.typical, 4), r.row_id, r.target])
    try:
        if suffix == ".csv":  # with a BOM: it is filled in a spreadsheet, and Excel reads UTF-8 only after one
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(names)
                writer.writerows(records)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({n: [rec[i] for rec in records] for i, n in enumerate(names)}), path)
    except OSError as exc:
        raise ClassifyError(f"{path}: could not write the export ({exc.strerror or exc}); export elsewhere") from None
    return len(records)
