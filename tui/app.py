"""Placeholder, replaced below."""
def run_app(workspace):
    raise SystemExit("TUI not built yet")
