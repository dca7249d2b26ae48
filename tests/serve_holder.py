"""A real holder for tests and benches: the Quarry TUI, headless, on a workspace, serving it until a line
arrives on stdin. `python -m tests.serve_holder WORKSPACE` prints "serving PID" once the socket is up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def _hold(root: Path, warm: bool) -> None:
    from tui.app import QuarryApp

    app = QuarryApp(root, warm_models=warm)
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        while app.holder is None:
            await pilot.pause(0.05)
        print(f"serving {os.getpid()}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        print(f"served {app.holder.served}", flush=True)


@contextlib.contextmanager
def tui_holder(root: Path, env: dict | None = None, warm: bool = False) -> Iterator[subprocess.Popen]:
    """Runs the TUI holding `root` in a subprocess while the block runs; gives the process."""
    args = [sys.executable, "-m", "tests.serve_holder", str(root)] + (["--warm"] if warm else [])
    proc = subprocess.Popen(args, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env if env is not None else dict(os.environ))
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving"), f"the holder did not start: {line!r}"
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.write("\n")
                proc.stdin.flush()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    asyncio.run(_hold(Path(sys.argv[1]), "--warm" in sys.argv[2:]))
