import re
from pathlib import Path

import pytest

from engine.errors import WorkspaceBusy, WorkspaceError
from engine.store import DB_NAME
from engine.store.migrations import MIGRATIONS
from engine.workspace import Workspace
from tests.conftest import workspace_held_elsewhere


def test_migrates_an_empty_folder(tmp_path):
    root = tmp_path / "new"
    with Workspace(root) as ws:
        assert ws.store.schema_version() == max(number for number, _ in MIGRATIONS)
        tables = set(ws.store.table_names())
    assert {"documents", "chunks", "chats", "messages", "jobs", "_migrations"} <= tables
    assert (root / DB_NAME).exists() and (root / "indexes").is_dir()
    with Workspace(root) as ws:
        assert ws.store.migrate() == []


def test_chats_survive_reopen(tmp_path):
    with Workspace(tmp_path) as ws:
        chat = ws.store.create_chat("Pricing", "smollm2-135m")
        ws.store.add_message(chat, "user", "hello", None)
        ws.store.add_message(chat, "assistant", "hi", {"ttft_ms": 1.0})
    with Workspace(tmp_path) as ws:
        messages = ws.store.messages(chat)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].stats == {"ttft_ms": 1.0}


def test_second_writer_gets_a_clear_error(tmp_path):
    with workspace_held_elsewhere(tmp_path), pytest.raises(WorkspaceBusy, match="open in another Quarry process"):
        Workspace(tmp_path)


def test_a_file_is_not_a_workspace(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(WorkspaceError, match="not a folder"):
        Workspace(target)


def test_garbage_database_is_a_clear_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not duckdb at all" * 100)
    with pytest.raises(WorkspaceError, match=DB_NAME):
        Workspace(tmp_path)


REPO = Path(__file__).resolve().parents[2]
# Uppercase, as every statement in this codebase is written (lowercase would flag prose); a statement
# may run over several lines of a string, so the file is searched whole.
SQL = re.compile(r"\b(SELECT\s+[\s\S]{1,300}?\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(OR\s+REPLACE\s+)?(TABLE|INDEX|SEQUENCE|VIEW)|DROP\s+TABLE|ALTER\s+TABLE)\b")
RAW = re.compile(r"\.(execute|executemany|sql)\(|\bdb\.register\(|store\.db\b|import duckdb|duckdb\.")


def test_no_sql_outside_engine_store():
    """SQL lives in engine/store/ only: the rest of engine/ and tui/ call store methods (a table file is read
    with `store.read_table_file(TableFile(...))`, engine/store/documents.py)."""
    found = []
    for top in ("engine", "tui"):
        for path in sorted((REPO / top).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith("engine/store/"):
                continue
            text = path.read_text(encoding="utf-8")
            for match in SQL.finditer(text):
                number = text.count("\n", 0, match.start()) + 1
                found.append(f"{rel}:{number}: {' '.join(match.group(0).split())[:80]}")
            for number, line in enumerate(text.splitlines(), start=1):
                if RAW.search(line):
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []


def test_feedback_is_stored_listed_exported_and_removed(tmp_path):
    import duckdb

    from engine.errors import FeedbackError

    with Workspace(tmp_path / "ws") as ws:
        first = ws.store.add_feedback("label", "intents", "text:ab12", "refund", {"text": "我要退款 <b>"})
        ws.store.add_feedback("label", "intents", "text:ab12", "complaint")
        ws.store.add_feedback("dismiss", "u1", "item9", "dismissed")
        with pytest.raises(FeedbackError, match="not a kind of feedback"):
            ws.store.add_feedback("thumbs", "u1", "item9", "up")
        assert [f.value for f in ws.store.feedback("label", "intents")] == ["refund", "complaint"]
        assert ws.store.latest_feedback("label", "intents")["text:ab12"].value == "complaint"
        out = tmp_path / "feedback.csv"
        assert ws.store.export_feedback(str(out), kind="label") == 2
        with pytest.raises(FeedbackError, match=r"feedback\.txt: export feedback to a \.csv or \.parquet"):
            ws.store.export_feedback(str(tmp_path / "feedback.txt"))
        with pytest.raises(FeedbackError, match="could not write the export"):
            ws.store.export_feedback(str(tmp_path / "gone" / "f.parquet"))
        assert ws.store.remove_feedback(first).value == "refund"
        with pytest.raises(FeedbackError, match=f"feedback {first}: no such feedback"):
            ws.store.remove_feedback(first)
    rows = duckdb.sql(f"SELECT kind, value, detail FROM read_csv('{out}') ORDER BY id").fetchall()
    assert rows[0][:2] == ("label", "refund") and "我要退款 <b>" in rows[0][2]
    with Workspace(tmp_path / "ws") as ws:  # survives a reopen
        assert [f.kind for f in ws.store.feedback()] == ["label", "dismiss"]
