"""`quarry chat` and `quarry ask`: streamed answers, stats on stderr, one JSON document with --json."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tui.cli import cli, emit_json, json_option, load_settings, open_workspace, workspace_option
from tui.commands.scoping import scope_from, scope_json, scope_options
from tui.params import Number


def _stats_line(stats) -> str:
    from engine.runtime.generation import stats_line

    return stats_line(stats, full=True)


STDIN_MAX_BYTES = 8 << 20
UNSUPPORTED_CHARS = 200  # an unsupported sentence as the terminal shows it (the record and --json keep it whole)


def _stdin_ready() -> bool:
    """Tells whether stdin has data now (or is a file): a pipe no one writes to is never waited on."""
    import select

    stream = sys.stdin
    if stream is None or stream.isatty():
        return False
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return True  # an in-memory stream (tests) is read at once
    try:
        ready, _, _ = select.select([fd], [], [], 0.05)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _read_stdin() -> str:
    """Gives stdin's text, decoded the way ingested files are (UTF-8, GBK, Latin-1...)."""
    from engine.documents.ingest.text import decode
    from engine.errors import QuarryError

    buffer = getattr(sys.stdin, "buffer", None)
    data = buffer.read(STDIN_MAX_BYTES + 1) if buffer is not None else sys.stdin.read().encode("utf-8")
    if len(data) > STDIN_MAX_BYTES:
        raise QuarryError(f"stdin: more than {STDIN_MAX_BYTES >> 20} MB piped; pipe a smaller text")
    if not data.strip():
        return ""
    return decode(data, "stdin").strip()


def _prompt_text(prompt: tuple[str, ...]) -> str:
    """Gives the prompt: the words given, then stdin's text when it has data or `-` is given."""
    words = list(prompt)
    wait = "-" in words
    text = " ".join(w for w in words if w != "-")
    if wait or _stdin_ready():
        piped = _read_stdin()
        text = f"{text}\n\n{piped}".strip() if piped else text
    if not text:
        raise click.UsageError("give a prompt, or pipe text on stdin (`-` waits for it)")
    return text


# Both commands: quoted or written document answers (engine/documents/modes.py). `--generated` is the
# older name of `--generate`.
answer_mode_option = click.option(
    "--extractive/--generate", " /--generated", "extractive", default=None,
    help="Quote the documents' own sentences, or have the chat model write the answer; a document turn's "
         "flag is kept with its chat (default: the chat's, else the answer_mode setting; auto quotes where the "
         "catalog measured quotes better for the model and the question's language, and where the model does "
         "not read it).")


def _say_not_stored(ws) -> None:
    if ws.store.read_only:
        click.echo(f"note: {ws.root} is read-only: this turn was answered but not stored (make the workspace"
                   " writable to keep chats)", err=True)


def _require_chat(ws, chat_id: int | None) -> None:
    from engine.errors import QuarryError

    if chat_id is not None and ws.store.chat(chat_id) is None:
        raise QuarryError(f"no chat with id {chat_id}; see `quarry chats` for the ids")


@cli.command()
@click.argument("prompt", nargs=-1)
@click.option("--model", "-m", "model_id", help="Catalog model id (default: the settings' model).")
@click.option("--max-tokens", type=click.IntRange(1, 32768), default=None, help="Most tokens to generate.")
@click.option("--temperature", type=Number(0.0, 2.0), default=None, help="0 for greedy.")
@click.option("--chat", "chat_id", type=int, help="Continue this chat id (see `quarry chats`).")
@answer_mode_option
@scope_options
@workspace_option
@json_option
@click.pass_context
def chat(ctx: click.Context, prompt, model_id, max_tokens, temperature, chat_id, extractive, path_globs, doc_ids,
         workspace: Path | None, as_json: bool) -> None:
    """Chat with a local model; the answer streams to stdout, stats go to stderr. Scoped to documents
    (`--path`, `--doc`, `@name` in the prompt, or a chat that keeps a scope), it answers from them as
    `quarry ask` does, cited.

    \b
    Examples:
      quarry chat "Name three ways to reduce customer churn."
      quarry chat --json --max-tokens 64 "Summarise our Q3 plan"
      cat notes.txt | quarry chat "Summarise this"
      quarry chat "@returns-policy how long is the return window?"
      quarry chat --path '*policies*' "Who approves travel?"
      quarry chat --extractive --path '*returns*' "How long is the return window?"
    """
    from engine.documents.chat import Turn
    from engine.documents.scope import mentions

    text = _prompt_text(prompt)
    conf = load_settings()
    params = conf.generation(max_tokens=max_tokens, temperature=temperature)
    scoped = bool(path_globs or doc_ids or mentions(text)[1])
    if not scoped and chat_id is not None:
        with open_workspace(workspace) as ws:
            _require_chat(ws, chat_id)
            scoped = bool(ws.store.chat(chat_id).scope)
    if scoped:  # a turn scoped to documents is a document question
        ctx.invoke(ask, question=(text,), chat_id=chat_id, model_id=model_id, max_tokens=max_tokens,
                   extractive=extractive, path_globs=path_globs, doc_ids=doc_ids, workspace=workspace,
                   as_json=as_json)
        return
    if extractive:
        raise click.UsageError("--extractive quotes your documents: give a scope (--path, --doc or @name in "
                               "the prompt), or use `quarry ask`")
    with open_workspace(workspace) as ws:
        _require_chat(ws, chat_id)
        turn = Turn(ws, text, model_id=model_id or conf.model, chat_id=chat_id)
        for piece in turn.stream(params):
            if not as_json:
                click.echo(piece, nl=False)
        reply = turn.reply
        _say_not_stored(ws)
    if as_json:
        emit_json({"chat_id": reply.chat_id, "message_id": reply.message_id, "answer": reply.text,
                   **reply.stats.to_dict()})
    else:
        click.echo()
        click.echo(_stats_line(reply.stats), err=True)


