"""`quarry classify review`: piped answers (labels, skip, undo, a wrong label), the least-sure export, and
bad input in one line."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from engine.workspace import Workspace
from tests.engine.test_review import least_sure_first, review_template  # noqa: F401 -- the module's workspace, shared
from tests.helpers import run_cli as run


@pytest.fixture
def ws_root(review_template, tmp_path):  # noqa: F811
    shutil.copytree(review_template, tmp_path / "copy")
    return tmp_path / "copy" / "ws"


def test_piped_answers_label_skip_undo_and_quit(ws_root):
    result = run("classify", "review", "reviews", "--batch", "c_rows", "-w", ws_root,
                 input="1\n差评\ns\nu\npositive\nu\nu\nu\n3\nq\n")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert ("least sure first (smallest margin between the top two labels, weighted to rows typical of the queue);"
            " refitting lexical") in err
    assert err.count("-> ") == 3  # 1, 差评, 3
    assert "no label 'positive'" in err and "+positive" in err
    # the undos take back the skip, then both answers; the fourth goes past the start
    assert err.count("undid") == 3 and "nothing to undo" in err
    assert "1 answered, 0 skipped, 59 left; 'reviews' now has 13 examples" in result.stdout
    with Workspace(ws_root) as ws:
        feedback = ws.store.feedback("label", "reviews")
        assert [f.value for f in feedback] == ["差评"] and ws.store.label_set("reviews").examples == 13
        assert ws.store.db.execute("SELECT count(*) FROM c_rows WHERE method = 'review'").fetchone()[0] == 1
        answer = feedback[0].id
    # `quarry feedback remove` on a review answer takes it back whole: its example and the row's label too
    removed = run("feedback", "remove", answer, "-w", ws_root)
    assert removed.exit_code == 0, removed.output
    with Workspace(ws_root) as ws:
        assert ws.store.feedback("label", "reviews") == [] and ws.store.label_set("reviews").examples == 12
        assert ws.store.db.execute("SELECT count(*) FROM c_rows WHERE method = 'review'").fetchone()[0] == 0


def test_piped_answers_json_and_the_end_of_stdin(ws_root):
    result = run("classify", "review", "reviews", "--batch", "c_rows", "--json", "-w", ws_root, input="2\n1\n")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["answered"] == 2 and doc["left"] == 58 and doc["order"] == "density"
    assert all(a["feedback_id"] and a["target"].startswith("c_rows:") for a in doc["answers"])


def test_least_sure_export(ws_root, tmp_path):
    out = tmp_path / "least-sure.csv"
    result = run("classify", "review", "reviews", "--batch", "c_rows", "--export", out, "--limit", 7,
                 "-w", ws_root)
    assert result.exit_code == 0, result.output
    assert "wrote the 7 least-sure rows" in result.stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads its Chinese right
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7 and list(rows[0])[:3] == ["text", "label", "model_label"]
    assert least_sure_first(rows, 3)
    bad = run("classify", "review", "reviews", "--batch", "c_rows", "--export", tmp_path / "x.txt", "-w", ws_root)
    assert bad.exit_code != 0 and "export to a .csv or .parquet file" in bad.output


def fill(path, labels: dict[int, str]) -> None:
    """Fills the label column of an exported file's rows (by position), as a person would elsewhere and
    save it as Excel's "CSV UTF-8" does (with a BOM)."""
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for i, label in labels.items():
        rows[i]["label"] = label
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_least_sure_export_filled_in_part_imports_as_it_is_filled(ws_root, tmp_path):
    out = tmp_path / "least-sure.csv"
    exported = run("classify", "review", "reviews", "--batch", "c_rows", "--export", out, "--limit", 7, "-w", ws_root)
    assert "--skip-unlabelled" in exported.stdout  # the command it prints imports a part-filled file
    fill(out, {0: "好评", 1: "差评", 2: "好评"})
    args = ("labels", "import", "reviews", "--file", out, "--text-column", "text", "--label-column", "label")
    refused = run(*args, "-w", ws_root)
    assert refused.exit_code == 1 and "blank in 4 rows (first: row 4)" in refused.stderr
    assert "--skip-unlabelled" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    first = run(*args, "--skip-unlabelled", "-w", ws_root)
    assert first.exit_code == 0, first.output
    assert "imported 3 examples" in first.stdout and "left out 4 with no label" in first.stdout
    fill(out, {3: "中评", 4: "差评"})  # more filled later; the first three are imported already
    again = run(*args, "--skip-unlabelled", "--json", "-w", ws_root)
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert doc["added"] == 2 and doc["skipped"] == {"unlabelled": 2, "already": 3}
    with Workspace(ws_root) as ws:
        assert ws.store.label_set("reviews").examples == 12 + 5
    fill(out, {5: "", 6: ""})
    fill(out, {i: "" for i in range(5)})
    empty = run(*args, "--skip-unlabelled", "-w", ws_root)
    assert empty.exit_code == 1 and "blank in 7 rows (every row)" in empty.stderr


