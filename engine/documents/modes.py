"""Answer modes: a document answer is either quoted (the documents' own sentences, cited: extractive.py)
or written by the chat model (rag.py, its citations checked). By default the catalog decides per chat
model and question language (`quotes` in models/catalog.toml, measured by bench/answer_modes.py); the
user can ask for either (`quarry ask --extractive/--generate`, a key in Chat, the `answer_mode` setting).
A mode picked for a chat (the key, or a flag with `--chat`) is kept with it; other chats follow the setting.
"""

from __future__ import annotations

from engine.errors import QuarryError

AUTO, QUOTED, WRITTEN = "auto", "quoted", "written"
MODES = (AUTO, QUOTED, WRITTEN)
NEXT = {AUTO: QUOTED, QUOTED: WRITTEN, WRITTEN: AUTO}  # the order the Chat key steps through


def forced(mode: str) -> bool | None:
    """Gives what `Ask(extractive=...)` takes for a mode: True quotes, False writes, None the default."""
    return {QUOTED: True, WRITTEN: False}.get(mode)


def for_chat(store, chat_id: int | None, given: str | None, setting: str) -> str:
    """Gives the mode a chat's document question gets: the one given now (a flag, a key), else the one
    the chat keeps, else the setting."""
    if given is not None:
        return given
    return kept(store.chat(chat_id) if chat_id is not None else None) or setting


def kept(chat) -> str | None:
    """Gives the mode a chat keeps; None when it has none (or a value no Quarry wrote: the setting serves)."""
    mode = getattr(chat, "answer_mode", None)
    return mode if mode in MODES else None


def keep(store, chat_id: int | None, mode: str, setting: str | None = None) -> None:
    """Stores the mode picked for a chat (nothing in a read-only workspace, or for an unsaved chat). A pick
    equal to `setting` (Chat's key passes the answer_mode setting) keeps none: stepping round to the
    setting's mode is how a chat goes back to following the setting."""
    if mode not in MODES:
        raise QuarryError(f"answer mode {mode!r}: give one of {', '.join(MODES)}")
    if chat_id is None or store.read_only:
        return
    store.set_chat_answer_mode(chat_id, None if mode == setting else mode)


def quotes_by_default(model_id: str, lang: str) -> bool:
    """Tells whether the catalog's default for a chat model and a question language is quoting."""
    from engine.models import catalog

    try:
        return catalog.get(model_id).quotes_by_default(lang)
    except QuarryError:
        return False  # an unknown model fails where it loads, with its own message


def default_mode(model_id: str, lang: str) -> str:
    """Gives the mode a question gets when none is asked for: QUOTED or WRITTEN."""
    return QUOTED if quotes_by_default(model_id, lang) else WRITTEN


def mode_of(answer) -> str:
    """Gives the mode that made an answer: 'quoted', 'written', 'quoted instead' (the model wrote, none
    of its sentences was supported, so its best passage is quoted) or 'refused'. Documents that answer
    differently are each quoted (per_document.py), in either mode."""
    if answer.refused:
        return "refused"
    if answer.extractive or (getattr(answer, "per_document", None) or {}).get("differ"):
        return QUOTED
    return "quoted instead" if getattr(answer, "quoted_instead", False) else WRITTEN


def made_by(mode: str | None, model: str | None) -> str:
    """Gives the words an answer's footer starts with: 'quoted', 'written by MODEL', or '' (a refusal, a
    plain chat reply, an answer stored before modes were recorded)."""
    if mode == QUOTED:
        return "quoted"
    if mode == WRITTEN:
        return f"written by {model}" if model else "written"
    if mode == "quoted instead":
        return f"quoted (the words {model or 'the model'} wrote were not supported)"
    return ""


def record_mode(record: dict | None) -> str | None:
    """Gives the mode stored with an answer (older answers: from their `extractive` flag)."""
    if not record or "extractive" not in record:
        return None
    if "mode" in record:
        return record["mode"]
    if record.get("refused"):
        return "refused"
    return QUOTED if record["extractive"] else WRITTEN


def label(mode: str) -> str:
    """Gives how the prompt's title names a chosen mode: 'answers: auto', 'answers: quoted'..."""
    return f"answers: {mode}"


def describe(mode: str, model: str) -> str:
    """Gives one line saying what a chosen mode does, for the notice when it is switched."""
    return {AUTO: f"Answers: as measured best for {model} in the question's language (quoted or written)",
            QUOTED: "Answers: quoted, the documents' own sentences, cited",
            WRITTEN: f"Answers: written by {model}, citations checked"}[mode]
