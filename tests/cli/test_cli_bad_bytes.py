"""Arguments that are not UTF-8 (typed in a Latin-1 terminal, or a file's bytes pasted): Python keeps such
bytes as lone surrogates, and DuckDB, Arrow and the tokenizer each failed on them as a bug ("Bug (please
report): UnicodeEncodeError"). Now they are one line naming the argument; a path may still hold them."""

from __future__ import annotations

from engine.workspace import Workspace
from tests.helpers import run_cli

BAD = "caf\udce9"  # b"caf\xe9" (Latin-1 "café") as Python decodes a non-UTF-8 argv


def test_text_arguments_that_are_not_utf8_are_one_line(tmp_path):
    root = tmp_path / "ws"
    assert run_cli("init", root).exit_code == 0
    for args in (("labels", "create", BAD, "--label", "a", "--label", "b"),
                 ("labels", "create", "s", "--label", BAD, "--label", "b"),
                 ("recommend", "dismiss", BAD, "SD-001"),
                 ("search", BAD)):
        result = run_cli(*args, "-w", root)
        assert result.exit_code != 0, args
        assert "Bug" not in result.output and "Traceback" not in result.output, result.output
        assert "the argument 'caf\ufffd' is not UTF-8 text" in result.output, result.output
        assert result.output.count("\n") == 1, result.output
    with Workspace(root) as ws:
        assert ws.store.label_set("s") is None


def test_a_path_that_is_not_utf8_is_left_to_the_command(tmp_path):
    odd = tmp_path / f"{BAD}.csv"  # a file name is bytes on POSIX: this one exists, so the argument passes
    odd.write_text("text,label\nhello,a\nbye,b\n", encoding="utf-8")
    root = tmp_path / "ws"
    assert run_cli("init", root).exit_code == 0
    result = run_cli("labels", "import", "s", "--file", odd, "--text-column", "text", "--label-column", "label",
                     "-w", root)
    # DuckDB cannot open such a path: the command's own line names the file (not the argument check's)
    assert "is not UTF-8 text" not in result.output and "Bug" not in result.output, result.output
    assert result.exit_code != 0 and "not a readable table" in result.output, result.output


def test_a_workspace_path_that_is_not_utf8_is_one_line(tmp_path):
    """DuckDB cannot open such a path: `quarry init` said "Bug (please report): RuntimeError: std::bad_cast"."""
    result = run_cli("init", tmp_path / f"ws-{BAD}")
    assert result.exit_code == 1 and "Bug" not in result.output, result.output
    assert "the workspace folder's name is not UTF-8" in result.output and result.output.count("\n") == 1
