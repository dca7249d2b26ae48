"""Background jobs (ingest, classify batches, compare batches, evaluations): schema and SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

STATUSES = ("running", "done", "failed", "cancelled")


def m003_jobs(db: duckdb.DuckDBPyConnection) -> None:
    """Creates the jobs table: one row per long piece of work, its params, progress and outcome."""
    db.execute("""
        CREATE SEQUENCE job_ids START 1;
        CREATE TABLE jobs (
            id BIGINT PRIMARY KEY DEFAULT nextval('job_ids'),
            kind VARCHAR NOT NULL,
            params JSON NOT NULL,
            status VARCHAR NOT NULL,          -- running | done | failed | cancelled
            done BIGINT NOT NULL DEFAULT 0,
            total BIGINT,
            unit VARCHAR NOT NULL DEFAULT 'items',
            message VARCHAR,
            error VARCHAR,
            result JSON,
            pid INTEGER,
            runs INTEGER NOT NULL DEFAULT 1,  -- 1 + how many times it was resumed
            started_at TIMESTAMP DEFAULT current_timestamp,
            updated_at TIMESTAMP DEFAULT current_timestamp,
            finished_at TIMESTAMP
        );
    """)


@dataclass
class JobRecord:
    """One job as stored: what it was asked to do and how far it got."""

    id: int
    kind: str
    params: dict
    status: str
    done: int
    total: int | None
    unit: str
    message: str | None
    error: str | None
    result: object
    pid: int | None
    runs: int
    started_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None


_COLUMNS = ("id, kind, params, status, done, total, unit, message, error, result, pid, runs, started_at,"
            " updated_at, finished_at")


def _record(row) -> JobRecord:
    values = list(row)
    values[2] = json.loads(values[2]) if values[2] else {}
    values[9] = json.loads(values[9]) if values[9] else None
    return JobRecord(*values)


class JobsSQL:
    """Store methods for jobs (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    def create_job(self, kind: str, params: dict, unit: str, pid: int) -> int:
        """Records a new running job; gives its id."""
        with self.writing():
            return self.db.execute(
                "INSERT INTO jobs (kind, params, status, unit, pid) VALUES (?, ?, 'running', ?, ?) RETURNING id",
                [kind, json.dumps(params, default=str), unit, pid]).fetchone()[0]

    def restart_job(self, job_id: int, pid: int) -> None:
        """Marks a stored job running again in this process (a resume)."""
        with self.writing():
            self.db.execute("UPDATE jobs SET status = 'running', pid = ?, runs = runs + 1, error = NULL,"
                            " finished_at = NULL, updated_at = current_timestamp WHERE id = ?", [pid, job_id])

    def update_job_progress(self, job_id: int, done: int, total: int | None, message: str,
                            wait: bool = True) -> bool:
        """Stores a running job's progress; with wait=False it gives False at once, storing nothing, while
        another thread holds the write lock (a long import statement): the job's own bar keeps moving and
        its cancel is seen, and the row catches up at the next save."""
        if not self.write_lock.acquire(blocking=wait):
            return False
        try:
            with self.writing():
                self.db.execute("UPDATE jobs SET done = ?, total = ?, message = ?,"
                                " updated_at = current_timestamp WHERE id = ?", [done, total, message, job_id])
        finally:
            self.write_lock.release()
        return True

    def save_job_checkpoint(self, job_id: int, state: object) -> None:
        """Stores a running job's finished parts in its result column (a resume reads them back)."""
        with self.writing():
            self.db.execute("UPDATE jobs SET result = ?, updated_at = current_timestamp WHERE id = ?",
                            [json.dumps(state, default=str), job_id])

    def finish_job(self, job_id: int, status: str, done: int, total: int | None, message: str,
                   error: str | None = None, result: object = None) -> None:
        """Records how a job ended: done, failed (with its error) or cancelled."""
        if status not in STATUSES[1:]:
            raise ValueError(f"not a final job status: {status}")
        with self.writing():
            self.db.execute(
                "UPDATE jobs SET status = ?, done = ?, total = ?, message = ?, error = ?, result = ?,"
                " updated_at = current_timestamp, finished_at = current_timestamp WHERE id = ?",
                [status, done, total, message, error,
                 json.dumps(result, default=str) if result is not None else None, job_id])

    def job(self, job_id: int) -> JobRecord | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", [job_id]).fetchone()
        return _record(row) if row else None

    def jobs(self, kind: str | None = None, statuses: tuple[str, ...] | None = None,
             limit: int = 100) -> list[JobRecord]:
        """Gives the newest jobs first, optionally of one kind and some statuses."""
        clauses, params = ["TRUE"], []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if statuses:
            clauses.append("status IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(statuses))
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {' AND '.join(clauses)}"
                               " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
        return [_record(r) for r in rows]
