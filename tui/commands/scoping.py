"""The document filters `quarry search`, `ask` and `chat` share: repeatable `--path` globs and `--doc` ids,
declared once and turned into an engine Scope once."""

from __future__ import annotations

from collections.abc import Callable

import click


def scope_options(fn: Callable) -> Callable:
    """Adds `--path GLOB` and `--doc ID`, both repeatable (a document matching any of them is in scope)."""
    fn = click.option("--doc", "doc_ids", type=click.IntRange(1), multiple=True,
                      help="Only this document id (see `quarry docs`); repeat for more.")(fn)
    return click.option("--path", "path_globs", multiple=True,
                        help="Only documents whose path matches this glob, e.g. '*policies*'; repeat for more.")(fn)


def scope_from(path_globs: tuple[str, ...], doc_ids: tuple[int, ...]):
    """Gives the engine Scope of the flags (empty when none was given)."""
    from engine.documents.scope import Scope

    if any(not g.strip() for g in path_globs):
        raise click.UsageError("--path '' is empty: give a glob such as '*policies*'")
    return Scope(tuple(path_globs), tuple(doc_ids))


def scope_json(resolved) -> dict | None:
    """Gives a resolved scope as --json shows it (null: the whole library)."""
    if resolved is None:
        return None
    given = resolved.scope.record() or {"paths": [], "docs": [], "files": []}
    return {**given, "mentions": resolved.mentions,
            "documents": [{"id": doc_id, "file": path} for doc_id, path in resolved.documents]}
