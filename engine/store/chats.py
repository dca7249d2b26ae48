"""Chats and their messages: schema and SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass
class Chat:
    id: int
    title: str
    model: str | None
    mode: str
    updated_at: datetime | None = None
    scope: dict | None = None  # the documents its questions are answered from (engine/documents/scope.py)
    answer_mode: str | None = None  # auto | quoted | written, picked for this chat; None: the setting's


@dataclass
class Message:
    id: int
    chat_id: int
    role: str
    content: str
    stats: dict | None
    citations: list | None
    created_at: datetime | None = None


def m007_chat_scope(db: duckdb.DuckDBPyConnection) -> None:
    """Issue 29: a chat keeps its document scope (globs and document ids, as JSON; NULL is the whole
    library), so a scoped chat is still scoped after a restart."""
    db.execute("ALTER TABLE chats ADD COLUMN scope JSON")


def m009_chat_answer_mode(db: duckdb.DuckDBPyConnection) -> None:
    """A chat keeps the answer mode picked for it (quoted or written document answers,
    engine/documents/modes.py); NULL follows the answer_mode setting."""
    db.execute("ALTER TABLE chats ADD COLUMN answer_mode VARCHAR")


_CHAT_COLUMNS = "id, title, model, mode, updated_at, scope, answer_mode"


def _chat(row) -> Chat:
    return Chat(*row[:5], json.loads(row[5]) if row[5] else None, row[6])


class ChatsSQL:
    """Store methods for chats and messages (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    # -- chats --------------------------------------------------------------------------------
    def create_chat(self, title: str, model: str | None, mode: str = "chat") -> int:
        with self.writing():
            return self.db.execute("INSERT INTO chats (title, model, mode) VALUES (?, ?, ?) RETURNING id",
                                   [title, model, mode]).fetchone()[0]

    def chats(self) -> list[Chat]:
        rows = self.db.execute(f"SELECT {_CHAT_COLUMNS} FROM chats ORDER BY updated_at DESC, id DESC").fetchall()
        return [_chat(r) for r in rows]

    def chat(self, chat_id: int) -> Chat | None:
        row = self.db.execute(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = ?", [chat_id]).fetchone()
        return _chat(row) if row else None

    def set_chat_scope(self, chat_id: int, scope: dict | None) -> None:
        """Keeps a chat's document scope (None: the whole library)."""
        with self.writing():
            self.db.execute("UPDATE chats SET scope = ? WHERE id = ?",
                            [json.dumps(scope) if scope else None, chat_id])

    def set_chat_answer_mode(self, chat_id: int, mode: str | None) -> None:
        """Keeps the answer mode picked for a chat (None: the answer_mode setting's)."""
        with self.writing():
            self.db.execute("UPDATE chats SET answer_mode = ? WHERE id = ?", [mode, chat_id])

    def rename_chat(self, chat_id: int, title: str) -> None:
        with self.writing():
            self.db.execute("UPDATE chats SET title = ?, updated_at = current_timestamp WHERE id = ?",
                            [title, chat_id])

    def delete_chat(self, chat_id: int) -> None:
        """Deletes a chat and its messages. Two commits, messages first: DuckDB checks a foreign key
        against committed rows, so a chat cannot go in the transaction that deletes its messages (a
        crash between them leaves an empty chat, never a message without its chat). Not for use
        inside another `writing()` block."""
        with self.writing():
            self.db.execute("DELETE FROM messages WHERE chat_id = ?", [chat_id])
        with self.writing():
            self.db.execute("DELETE FROM chats WHERE id = ?", [chat_id])

    def delete_messages_from(self, chat_id: int, message_id: int) -> int:
        """Deletes a chat's messages from `message_id` on (to regenerate or edit the last turn); gives how many."""
        with self.writing():
            n = self.db.execute("SELECT count(*) FROM messages WHERE chat_id = ? AND id >= ?",
                                [chat_id, message_id]).fetchone()[0]
            self.db.execute("DELETE FROM messages WHERE chat_id = ? AND id >= ?", [chat_id, message_id])
        return n

    def add_message(self, chat_id: int, role: str, content: str, stats: dict | None = None,
                    citations: list | None = None) -> int:
        with self.transaction():
            mid = self.db.execute(
                "INSERT INTO messages (chat_id, role, content, stats, citations) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id",
                [chat_id, role, content, json.dumps(stats) if stats is not None else None,
                 json.dumps(citations) if citations is not None else None]).fetchone()[0]
            self.db.execute("UPDATE chats SET updated_at = current_timestamp WHERE id = ?", [chat_id])
        return mid

    def message(self, message_id: int) -> Message | None:
        """Gives one message by id; None when it (or its chat) was deleted."""
        r = self.db.execute("SELECT id, chat_id, role, content, stats, citations, created_at FROM messages"
                            " WHERE id = ?", [message_id]).fetchone()
        if r is None:
            return None
        return Message(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                       json.loads(r[5]) if r[5] else None, r[6])

    def messages(self, chat_id: int) -> list[Message]:
        rows = self.db.execute("SELECT id, chat_id, role, content, stats, citations, created_at"
                               " FROM messages WHERE chat_id = ? ORDER BY id", [chat_id]).fetchall()
        return [Message(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                        json.loads(r[5]) if r[5] else None, r[6]) for r in rows]
