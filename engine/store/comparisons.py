"""Model comparisons: runs (one prompt to several models, with the settings they all got), their answers,
blind votes, and batches over prompt sets. Schema and SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from engine.store.sql import quote_ident


def m006_comparisons(db: duckdb.DuckDBPyConnection) -> None:
    """Creates the comparison tables: batches, runs, answers, votes."""
    db.execute("""
        CREATE SEQUENCE compare_batch_ids START 1;
        CREATE SEQUENCE compare_run_ids START 1;
        CREATE SEQUENCE compare_vote_ids START 1;
        CREATE TABLE compare_batches (
            id BIGINT PRIMARY KEY DEFAULT nextval('compare_batch_ids'),
            source VARCHAR NOT NULL,          -- the prompt set: a file path or table:NAME
            models JSON NOT NULL,
            settings JSON NOT NULL,
            items JSON NOT NULL,              -- [{prompt, reference}] as read when the batch started
            job_id BIGINT,
            status VARCHAR NOT NULL DEFAULT 'running',   -- running | done | cancelled | failed
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE compare_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('compare_run_ids'),
            prompt VARCHAR NOT NULL,
            models JSON NOT NULL,             -- in column order
            settings JSON NOT NULL,           -- temperature, max_tokens, system prompt, seed, rag, k ...
            blind BOOLEAN NOT NULL DEFAULT false,
            revealed BOOLEAN NOT NULL DEFAULT false,
            sources JSON,                     -- the passages every model got (document questions)
            search_query VARCHAR,
            refused BOOLEAN NOT NULL DEFAULT false,
            rerun_of BIGINT,
            batch_id BIGINT,
            item INTEGER,
            reference VARCHAR,
            status VARCHAR NOT NULL DEFAULT 'running',   -- running | done
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE INDEX compare_runs_batch ON compare_runs(batch_id);
        CREATE TABLE compare_answers (
            run_id BIGINT NOT NULL,
            position INTEGER NOT NULL,
            model VARCHAR NOT NULL,
            label VARCHAR,                    -- "A"/"B" in blind runs
            status VARCHAR NOT NULL,          -- done | failed | cancelled
            text VARCHAR,
            raw_text VARCHAR,
            error VARCHAR,
            stats JSON,
            checks JSON,                      -- citation check and agreement with the reference
            PRIMARY KEY (run_id, position)
        );
        CREATE TABLE compare_votes (
            id BIGINT PRIMARY KEY DEFAULT nextval('compare_vote_ids'),
            run_id BIGINT NOT NULL UNIQUE,
            model_a VARCHAR NOT NULL,
            model_b VARCHAR NOT NULL,
            outcome VARCHAR NOT NULL,         -- a | b | tie | both_bad
            created_at TIMESTAMP DEFAULT current_timestamp
        );
    """)


@dataclass
class AnswerRow:
    run_id: int
    position: int
    model: str
    label: str | None
    status: str
    text: str
    raw_text: str
    error: str | None
    stats: dict
    checks: dict


@dataclass
class RunRow:
    id: int
    prompt: str
    models: list[str]
    settings: dict
    blind: bool
    revealed: bool
    sources: list[dict]
    search_query: str | None
    refused: bool
    rerun_of: int | None
    batch_id: int | None
    item: int | None
    reference: str | None
    status: str
    created_at: datetime | None
    answers: list[AnswerRow] = field(default_factory=list)


@dataclass
class VoteRow:
    id: int
    run_id: int
    model_a: str
    model_b: str
    outcome: str
    created_at: datetime | None = None


@dataclass
class BatchRow:
    id: int
    source: str
    models: list[str]
    settings: dict
    items: list[dict]
    job_id: int | None
    status: str
    created_at: datetime | None = None


_RUN_COLUMNS = ("id, prompt, models, settings, blind, revealed, sources, search_query, refused, rerun_of, "
                "batch_id, item, reference, status, created_at")


def _loads(value, default):
    return json.loads(value) if value else default


def _run(row) -> RunRow:
    return RunRow(row[0], row[1], _loads(row[2], []), _loads(row[3], {}), bool(row[4]), bool(row[5]),
                  _loads(row[6], []), row[7], bool(row[8]), row[9], row[10], row[11], row[12], row[13], row[14])


class ComparisonsSQL:
    """Store methods for comparisons (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    # -- runs ---------------------------------------------------------------------------------
    def create_compare_run(self, prompt: str, models: list[str], settings: dict, blind: bool = False,
                           sources: list[dict] | None = None, search_query: str | None = None,
                           refused: bool = False, rerun_of: int | None = None, batch_id: int | None = None,
                           item: int | None = None, reference: str | None = None) -> int:
        with self.writing():
            return self.db.execute(
                "INSERT INTO compare_runs (prompt, models, settings, blind, sources, search_query, refused,"
                " rerun_of, batch_id, item, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [prompt, json.dumps(models), json.dumps(settings), blind,
                 json.dumps(sources) if sources is not None else None, search_query, refused, rerun_of,
                 batch_id, item, reference]).fetchone()[0]

    def add_compare_answer(self, run_id: int, position: int, model: str, label: str | None, status: str,
                           text: str, raw_text: str, error: str | None, stats: dict, checks: dict) -> None:
        with self.writing():
            self.db.execute("INSERT INTO compare_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [run_id, position, model, label, status, text, raw_text, error,
                             json.dumps(stats), json.dumps(checks)])

    def finish_compare_run(self, run_id: int, status: str = "done") -> None:
        with self.writing():
            self.db.execute("UPDATE compare_runs SET status = ? WHERE id = ?", [status, run_id])

    def reveal_compare_run(self, run_id: int) -> None:
        with self.writing():
            self.db.execute("UPDATE compare_runs SET revealed = true WHERE id = ?", [run_id])

    def compare_run(self, run_id: int) -> RunRow | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM compare_runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            return None
        run = _run(row)
        run.answers = self.compare_answers(run_id)
        return run

    def compare_answers(self, run_id: int) -> list[AnswerRow]:
        rows = self.db.execute("SELECT run_id, position, model, label, status, text, raw_text, error, stats,"
                               " checks FROM compare_answers WHERE run_id = ? ORDER BY position",
                               [run_id]).fetchall()
        return [AnswerRow(*r[:8], _loads(r[8], {}), _loads(r[9], {})) for r in rows]

    def compare_runs(self, limit: int = 50, batch_id: int | None = None) -> list[RunRow]:
        """Gives runs newest first (or a batch's runs in item order), answers included."""
        if batch_id is None:
            rows = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM compare_runs WHERE batch_id IS NULL"
                                   " ORDER BY id DESC LIMIT ?", [limit]).fetchall()
        else:
            rows = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM compare_runs WHERE batch_id = ?"
                                   " ORDER BY item", [batch_id]).fetchall()
        runs = [_run(r) for r in rows]
        if runs:
            answers = self.db.execute(
                "SELECT run_id, position, model, label, status, text, raw_text, error, stats, checks"
                " FROM compare_answers WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, position",
                [[r.id for r in runs]]).fetchall()
            by_run: dict[int, list[AnswerRow]] = {}
            for a in answers:
                by_run.setdefault(a[0], []).append(AnswerRow(*a[:8], _loads(a[8], {}), _loads(a[9], {})))
            for run in runs:
                run.answers = by_run.get(run.id, [])
        return runs

    # -- votes --------------------------------------------------------------------------------
    def add_compare_vote(self, run_id: int, model_a: str, model_b: str, outcome: str) -> int:
        with self.writing():
            return self.db.execute("INSERT INTO compare_votes (run_id, model_a, model_b, outcome)"
                                   " VALUES (?, ?, ?, ?) RETURNING id",
                                   [run_id, model_a, model_b, outcome]).fetchone()[0]

    def compare_vote(self, run_id: int) -> VoteRow | None:
        row = self.db.execute("SELECT id, run_id, model_a, model_b, outcome, created_at FROM compare_votes"
                              " WHERE run_id = ?", [run_id]).fetchone()
        return VoteRow(*row) if row else None

    def compare_votes(self) -> list[VoteRow]:
        """Gives every vote, oldest first (the order Elo replays them in)."""
        rows = self.db.execute("SELECT id, run_id, model_a, model_b, outcome, created_at FROM compare_votes"
                               " ORDER BY id").fetchall()
        return [VoteRow(*r) for r in rows]

    # -- batches ------------------------------------------------------------------------------
    def create_compare_batch(self, source: str, models: list[str], settings: dict, items: list[dict]) -> int:
        with self.writing():
            return self.db.execute("INSERT INTO compare_batches (source, models, settings, items)"
                                   " VALUES (?, ?, ?, ?) RETURNING id",
                                   [source, json.dumps(models), json.dumps(settings),
                                    json.dumps(items, ensure_ascii=False)]).fetchone()[0]

    def set_compare_batch(self, batch_id: int, status: str | None = None, job_id: int | None = None) -> None:
        with self.writing():
            if status is not None:
                self.db.execute("UPDATE compare_batches SET status = ? WHERE id = ?", [status, batch_id])
            if job_id is not None:
                self.db.execute("UPDATE compare_batches SET job_id = ? WHERE id = ?", [job_id, batch_id])

    def compare_batch(self, batch_id: int) -> BatchRow | None:
        row = self.db.execute("SELECT id, source, models, settings, items, job_id, status, created_at"
                              " FROM compare_batches WHERE id = ?", [batch_id]).fetchone()
        if row is None:
            return None
        return BatchRow(row[0], row[1], _loads(row[2], []), _loads(row[3], {}), _loads(row[4], []), *row[5:])

    def compare_batches(self) -> list[BatchRow]:
        rows = self.db.execute("SELECT id, source, models, settings, items, job_id, status, created_at"
                               " FROM compare_batches ORDER BY id DESC").fetchall()
        return [BatchRow(r[0], r[1], _loads(r[2], []), _loads(r[3], {}), _loads(r[4], []), *r[5:])
                for r in rows]

    def compare_batch_done_items(self, batch_id: int) -> set[int]:
        """Gives the items of a batch whose run finished (what a resumed batch skips)."""
        rows = self.db.execute("SELECT item FROM compare_runs WHERE batch_id = ? AND status = 'done'",
                               [batch_id]).fetchall()
        return {r[0] for r in rows}

    def drop_unfinished_compare_runs(self, batch_id: int) -> int:
        """Deletes a batch's runs that never finished (a crash or cancel mid-prompt) and gives how many."""
        with self.writing():
            ids = [r[0] for r in self.db.execute("SELECT id FROM compare_runs WHERE batch_id = ? AND"
                                                 " status <> 'done'", [batch_id]).fetchall()]
            if ids:
                self.db.execute("DELETE FROM compare_answers WHERE run_id IN (SELECT unnest(?))", [ids])
                self.db.execute("DELETE FROM compare_runs WHERE id IN (SELECT unnest(?))", [ids])
        return len(ids)

    def compare_table_rows(self, table: str, columns: list[str]) -> list[dict]:
        """Gives the named columns of an ingested data table (validated against data_tables)."""
        known = {r[0] for r in self.db.execute("SELECT name FROM data_tables").fetchall()}
        if table not in known:
            return []
        have = {r[0] for r in self.db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
        cols = [c for c in columns if c in have]
        if not cols:
            return []
        quoted = ", ".join(quote_ident(c) for c in cols)
        name = quote_ident(table)
        return [dict(zip(cols, r)) for r in self.db.execute(f"SELECT {quoted} FROM {name}").fetchall()]
