"""Keys as data: every bindable action once, with its default key. Bindings, the help screen and the
command palette are all built from this list; users remap keys by id in the config's [keys] table.

Defaults avoid what terminals swallow (ctrl+s/q flow control, ctrl+z, ctrl+i/m/h/j) and what the
prompt and input widgets already bind (ctrl+a/e/x/y/k/u/w, f6, f7)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    id: str
    key: str
    action: str
    description: str
    scope: str  # app | chat | documents
    show: bool = True


ACTIONS: list[Action] = [
    Action("app.chat", "f1", "show_pane('chat')", "Chat", "app"),
    Action("app.documents", "f2", "show_pane('documents')", "Documents", "app"),
    Action("app.classify", "f3", "show_pane('classify')", "Classify", "app"),
    Action("app.recommend", "f4", "show_pane('recommend')", "Recommend", "app"),
    Action("app.compare", "f5", "show_pane('compare')", "Compare", "app"),
    Action("app.settings", "f8", "settings", "Settings", "app"),
    Action("app.theme", "f9", "toggle_theme", "Light/dark", "app"),
    Action("app.help", "question_mark,f12", "help", "Keys", "app"),
    Action("app.quit", "ctrl+q", "quit", "Quit", "app"),
    Action("chat.new", "ctrl+n", "new_chat", "New chat", "chat"),
    Action("chat.mode", "ctrl+o", "toggle_mode", "Docs/Chat", "chat"),
    Action("chat.stop", "escape", "stop", "Stop", "chat"),
    Action("chat.copy", "ctrl+t", "copy_answer", "Copy answer", "chat"),
    Action("chat.export", "ctrl+g", "export", "Export", "chat"),
    Action("chat.rename", "ctrl+r", "rename_chat", "Rename", "chat", show=False),
    Action("chat.delete", "delete", "delete_chat", "Delete chat", "chat", show=False),
    Action("chat.focus_list", "ctrl+l", "focus_list", "Chats list", "chat", show=False),
    Action("documents.add", "ctrl+n", "focus_add", "Add files", "documents"),
    Action("documents.search", "ctrl+f", "focus_search", "Search", "documents"),
    Action("documents.cancel", "escape", "cancel_ingest", "Cancel ingest", "documents", show=False),
    Action("documents.remove", "delete", "remove_document", "Remove doc", "documents"),
]


def bindings(scope: str) -> list[Binding]:
    """Gives the Textual bindings of one scope, each with its id so a keymap can remap it."""
    return [Binding(a.key, a.action, a.description, show=a.show, id=a.id) for a in ACTIONS if a.scope == scope]


def key_label(key: str) -> str:
    """Gives how a key is shown to people."""
    first = key.split(",")[0]
    return {"question_mark": "?", "escape": "esc", "delete": "del"}.get(first, first)
