"""Messages that carry the results of background work back to the panes."""

from __future__ import annotations

from textual.message import Message


class WorkspaceReady(Message):
    """The workspace opened (DuckDB loaded); panes may fill themselves."""


class WorkspaceFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ClientCommand(Message):
    """A `quarry` command from another process started or ended in this app (it holds the workspace)."""

    def __init__(self, argv: list[str], code: int | None) -> None:
        super().__init__()
        self.argv = argv
        self.code = code  # None: it started


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
        self.result = result  # engine.documents.chat.Reply | engine.documents.rag.Answer


class AnswerFailed(Message):
    def __init__(self, box_id: str, error: str) -> None:
        super().__init__()
        self.box_id = box_id
        self.error = error


class SearchFinished(Message):
    def __init__(self, query: str, hits: list, elapsed_ms: float) -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.elapsed_ms = elapsed_ms


class JobProgressed(Message):
    """A job reported progress (engine.jobs.Progress)."""

    def __init__(self, progress: object) -> None:
        super().__init__()
        self.progress = progress
        self.job_id = progress.job_id
        self.kind = progress.kind


class JobFinished(Message):
    """A job ended: done, or cancelled with what it committed kept (`run` is engine.jobs.JobRun)."""

    def __init__(self, run: object) -> None:
        super().__init__()
        self.run = run
        self.job_id = run.id
        self.kind = run.kind
        self.result = run.result
        self.cancelled = run.status == "cancelled"


class JobFailed(Message):
    """A job failed: a QuarryError's one line, or a bug's type and message (`bug` is True)."""

    def __init__(self, kind: str, error: str, job_id: int | None = None, bug: bool = False) -> None:
        super().__init__()
        self.kind = kind
        self.error = error
        self.job_id = job_id
        self.bug = bug
