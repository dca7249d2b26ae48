"""Search faults: bounds are checked where options are parsed, user text is never query syntax, and a
search never changes what is stored."""

from __future__ import annotations

import json

import pytest

from tests.reliability.util import error_line, quarry, stored


@pytest.mark.parametrize("k", ["-1", "0", "1e20", "3000000000", "1001", "many"])
def test_a_bad_k_is_one_line(demo_workspace_dir, k):
    ran = quarry("search", "warranty", "--k", k, "-w", demo_workspace_dir)
    error_line(ran, "--k", code=2)


def test_k_at_its_bound_works(demo_workspace_dir):
    ran = quarry("search", "warranty", "--k", "1000", "--json", "-w", demo_workspace_dir)
    assert ran.code == 0 and 0 < len(json.loads(ran.stdout)["hits"]) <= 1000


def test_the_engine_refuses_a_huge_k_too(demo_workspace):
    from engine.errors import SearchError

    with pytest.raises(SearchError, match="between 1 and 1000"):
        demo_workspace.searcher().search("warranty", 3_000_000_000)


def test_uppercase_operators_are_plain_words(demo_workspace):
    searcher = demo_workspace.searcher()
    plain = searcher.search("what is covered by the warranty", 20, "keyword").hits
    shouting = searcher.search("What is NOT covered by the warranty", 20, "keyword").hits
    assert shouting and any("covered" in h.text.lower() for h in shouting)
    assert {h.chunk_id for h in plain[:5]} & {h.chunk_id for h in shouting[:10]}
    for text in ("warranty AND", "OR", "NOT NOT warranty", "AND OR NOT", "title:warranty", "warranty^3",
                 '"unclosed quote', "(warranty", "warranty~2", "[/x] {y} *"):
        searcher.search(text, 5, "keyword")  # no syntax error escapes


@pytest.mark.parametrize("query", ["", "   ", "!!!", "[/x]"])
def test_an_empty_or_punctuation_query_is_handled(demo_workspace_dir, query):
    ran = quarry("search", query, "-w", demo_workspace_dir)
    if ran.code == 0:
        assert ran.exception is None
    else:
        error_line(ran, "query", code=1)


def test_a_bad_date_and_mode_are_one_line(demo_workspace_dir):
    error_line(quarry("search", "x", "--since", "yesterday", "-w", demo_workspace_dir), "--since", code=2)
    error_line(quarry("search", "x", "--mode", "fuzzy", "-w", demo_workspace_dir), "--mode", code=2)


def test_a_100kb_query_answers_and_stores_nothing(demo_workspace_dir, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, ws)
    before = stored(ws)
    ran = quarry("search", "warranty claims " * 6000, "--json", "-w", ws)
    assert ran.code == 0 and json.loads(ran.stdout)["hits"]
    assert stored(ws) == before


def test_search_in_an_empty_workspace(tmp_path, encoder):
    ran = quarry("search", "anything", "-w", tmp_path / "ws")
    assert ran.code == 0 and "no results" in ran.stdout
