"""A look-alike library in the CLI: an unscoped `quarry ask` answers per document (each named, quoted and
cited, in --json too), and `--path` scoped to one of them gives one answer."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

POLICY = ("{vendor} Home returns policy.\n\nUnopened items in their original packaging may be returned within "
          "{days} days of delivery for a full refund. Proof of purchase is required for every return.\n")
QUESTION = "How many days do I have to return unopened items?"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("lookalike-cli")
    docs, root = base / "docs", str(base / "ws")
    docs.mkdir()
    for vendor, days in (("Acme", 30), ("Birch", 15), ("Cedar", 45)):
        (docs / f"returns-{vendor.lower()}.txt").write_text(POLICY.format(vendor=vendor, days=days), encoding="utf-8")
    assert run_cli("ingest", "-w", root, docs).exit_code == 0
    return root


def test_unscoped_ask_answers_per_document(root):
    result = run_cli("ask", "--extractive", "-w", root, QUESTION)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Your documents answer this differently (3 documents):")
    for vendor, days in (("acme", 30), ("birch", 15), ("cedar", 45)):
        line = next(line for line in out.splitlines() if line.startswith(f"returns-{vendor}.txt: “"))
        assert f"{days} days" in line
        number = line.rsplit("[", 1)[1].rstrip("]")  # its citation, listed below with its file
        listed = out.split(f"  [{number}] ")[1].split("\n")[0]
        assert listed.endswith(f"returns-{vendor}.txt")
    assert "one answer per document: they differ" in result.stderr


def test_unscoped_ask_json_holds_the_per_document_structure(root):
    data = json.loads(run_cli("ask", "--json", "--generated", "-w", root, QUESTION).stdout)
    split = data["per_document"]
    assert split["differ"] and split["replaced_model"]  # written mode: quoted instead of the model's words
    documents = [d for g in split["groups"] for d in g["documents"]]
    assert sorted(d["name"] for d in documents) == ["returns-acme.txt", "returns-birch.txt", "returns-cedar.txt"]
    cited = {c["n"]: c["file"] for c in data["citations"]}
    assert all(cited[d["citation"]] == d["path"] and d["text"] in data["answer"] for d in documents)
    assert data["model"] == "per-document" and data["completion_tokens"] == 0


def test_path_scoped_ask_gives_one_answer(root):
    data = json.loads(run_cli("ask", "--json", "--extractive", "-w", root, "--path", "*birch*", QUESTION).stdout)
    assert data["per_document"] is None and "differently" not in data["answer"]
    assert "15 days" in data["answer"] and {c["file"].rsplit("/", 1)[-1] for c in data["citations"]} == {
        "returns-birch.txt"}