@cli.command()
@click.argument("chat_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@workspace_option
def export(chat_id: int, out: Path | None, workspace: Path | None) -> None:
    """Export a chat to Markdown, with its citations and stats.

    \b
    Examples:
      quarry export 3 > pricing-chat.md
      quarry export 3 --out pricing-chat.md
    """
    from engine.documents.chat import export_markdown

    with open_workspace(workspace) as ws:
        text = export_markdown(ws.store, chat_id)
    if out:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            from engine.errors import QuarryError

            raise QuarryError(f"{out}: cannot be written ({exc.strerror or exc}); give another --out") from None
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


@cli.command()
@workspace_option
@json_option
def chats(workspace: Path | None, as_json: bool) -> None:
    """List the stored chats, newest first.

    \b
    Example:
      quarry chats --json
    """
    with open_workspace(workspace) as ws:
        rows = ws.store.chats()
    if as_json:
        emit_json([c.__dict__ for c in rows])
        return
    for c in rows:
        click.echo(f"{c.id:5}  {c.mode:5} {c.model or '-':14} {c.title}")


def _erase(streamed: str) -> None:
    """Moves the cursor back over text streamed to the terminal and clears it (wide characters count 2)."""
    import shutil

    from rich.cells import cell_len

    width = max(shutil.get_terminal_size().columns, 1)
    rows = sum(max(1, -(-cell_len(line) // width)) for line in streamed.split("\n"))
    click.echo(f"\r\x1b[{rows - 1}A\x1b[J" if rows > 1 else "\r\x1b[J", nl=False, err=True)


def _answer_json(answer) -> dict:
    from engine.documents.modes import made_by, mode_of

    data = {"question": answer.question, "search_query": answer.search_query, "answer": answer.text,
            "refused": answer.refused, "relevance": round(answer.relevance, 3),
            "citations": [{"n": c.number, "file": c.path, "page": c.page, "chunk_id": c.chunk_id,
                           "span": list(c.span), "span_text": c.span_text, "support": c.support}
                          for c in answer.citations],
            "unsupported": answer.unsupported,
            "nearest": [{"file": h.path, "page": h.page, "chunk_id": h.chunk_id, "text": h.text}
                        for h in answer.nearest],
            "chat_id": answer.chat_id, "message_id": answer.message_id,
            "lang": answer.lang, "extractive": answer.extractive, "per_document": answer.per_document}
    data |= answer.stats.to_dict() if answer.stats else {}
    data["mode"] = mode_of(answer)  # quoted | written | quoted instead | refused
    data["made_by"] = made_by(data["mode"], data.get("model"))
    return data


@cli.command()
@click.argument("question", nargs=-1)
@click.option("--chat", "chat_id", type=int, help="Ask in this chat (follow-ups use its history).")
@click.option("--model", "-m", "model_id", help="Catalog model id.")
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="Most sources to give the model.")
@click.option("--max-tokens", type=click.IntRange(1, 32768), default=None, help="Most tokens to generate.")
@answer_mode_option
@scope_options
@workspace_option
@json_option
def ask(question, chat_id, model_id, k, max_tokens, extractive, workspace: Path | None, as_json: bool,
        path_globs: tuple[str, ...] = (), doc_ids: tuple[int, ...] = ()) -> None:
    """Answer a question from your documents, with checked citations (or say they do not answer it).

    \b
    Examples:
      quarry ask "What is the return window for opened electronics?"
      quarry ask --json "已拆封的电子产品可以退货吗？"
      quarry ask --chat 3 "and for furniture?"
      quarry ask --extractive "How long must passwords be?"
      quarry ask --generate "How long must passwords be?"
      quarry ask --path '*returns*' --doc 7 "How long is the return window?"
      quarry ask "@travel-policy what is the hotel cap in New York?"
    """
    from engine.documents import modes
    from engine.documents import scope as scoping
    from engine.documents.rag import Ask

    text = _prompt_text(question)
    given = scope_from(path_globs, doc_ids)
    conf = load_settings()
    params = conf.generation(max_tokens=max_tokens, temperature=0.0)
    live = not as_json and sys.stderr.isatty()
    streamed = ""
    with open_workspace(workspace) as ws:
        _require_chat(ws, chat_id)
        # @names scope this question; else the flags, else the chat's kept scope; one that matches nothing
        # stops here, in one line
        text, scope = scoping.for_chat(ws.store, text, chat_id, given)
        if scope is not None and not as_json:
            click.echo(scope.line(), err=True)
        # the flag, else the mode the chat keeps, else the setting
        picked = None if extractive is None else modes.QUOTED if extractive else modes.WRITTEN
        answers = modes.for_chat(ws.store, chat_id, picked, conf.answer_mode)
        job = Ask(ws, text, chat_id=chat_id, model_id=model_id or conf.model, k=k or conf.top_k_sources,
                  mode=conf.search_mode, extractive=modes.forced(answers),
                  filters=scope.filters() if scope else None)
        for piece in job.stream(params):
            if live:
                streamed += piece
                click.echo(click.style(piece, dim=True), nl=False, err=True)
        answer = job.answer
        if given:  # flags set the chat's scope and answer mode, kept for its next questions
            scoping.keep(ws.store, answer.chat_id, given)
        if picked is not None:
            modes.keep(ws.store, answer.chat_id, picked)
        _say_not_stored(ws)
    if as_json:
        emit_json(_answer_json(answer) | {"scope": scope_json(scope)})
        return
    if live:
        _erase(streamed)  # the checked answer below replaces the raw stream
    _print_answer(answer)


def _print_answer(answer) -> None:
    """Prints a document answer, its citations and unsupported sentences; which mode made it, and its
    figures, go to stderr."""
    from engine.documents.modes import QUOTED, WRITTEN, mode_of
    from engine.documents.phrases import phrase

    click.echo(answer.text)
    lang = answer.lang
    if answer.refused and answer.nearest:
        click.echo("\n" + phrase("nearest", lang))
        for h in answer.nearest:
            click.echo(f"  - {h.path}{f' p.{h.page}' if h.page else ''}: {' '.join(h.text.split())[:120]}")
    if answer.extractive and answer.citations:
        click.echo()
    for c in answer.citations:
        page = f", {phrase('page', lang, page=c.page)}" if c.page else ""
        click.echo(f"  [{c.number}] {c.path}{page}" + ("" if answer.extractive else f": “{c.span_text[:100]}”"))
    for sentence in answer.unsupported:  # one line each, cut: a looping model wrote one of thousands of characters
        flat = " ".join(sentence.split())
        flat = flat if len(flat) <= UNSUPPORTED_CHARS else flat[:UNSUPPORTED_CHARS - 1] + "…"
        click.echo(click.style(f"  {phrase('unsupported_item', lang)}{flat}", fg="yellow"))
    split = answer.per_document or {}
    mode = mode_of(answer)
    if split.get("differ"):
        note = phrase("per_document_note", lang) + (f"; {phrase('replaced_model', lang)}"
                                                    if split.get("replaced_model") else "")
        click.echo(f"{note} · {answer.stats.ttft_ms:.0f} ms", err=True)
    elif mode == QUOTED:
        click.echo(f"{phrase('extractive_note', lang)} · {answer.stats.ttft_ms:.0f} ms", err=True)
    elif mode == WRITTEN and answer.stats:
        click.echo(f"written by {_stats_line(answer.stats)}", err=True)
    elif mode == "quoted instead" and answer.stats:
        click.echo(f"quoted: the model's words were not supported · {_stats_line(answer.stats)}", err=True)
