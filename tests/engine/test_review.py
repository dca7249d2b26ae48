"""The review queue: answers stored as an example and a feedback row together, the method refitted and the
queue re-ranked, undo, a batch row's correction kept in its table, export and re-run; bad input in one line."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from engine import feedback
from engine.classify import ClassifyError, batch, review, sets
from engine.store.review import REVIEW_METHOD
from engine.workspace import Workspace
from tests.conftest import require_models

TABLES = Path(__file__).resolve().parents[2] / "demo" / "docs" / "tables"
CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"


def write_reviews(path: Path, per_label: int, skip: int = 0) -> Path:
    """Writes `per_label` demo reviews of each sentiment (after skipping `skip` of each) to a CSV."""
    with (TABLES / "reviews.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        n = seen[row["sentiment"]] = seen.get(row["sentiment"], 0) + 1
        if skip < n <= skip + per_label:
            kept.append(row)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return path


@pytest.fixture(scope="module")
def review_template(tmp_path_factory) -> Path:
    """A workspace with a 'reviews' set of 4 examples per label and a lexical batch over 60 other reviews."""
    require_models("minilm-l6")
    folder = tmp_path_factory.mktemp("review")
    seed = write_reviews(folder / "seed.csv", 4)
    rows = write_reviews(folder / "rows.csv", 20, skip=4)
    root = folder / "ws"
    with Workspace(root) as ws:
        sets.import_examples(ws, "reviews", "sentiment", file=seed, text_column="text")
        summary = batch.wait(batch.run(ws, "reviews", "text", file=rows, method="lexical", output="c_rows"))
        assert summary["rows"] == 60
    return folder


@pytest.fixture
def review_ws(review_template, tmp_path):
    shutil.copytree(review_template, tmp_path / "copy")
    ws = Workspace(tmp_path / "copy" / "ws")
    yield ws
    ws.close()


def least_sure_first(rows, n_labels: int) -> bool:
    """Tells whether rows (queue rows, or exported ones with rounded figures) are in the queue's order."""
    keys = [review.least_sure_key(float(r["margin"]), float(r["typicality"]), n_labels) if isinstance(r, dict)
            else review.least_sure_key(r.margin, r.typical, n_labels) for r in rows]
    return all(a <= b + 1e-3 for a, b in zip(keys, keys[1:]))