def test_bad_requests_are_one_line(ws_root, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("text,sentiment\n", encoding="utf-8")
    made = run("classify", "--file", empty, "--column", "text", "-s", "reviews", "-m", "lexical", "-o", "c_empty",
               "-w", ws_root)
    assert made.exit_code == 0, made.output
    for args, words in ((["--batch", "c_empty"], "table c_empty: nothing to review"),
                        (["--batch", "nope"], "no batch output table 'nope'"),
                        ([], "give one of --batch"),
                        (["--file", empty], "give the column")):
        result = run("classify", "review", "reviews", *args, "-w", ws_root, input="1\n")
        assert result.exit_code != 0, args
        assert words in result.output and "Traceback" not in result.output, result.output


def test_piped_answers_reach_the_queue_past_a_stale_socket(ws_root):
    """The app killed with its terminal leaves its socket behind: the launcher and then the CLI each took
    stdin ahead for a holder that was not there, and the second time the answers were lost (0 answered)."""
    import os
    import socket
    import subprocess
    import sys

    from tests.conftest import REPO

    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(ws_root / "quarry.sock"))  # bound and closed: a socket file nobody listens on
    stale.close()
    os.chmod(ws_root / "quarry.sock", 0o600)
    ran = subprocess.run([sys.executable, "-m", "tui", "classify", "review", "reviews", "--batch", "c_rows", "-w",
                          str(ws_root)], input="1\nq\n", capture_output=True, text=True, cwd=REPO, timeout=120,
                         env=dict(os.environ))
    assert ran.returncode == 0, ran.stderr
    assert "1 answered, 0 skipped, 59 left" in ran.stdout, ran.stdout + ran.stderr


def test_the_last_answer_can_be_undone_once_the_queue_is_empty(ws_root, tmp_path):
    rows = tmp_path / "two.csv"  # one column: texts to review need no label column
    rows.write_text("text\n送货很快，质量很好。\n屏幕有坏点，很失望。\n", encoding="utf-8")
    result = run("classify", "review", "reviews", "--file", rows, "--column", "text", "-w", ws_root,
                 input="1\n3\nu\nq\n")
    assert result.exit_code == 0, result.output
    assert "the queue is empty: every row is answered or skipped (u undoes the last, q ends)" in result.stderr
    assert "undid the label" in result.stderr
    assert "1 answered, 0 skipped, 1 left; 'reviews' now has 13 examples" in result.stdout
    batch = run("classify", "--file", rows, "--column", "text", "--label-set", "reviews", "--method", "lexical",
                "-w", ws_root)
    assert batch.exit_code == 0, batch.output  # nor does a batch


