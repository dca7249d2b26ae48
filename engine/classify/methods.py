"""Classify's methods by name and which of them an evaluation runs: the one list both fronts offer (no
numpy or sklearn here, so a pane can import it before its first paint)."""

from __future__ import annotations

METHODS = ("auto", "zero-shot", "embedding", "lexical", "stack", "llm", "tabular")
TEXT_METHODS = ("zero-shot", "embedding", "lexical", "stack", "llm")
TABULAR_METHODS = ("tabular",)
SLOW = ("llm",)  # reads every text with the chat model: minutes for a few hundred texts on a CPU


def eval_methods(method: str = "all", tabular: bool = False, quick: bool = False) -> list[str]:
    """Gives the methods an evaluation runs: one named method, or for 'all' every method of the set's kind
    and auto last; `quick` leaves out the slow ones (the LLM), as the app's one-key evaluation does."""
    if method != "all":
        return [method]
    names = TABULAR_METHODS if tabular else TEXT_METHODS
    return [m for m in names if not (quick and m in SLOW)] + ["auto"]


def chat_model(model: str | None = None) -> str:
    """Gives the chat model the llm method uses: the one given, else the settings' model."""
    if model:
        return model
    from engine import settings

    return settings.load().model