def test_answers_store_examples_and_feedback_and_rerank(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    assert queue.method == "lexical" and "batch's method" in queue.why
    assert len(queue.pending) == 60
    assert len(queue.labels) == 3 and queue.order == "density"  # 好评 中评 差评
    assert least_sure_first(queue.pending, 3)
    before = {r.target: r.top for r in queue.pending}
    answered = []
    for typed in ("1", "差评", "2"):
        row = queue.current
        step = queue.answer(typed)
        answered.append((row, step.label))
        assert step.seconds < 30
    counts = ws.store.label_set("reviews").counts
    assert sum(counts.values()) == 12 + 3
    feedback = ws.store.feedback("label", "reviews")
    assert [f.value for f in feedback] == [label for _, label in answered]
    assert all(f.detail["text"] == row.text and f.detail["example_id"] for f, (row, _) in zip(feedback, answered))
    stored = ws.store.db.execute("SELECT row_id, label, method FROM c_rows WHERE method = ? ORDER BY row_id",
                                 [REVIEW_METHOD]).fetchall()
    assert sorted(stored) == sorted((row.row_id, label, REVIEW_METHOD) for row, label in answered)
    # re-ranked: the rest were scored again by the refitted model
    assert len(queue.pending) == 57
    assert any(r.top != before[r.target] for r in queue.pending)
    assert least_sure_first(queue.pending, 3)


def test_with_more_than_two_labels_the_margin_is_weighted_by_typicality(review_ws):
    queue = review.for_batch(review_ws, "reviews", "c_rows")
    assert queue.order == "density" and "weighted to rows typical of the queue" in queue.line()
    assert len({round(r.typical, 6) for r in queue.pending}) > 1
    # the rule written out here: the largest (1 - margin) x typicality first
    expected = sorted(queue.pending, key=lambda r: (-(1 - r.margin) * r.typical, r.index))
    assert [r.index for r in queue.pending] == [r.index for r in expected]
    by_margin = sorted(queue.pending, key=lambda r: (r.margin, r.index))
    assert queue.pending != by_margin  # the weighting changed the order


def test_typicality_and_the_sort_key():
    texts = ["质量很好，很满意", "质量很好，满意", "质量不错，很满意", "物流很快，质量好", "电池续航短"]
    typical = review.typicality(texts)
    assert typical.argmin() == 4 and abs(typical.mean() - 1) < 1e-9
    assert list(review.typicality(["a", "b"])) == [1.0, 1.0]  # too few to compare
    assert list(review.typicality(["甲", "乙", "丙"])) == [1.0, 1.0, 1.0]  # no character in common
    # each script is compared with its own: a Chinese minority is not odd for being Chinese
    mixed = ["Fast delivery, great quality", "Great quality, fast shipping", "Quality is great, happy",
             "Delivery was fast and the quality great", "Great desk, fast delivery", "质量很好，很满意",
             "质量很好，满意", "质量不错，很满意"]
    typical = review.typicality(mixed)
    assert abs(typical[:5].mean() - 1) < 1e-9 and abs(typical[5:].mean() - 1) < 1e-9
    # two labels: the margin alone; more: a typical row before an odd one of a slightly smaller margin
    assert review.least_sure_key(0.1, 0.2, 2) < review.least_sure_key(0.2, 1.5, 2)
    assert review.least_sure_key(0.2, 1.5, 3) < review.least_sure_key(0.1, 0.2, 3)


def test_undo_takes_back_example_feedback_and_the_batch_label(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    row = queue.current
    model_label = row.batch_label
    queue.answer("+不确定")  # a new label, added on purpose
    assert "不确定" in ws.store.label_set("reviews").labels
    queue.skip()
    assert queue.undo().kind == "skip"
    step = queue.undo()
    assert step.kind == "answer" and queue.current is row
    assert ws.store.feedback("label") == []
    assert ws.store.label_set("reviews").examples == 12
    assert "不确定" not in ws.store.label_set("reviews").labels and "不确定" not in queue.labels  # its +name too
    assert all("不确定" not in dict(r.top) for r in queue.pending)
    assert ws.store.db.execute("SELECT label, method FROM c_rows WHERE row_id = ?", [row.row_id]).fetchone() == \
        (model_label, "lexical")
    with pytest.raises(ClassifyError, match="nothing to undo"):
        queue.undo()


def test_an_undo_of_an_answer_removed_elsewhere_says_so(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    row = queue.current
    queue.answer("1")
    (answer,) = ws.store.feedback("label", "reviews")
    feedback.remove(ws, answer.id)  # as `quarry feedback remove ID` from another terminal
    step = queue.undo()
    assert step.gone and "removed meanwhile" in step.undone() and queue.current is row
    assert ws.store.label_set("reviews").examples == 12 and len(queue.learner.y) == 12


def test_a_new_label_is_kept_while_an_answer_uses_it(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    first = queue.current
    queue.answer("+mixed")
    queue.answer("mixed")  # a second row, by the label's name: it did not add the label
    queue.undo()
    assert "mixed" in ws.store.label_set("reviews").labels  # the first answer still uses it
    queue.undo()
    assert "mixed" not in ws.store.label_set("reviews").labels and queue.current is first
    # a row answered again with the label its first answer added keeps it, and an undo then takes it back
    queue.answer("+mixed")
    ws.store.add_review_answer(queue.found.id, "reviews", first.target, first.text, "mixed", {}, False,
                               ("c_rows", first.row_id))
    assert "mixed" in ws.store.label_set("reviews").labels
    (feedback_id,) = [f.id for f in ws.store.feedback("label")]
    ws.store.undo_review_answer(feedback_id)
    assert "mixed" not in ws.store.label_set("reviews").labels


def test_a_correction_wins_in_the_export_and_survives_a_rerun(review_ws, tmp_path):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    row = queue.current
    wanted = next(label for label in queue.labels if label != row.batch_label)
    queue.answer(wanted)
    rows = tmp_path / "copy" / "rows.csv"
    out = tmp_path / "out.csv"
    summary = batch.wait(batch.run(ws, "reviews", "text", file=rows, method="lexical", output="c_rows", export=out))
    assert summary["rows"] == 60
    assert ws.store.db.execute("SELECT label, method FROM c_rows WHERE row_id = ?", [row.row_id]).fetchone() == \
        (wanted, REVIEW_METHOD)
    with out.open(encoding="utf-8") as fh:
        exported = {int(r["row_id"]): r["label"] for r in csv.DictReader(fh)}
    assert exported[row.row_id] == wanted
    # the reviewed row is not queued again
    assert row.target not in {r.target for r in review.for_batch(ws, "reviews", "c_rows").pending}


def test_a_label_not_in_the_set_is_one_line_and_stores_nothing(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    with pytest.raises(ClassifyError) as err:
        queue.answer("positive")
    message = str(err.value)
    assert "no label 'positive'" in message and "+positive" in message and "\n" not in message
    with pytest.raises(ClassifyError, match="no label 7"):
        queue.answer("7")
    assert ws.store.feedback("label") == [] and ws.store.label_set("reviews").examples == 12
    assert len(queue.pending) == 60


def test_an_empty_batch_is_one_line(review_ws, tmp_path):
    ws = review_ws
    empty = tmp_path / "empty.csv"
    empty.write_text("text,sentiment\n", encoding="utf-8")
    batch.wait(batch.run(ws, "reviews", "text", file=empty, method="lexical", output="c_empty"))
    with pytest.raises(ClassifyError, match="table c_empty: nothing to review \\(it has no rows\\)"):
        review.for_batch(ws, "reviews", "c_empty")
    with pytest.raises(ClassifyError, match="no batch output table 'documents'"):
        review.for_batch(ws, "reviews", "documents")


def test_unlabelled_rows_of_a_file_and_least_sure_export(review_ws, tmp_path):
    ws = review_ws
    rows = tmp_path / "copy" / "rows.csv"
    queue = review.for_rows(ws, "reviews", "text", file=rows, method="lexical")
    assert len(queue.pending) == 60 and queue.current.target.startswith("text:")
    queue.answer("1")
    again = review.for_rows(ws, "reviews", "text", file=rows, method="lexical")
    assert len(again.pending) == 59  # the answered text is an example now
    out = tmp_path / "least.csv"
    assert review.export_least_sure(again, out, 5) == 5
    with out.open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert least_sure_first(exported, 3)
    assert all(r["label"] == "" and r["model_label"] for r in exported)


def test_a_tabular_set_is_refused(review_ws):
    sets.import_examples(review_ws, "credit", "outcome", file=CREDIT, features=["*"])
    with pytest.raises(ClassifyError, match="holds table rows; the review queue reads text"):
        review.for_rows(review_ws, "credit", "region", file=CREDIT)


def test_nothing_is_stored_half(review_ws, monkeypatch):
    """A write that fails after the example is inserted (here a full disk on the feedback insert: a fault
    this test cannot cause for real, so the cursor is wrapped to raise it) leaves neither example nor
    feedback nor a changed batch row; the queue stays on the row."""
    import duckdb

    from engine.errors import QuarryError
    from engine.store import Store

    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    row = queue.current
    real = Store.db

    class FullDisk:
        def __init__(self, cursor):
            self._cursor = cursor

        def execute(self, sql, *args, **kwargs):
            if sql.startswith("INSERT INTO feedback"):
                raise duckdb.IOException("No space left on device")
            return self._cursor.execute(sql, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self._cursor, name)

    monkeypatch.setattr(Store, "db", property(lambda self: FullDisk(real.fget(self))))
    with pytest.raises(QuarryError, match="the disk is full"):
        queue.answer("1")
    monkeypatch.setattr(Store, "db", real)
    assert ws.store.feedback("label") == [] and ws.store.label_set("reviews").examples == 12
    assert ws.store.db.execute("SELECT count(*) FROM c_rows WHERE method = 'review'").fetchone()[0] == 0
    assert queue.current is row and queue.history == []


def test_a_batch_table_dropped_under_the_queue_is_one_line(review_ws):
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    ws.store.drop_table("c_rows")
    with pytest.raises(ClassifyError, match="table c_rows is no longer a batch's output"):
        queue.answer("1")
    assert ws.store.feedback("label") == [] and ws.store.label_set("reviews").examples == 12


def test_a_batch_of_another_set_is_refused(review_ws):
    """`quarry classify review other --batch c_rows` (a batch of 'reviews') opened, and each answer wrote
    one set's label into the other set's batch table."""
    sets.create(review_ws, "other", [("yes", ""), ("no", "")])
    with pytest.raises(ClassifyError, match="table c_rows is a batch of 'reviews', not 'other'; review it with"
                                            " `quarry classify review reviews --batch c_rows`"):
        review.for_batch(review_ws, "other", "c_rows")
    assert review.for_batch(review_ws, "reviews", "c_rows").pending


def test_a_batch_run_again_under_the_queue_is_one_line_and_no_other_row_is_labelled(review_ws, tmp_path):
    """The batch re-run into the same table (another file) while the app's review was open: the next answer
    wrote its label onto whichever new row had the old row's id, a different text."""
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    other = write_reviews(tmp_path / "other.csv", 20, skip=30)
    batch.wait(batch.run(ws, "reviews", "text", file=other, method="lexical", output="c_rows"))
    changed = ws.store.db.execute("SELECT text FROM c_rows WHERE row_id = ?", [queue.current.row_id]).fetchone()
    assert changed != (queue.current.text,)  # the same id, another text
    with pytest.raises(ClassifyError, match="table c_rows was run again since this review opened"):
        queue.answer("1")
    assert ws.store.feedback("label") == []
    assert ws.store.db.execute("SELECT count(*) FROM c_rows WHERE method = 'review'").fetchone()[0] == 0


def test_a_set_deleted_under_the_queue_is_one_line_and_nothing_is_stored(review_ws):
    """`quarry labels delete` while the app's review was open (or deleted and made again): the next answer
    said "stored as an example" and stored it, its feedback and the batch row's label under a set id that
    no longer existed."""
    ws = review_ws
    queue = review.for_batch(ws, "reviews", "c_rows")
    sets.delete(ws, "reviews")
    with pytest.raises(ClassifyError, match="label set 'reviews' was deleted .*; nothing stored"):
        queue.answer("1")
    assert ws.store.feedback("label") == []
    assert ws.store.db.execute("SELECT count(*) FROM label_examples").fetchone()[0] == 0
    assert ws.store.db.execute("SELECT count(*) FROM c_rows WHERE method = 'review'").fetchone()[0] == 0


@pytest.mark.parametrize("method", ["embedding", "stack", "lexical"])
def test_a_set_without_examples_is_ranked_zero_shot_until_two_labels_have_some(review_ws, tmp_path, method):
    sets.create(review_ws, "blank", [("好评", ""), ("中评", ""), ("差评", "")])
    rows = tmp_path / "copy" / "rows.csv"
    queue = review.for_rows(review_ws, "blank", "text", file=rows, method=method)
    assert len(queue.pending) == 60 and len(queue.current.top) == 3  # labels scored by their names
    queue.answer("1")
    queue.answer("1")  # still one label with examples: zero-shot pulled toward them
    queue.answer("3")  # two labels: the method's own heads
    assert queue.undo().kind == "answer" and queue.undo().kind == "answer"
    assert len(queue.current.top) == 3 and review_ws.store.label_set("blank").examples == 1
