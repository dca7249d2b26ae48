"""Numbered schema migrations, each applied once and recorded in `_migrations`.

Each feature's migrations live in its own module under engine/store/; this list fixes their numbers.
Numbers are handed out here once and never reused or reordered."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from engine.store import chats, comparisons, feedback, jobs, labels, recommendations


def m001_initial(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("""
        CREATE SEQUENCE document_ids START 1;
        CREATE SEQUENCE chunk_ids START 1;
        CREATE SEQUENCE chat_ids START 1;
        CREATE SEQUENCE message_ids START 1;
        CREATE TABLE state (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
        CREATE TABLE documents (
            id BIGINT PRIMARY KEY DEFAULT nextval('document_ids'),
            path VARCHAR NOT NULL UNIQUE,
            title VARCHAR,
            doctype VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            size_bytes BIGINT,
            pages INTEGER,
            lang VARCHAR,
            meta JSON,
            status VARCHAR NOT NULL,          -- ready | failed
            error VARCHAR,
            modified_at TIMESTAMP,
            ingested_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE chunks (
            id BIGINT PRIMARY KEY DEFAULT nextval('chunk_ids'),
            document_id BIGINT NOT NULL,
            ord INTEGER NOT NULL,
            page INTEGER,
            heading VARCHAR,
            text VARCHAR NOT NULL,
            tokens INTEGER,
            lang VARCHAR,
            vector BLOB                       -- float32 embedding; indexes are rebuilt from these
        );
        CREATE INDEX chunks_document ON chunks(document_id);
        CREATE TABLE chats (
            id BIGINT PRIMARY KEY DEFAULT nextval('chat_ids'),
            title VARCHAR NOT NULL,
            model VARCHAR,
            mode VARCHAR NOT NULL DEFAULT 'chat', -- chat | docs
            system_prompt VARCHAR,
            created_at TIMESTAMP DEFAULT current_timestamp,
            updated_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE messages (
            id BIGINT PRIMARY KEY DEFAULT nextval('message_ids'),
            chat_id BIGINT NOT NULL,
            role VARCHAR NOT NULL,            -- system | user | assistant
            content VARCHAR NOT NULL,
            stats JSON,
            citations JSON,
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE INDEX messages_chat ON messages(chat_id);
        CREATE TABLE data_tables (
            name VARCHAR PRIMARY KEY,
            document_id BIGINT NOT NULL,
            source_path VARCHAR NOT NULL,
            rows BIGINT
        );
    """)


def m002_integrity(db: duckdb.DuckDBPyConnection) -> None:
    """Hardening (issue 13): every message belongs to a chat that exists (a foreign key).

    DuckDB cannot add a foreign key to a table, so `messages` is rebuilt with one, keeping every row.
    Messages stored under a chat id that does not exist (an old `--chat N` bug) move to a new chat
    titled "Recovered messages", so no one's text is lost or shown in another chat."""
    orphans = [r[0] for r in db.execute(
        "SELECT DISTINCT chat_id FROM messages WHERE chat_id NOT IN (SELECT id FROM chats) ORDER BY 1").fetchall()]
    for old in orphans:
        new = db.execute("INSERT INTO chats (title, mode) VALUES (?, 'chat') RETURNING id",
                         [f"Recovered messages (chat {old})"]).fetchone()[0]
        db.execute("UPDATE messages SET chat_id = ? WHERE chat_id = ?", [new, old])
    db.execute("""
        CREATE TEMP TABLE messages_kept AS SELECT * FROM messages;
        DROP INDEX IF EXISTS messages_chat;
        DROP TABLE messages;
        CREATE TABLE messages (
            id BIGINT PRIMARY KEY DEFAULT nextval('message_ids'),
            chat_id BIGINT NOT NULL REFERENCES chats(id),
            role VARCHAR NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content VARCHAR NOT NULL,
            stats JSON,
            citations JSON,
            created_at TIMESTAMP DEFAULT current_timestamp
        );
        INSERT INTO messages SELECT id, chat_id, role, content, stats, citations, created_at FROM messages_kept;
        DROP TABLE messages_kept;
        CREATE INDEX messages_chat ON messages(chat_id);
    """)


MIGRATIONS: list[tuple[int, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    (1, m001_initial),
    (2, m002_integrity),
    (3, jobs.m003_jobs),
    (4, labels.m004_labels),
    (5, recommendations.m005_recommendations),
    (6, comparisons.m006_comparisons),
    (7, chats.m007_chat_scope),
    (8, feedback.m008_feedback),
    (9, chats.m009_chat_answer_mode),
]
