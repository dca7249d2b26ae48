"""The fourteen rows a hostile user still broke (issue 28), one test (or a few) per row: each failed on
the code before its fix. Real DuckDB files, real models, real FIFOs; read-only is caused for real (file
modes as an unprivileged user), never faked."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from engine.store import DB_NAME
from tests.reliability.util import as_nobody, error_line, quarry, stored


@pytest.fixture
def ws(demo_workspace_dir, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, root)
    return root


@pytest.fixture
def twin(tmp_path, monkeypatch, chat_model) -> str:
    """A second chat model id on SmolLM2's own file (added as a user model), so a compare of two models
    loads two small models, not Gemma: gives "smollm2-135m,<twin id>"."""
    from engine import locations
    from engine.models import catalog

    monkeypatch.setattr(locations, "user_models_file", lambda: tmp_path / "user-models.toml")
    catalog.add(catalog.get("smollm2-135m").model_path, "smollm2-twin")
    return "smollm2-135m,smollm2-twin"


def strict_json(text: str):
    """Parses one JSON document the way other programs do: NaN and Infinity are not JSON."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# -- row 1: a truncated quarry.duckdb ------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.95, 0.99])
def test_a_database_cut_short_is_one_damaged_line_for_every_command(ws, fraction):
    """A cut that spares the blocks `docs` reads used to pass `docs` and traceback in `search`."""
    db = ws / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * fraction)])
    for args in (["docs"], ["search", "refund"], ["ask", "--extractive", "What is the refund window?"]):
        line = error_line(quarry(*args, "-w", ws), DB_NAME, "damaged", "move it aside", code=1)
        assert "restore" in line
    assert db.stat().st_size == int(len(data) * fraction)  # left as it was, for the user to restore


def test_a_damaged_block_met_mid_command_is_one_damaged_line(ws):
    """A block zeroed inside the file (its size intact) passes the open, and `docs` may not read it, but
    `search` meets it half-way: every command either works or says in one line that the file is damaged."""
    db = ws / DB_NAME
    data = db.read_bytes()
    block, first = 262144, 3 * 4096
    damaged_lines = 0
    for start in range(first, len(data), block):
        cut = bytearray(data)
        cut[start + 8: start + block] = bytes(len(cut[start + 8: start + block]))  # keep the stored checksum
        db.write_bytes(bytes(cut))
        for args in (["docs"], ["search", "refund", "--mode", "keyword"]):  # keyword: no encoder to load
            ran = quarry(*args, "-w", ws)
            assert ran.exception is None, f"block at {start}, {args[0]}: {ran.exception!r}"
            if ran.code:
                error_line(ran, "damaged", code=1)
                damaged_lines += 1
    assert damaged_lines  # the faults were met, not skipped


# -- row 2: a read-only workspace ------------------------------------------------------------------

def _read_only(root: Path) -> None:
    for base, dirs, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(base, name), 0o444)
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o555)
    os.chmod(root, 0o555)


