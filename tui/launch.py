"""The `quarry` entry point: a command whose workspace is held by another Quarry process is handed to it
before the CLI and the engine are loaded (a client then starts in the time Python does)."""

from __future__ import annotations

import sys


def main() -> None:
    from tui import serving

    argv = sys.argv[1:]
    serving.record_invocation(argv)
    try:
        code = serving.forward_early(argv)
    except Exception as exc:  # a refusal (QuarryError): one line, as the CLI prints it
        from engine.errors import QuarryError

        if not isinstance(exc, QuarryError):
            raise
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    if code is not None:
        sys.exit(code)
    from tui.cli import main as cli_main

    cli_main()
