"""Review answers: a label given to a queued row is stored as a label example of the set *and* as a
feedback row (kind "label") in one transaction, and a correction to a batch row is written into that
batch's output table too; undo takes all of it back in one transaction. SQL only."""

from __future__ import annotations

import json

import duckdb

from engine.errors import ClassifyError
from engine.store.sql import quote_ident

REVIEW_SOURCE = "review"  # label_examples.source of an example a review answer made
REVIEW_METHOD = "review"  # a batch row's method once a person has labelled it


class ReviewSQL:
    """Store methods for review answers (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    def add_review_answer(self, set_id: int, label_set: str, target: str, text: str, label: str, detail: dict,
                          new_label: bool = False, batch: tuple[str, int] | None = None) -> tuple[int, int]:
        """Stores one answer: the example, its feedback row (detail gains `example_id`) and, for a batch
        row, the corrected label in the output table; an earlier answer for the same row is replaced.
        Gives (feedback id, example id). Nothing is stored unless all of it is."""
        with self.writing():
            if self.db.execute("SELECT 1 FROM label_sets WHERE id = ?", [set_id]).fetchone() is None:
                raise ClassifyError(f"label set '{label_set}' was deleted (by another Quarry process?); nothing"
                                    " stored; close the review and open it again on a set that exists")
            if batch is not None and not (self.table_named(batch[0]) and self.is_batch_output(batch[0])):
                raise ClassifyError(f"table {batch[0]} is no longer a batch's output (dropped or replaced);"
                                    " run the batch again and reopen the review")
            if batch is not None and self.db.execute(
                    f"SELECT text FROM {quote_ident(batch[0])} WHERE row_id = ?", [batch[1]]).fetchone() != (text,):
                # the batch was run again meanwhile (same output table): the row id names another text now
                raise ClassifyError(f"table {batch[0]} was run again since this review opened: its row {batch[1]}"
                                    " holds another text now; nothing stored; close the review and open it again")
            # an earlier answer for the row goes first, so a label only it added is pruned (below) unless
            # this answer gives that label again
            added_before = [self._remove_answer(old) for old in self._answers_for(label_set, target)]
            known = {r[0] for r in self.db.execute("SELECT name FROM labels WHERE set_id = ?", [set_id]).fetchall()}
            if (new_label and label not in known) or label in added_before:
                self._add_labels(set_id, [(label, "")])  # known labels are skipped
                detail = {**detail, "added_label": True}  # undo takes the label back with the answer
            elif label not in known:
                raise ClassifyError(f"'{label_set}' has no label '{label}'; type +{label} to add it")
            example_id = self.db.execute(
                "INSERT INTO label_examples (set_id, text, features, label, source) VALUES (?, ?, NULL, ?, ?)"
                " RETURNING id", [set_id, text, label, REVIEW_SOURCE]).fetchone()[0]
            detail = {**detail, "example_id": example_id}
            feedback_id = self.db.execute(
                "INSERT INTO feedback (kind, subject, target, value, detail) VALUES ('label', ?, ?, ?, ?)"
                " RETURNING id", [label_set, target, label, json.dumps(detail, ensure_ascii=False)]).fetchone()[0]
            if batch is not None:
                output, row_id = batch
                model_label = detail.get("model_label")
                runner_up = model_label if model_label != label else detail.get("model_runner_up")
                self.db.execute(f"UPDATE {quote_ident(output)} SET label = ?, confidence = 1.0, runner_up = ?,"
                                " method = ? WHERE row_id = ?", [label, runner_up, REVIEW_METHOD, row_id])
            self._prune_labels(set_id, [name for name in added_before if name])
        return feedback_id, example_id

    def undo_review_answer(self, feedback_id: int) -> dict | None:
        """Takes an answer back: its feedback row, its example, and a batch row's model label restored.
        Gives the answer's detail (None when it was already gone)."""
        with self.writing():
            row = self.db.execute("SELECT target, detail, value FROM feedback WHERE id = ? AND kind = 'label'",
                                  [feedback_id]).fetchone()
            if row is None:
                return None
            detail = json.loads(row[1]) if row[1] else {}
            set_id = self._example_set(detail.get("example_id"))
            added = self._remove_answer((feedback_id, row[0], row[1], row[2]))
            if added and set_id is not None:
                self._prune_labels(set_id, [added])
        return detail

    def _answers_for(self, label_set: str, target: str) -> list[tuple[int, str, str | None, str]]:
        return self.db.execute("SELECT id, target, detail, value FROM feedback WHERE kind = 'label' AND subject = ?"
                               " AND target = ?", [label_set, target]).fetchall()

    def _example_set(self, example_id: int | None) -> int | None:
        if example_id is None:
            return None
        row = self.db.execute("SELECT set_id FROM label_examples WHERE id = ?", [example_id]).fetchone()
        return row[0] if row else None

    def _prune_labels(self, set_id: int, names: list[str]) -> None:
        """Inside the caller's transaction: deletes labels an answer added (+name) that no example uses now."""
        for name in names:
            self.db.execute("DELETE FROM labels WHERE set_id = ? AND name = ? AND NOT EXISTS"
                            " (SELECT 1 FROM label_examples WHERE set_id = ? AND label = ?)",
                            [set_id, name, set_id, name])

    def _remove_answer(self, answer: tuple[int, str, str | None, str]) -> str | None:
        """Inside the caller's transaction: deletes a label answer's feedback and example, and gives a
        batch row its model's label back. Gives the label when that answer added it to the set (+name),
        for the caller to prune once nothing uses it."""
        feedback_id, _target, raw, label = answer
        detail = json.loads(raw) if raw else {}
        if detail.get("example_id") is not None:
            self.db.execute("DELETE FROM label_examples WHERE id = ? AND source = ?",
                            [detail["example_id"], REVIEW_SOURCE])
        self.db.execute("DELETE FROM feedback WHERE id = ?", [feedback_id])
        output, row_id = detail.get("batch"), detail.get("row_id")
        if output and row_id is not None and self.table_exists(output):
            self.db.execute(f"UPDATE {quote_ident(output)} SET label = ?, confidence = ?, runner_up = ?, method = ?"
                            " WHERE row_id = ? AND method = ?",
                            [detail.get("model_label"), detail.get("model_confidence"), detail.get("model_runner_up"),
                             detail.get("model_method"), row_id, REVIEW_METHOD])
        return label if detail.get("added_label") else None

    def batch_corrections(self, label_set: str, output: str) -> dict[int, tuple[str, str | None]]:
        """Gives the labels people gave to rows of a batch's output: {row id: (label, the row's text)}, the
        newest answer per row."""
        rows = self.db.execute(
            "SELECT target, value, json_extract_string(detail, '$.text') FROM feedback WHERE kind = 'label'"
            " AND subject = ? AND lower(json_extract_string(detail, '$.batch')) = lower(?) ORDER BY id",
            [label_set, output]).fetchall()
        out: dict[int, tuple[str, str | None]] = {}
        for target, label, text in rows:
            row_id = target.rpartition(":")[2]
            if row_id.isdigit():
                out[int(row_id)] = (label, text)
        return out

    def answered_targets(self, label_set: str) -> set[str]:
        """Gives every row target that has a review answer in this label set."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT target FROM feedback WHERE kind = 'label'"
                                              " AND subject = ?", [label_set]).fetchall()}

    def example_texts(self, set_id: int) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT text FROM label_examples WHERE set_id = ? AND"
                                              " text IS NOT NULL", [set_id]).fetchall()}

    def review_candidates(self, output: str, limit: int) -> list[tuple[int, str, str, float | None, str | None, str]]:
        """Gives a batch's labelled rows that no person has labelled, least confident first (row id, text,
        label, confidence, runner-up, method): the pool a review queue re-ranks with its live model."""
        return self.db.execute(
            f"SELECT row_id, text, label, confidence, runner_up, method FROM {quote_ident(output)}"
            " WHERE label IS NOT NULL AND text IS NOT NULL AND method <> ? ORDER BY confidence ASC NULLS FIRST,"
            " row_id LIMIT ?", [REVIEW_METHOD, limit]).fetchall()

    def batch_method(self, output: str) -> str | None:
        """Gives the method a batch's rows were labelled with (the most common, people's labels aside)."""
        row = self.db.execute(f"SELECT method FROM {quote_ident(output)} WHERE label IS NOT NULL AND method <> ?"
                              " GROUP BY method ORDER BY count(*) DESC LIMIT 1", [REVIEW_METHOD]).fetchone()
        return row[0] if row else None
