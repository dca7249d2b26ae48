"""The log: `quarry locate` shows it, `-v` mirrors it to stderr, a bug's traceback lands in it, and text from
documents and questions is kept to its first 80 characters."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine import locations, log
from tui.cli import cli


def test_locate_prints_the_log_file_under_the_state_dir(isolated_user_dirs):
    result = CliRunner().invoke(cli, ["locate"])
    assert result.exit_code == 0
    path = isolated_user_dirs / "state" / "log" / "quarry.log"  # QUARRY_STATE, set for every test
    assert f"log        {path}" in result.stdout.splitlines()
    data = json.loads(CliRunner().invoke(cli, ["locate", "--json"]).stdout)
    assert data["log"] == str(path) == str(locations.log_file())


def test_locate_shows_the_workspace_given_before_or_after_it(tmp_path):
    for argv in (["-w", str(tmp_path), "locate", "--json"], ["locate", "-w", str(tmp_path), "--json"]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["workspace"] == str(tmp_path)
    assert json.loads(CliRunner().invoke(cli, ["locate", "--json"]).stdout)["workspace"] == str(
        locations.default_workspace())


def test_verbose_mirrors_the_log_to_stderr_and_the_file_keeps_it():
    try:
        result = CliRunner().invoke(cli, ["-v", "locate"])
    finally:
        log.stop_verbose()  # the mirror is the process's: later tests' stderr stays theirs
    assert result.exit_code == 0
    assert "quarry locate" in result.stderr and "quarry locate" not in result.stdout
    assert "quarry locate" in locations.log_file().read_text(encoding="utf-8")
    quiet = CliRunner().invoke(cli, ["locate"])
    assert quiet.stderr == ""


def test_a_bug_in_a_command_is_one_line_naming_the_log_and_its_traceback_is_there(monkeypatch):
    # A fake fault: a command's bug cannot be caused through its inputs (those are QuarryErrors).
    def broken():
        raise RuntimeError("cache lookup fell over\nsecond line")

    monkeypatch.setattr(locations, "wheel_cache", broken)
    result = CliRunner().invoke(cli, ["locate"])
    assert result.exit_code == 1
    path = locations.log_file()
    assert result.stderr.strip() == (f"Error: Bug (please report): RuntimeError: cache lookup fell over — "
                                     f"traceback in {path}")
    written = path.read_text(encoding="utf-8")
    assert "quarry locate failed" in written and "Traceback (most recent call last)" in written
    assert 'raise RuntimeError("cache lookup fell over' in written


def test_clip_keeps_the_first_80_characters_on_one_line():
    question = "What is the return window for opened electronics?\n" * 5
    clipped = log.clip(question)
    assert len(clipped) == 80 and clipped.endswith("…") and "\n" not in clipped
    assert log.clip("short one") == "short one"


def test_a_bug_quoting_a_document_logs_80_characters_of_it(monkeypatch):
    # A fake fault, as above: a bug whose message quotes a whole (private) document.
    document = "Salary review for Jane Doe: " + "confidential figures " * 40

    def broken():
        raise ValueError(document) from KeyError(document)

    monkeypatch.setattr(locations, "wheel_cache", broken)
    assert CliRunner().invoke(cli, ["locate"]).exit_code == 1
    written = locations.log_file().read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in written and "in broken" in written
    assert "Salary review for Jane Doe" in written and "confidential figures " * 4 not in written
    assert f"ValueError: {log.clip(document)}" in written


def test_a_reader_that_leaves_the_pipe_ends_the_command_without_a_bug_line(isolated_user_dirs):
    import os
    import subprocess
    import sys

    # the read end is closed before the command writes (it takes a second to start): its first line fails
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tui", "locate"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == "", err  # no "Bug (please report)", no traceback, no "Exception ignored"
