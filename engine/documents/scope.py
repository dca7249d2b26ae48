"""Scopes: which documents a question may be answered from.

A scope is globs and document ids (`--path`, `--doc`, the app's picker), kept with a chat; `@name` in a
question scopes that one question to the documents whose file name matches. A scope is resolved to
document ids before the search, so one that matches nothing is one line naming it, never a silent empty
search, and the search filters by id (one DuckDB lookup per candidate batch, as any filter)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from engine.documents.search import Filters, anywhere
from engine.errors import QuarryError

# `@name` starts a word (so bob@example.com is not one); `@"two words.pdf"` names a file with spaces.
MENTION = re.compile(r'(?<!\S)@(?:"([^"]+)"|(\S+))')
_TRAILING = ".,;:!?)]}'\"。，；：！？）」』"  # sentence punctuation after a name is not part of it
_GLOB_CHARS = set("*?[")
_LOOSE_PUNCT = re.compile(r"\s+([.,;:!?。，；：！？])")  # "in @name?" leaves "in ?": the mark rejoins the word
SHOWN_NAMES = 3  # names a scope line lists before "+N more"


class ScopeError(QuarryError):
    """A scope (glob, document id or @name) that matches no document in the library."""


@dataclass(frozen=True)
class Scope:
    """Globs, document ids and exact file paths; a document is in scope when it matches any of them.
    Empty: the whole library. A chat keeps files rather than ids (`keep`): a changed file is ingested
    again under a new id, and the chat must still find it."""

    paths: tuple[str, ...] = ()
    doc_ids: tuple[int, ...] = ()
    files: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.paths or self.doc_ids or self.files)

    def record(self) -> dict | None:
        """Gives what is stored with a chat (None for no scope)."""
        return {"paths": list(self.paths), "docs": list(self.doc_ids), "files": list(self.files)} if self else None

    @classmethod
    def from_record(cls, record: dict | None) -> Scope:
        record = record or {}
        return cls(tuple(record.get("paths") or ()), tuple(int(d) for d in record.get("docs") or ()),
                   tuple(record.get("files") or ()))


@dataclass
class Resolved:
    """A scope and the documents it matches now: (id, path) pairs, by path."""

    scope: Scope
    documents: list[tuple[int, str]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # the question's @names, when they gave the scope

    def filters(self) -> Filters:
        return Filters(doc_ids=tuple(doc_id for doc_id, _ in self.documents))

    def names(self) -> list[str]:
        return [file_name(path) for _, path in self.documents]

    def line(self, shown: int = SHOWN_NAMES) -> str:
        """Gives the scope as the prompt shows it: 'scope: 2 docs — a.pdf, b.pdf'."""
        names = self.names()
        more = f", +{len(names) - shown} more" if len(names) > shown else ""
        count = f"{len(names)} doc" + ("" if len(names) == 1 else "s")
        return f"scope: {count} — {', '.join(names[:shown])}{more}"


def file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def library(store) -> list[tuple[int, str]]:
    """Gives the documents a scope can name: (id, path) of each document that has text, by path."""
    return store.searchable_documents()


def resolve(store, scope: Scope, stored: bool = False) -> Resolved:
    """Gives the documents a scope matches; raises ScopeError naming the first glob or id that matches
    none (`stored`: the scope kept with a chat, whose fix is to change it)."""
    docs = library(store) if scope.doc_ids or scope.files else []  # globs are matched in DuckDB itself
    by_id = dict(docs)
    fix = ("change the chat's scope (the scope picker in the app, or `--path`/`--doc` with `--chat`)"
           if stored else None)
    chosen: dict[int, str] = {}
    for glob in scope.paths:
        found = store.searchable_documents(anywhere(glob))
        if not found:
            raise ScopeError(f"--path '{glob}' matches no document in the library; "
                             + (fix or "see `quarry docs` for the paths, or give another glob"))
        chosen.update(found)
    for doc_id in scope.doc_ids:
        if doc_id not in by_id:
            raise ScopeError(f"--doc {doc_id}: no document with that id in the library; "
                             + (fix or "see `quarry docs` for the ids"))
        chosen[doc_id] = by_id[doc_id]
    by_path = {path: doc_id for doc_id, path in docs}
    for path in scope.files:
        if path not in by_path:
            raise ScopeError(f"{path}: no longer in the library (removed or moved); "
                             + (fix or "see `quarry docs` for the paths"))
        chosen[by_path[path]] = path
    return Resolved(scope, sorted(chosen.items(), key=lambda d: d[1]))


def mentions(question: str) -> tuple[str, list[str]]:
    """Gives the question without its @names, and the names (trailing punctuation dropped)."""
    names: list[str] = []

    def take(match: re.Match) -> str:
        quoted, bare = match.group(1), match.group(2)
        name = quoted if quoted is not None else bare.rstrip(_TRAILING)
        if not name:
            return match.group(0)
        names.append(name)
        tail = "" if quoted is not None else bare[len(name):]
        return tail
    text = " ".join(MENTION.sub(take, question).split())
    return _LOOSE_PUNCT.sub(r"\1", text).strip(), names


def matches_name(name: str, path: str) -> bool:
    """Tells whether @name names a document: a case-insensitive glob on its file name when the name
    holds * ? or [, otherwise a case-insensitive part of its file name or of folder/file."""
    name = name.lower()
    base = file_name(path).lower()
    if _GLOB_CHARS & set(name):
        return fnmatch.fnmatchcase(base, name)
    parts = path.replace("\\", "/").lower().rsplit("/", 2)
    return name in base or name in "/".join(parts[-2:])


def resolve_mentions(store, names: list[str]) -> Resolved:
    """Gives the documents that @names match; raises ScopeError for the first name that matches none."""
    docs = library(store)
    chosen: dict[int, str] = {}
    for name in names:
        found = [(doc_id, path) for doc_id, path in docs if matches_name(name, path)]
        if not found:
            raise ScopeError(f"@{name} matches no document name; type @ and part of a file name (tab completes"
                             " it in the app), or see `quarry docs`")
        chosen.update(found)
    return Resolved(Scope(), sorted(chosen.items(), key=lambda d: d[1]), list(names))


def for_question(store, question: str, scope: Scope | None = None, stored: bool = False
                 ) -> tuple[str, Resolved | None]:
    """Gives the question to ask (its @names taken out) and the documents it is scoped to: its @names'
    when it has any (for this question alone), else `scope`'s, else None (the whole library)."""
    text, names = mentions(question)
    if names:
        if not text:
            raise ScopeError(f"@{names[0]} names the documents, but there is no question; type the question"
                             " after the name")
        return text, resolve_mentions(store, names)
    if scope:
        return question, resolve(store, scope, stored)
    return question, None


def completions(prefix: str, paths: list[str]) -> list[str]:
    """Gives the file names that complete `@prefix`: names starting with it first, then names holding it,
    each once, in library order."""
    prefix = prefix.lower()
    names = list(dict.fromkeys(file_name(p) for p in paths))
    starts = [n for n in names if n.lower().startswith(prefix)]
    holds = [n for n in names if prefix in n.lower() and n not in starts]
    return starts + holds


def mention_of(name: str) -> str:
    """Gives the @token that names a file (quoted when it has spaces)."""
    return f'@"{name}"' if any(c.isspace() for c in name) else f"@{name}"


def for_chat(store, question: str, chat_id: int | None, given: Scope | None = None) -> tuple[str, Resolved | None]:
    """Gives the question to ask and its documents in a chat: @names for this question, else the scope
    `given` (flags), else the one the chat keeps, else None (the whole library)."""
    if given:
        return for_question(store, question, given)
    chat = store.chat(chat_id) if chat_id is not None else None
    return for_question(store, question, Scope.from_record(chat.scope if chat else None), stored=True)


def keep(store, chat_id: int | None, scope: Scope) -> None:
    """Stores a scope with its chat, its document ids as their files (nothing in a read-only workspace,
    or for an unsaved chat)."""
    if chat_id is None or store.read_only:
        return
    by_id = dict(library(store))
    files = tuple(dict.fromkeys([*scope.files, *(by_id[d] for d in scope.doc_ids if d in by_id)]))
    store.set_chat_scope(chat_id, Scope(scope.paths, (), files).record())