def test_odd_answer_lines_are_one_short_line_each(ws_root):
    """Bytes that are not UTF-8 (`+\\xffbad` made a label DuckDB could not store), a superscript digit and
    5,000 digits (int() refused both: a bug each), and a pasted 100 kB line (echoed whole, twice) are refused
    in one short line each; the review goes on."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    answers = (b"+\xffbad\n\xc2\xb2\n" + b"9" * 5000 + b"\n" + b"a" * 100_000 + b"\n+" + b"b" * 100
               + b"\n1\nq\n")
    ran = subprocess.run([sys.executable, "-m", "tui", "classify", "review", "reviews", "--batch", "c_rows", "-w",
                          str(ws_root)], input=answers, capture_output=True, cwd=REPO, timeout=120,
                         env=dict(os.environ))
    err = ran.stderr.decode("utf-8", "replace")
    assert ran.returncode == 0, err
    assert "Bug" not in err and "Traceback" not in err, err
    assert "that answer is not UTF-8 text" in err
    assert "no label '²'" in err and "no label 9999" in err and "no label 'aaaa" in err
    assert "a new label needs a name of 1 to 80 characters on one line: +name (this one has 100)" in err
    assert max(len(line) for line in err.splitlines()) < 400
    assert "1 answered, 0 skipped, 59 left" in ran.stdout.decode()
    with Workspace(ws_root) as ws:
        assert len(ws.store.feedback("label", "reviews")) == 1
        assert len(ws.store.label_set("reviews").labels) == 3  # no label made of the bad bytes


def test_answers_piped_later_reach_a_review_served_by_the_app(ws_root):
    """With the app open, a review's answers that were not in the pipe yet when the command started (a
    script that takes a moment) were dropped: the review ended at once, '0 answered', exit 0."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import REPO
    from tests.serve_holder import tui_holder

    with tui_holder(ws_root) as holder:
        client = subprocess.Popen([sys.executable, "-m", "tui", "classify", "review", "reviews", "--batch", "c_rows",
                                   "-w", str(ws_root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=REPO, env=dict(os.environ))
        time.sleep(1.0)  # the client has asked the holder by now
        out, err = client.communicate("1\nq\n", timeout=120)
        assert client.returncode == 0, err
        assert "1 answered, 0 skipped, 59 left" in out, out + err
        assert holder.poll() is None


def test_a_typo_in_a_filled_export_is_imported_with_a_warning(ws_root, tmp_path):
    """The least-sure export, filled elsewhere and imported back: a typo in its label column became a new
    label of the set without a word (review refuses it), and the set's methods then had a label of one
    example."""
    out = tmp_path / "least-sure.csv"
    assert run("classify", "review", "reviews", "--batch", "c_rows", "--export", out, "--limit", 3,
               "-w", ws_root).exit_code == 0
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for row, label in zip(rows, ("好评", "好坪", "差评")):
        row["label"] = label
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run("labels", "import", "reviews", "--file", out, "--text-column", "text", "--label-column", "label",
                 "-w", ws_root)
    assert result.exit_code == 0, result.output
    assert "warning: 1 new label in 'reviews': 好坪 (a typo?" in result.stderr
    again = run("labels", "import", "reviews", "--file", out, "--text-column", "text", "--label-column", "label",
                "--json", "-w", ws_root)
    assert json.loads(again.stdout)["new_labels"] == [] and again.stderr == ""


def test_a_batch_summary_names_unlabelled_rows_and_an_empty_batch(ws_root, tmp_path):
    """The summary line counted a row with no text as 'None 1', and an empty file ended in a bare colon."""
    rows = tmp_path / "rows.csv"
    rows.write_text("text\n送货很快，质量很好。\n\"\"\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    made = run("classify", "--file", rows, "--column", "text", "-s", "reviews", "-m", "lexical", "-w", ws_root)
    assert made.exit_code == 0, made.output
    assert "unlabelled 1" in made.stdout and "None" not in made.stdout
    none = run("classify", "--file", empty, "--column", "text", "-s", "reviews", "-m", "lexical", "-w", ws_root)
    assert none.exit_code == 0, none.output
    assert none.stdout.strip().endswith("(lexical): no rows"), none.stdout


def test_labels_show_and_list_line_up_chinese_and_latin_names(ws_root):
    """Counts after a Chinese label sat two columns right of those after a Latin one (f"{name:24}" counts a
    character, a terminal shows a Chinese one two cells wide)."""
    from rich.cells import cell_len

    added = run("labels", "add", "reviews", "neutral", "还行吧", "--new-label", "-w", ws_root)
    assert added.exit_code == 0, added.output
    run("labels", "create", "情感", "--label", "a", "--label", "b", "-w", ws_root)
    shown = run("labels", "show", "reviews", "-w", ws_root).stdout.splitlines()
    rows = [line for line in shown if line.startswith("  ")]
    assert len(rows) == 4
    assert len({cell_len(line.rstrip()) for line in rows}) == 1, rows  # each count ends in the same cell
    listed = run("labels", "list", "-w", ws_root).stdout.splitlines()
    starts = {cell_len(line[:line.index(" text ")]) if " text " in line else None for line in listed[1:]}
    assert starts == {16}, listed


def test_ctrl_c_says_what_was_kept(ws_root):
    """Ctrl-C in a review printed click's bare "Aborted!": nothing said the answers so far were stored."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    client = subprocess.Popen([sys.executable, "-m", "tui", "classify", "review", "reviews", "--batch", "c_rows",
                               "-w", str(ws_root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO, env=dict(os.environ))
    client.stdin.write("1\n")
    client.stdin.flush()
    deadline = time.monotonic() + 60
    err = ""
    while "-> " not in err and time.monotonic() < deadline:
        err += os.read(client.stderr.fileno(), 4096).decode()
    client.send_signal(signal.SIGINT)
    out, rest = client.communicate(timeout=60)
    err += rest
    assert client.returncode != 0, err
    assert "interrupted: 1 answered (stored), 0 skipped, 59 left" in err and "Traceback" not in err, err


def test_a_one_column_csv_with_a_tab_in_a_text_is_read_with_its_commas(ws_root, tmp_path):
    """DuckDB's sniffer took this one-column CSV (a tab inside one text, as Python's csv writer leaves it
    unquoted) for tab-separated: "has no column 'text'; its columns: tab, here and ANSI". Ingest reads the
    same file right (its own sniff); review and batches now sniff as ingest does."""
    texts = ["where is my parcel [bold]NOW[/]", "refund please", "包裹到哪里了？", "great service, thanks!",
             "x" * 5000, "", "emoji 🎉 parcel late", "line1\nline2 multi line ticket", "tab\there and \x1b[31mANSI"]
    path = tmp_path / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    result = run("classify", "review", "reviews", "--file", path, "--column", "text", "-w", ws_root, input="q\n")
    assert result.exit_code == 0, result.output
    assert "has no column" not in result.output and "rows of" in result.stderr
