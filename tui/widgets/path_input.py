"""An input for a file or folder path that suggests the rest of a name as you type; tab (or →) takes it."""

from __future__ import annotations

import os

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input


def candidates(value: str, limit: int = 500) -> list[tuple[str, bool]]:
    """Gives (name, is folder) of the entries in the typed path's folder that start with its last part."""
    if not value:
        return []
    folder, partial = os.path.split(os.path.expanduser(value))
    names = []
    try:
        with os.scandir(folder or ".") as entries:
            for i, entry in enumerate(entries):
                if i >= limit:
                    break
                if entry.name.startswith(partial) and (partial.startswith(".") or not entry.name.startswith(".")):
                    names.append((entry.name, entry.is_dir()))
    except OSError:
        return []
    return sorted(names)


def complete_path(value: str, limit: int = 500) -> str | None:
    """Gives `value` completed to the longest name (or shared prefix) of the entries in its folder that
    start with what was typed; a folder gets a trailing slash. None when nothing more can be added."""
    names = candidates(value, limit)
    if not names:
        return None
    partial = os.path.split(os.path.expanduser(value))[1]
    if len(names) == 1:
        name, is_dir = names[0]
        rest = name[len(partial):] + ("/" if is_dir else "")
    else:
        rest = os.path.commonprefix([n for n, _ in names])[len(partial):]
    return value + rest if rest else None


class PathSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class PathInput(Input):
    """An Input for paths: the completion shows dimmed after the cursor; tab or → accepts it."""

    BINDINGS = [Binding("tab", "complete", "Complete path", show=False, id="path.complete")]

    def __init__(self, **kwargs) -> None:
        super().__init__(suggester=PathSuggester(), **kwargs)

    def action_complete(self) -> None:
        completed = complete_path(self.value) if self.cursor_at_end else None
        if completed is None:
            names = candidates(self.value) if self.cursor_at_end else []
            if len(names) > 1:
                shown = "  ".join(n + ("/" if d else "") for n, d in names[:12])
                self.notify(shown + ("  …" if len(names) > 12 else ""), title="Matches", timeout=4)
                return
            self.screen.focus_next()
            return
        self.value = completed
        self.cursor_position = len(self.value)
