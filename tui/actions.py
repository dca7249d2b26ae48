"""Keys as data: every bindable action once, with its default key. Bindings, the help screen and the
command palette are all built from this list; users remap keys by id in the config's [keys] table.

Defaults avoid what terminals swallow (ctrl+s/q flow control, ctrl+z, ctrl+i/m/h/j) and what the
prompt and input widgets already bind (ctrl+a/e/x/y/k/u/w, f6, f7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    id: str
    key: str
    action: str
    description: str
    scope: str  # app | chat | documents | prompt | answer | list | others' panes
    show: bool = True
    priority: bool = False  # wins over the focused widget's own key (e.g. the prompt's f6)
    in_help: bool = True
    palette: bool = True  # offered by the command palette (keys that only make sense in place are not)


ACTIONS: list[Action] = [
    # Pane keys stay out of the footer (the tabs name the panes; help and README give the keys), so that
    # at 120 columns the footer still shows settings and help.
    Action("app.chat", "f1", "show_pane('chat')", "Chat", "app", show=False),
    Action("app.documents", "f2", "show_pane('documents')", "Documents", "app", show=False),
    Action("app.classify", "f3", "show_pane('classify')", "Classify", "app", show=False),
    Action("app.recommend", "f4", "show_pane('recommend')", "Recommend", "app", show=False),
    Action("app.compare", "f5", "show_pane('compare')", "Compare", "app", show=False),
    Action("app.settings", "f8", "settings", "Settings", "app"),
    Action("app.theme", "f9", "toggle_theme", "Light/dark", "app"),
    Action("app.help", "question_mark,f12", "help", "Keys", "app"),
    Action("app.quit", "ctrl+q", "quit", "Quit", "app"),
    Action("chat.new", "ctrl+n", "new_chat", "New chat", "chat"),
    Action("chat.mode", "ctrl+o", "toggle_mode", "Docs/Chat", "chat"),
    Action("chat.stop", "escape", "stop", "Stop", "chat"),
    Action("chat.copy", "ctrl+t", "copy_answer", "Copy", "chat"),
    Action("chat.export", "ctrl+g", "export", "Export", "chat"),
    Action("chat.scope", "ctrl+f", "pick_scope", "Scope", "chat", show=False),  # the prompt's title names it
    Action("chat.answers", "ctrl+b", "switch_answers", "Quoted/Written", "chat", show=False),  # and this one
    Action("chat.rename", "ctrl+r", "rename_chat", "Rename", "chat", show=False),
    Action("chat.delete", "delete", "delete_chat", "Delete chat", "chat", show=False),
    Action("chat.focus_list", "ctrl+l", "focus_list", "Chats list", "chat", show=False),
    Action("documents.add", "ctrl+n", "focus_add", "Add files", "documents"),
    Action("documents.search", "ctrl+f", "focus_search", "Search", "documents"),
    Action("documents.cancel", "escape", "cancel_ingest", "Cancel ingest", "documents", show=False),
    Action("documents.resume", "ctrl+r", "resume_ingest", "Resume ingest", "documents", show=False,
           in_help=False),  # offered by a notification when an ingest stopped before its end
    Action("documents.remove", "delete", "remove_document", "Remove doc", "documents"),
    Action("recommend.search", "ctrl+f", "focus_search", "Search", "recommend"),
    Action("recommend.method", "ctrl+o", "next_method", "Method", "recommend"),
    Action("recommend.evaluate", "ctrl+r", "evaluate", "Evaluate", "recommend"),
    Action("recommend.view", "ctrl+t", "toggle_view", "Results/Eval", "recommend"),
    Action("recommend.import_demo", "ctrl+b", "import_demo", "Import demo", "recommend", show=False),
    Action("recommend.cancel", "escape", "cancel", "Cancel eval", "recommend", show=False),
    # Recommend: keys on the recommendations table of a user (a letter, so typing a request is left alone)
    Action("suggestion.accept", "a", "answer_suggestion('accept')", "Accept suggestion", "suggestion"),
    Action("suggestion.dismiss", "d", "answer_suggestion('dismiss')", "Dismiss suggestion", "suggestion"),
    Action("suggestion.undo", "u", "answer_suggestion('undo')", "Undo accept/dismiss", "suggestion"),
    Action("classify.text", "ctrl+f", "focus_text", "Text", "classify"),
    Action("classify.new_set", "ctrl+n", "new_set", "New label set", "classify"),
    Action("classify.example", "ctrl+l", "add_example", "Add example", "classify"),
    Action("classify.batch", "ctrl+b", "focus_batch", "Batch", "classify"),
    Action("classify.evaluate", "ctrl+r", "evaluate", "Evaluate", "classify"),
    Action("classify.cancel", "escape", "cancel_batch", "Cancel batch", "classify", show=False),
    # off the footer (at 120 columns it would push out settings and help): a finished batch's toast names it
    Action("classify.review", "ctrl+o", "review", "Review queue", "classify", show=False),
    # Classify's review screen: a key per label, skip, undo, type a label
    *[Action(f"review.label_{n}", str(n), f"answer_number({n})", "Label 1…9", "review", show=False,
             in_help=n == 1, palette=False) for n in range(1, 10)],
    Action("review.skip", "s", "skip", "Skip", "review", palette=False),
    Action("review.undo", "u", "undo", "Undo", "review", palette=False),
    Action("review.type", "t", "type_label", "Type a label", "review", palette=False),
    Action("review.close", "escape", "close", "Close review", "review", palette=False),
    Action("compare.pick", "ctrl+n", "pick_models", "Pick models", "compare"),
    Action("compare.docs", "ctrl+o", "toggle_docs", "Docs/Plain", "compare"),
    Action("compare.blind", "ctrl+b", "toggle_blind", "Blind on/off", "compare"),
    Action("compare.leaderboard", "ctrl+l", "leaderboard", "Leaderboard", "compare"),
    Action("compare.rerun", "ctrl+r", "rerun", "Run again", "compare", show=False),
    Action("compare.stop", "escape", "stop", "Stop", "compare", show=False),
    # Compare: keys on the answers after a blind round (the prompt keeps its letters)
    Action("verdict.a", "a", "vote('a')", "A is better", "verdict"),
    Action("verdict.b", "b", "vote('b')", "B is better", "verdict"),
    Action("verdict.tie", "t", "vote('tie')", "Tie", "verdict"),
    Action("verdict.both_bad", "x", "vote('both_bad')", "Both bad", "verdict"),
    Action("verdict.reveal", "r", "reveal", "Reveal names", "verdict"),
    # Chat: the prompt, the answers, and every list
    Action("chat.sources", "f6", "focus_sources", "Sources", "chat", priority=True),
    Action("prompt.newline", "ctrl+j", "newline", "New line", "prompt", show=False, palette=False,
           in_help=False),  # the help screen's last line names it
    Action("prompt.history_back", "up", "history(-1)", "Earlier prompt", "prompt", show=False, palette=False),
    Action("prompt.history_forward", "down", "history(1)", "Later prompt", "prompt", show=False, palette=False),
    Action("prompt.page_up", "pageup", "page(-1)", "Scroll chat up", "prompt", show=False, palette=False),
    Action("prompt.page_down", "pagedown", "page(1)", "Scroll chat down", "prompt", show=False, palette=False),
    Action("answer.regenerate", "r", "regenerate", "Regenerate", "answer"),
    Action("answer.edit", "e", "edit_last", "Edit question", "answer"),
    Action("answer.good", "plus", "rate('good')", "Good answer", "answer"),
    Action("answer.bad", "minus", "rate('bad')", "Bad answer…", "answer"),
    Action("answer.previous", "left_square_bracket", "step_answer(-1)", "Prev answer", "answer", palette=False),
    Action("answer.next", "right_square_bracket", "step_answer(1)", "Next answer", "answer", palette=False),
    *[Action(f"answer.cite_{n}", str(n), f"open_citation({n})", "Open citation 1…9", "answer", show=False,
             in_help=n == 1, palette=False) for n in range(1, 10)],
    Action("answer.back", "escape", "back_to_prompt", "Back to prompt", "answer", show=False, palette=False),
    Action("list.down", "j", "cursor_down", "Down", "list", show=False, palette=False),
    Action("list.up", "k", "cursor_up", "Up", "list", show=False, palette=False),
    Action("list.first", "g", "first", "First", "list", show=False, palette=False),
    Action("list.last", "G", "last", "Last", "list", show=False, palette=False),
]

# Actions that live on a widget inside a pane run on that pane from the command palette.
PANE_OF_SCOPE = {"prompt": "chat", "answer": "chat", "verdict": "compare", "suggestion": "recommend"}


def bindings(scope: str) -> list[Binding]:
    """Gives the Textual bindings of one scope, each with its id so a keymap can remap it."""
    return [Binding(a.key, a.action, a.description, show=a.show, id=a.id, priority=a.priority)
            for a in ACTIONS if a.scope == scope]


QUIT_ID = "app.quit"


def _keys(key: str) -> set[str]:
    return {k.strip() for k in key.split(",") if k.strip()}


def _overlap(scope_a: str, scope_b: str) -> bool:
    """Tells whether two scopes' keys can meet: the same scope, or one of them the app's."""
    return scope_a == scope_b or "app" in (scope_a, scope_b)


MODIFIERS = {"ctrl", "alt", "shift", "super", "meta", "hyper"}


def is_key_name(key: str) -> bool:
    """Tells whether Textual can ever report this key: modifiers, then a character, a named key (f7,
    pageup, delete) or a character's name (question_mark, plus)."""
    from textual.keys import Keys, _character_to_key, key_to_character

    *mods, base = key.split("+")
    if not base or any(m not in MODIFIERS for m in mods):
        return False
    named = {k.value.rsplit("+", 1)[-1] for k in Keys} | {_character_to_key(chr(c)) for c in range(32, 127)}
    return len(base) == 1 or base in named or key_to_character(base) is not None


