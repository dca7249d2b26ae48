"""One workspace, many windows: the process that holds a workspace serves the other Quarry processes.

DuckDB lets one process open a file for writing, so the process that opened a workspace (the TUI, or a
CLI command) listens on a Unix socket inside the workspace folder (mode 0600, the peer's uid checked with
SO_PEERCRED, no TCP). A command that finds the workspace held sends its argv, cwd, stdin and the QUARRY_
environment there; the holder runs the same command in a thread on its warm workspace and streams stdout
and stderr back as frames, the exit code last. Reads run concurrently; writes meet the store's one write
lock, as they do between the TUI's own workers.

    protocol.py   frames (length + JSON), limits, the request and its checks, version
    peer.py       the socket's path and the peer-uid check
    session.py    what a served command sees: its stdout/stderr/stdin, cancel event, workspace
    holder.py     the listening side: accept, check, run the front's handler per connection, drain
    client.py     the asking side: send the request, copy the frames to stdout/stderr, give the code
The front (tui/serving.py) supplies what a request runs: engine/ never imports click or tui.
"""

from engine.serve.errors import ServeError
from engine.serve.peer import socket_path

__all__ = ["ServeError", "socket_path"]