def test_a_read_only_workspace_reads_searches_and_asks_without_storing(ws, open_tmp):
    """Read-only for real: file modes, run as an unprivileged user when the tests run as root."""
    root = open_tmp / "ws"
    shutil.copytree(ws, root)
    questions = open_tmp / "questions.jsonl"
    questions.write_text('{"question": "What is the refund window?", "expected_file": "returns-policy.pdf"}\n')
    before = stored(root)
    _read_only(root)
    import engine.documents.evaluate  # noqa: F401 (the stdlib lives under /root: imported before as_nobody)

    with as_nobody(root):
        _read_only(root)
        docs = quarry("docs", "-w", root)
        assert docs.code == 0 and docs.exception is None, docs.stderr
        assert "退货政策" in docs.stdout
        search = quarry("search", "refund window", "--json", "-w", root)
        assert search.code == 0 and search.exception is None, search.stderr
        assert strict_json(search.stdout)["hits"]
        ask = quarry("ask", "--extractive", "--json", "What is the refund window?", "-w", root)
        assert ask.code == 0 and ask.exception is None, ask.stderr
        assert strict_json(ask.stdout)["chat_id"] is None
        assert "read-only" in ask.stderr and "not stored" in ask.stderr
        ingest = quarry("ingest", root.parent / "nothing-here.md", "-w", root)
        assert ingest.code == 1 and "read-only" in ingest.stderr and "move it aside" not in ingest.stderr
        # an evaluation only reads: it runs and reports, with no job row to write
        evaluated = quarry("eval", "answers", questions, "--extractive", "--json", "-w", root)
        assert evaluated.code == 0 and evaluated.exception is None, evaluated.stderr
        assert strict_json(evaluated.stdout)["n"] == 1
    for base, _dirs, files in os.walk(root):
        os.chmod(base, 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    assert stored(root) == before


# -- row 3: a FIFO on the command line -----------------------------------------------------------

def test_a_fifo_given_on_the_command_line_is_skipped_with_one_line(encoder, tmp_path):
    pipe = tmp_path / "x.txt"
    os.mkfifo(pipe)
    good = tmp_path / "good.md"
    good.write_text("# Good\nThe zebra budget is 42 dollars.")
    outcome: dict = {}

    def run() -> None:
        outcome["ran"] = quarry("ingest", pipe, good, "-w", tmp_path / "ws")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # unblock the hung open so the thread ends, then fail
        with open(pipe, "w"):
            pass
        worker.join(10)
        pytest.fail("ingest of a FIFO hangs")
    ran = outcome["ran"]
    assert ran.exception is None and ran.code == 0, ran.stderr
    skipped = [line for line in ran.stderr.splitlines() if "x.txt" in line]
    assert len(skipped) == 1 and "not a regular file" in skipped[0]
    assert "1 ingested" in ran.stdout


def test_a_fifo_inside_a_folder_gets_the_same_line(encoder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\nThe zebra budget is 42 dollars.")
    os.mkfifo(folder / "pipe.txt")
    ran = quarry("ingest", folder, "-w", tmp_path / "ws")
    assert ran.code == 0, ran.stderr
    skipped = [line for line in ran.stderr.splitlines() if "pipe.txt" in line]
    assert len(skipped) == 1 and "not a regular file" in skipped[0]


# -- row 4: key remaps that take the quit key or give two actions one key ------------------------

@pytest.mark.parametrize("keys, names", [
    ('"chat.copy" = "ctrl+q"', ("chat.copy", "app.quit")),
    ('"chat.copy" = "ctrl+n"', ("chat.copy", "chat.new")),
    ('"chat.copy" = "notakey+++"', ("chat.copy", "is not a key")),
])
async def test_a_remap_that_takes_a_taken_key_is_refused_and_defaults_kept(demo_workspace_dir, config, keys,
                                                                           names):
    from tests.tui.helpers import toasts, wait_for
    from tui.app import QuarryApp

    config.write_text(f"[keys]\n{keys}\n")
    app = QuarryApp(demo_workspace_dir, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any(all(n in t for n in names) for t in toasts(app)))
        line = next(t for t in toasts(app) if all(n in t for n in names))
        assert "\n" not in line
        await wait_for(pilot, lambda: app.workspace is not None)
        await pilot.press("ctrl+q")  # the default quit key still quits
        await wait_for(pilot, lambda: not app.is_running, timeout=10)


def test_the_keymap_check_names_both_actions():
    from tui.actions import keymap_problem

    assert keymap_problem({}) is None
    assert keymap_problem({"chat.copy": "ctrl+y"}) is None
    problem = keymap_problem({"chat.copy": "ctrl+q"})
    assert "chat.copy" in problem and "app.quit" in problem and "ctrl+q" in problem
    assert "app.quit" in keymap_problem({"app.quit": "ctrl+n"})  # quit on chat.new's key
    assert keymap_problem({"app.quit": "ctrl+y"}) is None


def test_the_keymap_check_refuses_an_unknown_action_and_a_key_that_is_no_key():
    from tui.actions import ACTIONS, _keys, is_key_name, keymap_problem

    assert all(is_key_name(k) for a in ACTIONS for k in _keys(a.key))  # every default key is a key
    for fine in ("alt+c", "ctrl+shift+f7", "ctrl+y,alt+y", "question_mark,f12"):
        assert keymap_problem({"app.help": fine}) is None, fine
    problem = keymap_problem({"chat.cpy": "alt+c"})  # a typo: it used to be ignored, silently
    assert '"chat.cpy" is not an action' in problem and "\n" not in problem
    for bad, named in (("notakey+++", '"notakey+++" is not a key'), ("ctrl+foo", "is not a key"),
                       ("F7", "is not a key"), ("", "is not a key"), ("alt+y,ctlr+y", '("ctlr+y")')):
        problem = keymap_problem({"chat.copy": bad})
        assert problem is not None and named in problem and "chat.copy" in problem, bad


# -- row 5: compare reveal before a vote --------------------------------------------------------

def test_reveal_before_a_vote_is_refused_and_skip_vote_reveals(tmp_path, twin):
    root = tmp_path / "ws"
    ran = quarry("compare", "--json", "--blind", "Say hi.", "--models", twin,
                 "--max-tokens", "3", "-w", root)
    assert ran.code == 0, ran.stderr
    run_id = str(strict_json(ran.stdout)["run_id"])
    error_line(quarry("compare", "reveal", run_id, "-w", root), "vote first", "--skip-vote", code=1)
    shown = quarry("compare", "reveal", run_id, "--skip-vote", "--json", "-w", root)
    assert shown.code == 0, shown.stderr
    assert len(strict_json(shown.stdout)["labels"]) == 2
    error_line(quarry("compare", "vote", run_id, "a", "-w", root), "revealed", code=1)
    assert strict_json(quarry("leaderboard", "--json", "-w", root).stdout)["votes"] == 0


# -- row 6: labels add with a label the set does not have ----------------------------------------

def test_labels_add_with_an_unknown_label_names_the_labels_and_the_closest(tmp_path, encoder):
    root = tmp_path / "ws"
    assert quarry("labels", "create", "tickets", "-l", "refund_request", "-l", "shipping", "-w", root).code == 0
    line = error_line(quarry("labels", "add", "tickets", "refund_requets", "I want my money back", "-w", root),
                      "refund_requets", "refund_request", "shipping", "--new-label", code=1)
    assert "closest" in line
    shown = strict_json(quarry("labels", "show", "tickets", "--json", "-w", root).stdout)
    assert sorted(label["name"] for label in shown["labels"]) == ["refund_request", "shipping"]
    added = quarry("labels", "add", "tickets", "complaint", "This is awful", "--new-label", "-w", root)
    assert added.code == 0, added.stderr
    assert quarry("labels", "add", "tickets", "refund_request", "Money back please", "-w", root).code == 0
    shown = strict_json(quarry("labels", "show", "tickets", "--json", "-w", root).stdout)
    assert sorted(label["name"] for label in shown["labels"]) == ["complaint", "refund_request", "shipping"]


# -- row 7: NaN and infinities for float options -------------------------------------------------

def _float_options():
    import click

    from tui.cli import cli

    found = []

    def walk(cmd, path):
        for param in cmd.params:
            floating = isinstance(param.type, click.types.FloatParamType) or param.type.name == "number"
            if isinstance(param, click.Option) and floating:
                found.append((" ".join(path), param))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, [])
    return found


def test_every_float_option_uses_the_one_finite_number_type():
    from tui.params import Number

    options = _float_options()
    assert len(options) >= 6
    for where, option in options:
        assert isinstance(option.type, Number), f"quarry {where} {option.opts[0]} is a plain float"


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_every_float_option_refuses_nan_and_infinities(value):
    import click

    for _, option in _float_options():
        with pytest.raises(click.BadParameter, match="finite"):
            option.type.convert(value, option, None)


@pytest.mark.parametrize("args", [
    ("chat", "--temperature", "nan", "hi"),
    ("recommend", "--query", "chair", "--max-price", "nan", "--json"),
    ("recommend", "--query", "chair", "--min-price", "-inf"),
    ("compare", "hi", "--models", "smollm2-135m", "--temperature", "inf"),
])
def test_nan_on_the_command_line_is_one_line(tmp_path, args):
    ran = quarry(*args, "-w", tmp_path / "ws")
    error_line(ran, args[args.index(next(a for a in args if a in ("nan", "-inf", "inf"))) - 1], code=2)
    assert not (tmp_path / "ws" / DB_NAME).exists() or ran.stdout == ""


# -- row 8: no NaN or Infinity in any --json ---------------------------------------------------

def test_emit_json_never_writes_nan(capsys):
    from tui.cli import emit_json

    emit_json({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": {"d": float("nan")}})
    data = strict_json(capsys.readouterr().out)
    assert data == {"a": None, "b": [None, None, 1.5], "c": {"d": None}}


# -- rows 9 and 10: every command reads the one settings object ------------------------------------

def test_search_reads_the_configured_search_mode(demo_workspace_dir, config):
    config.write_text('search_mode = "keyword"\n')
    ran = quarry("search", "refund", "--json", "-w", demo_workspace_dir)
    assert ran.code == 0, ran.stderr
    assert strict_json(ran.stdout)["mode"] == "keyword"
    given = strict_json(quarry("search", "refund", "--mode", "vector", "--json", "-w", demo_workspace_dir).stdout)
    assert given["mode"] == "vector"


@pytest.mark.parametrize("text, needle", [('search_mode = "fuzzy"\n', "search_mode"),
                                          ("this is = = not toml [\n", "not valid TOML")])
@pytest.mark.parametrize("args", [("search", "refund"), ("docs",), ("labels", "list"),
                                  ("recommend", "--query", "chair"), ("compare", "runs"), ("jobs",)])
def test_every_command_refuses_a_bad_config_in_one_line(demo_workspace_dir, config, text, needle, args):
    config.write_text(text)
    error_line(quarry(*args, "-w", demo_workspace_dir), needle, str(config), code=1)


# -- row 11: chat with an encoder ---------------------------------------------------------------

def test_chat_with_an_encoder_says_it_is_not_a_chat_model(tmp_path):
    line = error_line(quarry("chat", "-m", "minilm-l6", "hello", "-w", tmp_path / "ws"), "minilm-l6",
                      "encoder", "not a chat model", "smollm2-135m", code=1)
    assert "GGUF" not in line


def test_ask_and_compare_with_an_encoder_say_the_same(demo_workspace_dir, tmp_path):
    error_line(quarry("ask", "-m", "minilm-l6", "refund?", "-w", demo_workspace_dir), "not a chat model", code=1)
    error_line(quarry("compare", "hi", "--models", "minilm-l6,smollm2-135m", "-w", tmp_path / "ws"),
               "minilm-l6", "not a chat model", code=1)


# -- rows 12 and 13: interactions dated before 1970 or in the future -------------------------------

def _interactions(path: Path, times: list) -> Path:
    rows = ["user_id,item_id,timestamp"]
    for u in range(6):
        for step, t in enumerate(times):
            rows.append(f"u{u},i{(u + step) % 7},{t + u}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_import_warns_of_rows_before_1970_with_their_count(tmp_path):
    source = _interactions(tmp_path / "log.csv", [-86400, -50, 1_700_000_000, 1_700_000_100])
    ran = quarry("recommend", "import", "--interactions", source, "-w", tmp_path / "ws")
    assert ran.code == 0, ran.stderr
    assert "12 dated before 1970" in ran.stdout  # the summary line itself
    assert any("12" in line and "1970" in line for line in ran.stderr.splitlines() if "warning" in line)
    report = strict_json(quarry("recommend", "import", "--interactions", source, "--json",
                                "-w", tmp_path / "ws").stdout)
    assert report[0]["before_1970"] == 12 and report[0]["future"] == 0


def test_import_warns_of_future_rows_and_eval_says_how_it_treated_them(tmp_path):
    year_2999 = 32_503_680_000 - 10 * 86400
    source = _interactions(tmp_path / "log.csv", [1_700_000_000, 1_700_000_100, 1_700_000_200, year_2999])
    root = tmp_path / "ws"
    ran = quarry("recommend", "import", "--interactions", source, "-w", root)
    assert ran.code == 0, ran.stderr
    assert "6 dated in the future" in ran.stdout
    assert any("6" in line and "future" in line for line in ran.stderr.splitlines() if "warning" in line)
    evaluated = quarry("recommend", "eval", "--no-content", "--json", "-w", root)
    assert evaluated.code == 0, evaluated.stderr
    notes = strict_json(evaluated.stdout)["notes"]
    assert any("future" in n and "6" in n for n in notes), notes


# -- row 14: MovieLens-shaped files and every --help example that names a file --------------------

def movielens(folder: Path) -> tuple[Path, Path]:
    """ratings.csv (userId,movieId,rating,timestamp) and movies.csv (movieId,title,genres), tiny."""
    folder.mkdir(parents=True, exist_ok=True)
    ratings = ["userId,movieId,rating,timestamp"]
    for u in range(1, 9):
        for step in range(6):
            ratings.append(f"{u},{(u * 3 + step) % 11 + 1},{(u + step) % 5 + 0.5},{964982703 + u * 1000 + step}")
    (folder / "ratings.csv").write_text("\n".join(ratings) + "\n")
    movies = ["movieId,title,genres"] + [f'{m},"Film {m} ({1990 + m})",Comedy|Drama' for m in range(1, 12)]
    (folder / "movies.csv").write_text("\n".join(movies) + "\n")
    return folder / "ratings.csv", folder / "movies.csv"


def test_recommend_eval_on_movielens_files_with_the_column_flags(tmp_path):
    ratings, movies = movielens(tmp_path / "ml")
    ran = quarry("recommend", "eval", "--interactions", ratings, "--items", movies, "--user-col", "userId",
                 "--item-col", "movieId", "--time-col", "timestamp", "--no-content", "--json",
                 "-w", tmp_path / "ws")
    assert ran.code == 0 and ran.exception is None, ran.stderr
    assert strict_json(ran.stdout)["users"] == 8


def test_a_column_flag_no_file_has_is_still_one_line(tmp_path):
    ratings, movies = movielens(tmp_path / "ml")
    error_line(quarry("recommend", "import", "--interactions", ratings, "--items", movies, "--user-col", "uid",
                      "-w", tmp_path / "ws"), "uid", "--user-col", code=1)
    error_line(quarry("recommend", "import", "--items", movies, "--title-col", "name", "-w", tmp_path / "ws"),
               "name", "--title-col", code=1)


def help_examples() -> list[tuple[str, str]]:
    """Gives (command, example line) for every example in every --help, continuation lines joined."""
    import click

    from tui.cli import cli

    found = []

    def walk(cmd, path):
        pending = ""
        for raw in (cmd.help or "").splitlines():
            line = (pending + " " + raw.strip()).strip() if pending else raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1].strip()
                continue
            if line.startswith(("quarry ", "cat ")):
                found.append((" ".join(path) or "quarry", line))
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(cli, [])
    return found


def _build_files(folder: Path) -> None:
    """Files of the shapes the examples name, tiny."""
    import duckdb

    from engine import locations

    movielens(folder)
    with duckdb.connect() as db:
        db.execute(f"""COPY (SELECT 'c' || (i % 9) AS customer, 'SKU-' || (i % 7) AS sku,
                              TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR AS ordered_at
                       FROM range(60) t(i)) TO '{folder / "orders.parquet"}' (FORMAT parquet)""")
        db.execute(f"""COPY (SELECT i AS income, i % 7 AS years, CASE WHEN i % 3 = 0 THEN 'deny' ELSE
                              'approve' END AS outcome FROM range(40) t(i))
                       TO '{folder / "apps.parquet"}' (FORMAT parquet)""")
        db.execute(f"""COPY (SELECT i * 3 AS income, i % 5 AS years FROM range(5) t(i))
                       TO '{folder / "apps.csv"}' (HEADER)""")
    (folder / "products.csv").write_text("sku,title,price\n" + "".join(
        f"SKU-{i},Chair {i},{20 + i}\n" for i in range(7)))
    texts = {"refund": ["I want my money back", "Refund me please", "Give me a refund", "money back now"],
             "shipping": ["Where is my parcel?", "My order has not arrived", "track my package",
                          "when does it ship"]}
    for name, take in (("train.csv", slice(0, 3)), ("test.csv", slice(3, 4))):
        rows = [f"{t},{label}" for label, items in texts.items() for t in items[take]]
        (folder / name).write_text("text,intent\n" + "\n".join(rows) + "\n")
    (folder / "texts.txt").write_text("Where is my parcel?\nI want a refund\n")
    demo = locations.demo_corpus()
    shutil.copy(next(demo.rglob("*.pdf")), folder / "report.pdf")
    shutil.copy(next(demo.rglob("*.xlsx")), folder / "prices.xlsx")


# Each example that names a data file, in the order they build on each other; a new one must join.
FILE_EXAMPLES = [
    "quarry ingest report.pdf prices.xlsx --json",
    "quarry recommend import --items products.csv --interactions orders.parquet --user-col customer "
    "--item-col sku --time-col ordered_at",
    "quarry recommend eval --interactions ratings.csv --items movies.csv --user-col userId --item-col movieId "
    "--time-col timestamp",
    "quarry labels import credit --file apps.parquet --features '*' --label-column outcome",
    "quarry classify --file apps.csv --label-set credit --method tabular",
    "quarry classify eval --train train.csv --test test.csv --text-column text --label-column intent -m lexical",
]


def test_the_file_examples_listed_are_those_of_the_help():
    named = {line for _, line in help_examples()
             if any(f in line for f in ("products.csv", "ratings.csv", "apps.", "train.csv", "report.pdf"))}
    assert named == set(FILE_EXAMPLES)


def test_every_help_example_that_names_a_file_runs_on_files_of_that_shape(encoder, tmp_path, monkeypatch):
    import shlex

    folder = tmp_path / "files"
    folder.mkdir()
    _build_files(folder)
    monkeypatch.chdir(folder)
    root = tmp_path / "ws"
    for example in FILE_EXAMPLES:
        args = shlex.split(example)[1:]
        started = time.monotonic()
        ran = quarry(*args, "-w", root)
        assert ran.exception is None and ran.code == 0, f"{example}: {ran.stderr}"
        assert time.monotonic() - started < 60
        if "--json" in args:
            strict_json(ran.stdout)


def _json_commands() -> set[str]:

    from tui.cli import cli

    found = set()

    def walk(cmd, path):
        if any(p.name == "as_json" for p in cmd.params):
            found.add(" ".join(path))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, [])
    return found


def test_every_commands_json_parses_with_a_strict_parser(ws, tmp_path, twin, monkeypatch):
    """Each command that has --json, run on a small real workspace: its stdout is one document that a
    strict parser (no NaN, no Infinity) reads. A command that fails prints no half document either."""
    folder = tmp_path / "files"
    folder.mkdir()
    _build_files(folder)
    (folder / "q.jsonl").write_text(json.dumps({"question": "What is the refund window?",
                                                "expected_file": "zh/退货政策.md", "answer": "30"}) + "\n")
    (folder / "prompts.txt").write_text("Say hi.\n")
    (folder / "note.md").write_text("# Note\nThe zebra budget is 42 dollars.\n")
    monkeypatch.chdir(folder)
    runs = [
        ("labels create", ["labels", "create", "tickets", "-l", "refund", "-l", "shipping"]),
        ("labels import", ["labels", "import", "intents", "--file", "train.csv", "--text-column", "text",
                           "--label-column", "intent"]),
        ("labels list", ["labels", "list"]),
        ("labels show", ["labels", "show", "intents"]),
        ("classify text", ["classify", "Where is my parcel?", "--label-set", "intents", "--method", "lexical"]),
        ("classify eval", ["classify", "eval", "--train", "train.csv", "--test", "test.csv", "--text-column",
                           "text", "--label-column", "intent", "-m", "lexical"]),
        ("classify runs", ["classify", "runs"]),
        ("classify review", ["classify", "review", "intents", "--file", "test.csv", "--column", "text",
                             "--method", "lexical"]),  # no answers on stdin: the queue opens and ends
        ("init", ["init", tmp_path / "new-ws"]),
        ("locate", ["locate"]),
        ("models list", ["models", "list"]),
        ("compare run", ["compare", "--blind", "Say hi.", "--models", twin, "--max-tokens", "3"]),
        ("compare runs", ["compare", "runs"]),
        ("compare batch", ["compare", "batch", "prompts.txt", "--models", twin, "--max-tokens", "3"]),
        ("leaderboard", ["leaderboard", "--rounds", "10"]),
        ("ingest", ["ingest", "note.md"]),
        ("docs", ["docs"]),
        ("search", ["search", "refund"]),
        ("index info", ["index", "info"]),
        ("index encoder", ["index", "encoder"]),
        ("eval retrieval", ["eval", "retrieval", "q.jsonl"]),
        ("eval answers", ["eval", "answers", "q.jsonl", "--extractive"]),
        ("jobs", ["jobs", "--all"]),
        ("recommend import", ["recommend", "import", "--interactions", "ratings.csv", "--items", "movies.csv"]),
        ("recommend", ["recommend", "--query", "comedy film under 20", "--max-price", "1e300"]),
        ("recommend eval", ["recommend", "eval", "--no-content"]),
        ("chat", ["chat", "Say hi.", "--max-tokens", "3"]),
        ("chats", ["chats"]),
        ("ask", ["ask", "--extractive", "What is the refund window?"]),
        ("feedback list", ["feedback", "list"]),
    ]
    ran_names = set()
    for name, args in runs:
        ran = quarry("-w", ws, *args, "--json")  # the root's --workspace: init, locate and models take none
        assert ran.exception is None, f"{name}: {ran.exception!r}"
        assert ran.code == 0, f"{name}: {ran.stderr}"
        data = strict_json(ran.stdout)
        ran_names.add(name)
        if name == "compare run":
            run_id = str(data["run_id"])
            for follow, extra in (("compare vote", [run_id, "a"]), ("compare reveal", [run_id])):
                strict_json(quarry(*follow.split(), *extra, "--json", "-w", ws).stdout)
                ran_names.add(follow)
        if name == "jobs":
            job_id = str(data[0]["id"])
            resumed = quarry("jobs", "resume", job_id, "--json", "-w", ws)
            assert resumed.exception is None
            if resumed.stdout.strip():
                strict_json(resumed.stdout)
            ran_names.add("jobs resume")
        if name == "ask":  # rate that answer: it gives a rating to list, and too few to fit a refusal bar
            rated = quarry("feedback", "rate", str(data["message_id"]), "good", "-w", ws)
            assert rated.code == 0, rated.stderr
            refit = quarry("eval", "refusals", "--lang", "en", "--json", "-w", ws)
            assert refit.code == 1 and refit.stdout == "" and "too few rated en document answers" in refit.stderr
            ran_names.add("eval refusals")
    assert ran_names == _json_commands()


def _parse(command, args: list[str], parent=None) -> None:
    """Parses args as click would run them, down to the last subcommand, without running anything."""
    import click

    ctx = command.make_context(command.name or "quarry", list(args), parent=parent)
    if isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args] if hasattr(ctx, "_protected_args") else [
            *ctx.protected_args, *ctx.args]
        if rest:
            _name, sub, sub_args = command.resolve_command(ctx, rest)
            _parse(sub, sub_args, ctx)


def test_every_help_example_parses_with_its_commands_options():
    """Every example of every --help (all of them, not only those with files) names options and values
    its command takes: an example that drifted from its command fails here."""
    import shlex

    from tui.cli import cli

    examples = help_examples()
    assert len(examples) > 60
    for where, line in examples:
        text = line.split("  #")[0].split("(one text per line)")[0]
        for part in text.replace("&&", "|").split("|"):
            words = shlex.split(part.split(" > ")[0])
            if not words or words[0] != "quarry":
                continue
            try:
                _parse(cli, words[1:])
            except Exception as exc:  # click's usage errors and bad values alike
                pytest.fail(f"{where}: `{part.strip()}` does not parse: {exc}")


async def test_the_app_says_up_front_that_a_workspace_is_read_only(ws, open_tmp, monkeypatch):
    """The app on a read-only workspace (file modes, as an unprivileged user) says so when it opens, in a
    notice and the header, rather than at the first write it refuses."""
    from tests.tui.helpers import notified, ready
    from tui.app import QuarryApp

    root = open_tmp / "ws"
    shutil.copytree(ws, root)
    monkeypatch.setenv("QUARRY_STATE", str(open_tmp / "state"))
    monkeypatch.setenv("QUARRY_CACHE", str(open_tmp / "cache"))
    (open_tmp / "state").mkdir()
    (open_tmp / "cache").mkdir()
    before = stored(root)
    # once as root on the writable copy: what the app imports lazily is imported before the user changes
    # (the interpreter's files live under /root, which that user cannot read)
    async with QuarryApp(ws, warm_models=False).run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert "(read-only)" not in pilot.app.sub_title
    with as_nobody(root, open_tmp / "state", open_tmp / "cache"):
        _read_only(root)
        app = QuarryApp(root, warm_models=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await notified(pilot, "read-only", "not stored", "make the folder writable")
            assert "(read-only)" in app.sub_title
    for base, _dirs, files in os.walk(root):
        os.chmod(base, 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    assert stored(root) == before
