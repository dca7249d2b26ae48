import pytest

from engine.errors import WorkspaceBusy, WorkspaceError
from engine.store import DB_NAME
from engine.workspace import Workspace
from tests.conftest import workspace_held_elsewhere


def test_migrates_an_empty_folder(tmp_path):
    root = tmp_path / "new"
    with Workspace(root) as ws:
        assert ws.store.schema_version() == 1
        tables = {r[0] for r in ws.store.db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"documents", "chunks", "chats", "messages", "_migrations"} <= tables
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
