"""User feedback, one table for every pane: a label given to a classify row in review, a rating of a chat
answer, a recommendation accepted or dismissed. Each row keeps its time; rows are listed, exported and
removed here, and each feature reads the kinds it learns from. Schema and SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from engine.errors import FeedbackError, first_line

# kind -> what `subject`, `target` and `value` hold for it.
KINDS = {
    "label": "label set, row (batch table:row id, or text:<sha1> for a row from a file), the label given",
    "rating": "chat id, assistant message id, good | bad",
    "accept": "user id, item id, accepted",
    "dismiss": "user id, item id, dismissed",
}
EXPORT_SUFFIXES = (".csv", ".parquet")


def m008_feedback(db: duckdb.DuckDBPyConnection) -> None:
    """Creates the feedback table."""
    db.execute("""
        CREATE SEQUENCE feedback_ids START 1;
        CREATE TABLE feedback (
            id BIGINT PRIMARY KEY DEFAULT nextval('feedback_ids'),
            kind VARCHAR NOT NULL,            -- label | rating | accept | dismiss (see KINDS)
            subject VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            detail JSON,                      -- what the user saw: text, the model's label, question, passage ...
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE INDEX feedback_subject ON feedback(kind, subject);
    """)


@dataclass
class Feedback:
    id: int
    kind: str
    subject: str
    target: str
    value: str
    detail: dict | None
    created_at: datetime | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "target": self.target,
                "value": self.value, "detail": self.detail,
                "created_at": self.created_at.isoformat(sep=" ", timespec="seconds") if self.created_at else None}


_COLUMNS = "id, kind, subject, target, value, detail, created_at"


def _row(r) -> Feedback:
    return Feedback(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else None, r[6])


def _where(kind: str | None, subject: str | None) -> tuple[str, list]:
    clauses, args = [], []
    if kind is not None:
        clauses.append("kind = ?")
        args.append(kind)
    if subject is not None:
        clauses.append("subject = ?")
        args.append(str(subject))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


class FeedbackSQL:
    """Store methods for feedback (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    def add_feedback(self, kind: str, subject, target, value: str, detail: dict | None = None) -> int:
        """Stores one piece of feedback and gives its id. `kind` is one of KINDS."""
        if kind not in KINDS:
            raise FeedbackError(f"{kind!r}: not a kind of feedback; use one of {', '.join(KINDS)}")
        with self.writing():
            return self.db.execute(
                "INSERT INTO feedback (kind, subject, target, value, detail) VALUES (?, ?, ?, ?, ?) RETURNING id",
                [kind, str(subject), str(target), str(value),
                 json.dumps(detail, ensure_ascii=False) if detail is not None else None]).fetchone()[0]

    def feedback(self, kind: str | None = None, subject=None) -> list[Feedback]:
        """Gives feedback oldest first, of one kind and subject when given."""
        where, args = _where(kind, subject)
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM feedback{where} ORDER BY id", args).fetchall()
        return [_row(r) for r in rows]

    def feedback_item(self, feedback_id: int) -> Feedback | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM feedback WHERE id = ?", [feedback_id]).fetchone()
        return _row(row) if row else None

    def latest_feedback(self, kind: str, subject) -> dict[str, Feedback]:
        """Gives the newest feedback per target for one kind and subject (a later answer replaces an
        earlier one for the same row, message or item)."""
        latest: dict[str, Feedback] = {}
        for item in self.feedback(kind, subject):
            latest[item.target] = item
        return latest

    def remove_feedback(self, feedback_id: int) -> Feedback:
        """Removes one piece of feedback and gives what was removed."""
        item = self.feedback_item(feedback_id)
        if item is None:
            raise FeedbackError(f"feedback {feedback_id}: no such feedback; `quarry feedback list` shows the ids")
        with self.writing():
            self.db.execute("DELETE FROM feedback WHERE id = ?", [feedback_id])
        return item

    def remove_feedback_of(self, kind: str, subject, target) -> int:
        """Removes every piece of one kind of feedback on one subject's target (a dismissal an accept
        replaces); gives how many."""
        with self.writing():
            return len(self.db.execute("DELETE FROM feedback WHERE kind = ? AND subject = ? AND target = ?"
                                       " RETURNING id", [kind, str(subject), str(target)]).fetchall())

    def feedback_targets(self, kinds: tuple[str, ...], subject) -> set[str]:
        """Gives the targets of some kinds of feedback on one subject (the items a user accepted or
        dismissed)."""
        rows = self.db.execute("SELECT DISTINCT target FROM feedback WHERE kind IN (SELECT unnest(?::VARCHAR[]))"
                               " AND subject = ?", [list(kinds), str(subject)]).fetchall()
        return {r[0] for r in rows}

    def export_feedback(self, path: str, kind: str | None = None, subject=None) -> int:
        """Writes feedback to a CSV or Parquet file (chosen by its suffix); gives how many rows."""
        lowered = path.lower()
        if not lowered.endswith(EXPORT_SUFFIXES):
            raise FeedbackError(f"{path}: export feedback to a .csv or .parquet file")
        fmt = "parquet" if lowered.endswith(".parquet") else "csv"
        where, args = _where(kind, subject)
        quoted = path.replace("'", "''")
        n = self.db.execute(f"SELECT count(*) FROM feedback{where}", args).fetchone()[0]
        try:
            self.db.execute(f"COPY (SELECT {_COLUMNS} FROM feedback{where} ORDER BY id) TO '{quoted}'"
                            f" (FORMAT {fmt})", args)
        except duckdb.Error as exc:
            raise FeedbackError(f"{path}: could not write the export ({first_line(exc)}); check the folder exists"
                                " and is writable") from None
        return n
