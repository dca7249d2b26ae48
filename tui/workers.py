"""The one worker pattern of the TUI.

Engine work never runs on the UI thread, and no thread touches a widget. Three doors, one error path:

- `@thread_worker(group, what)` on a pane's method runs it in a thread worker, exclusive in its group (a
  newer call supersedes the older one). The method does engine work and only posts messages from
  tui.messages; their handlers, on the UI thread, update the widgets:

      @thread_worker("rec-answer", "recommend")
      def _answer(self, kind, subject, method):
          self.post_message(Recommended(subject, kind, rec.recommender(ws).for_user(subject, method), None))

- `write_off_ui(widget, write, then, what)` runs a DuckDB write (a rename, a vote, a new label set) in a
  thread worker and then `then(result)` on the UI thread (the app runs it on a `Written` message). A job
  may hold the process's one write lock for seconds (a 2M-event import, a big file's chunks); the write
  waits for it there, and the app keeps answering keys.
- `run_job_worker` (tui/jobs.py) runs an engine job and posts its progress and its end.

Whatever fails in any of them arrives as one `WorkFailed` message (`JobFailed` for jobs) from
`failure()`: a QuarryError is its one line; anything else is a bug, whose traceback is written to the log
file (engine/log.py) and whose line says so and names the file. The message bubbles: the pane that
started the work clears its busy state in its own handler, and the app shows it as a toast (`toast()`),
the same way for every pane.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from textual import work
from textual.app import App
from textual.widget import Widget
from textual.worker import Worker

from tui.messages import WorkFailed, Written


def failure(group: str, what: str, exc: BaseException, severity: str = "error") -> WorkFailed:
    """Gives the message for a failed piece of work, after logging a bug's traceback."""
    from engine import log

    line, bug = log.report(exc, what)
    return WorkFailed(group, what, line, bug, severity)


def thread_worker(group: str, what: str, exclusive: bool = True) -> Callable:
    """Decorates a widget method to run in a thread worker whose failure is posted as a WorkFailed."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(self: Widget, *args, **kwargs) -> None:
            try:
                method(self, *args, **kwargs)
            except Exception as exc:  # a QuarryError, or a bug: either way the pane is told and stays up
                self.post_message(failure(group, what, exc))

        return work(thread=True, exclusive=exclusive, group=group, exit_on_error=False)(run)

    return decorate


def write_off_ui(widget: Widget, write: Callable[[], object], then: Callable[[object], object] | None = None,
                 what: str = "save", severity: str = "error") -> Worker:
    """Runs a DuckDB write in a thread worker, then `then(result)` (a function or a coroutine function) on
    the UI thread. A refusal the user can act on may be shown as a warning (`severity`)."""

    def run() -> None:
        try:
            result = write()
        except Exception as exc:
            widget.post_message(failure("writes", what, exc, severity))
            return
        if then is not None:
            widget.post_message(Written(then, result))

    return widget.run_worker(run, name=f"write:{what}", group="writes", thread=True, exit_on_error=False)


async def written(message: Written) -> None:
    """Runs a finished write's follow-up on the UI thread (the app's handler of `Written`)."""
    result = message.then(message.result)
    if inspect.isawaitable(result):
        await result


def toast(app: App, message: WorkFailed) -> None:
    """Shows a failure: one line, literally; a bug's stays up longer (its line names the log file)."""
    app.notify(message.error, severity=message.severity, timeout=15 if message.bug else 8, markup=False)
