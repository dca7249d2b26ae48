"""Messages that carry the results of background work back to the panes."""

from __future__ import annotations

from textual.message import Message


class WorkspaceReady(Message):
    """The workspace opened (DuckDB loaded); panes may fill themselves."""


class WorkspaceFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ModelsWarm(Message):
    """The encoder, indexes and chat model are loaded."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class AnswerStreamed(Message):
    def __init__(self, box_id: str, text: str) -> None:
        super().__init__()
        self.box_id = box_id
        self.text = text


class AnswerFinished(Message):
    def __init__(self, box_id: str, result: object) -> None:
        super().__init__()
        self.box_id = box_id
        self.result = result  # engine.chat.Reply | engine.rag.Answer


class AnswerFailed(Message):
    def __init__(self, box_id: str, error: str) -> None:
        super().__init__()
        self.box_id = box_id
        self.error = error


class IngestProgressed(Message):
    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event  # engine.ingest.IngestEvent


class IngestFinished(Message):
    def __init__(self, summary: object, cancelled: bool) -> None:
        super().__init__()
        self.summary = summary  # engine.ingest.IngestSummary
        self.cancelled = cancelled


class IngestFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class SearchFinished(Message):
    def __init__(self, query: str, hits: list, elapsed_ms: float) -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.elapsed_ms = elapsed_ms