def keymap_problem(keys: dict[str, str]) -> str | None:
    """Gives the one line that refuses a keymap (None when it is fine): a remap that takes the quit key
    from app.quit (any widget's binding would win over the app's), or that gives one key to two actions
    that can meet. Only remapped actions are checked; the defaults are known not to clash."""
    by_id = {a.id: a for a in ACTIONS}
    fix = "fix it in the config's [keys] table (the default keys are used)"
    for action_id, key in keys.items():
        if action_id not in by_id:  # a typo would otherwise leave the action on its old key, silently
            return f"[keys] \"{action_id}\" is not an action (? lists their ids); {fix}"
        bad = next((k for k in _keys(key) if not is_key_name(k)), None) if _keys(key) else key
        if bad is not None:
            part = "" if bad == key else f" (\"{bad}\")"
            return f"[keys] \"{action_id}\" = \"{key}\"{part} is not a key (e.g. ctrl+y, alt+c, f7); {fix}"
    effective = {a.id: _keys(keys.get(a.id, a.key)) for a in ACTIONS}
    quit_keys = effective[QUIT_ID]
    for action_id, key in keys.items():
        mine = by_id.get(action_id)
        if mine is None:
            continue
        if action_id != QUIT_ID and effective[action_id] & quit_keys:
            taken = sorted(effective[action_id] & quit_keys)[0]
            return (f"[keys] \"{action_id}\" = \"{key}\" takes {taken}, the quit key of {QUIT_ID}; pick another"
                    " key in the config's [keys] table (the default keys are used)")
        for other in ACTIONS:
            if other.id == action_id or not _overlap(mine.scope, other.scope):
                continue
            shared = effective[action_id] & effective[other.id]
            if shared:
                return (f"[keys] \"{action_id}\" = \"{key}\" gives {sorted(shared)[0]} to two actions, {action_id}"
                        f" and {other.id}; pick another key in the config's [keys] table (the default keys are"
                        " used)")
    return None


