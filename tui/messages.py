"""Every message that carries the result of background work back to the panes (see tui/workers.py for
the one pattern that posts them). A worker does engine work in its thread and posts one of these; the
handler, on the UI thread, is the only code that touches widgets. Widgets' own UI messages (a prompt
submitted, a citation opened) stay nested in their widget classes.

Failures all arrive the same way: `WorkFailed` (and `JobFailed`, its job form), which bubbles from the
widget that started the work, through its pane (which clears its busy state), to the app (which shows the
toast)."""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message


# -- failures and writes: the one error path -----------------------------------------------------
class WorkFailed(Message):
    """Background work failed. `error` is one line: a QuarryError's message, or for a bug its type and
    message and the log file that holds its traceback (`bug` is then True). `group` is the worker's
    group, so the pane that started the work can tell which of its busy states to clear."""

    def __init__(self, group: str, what: str, error: str, bug: bool = False, severity: str = "error") -> None:
        super().__init__()
        self.group = group
        self.what = what
        self.error = error
        self.bug = bug
        self.severity = "error" if bug else severity  # a refusal the user can act on may be a warning


class Written(Message):
    """A write from `write_off_ui` is in: the app runs `then(result)` on the UI thread."""

    def __init__(self, then: Callable[[object], object], result: object) -> None:
        super().__init__()
        self.then = then
        self.result = result


# -- the app ------------------------------------------------------------------------------------
class WorkspaceReady(Message):
    """The workspace opened (DuckDB loaded); panes may fill themselves."""


class WorkspaceFailed(Message):
    """The workspace could not be opened, or its models not warmed: one line."""

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


# -- Chat -------------------------------------------------------------------------------------
class AnswerStreamed(Message):
    """More of an answer's text, for the box `box_id`."""

    def __init__(self, box_id: str, text: str) -> None:
        super().__init__()
        self.box_id = box_id
        self.text = text


class AnswerFinished(Message):
    def __init__(self, box_id: str, result: object) -> None:
        super().__init__()
        self.box_id = box_id
        self.result = result  # engine.documents.chat.Reply | engine.documents.rag.Answer


# -- Documents --------------------------------------------------------------------------------
class SearchFinished(Message):
    def __init__(self, query: str, hits: list, elapsed_ms: float) -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.elapsed_ms = elapsed_ms


# -- Classify ---------------------------------------------------------------------------------
class TextClassified(Message):
    """One text through the chosen methods: `rows` are engine.classify.heads.Compared."""

    def __init__(self, text: str, rows: list) -> None:
        super().__init__()
        self.text = text
        self.rows = rows


class ClassifyEvaluated(Message):
    def __init__(self, report: object) -> None:
        super().__init__()
        self.report = report  # engine.classify.evaluate.EvalReport


class ReviewReady(Message):
    """A review queue is open (engine.classify.review.Queue): its rows are ranked, least sure first."""

    def __init__(self, queue: object) -> None:
        super().__init__()
        self.queue = queue


# -- Recommend --------------------------------------------------------------------------------
class RecommendListed(Message):
    """Users and items matching the search box, and the store's (items, users, events) counts."""

    def __init__(self, text: str, users: list, items: list, counts: tuple[int, int, int]) -> None:
        super().__init__()
        self.text = text
        self.users = users
        self.items = items
        self.counts = counts


class Recommended(Message):
    """A request finished: `result` is engine.recommend.Recommendations, `history` the user's events."""

    def __init__(self, subject: str, kind: str, result: object, history: list | None) -> None:
        super().__init__()
        self.subject = subject
        self.kind = kind  # user | item | query
        self.result = result
        self.history = history


# -- Compare ----------------------------------------------------------------------------------
class ModelsListed(Message):
    """The chat models (local and remote) that are ready to compare."""

    def __init__(self, models: list[tuple[str, str]]) -> None:
        super().__init__()
        self.models = models  # (id, kind)


class CompareStarted(Message):
    def __init__(self, run: object) -> None:
        super().__init__()
        self.run = run  # engine.compare.CompareRun


class ComparePieces(Message):
    """More text for the column at `position` ("" when its model has started)."""

    def __init__(self, position: int, text: str) -> None:
        super().__init__()
        self.position = position
        self.text = text


class CompareColumnDone(Message):
    def __init__(self, column: object) -> None:
        super().__init__()
        self.column = column  # engine.compare.Column


class CompareDone(Message):
    def __init__(self, run: object) -> None:
        super().__init__()
        self.run = run


class LeaderboardReady(Message):
    def __init__(self, board: object) -> None:
        super().__init__()
        self.board = board  # engine.compare.ratings.Leaderboard


# -- jobs (tui/jobs.py) -----------------------------------------------------------------------
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


class JobFailed(WorkFailed):
    """A job failed: a QuarryError's one line, or a bug's (`bug` is True); shown like every WorkFailed."""

    def __init__(self, kind: str, error: str, job_id: int | None = None, bug: bool = False) -> None:
        super().__init__(f"job-{kind}", kind, error, bug)
        self.kind = kind
        self.job_id = job_id
