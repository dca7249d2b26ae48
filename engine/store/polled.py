"""One long DuckDB statement as a generator that reports its progress and can be cancelled.

DuckDB tells how far a running statement got (`query_progress`, once its progress bar is on) and stops it on
`interrupt`; both are called from a thread other than the one running it. So the store call runs in a thread
of its own while the caller's generator polls it: a job over millions of rows shows a moving bar, and a
cancel stops it mid-statement, its transaction rolled back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import TypeVar

import duckdb

T = TypeVar("T")
POLL_S = 0.2  # how often progress is read and a cancel is acted on
FIRST_POLL_S = 0.05  # the first look comes sooner, so a statement of a fraction of a second still shows


class Interrupted(Exception):
    """The statement was stopped by a cancel; its transaction rolled back and nothing of it was kept."""


def polled(store, call: Callable[[], T], cancelled: Callable[[], bool]) -> Generator[float | None, None, T]:
    """Runs `call()` (a store method, on this new thread's cursor) and yields the running statement's progress
    in percent (None while DuckDB cannot tell, e.g. while it sniffs a CSV) every POLL_S; gives call's result.

    A cancel interrupts it (repeatedly: a statement that starts after one interrupt is stopped by the next)
    and raises `Interrupted`, whatever error the interrupted call turned the interrupt into."""
    box: dict[str, object] = {}
    ready = threading.Event()

    def target() -> None:
        cursor = store.db  # this thread's own cursor: the one to poll and interrupt
        try:
            cursor.execute("SET enable_progress_bar = true")
            cursor.execute("SET enable_progress_bar_print = false")
            cursor.execute("SET progress_bar_time = 0")
        except duckdb.Error:
            pass  # progress is then unknown; the work still runs
        box["cursor"] = cursor
        ready.set()
        try:
            if cancelled():  # cancelled before it began: an interrupt sent now could land before the statement
                raise Interrupted("cancelled before it began")
            box["result"] = call()
        except BaseException as exc:  # handed to the polling thread, which raises it
            box["error"] = exc

    worker = threading.Thread(target=target, name="quarry-polled", daemon=True)
    worker.start()
    ready.wait()
    cursor = box["cursor"]
    interrupted = False
    wait = FIRST_POLL_S
    try:
        while worker.is_alive():
            worker.join(wait)
            wait = POLL_S
            if not worker.is_alive():
                break
            if cancelled():
                interrupted = True
                cursor.interrupt()
                continue
            try:
                percent = cursor.query_progress()
            except duckdb.Error:
                percent = -1
            yield percent if percent is not None and percent >= 0 else None
    finally:
        if worker.is_alive():  # the consumer went away (generator closed): stop the statement, then wait
            interrupted = True
            while worker.is_alive():
                cursor.interrupt()
                worker.join(POLL_S)
    if "error" in box:
        if interrupted:
            raise Interrupted("interrupted") from None
        raise box["error"]
    return box["result"]