def key_label(key: str) -> str:
    """Gives how a key is shown to people."""
    labels = {"question_mark": "?", "escape": "esc", "delete": "del", "left_square_bracket": "[",
              "right_square_bracket": "]", "1": "1…9", "up": "↑", "down": "↓", "plus": "+", "minus": "-"}
    return " ".join(labels.get(k.strip(), k.strip()) for k in key.split(","))


BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}


def current_key(action_id: str, keymap: Mapping[str, str] | None = None, first: bool = False) -> str:
    """Gives the key that runs an action now, as people read it: the user's remap (the config's [keys]),
    else its default; only the first of several when `first`."""
    key = (keymap or {}).get(action_id) or BY_ID[action_id].key
    return key_label(key.split(",")[0] if first else key)


def key(app: object, action_id: str) -> str:
    """Gives an action's key in effect in the running app (its first, when it has several), for a hint.
    Hints are built from this, never typed: a user who remaps a key sees the new one."""
    return current_key(action_id, getattr(app, "keys", None), first=True)


def hint(app: object, *pairs: tuple[str, str], sep: str = " · ") -> str:
    """Gives a hint line from (action id, what it does) pairs: 'ctrl+n new · ctrl+r rename'."""
    return sep.join(f"{key(app, action_id)} {words}" for action_id, words in pairs)
