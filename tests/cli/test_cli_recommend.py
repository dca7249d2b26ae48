"""`quarry recommend`, `quarry recommend import`, `quarry recommend eval` on the demo store."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers import run_cli as run


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory, encoder):
    """A workspace with the demo store imported and evaluated once (the run the hybrid uses)."""
    root = tmp_path_factory.mktemp("rec-ws")
    result = run("recommend", "import", "--demo", "--json", "-w", root)
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert reports[0]["rows"] >= 300 and reports[1]["users"] >= 1000 and reports[1]["rows"] >= 30000
    return root


def test_demo_store_has_the_structure_of_a_shop(store_dir):
    """≥ 300 items in English and Chinese, ≥ 1,000 users, ≥ 30,000 events over months, long-tailed."""
    from engine.workspace import Workspace

    with Workspace(store_dir) as ws:
        db = ws.store.db
        items, zh = db.execute("SELECT count(*), count(*) FILTER (regexp_matches(text, '[\u4e00-\u9fff]')) "
                               "FROM rec_items").fetchone()
        days = db.execute("SELECT date_diff('day', min(ts), max(ts)) FROM rec_interactions").fetchone()[0]
        counts = [r[0] for r in db.execute("SELECT count(*) AS n FROM rec_interactions GROUP BY item_id "
                                           "ORDER BY n DESC").fetchall()]
    assert items >= 300 and zh == items and days >= 150
    assert sum(counts[: len(counts) // 10]) > 0.3 * sum(counts)  # the top tenth of items takes > 30%


@pytest.fixture
def store_ws(store_dir, tmp_path):
    target = tmp_path / "ws"
    shutil.copytree(store_dir, target)
    return target


def test_user_recommendations_with_reasons(store_dir):
    result = run("recommend", "--user", "u0042", "--json", "-w", store_dir)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["method"] == "hybrid" and len(doc["items"]) == 10
    assert all(item["reason"] for item in doc["items"])
    human = run("recommend", "--user", "u0042", "--method", "sequence", "--k", "3", "-w", store_dir)
    assert human.exit_code == 0 and "often bought after" in human.stdout
    assert len(human.stdout.strip().splitlines()) == 4  # header + 3


def test_item_and_query(store_dir):
    similar = json.loads(run("recommend", "--item", "SD-001", "--json", "-w", store_dir).stdout)
    assert similar["items"] and all(i["item_id"] != "SD-001" for i in similar["items"])
    query = json.loads(run("recommend", "--query", "a quiet office chair under 200", "--json", "-w",
                           store_dir).stdout)
    assert query["filters"]["price_max"] == 200
    assert query["items"] and all(i["price"] <= 200 for i in query["items"])
    assert "office chair" in query["items"][0]["title"]
    chinese = json.loads(run("recommend", "--query", "办公椅 300元以下", "--json", "-w", store_dir).stdout)
    assert chinese["filters"]["price_max"] == 300 and "office chair" in chinese["items"][0]["title"]


def test_new_user_unknown_item_bad_k(store_dir):
    new = run("recommend", "--user", "nobody", "-w", store_dir)
    assert new.exit_code == 0 and new.stdout.startswith("new user 'nobody' — popular items")
    unknown = run("recommend", "--item", "NOPE-1", "-w", store_dir)
    assert unknown.exit_code == 1
    assert "unknown item 'NOPE-1'; `quarry recommend --query TEXT` searches the catalog" in unknown.output
    for k in ("0", "-2"):
        bad = run("recommend", "--user", "u0042", "--k", k, "-w", store_dir)
        assert bad.exit_code == 1 and f"--k {k}: give a positive number" in bad.output
    neither = run("recommend", "-w", store_dir)
    assert neither.exit_code == 2 and "give one of --user USER, --item ITEM or --query TEXT" in neither.output


def test_eval_prints_every_method_and_stores_the_run(store_ws):
    result = run("recommend", "eval", "--max-users", "400", "--json", "-w", store_ws)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    methods = {r["method"]: r for r in doc["rows"]}
    assert set(methods) == {"popular", "popular_category", "content", "als", "cooccur", "sequence", "hybrid"}
    assert doc["users"] == 400 and doc["run_id"] == 1
    # the demo's sequences are real: what came next beats who the user is
    assert methods["sequence"]["hr"] > methods["popular"]["hr"]
    human = run("recommend", "eval", "--max-users", "200", "--no-content", "-w", store_ws)
    assert human.exit_code == 0 and "HR@10" in human.stdout and "sequence" in human.stdout


def test_eval_on_files_with_a_mapping(tmp_path, store_dir):
    log = tmp_path / "log.csv"
    rows = ["who,what,when"] + [f"c{u},P{(u + s) % 7},2026-05-{s + 1:02d} 10:00" for u in range(30) for s in range(5)]
    log.write_text("\n".join(rows) + "\n")
    result = run("recommend", "eval", "--interactions", log, "--user-col", "who", "--item-col", "what",
                 "--time-col", "when", "--no-content", "--json", "-w", tmp_path / "ws")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["users"] == 30
    bad = run("recommend", "eval", "--interactions", log, "--user-col", "nobody", "-w", tmp_path / "ws")
    assert bad.exit_code == 1 and "no column 'nobody' for --user-col; its columns are: who, what, when" in bad.output
    # -w given on the group reaches its commands
    imported = run("recommend", "-w", tmp_path / "ws2", "import", "--interactions", log, "--user-col", "who",
                   "--item-col", "what", "--time-col", "when")
    assert imported.exit_code == 0, imported.output
    from engine.workspace import Workspace

    with Workspace(tmp_path / "ws2") as ws:
        assert ws.store.rec_counts().events == 150


def test_help_has_examples():
    for args in (["recommend"], ["recommend", "import"], ["recommend", "eval"]):
        text = run(*args, "--help").stdout
        assert "Examples:" in text and "quarry recommend" in text


def test_accept_dismiss_undo(store_ws):
    def top() -> list[str]:
        result = run("recommend", "--user", "u0042", "--method", "sequence", "--k", "5", "--json", "-w", store_ws)
        assert result.exit_code == 0, result.output
        return [i["item_id"] for i in json.loads(result.stdout)["items"]]

    first = top()
    dismissed = run("recommend", "dismiss", "u0042", first[0], "-w", store_ws)
    assert dismissed.exit_code == 0 and f"u0042 dismissed {first[0]}" in dismissed.output
    assert first[0] not in top()
    accepted = run("recommend", "accept", "u0042", first[1], "-w", store_ws)
    assert accepted.exit_code == 0, accepted.output
    assert first[1] not in top()
    listed = json.loads(run("feedback", "list", "--json", "-w", store_ws).stdout)
    assert [(f["kind"], f["target"]) for f in listed] == [("dismiss", first[0]), ("accept", first[1])]
    undone = run("recommend", "undo", "u0042", "-w", store_ws)
    assert undone.exit_code == 0 and f"undid u0042's accept of {first[1]}" in undone.output
    removed = run("feedback", "remove", listed[0]["id"], "-w", store_ws)  # the dismissal, by its id
    assert removed.exit_code == 0, removed.output
    assert top() == first


def test_dismiss_bad_inputs(store_ws):
    gone = run("recommend", "dismiss", "u0042", "NOPE-1", "-w", store_ws)
    assert gone.exit_code == 1 and len(gone.output.strip().splitlines()) == 1
    assert "item 'NOPE-1' is not in the catalog (it left it, or never was in it); nothing stored" in gone.output
    nothing = run("recommend", "undo", "u0042", "-w", store_ws)
    assert nothing.exit_code == 1 and "user 'u0042' has not accepted or dismissed any item" in nothing.output
    assert run("feedback", "list", "-w", store_ws).stdout.strip() == "no feedback yet"
