"""Plain chat turns: history from DuckDB, the model's reply streamed, both stored with the stats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.models import catalog
from engine.runtime import llama, pool
from engine.runtime.generation import CancelCheck, GenerationParams, RunStats
from engine.workspace import Workspace

DEFAULT_SYSTEM = "You are a concise, helpful assistant for a business user."


@dataclass
class Reply:
    """A finished assistant turn."""

    chat_id: int | None  # None: a read-only workspace, the turn was not stored
    message_id: int | None
    text: str
    stats: RunStats
    trimmed_turns: int = 0


def title_from(prompt: str, width: int = 48) -> str:
    """Gives a chat title from its first prompt."""
    line = " ".join(prompt.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def fit_history(model: llama.LLM, system: str, history: list[dict], reserve: int) -> tuple[list[dict], int]:
    """Gives the newest messages that fit the context beside `reserve` tokens, and how many were dropped.

    Binary search over how many of the oldest to drop: O(log n) renders of the prompt, not one per
    dropped message (a long chat would cost n renders and tokenizations of an n-message prompt).
    """
    budget = model.n_ctx - reserve

    def fits(drop: int) -> bool:
        messages = [{"role": "system", "content": system}, *history[drop:]]
        return len(model.tokenize(model.render(messages))) <= budget

    dropped = fewest_to_drop(fits, max(len(history) - 1, 0))
    return history[dropped:], dropped


def fewest_to_drop(fits, most: int, step: int = 1) -> int:
    """Gives the fewest items (a multiple of `step`, at most `most`) to drop for `fits(dropped)` to hold,
    or `most` when none does; `fits` must stay true once true (dropping more never makes it longer)."""
    lo, hi = 0, most // step
    if fits(0):
        return 0
    if not fits(hi * step):
        return hi * step
    while hi - lo > 1:  # fits(lo * step) is false, fits(hi * step) is true
        mid = (lo + hi) // 2
        if fits(mid * step):
            hi = mid
        else:
            lo = mid
    return hi * step


@dataclass
class Turn:
    """One user message and the streamed reply to it; `reply` is set once streaming ends."""

    workspace: Workspace
    prompt: str
    model_id: str = field(default_factory=lambda: catalog.DEFAULTS["llm"])
    chat_id: int | None = None
    system: str = DEFAULT_SYSTEM
    reply: Reply | None = None

    def stream(self, params: GenerationParams | None = None, cancel: CancelCheck | None = None) -> Iterator[str]:
        """Yields the reply's text pieces; stores both messages in the chat (created if needed)."""
        params = params or GenerationParams()
        store = self.workspace.store
        model = pool.get(self.model_id, slot="chat")
        history = [] if self.chat_id is None else [
            {"role": m.role, "content": m.content} for m in store.messages(self.chat_id)
            if m.role in ("user", "assistant")]
        history.append({"role": "user", "content": self.prompt})
        kept, dropped = fit_history(model, self.system, history, params.max_tokens)
        tokens = model.prompt_tokens(model.render([{"role": "system", "content": self.system}, *kept]))
        model.ensure_fits(len(tokens))  # before anything is stored: a prompt too long leaves no trace
        keep = not store.read_only  # a read-only workspace answers without storing (the fronts say so)
        if keep and self.chat_id is None:
            self.chat_id = store.create_chat(title_from(self.prompt), self.model_id)
        if keep:
            store.add_message(self.chat_id, "user", self.prompt)
        stats = RunStats(self.model_id, load_ms=model.load_ms)
        pieces: list[str] = []
        try:
            for piece in model.stream_tokens(tokens, params, cancel, stats):
                pieces.append(piece)
                yield piece
        finally:
            text = "".join(pieces).strip()
            record = stats.to_dict() | {"trimmed_turns": dropped}
            mid = store.add_message(self.chat_id, "assistant", text, stats=record) if keep else None
            self.reply = Reply(self.chat_id, mid, text, stats, dropped)


def export_markdown(store, chat_id: int) -> str:
    """Gives a chat as Markdown: each turn, its sources and its stats."""
    chat = store.chat(chat_id)
    if chat is None:
        from engine.errors import QuarryError

        raise QuarryError(f"no chat with id {chat_id}; see `quarry chats`")
    from engine.documents.modes import kept, made_by, record_mode

    answers = f" · answers: {kept(chat)}" if kept(chat) else ""
    lines = [f"# {chat.title}", "", f"Model: {chat.model or '-'} · mode: {chat.mode}{answers}", ""]
    for m in store.messages(chat_id):
        lines += [f"## {'You' if m.role == 'user' else 'Quarry'}", "", m.content, ""]
        for c in (m.citations or {}).get("citations", []):
            page = f", page {c['page']}" if c.get("page") else ""
            lines.append(f"- [{c['number']}] {c['path']}{page}: “{' '.join(c['span_text'].split())}”")
        # which mode made a document answer: quoted, or written by its model
        by = made_by(record_mode(m.citations), (m.stats or {}).get("model") or chat.model)
        figures = []
        if m.stats and m.stats.get("completion_tokens"):
            figures = [f"TTFT {m.stats['ttft_ms']:.0f} ms", f"{m.stats['tokens_per_s']:.0f} tok/s"]
            if m.stats["model"] not in by:  # else the mode's words name the model already
                figures.insert(0, m.stats["model"])
        if by or figures:
            lines += ["", f"_{' · '.join([by] * bool(by) + figures)}_"]
        lines.append("")
    return "\n".join(lines)


def export_chat(workspace: Workspace, chat_id: int) -> Path:
    """Writes a chat to <workspace>/exports/chat-<id>.md and gives the path."""
    folder = workspace.root / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / f"chat-{chat_id}.md"
    path.write_text(export_markdown(workspace.store, chat_id), encoding="utf-8")
    return path
