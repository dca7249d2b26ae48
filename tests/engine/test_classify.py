"""Classify engine: label sets, every method, auto, saved heads, evaluation, batches and bad input."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.classify import ClassifyError, batch, evaluate, heads, sets
from engine.classify.base import Examples
from engine.workspace import Workspace
from tests.conftest import quarry_env, require_models

TABLES = Path(__file__).resolve().parents[2] / "demo" / "docs" / "tables"
CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace with the demo reviews, tickets and credit applications as label sets."""
    require_models("minilm-l6")
    root = tmp_path_factory.mktemp("classify-ws")
    workspace = Workspace(root)
    sets.import_examples(workspace, "reviews", "sentiment", file=TABLES / "reviews.csv", text_column="text")
    sets.import_examples(workspace, "tickets", "intent", file=TABLES / "support-tickets.csv", text_column="text")
    sets.import_examples(workspace, "credit", "outcome", file=CREDIT, features=["*"])
    yield workspace
    workspace.close()


def test_demo_tables_are_big_and_varied_enough():
    rows = list(csv.DictReader((TABLES / "reviews.csv").open(encoding="utf-8")))
    assert len(rows) >= 600 and {r["sentiment"] for r in rows} == {"好评", "中评", "差评"}
    assert {r["lang"] for r in rows} == {"en", "zh"}
    tickets = list(csv.DictReader((TABLES / "support-tickets.csv").open(encoding="utf-8")))
    assert len(tickets) >= 400 and len({t["intent"] for t in tickets}) >= 8
    assert len({t["text"] for t in tickets}) > 0.9 * len(tickets)
    credit = list(csv.DictReader((CREDIT).open(encoding="utf-8")))
    assert len(credit) >= 2000 and 0.05 < sum(r["outcome"] == "default" for r in credit) / len(credit) < 0.5


def test_import_makes_label_sets_with_counts(ws):
    reviews = sets.get(ws, "reviews")
    assert reviews.labels[:3] == ["好评", "中评", "差评"] or set(reviews.labels) == {"好评", "中评", "差评"}
    assert reviews.examples >= 600 and all(n > 50 for n in reviews.counts.values())
    credit = sets.get(ws, "credit")
    assert credit.kind == "tabular" and "debt_ratio" in credit.features and "outcome" not in credit.features


@pytest.mark.parametrize("method", ["zero-shot", "embedding", "lexical", "stack"])
def test_each_text_method_gives_valid_predictions(ws, method):
    texts = ["Arrived broken and support never answered.", "物流很快，质量很好，五星好评。"]
    predictions, head = heads.classify(ws, "reviews", texts, method)
    labels = set(sets.get(ws, "reviews").labels)
    assert len(predictions) == 2 and head.used == method
    for p in predictions:
        assert p.label in labels and p.runner_up in labels and p.runner_up != p.label
        assert 0 < p.confidence <= 1 and p.method == method


def test_lexical_head_reads_chinese_reviews(ws):
    data = sets.examples(ws, sets.get(ws, "reviews"))
    zh = [i for i, t in enumerate(data.texts) if any("\u4e00" <= ch <= "\u9fff" for ch in t)]
    train, test = evaluate.split(data.subset(zh))
    report = evaluate.evaluate(ws, train, test, ["lexical"], "zh reviews", curve=(), store=False)
    assert report.methods[0].accuracy > 0.6


def test_auto_picks_by_cross_validation_and_says_so(ws):
    head = heads.trained(ws, "tickets", "auto")
    choice = head.choice
    assert choice.method in ("zero-shot", "embedding", "lexical", "stack")
    assert choice.score is not None and 0 <= choice.spread < 0.2 and choice.folds == 5
    assert set(choice.scores) == {"zero-shot", "embedding", "lexical", "stack"}
    assert choice.score == max(v[0] for v in choice.scores.values())
    assert "auto chose" in choice.line() and "±" in choice.line()


def test_auto_without_examples_is_zero_shot_and_says_so(ws):
    sets.create(ws, "mood", [("happy", "glad, pleased, delighted"), ("angry", "furious, annoyed, mad")])
    predictions, head = heads.classify(ws, "mood", ["I am furious about this"], "auto")
    assert head.choice.method == "zero-shot" and "no examples" in head.choice.note
    assert predictions[0].label == "angry" and predictions[0].method == "auto:zero-shot"


def test_heads_are_saved_and_retrained_only_when_examples_change(ws):
    sets.create(ws, "small", [("pos", ""), ("neg", "")])
    for text, label in [("great stuff", "pos"), ("love it", "pos"), ("awful thing", "neg"), ("hate it", "neg")]:
        sets.add_example(ws, "small", text, label)
    first = heads.trained(ws, "small", "lexical")
    assert not first.reused and Path(ws.store.head(sets.get(ws, "small").id, "lexical")[1]).exists()
    heads._cache.clear()  # a new process: the head comes from the workspace
    again = heads.trained(ws, "small", "lexical")
    assert again.reused
    sets.add_example(ws, "small", "not good at all", "neg")
    changed = heads.trained(ws, "small", "lexical")
    assert not changed.reused


def test_tabular_gives_the_columns_that_mattered(ws):
    rows = [{"age": 23, "income": 15000, "debt_ratio": 0.8, "employment_years": 0.2, "past_defaults": 3,
             "region": "central", "loan_amount": 30000},
            {"age": 45, "income": 90000, "debt_ratio": 0.1, "employment_years": 12, "past_defaults": 0,
             "region": "north", "loan_amount": 5000}]
    predictions, head = heads.classify(ws, "credit", rows, "tabular")
    assert [p.label for p in predictions] == ["default", "repaid"]
    assert predictions[0].reason and "=" in predictions[0].reason
    assert any(name in predictions[0].reason for name in ("past_defaults", "debt_ratio", "income", "loan_amount"))
    assert head.method.importance[0][1] >= head.method.importance[-1][1]


def test_evaluate_reports_metrics_curve_and_stores_a_run(ws):
    data = sets.examples(ws, sets.get(ws, "tickets"))
    train, test = evaluate.split(data)
    report = evaluate.evaluate(ws, train, test, ["lexical", "auto"], "tickets", label_set="tickets")
    labels = report.labels
    for m in report.methods:
        assert 0.3 < m.accuracy < 1.0 and 0 < m.macro_f1 <= 1 and m.texts_per_s > 0
        assert len(m.confusion) == len(labels) and sum(map(sum, m.confusion)) == report.n_test
        assert set(m.per_label) == set(labels)
        assert [p["per_label"] for p in m.curve] == [10, "all"]
    auto = report.methods[1]
    assert auto.chosen and len(auto.cv) == 2
    runs = ws.store.classify_runs()
    assert runs[0].id == report.run_id and runs[0].kind == "eval"


def test_tabular_evaluation_beats_always_repaid(ws):
    data = sets.examples(ws, sets.get(ws, "credit"))
    train, test = evaluate.split(data)
    report = evaluate.evaluate(ws, train, test, ["tabular"], "credit", curve=(), store=False)
    always_repaid = evaluate.score("majority", test.y, ["repaid"] * len(test), test.labels, 1, 0)
    assert report.methods[0].macro_f1 > always_repaid.macro_f1 + 0.15


# -- bad input -------------------------------------------------------------------------------------
def test_one_label_is_an_error(ws, tmp_path):
    with pytest.raises(ClassifyError, match="at least two labels to classify into \\(only 'only' given; a label"
                                           " given twice counts once\\)"):
        sets.create(ws, "lonely", [("only", ""), ("only", "")])
    assert ws.store.label_set("lonely") is None
    one = tmp_path / "one.csv"  # an import may start with one label (its labels grow with the data)
    one.write_text("text,label\nsome text,only\nmore text,only\n", encoding="utf-8")
    sets.import_examples(ws, "lonely", "label", file=one, text_column="text")
    with pytest.raises(ClassifyError, match="at least two"):
        heads.classify(ws, "lonely", ["hello"], "lexical")


def test_a_label_without_examples_is_an_error_for_heads(ws):
    sets.create(ws, "partial", [("a", ""), ("b", "")])
    sets.add_example(ws, "partial", "text of a", "a")
    with pytest.raises(ClassifyError, match="needs examples for every label; none for b"):
        heads.classify(ws, "partial", ["hello"], "embedding")


@pytest.mark.parametrize("text,match", [("   ", "empty"), ("x" * 1_000_000, "1,000,000 characters")])
def test_empty_and_huge_texts_are_errors(ws, text, match):
    with pytest.raises(ClassifyError, match=match):
        heads.classify(ws, "reviews", [text], "lexical")


def test_unknown_table_and_column_are_errors(ws):
    with pytest.raises(ClassifyError, match="no table 'nope'"):
        batch.params(ws, "reviews", "text", table="nope")
    with pytest.raises(ClassifyError, match="has no column 'body'"):
        batch.params(ws, "reviews", "body", file=TABLES / "reviews.csv")


def test_test_file_with_unknown_labels_is_an_error(ws):
    with pytest.raises(ClassifyError, match="labels the training data does not know: 惊喜"):
        sets.from_rows(["好"], ["惊喜"], "test.csv", ["好评", "差评"])
    train = Examples(["a", "b"], ["a", "b"], texts=["x", "y"])
    test = Examples(["a", "c"], ["c"], texts=["z"])
    with pytest.raises(ClassifyError, match="does not know: c"):
        evaluate.evaluate(ws, train, test, ["lexical"], "t", store=False)


def test_label_column_with_blanks_is_an_error_and_stores_nothing(ws, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("text,label\ngood,pos\nbad,\nfine,pos\n", encoding="utf-8")
    with pytest.raises(ClassifyError, match="blank in 1 rows \\(first: row 2\\)"):
        sets.import_examples(ws, "blanks", "label", file=path, text_column="text")
    assert ws.store.label_set("blanks") is None


def test_a_file_that_is_not_a_table_is_an_error(ws, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(b"\x00\x01\x02 binary \xff\xfe garbage")
    with pytest.raises(ClassifyError, match="notes.csv"):
        sets.import_examples(ws, "junk", "label", file=path, text_column="text")
    with pytest.raises(ClassifyError, match="not a table file"):
        sets.import_examples(ws, "junk", "label", file=TABLES.parent / "faq.md", text_column="text")


def test_batch_over_nulls_and_numbers_is_an_error(ws, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("id,value\n1,\n2,42\n3,3.5\n4,\n", encoding="utf-8")
    run = batch.run(ws, "reviews", "value", file=path, method="lexical")
    with pytest.raises(ClassifyError, match="holds no text"):
        run.wait()
    assert run.status == "failed"


def test_batch_writes_table_and_export_and_skips_empty_rows(ws, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("id,text\n1,Great desk\n2,\n3,退货太麻烦了\n4,7\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    summary = batch.wait(batch.run(ws, "reviews", "text", file=path, method="lexical", output="c_mixed",
                                   export=out))
    assert summary["rows"] == 4 and summary["skipped"] == 2 and out.exists()
    rows = ws.store.db.execute("SELECT row_id, label FROM c_mixed ORDER BY row_id").fetchall()
    assert [r[1] is None for r in rows] == [False, True, False, True]


def test_killed_batch_resumes_without_redoing_rows(tmp_path):
    texts = [r["text"] for r in csv.DictReader((TABLES / "reviews.csv").open(encoding="utf-8"))]
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(10_000):
            w.writerow([i, texts[i % len(texts)]])
    root = tmp_path / "ws"
    with Workspace(root) as fresh:
        sets.import_examples(fresh, "reviews", "sentiment", file=TABLES / "reviews.csv", text_column="text")
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from engine.classify import batch
        from engine.workspace import Workspace
        ws = Workspace({str(root)!r})
        for p in batch.run(ws, "reviews", "text", file=Path({str(path)!r}), method="lexical", output="c_big"):
            print(p.done, flush=True)
            time.sleep(0.15)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=quarry_env())
    reported = 0
    for line in proc.stdout:
        reported = int(line)
        if reported >= 2048:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with Workspace(root) as again:
        first = again.store.batch_done("c_big")[0]
        assert reported <= first < 10_000
        summary = batch.wait(batch.run(again, "reviews", "text", file=path, method="lexical", output="c_big"))
        assert summary["rows"] == 10_000
        assert again.store.batch_done("c_big")[0] == 10_000 and again.store.batch_duplicates("c_big") == 0
        attempts = again.store.batch_attempt_counts("c_big")
        assert attempts == {1: first, 2: 10_000 - first}


# -- reviewed defects ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["documents", "jobs", "Documents", "label_sets"])
def test_output_never_replaces_a_table_classify_did_not_make(ws, name):
    """`--output documents` once dropped the library: a batch replaces only its own earlier output."""
    before = ws.store.db.execute("SELECT count(*) FROM documents").fetchone()[0]
    with pytest.raises(ClassifyError, match=f"output table '{name}' already exists and was not made by classify"):
        batch.run(ws, "reviews", "text", file=TABLES / "reviews.csv", method="lexical", output=name)
    assert ws.store.table_exists(name.lower())
    assert ws.store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == before


def test_output_may_replace_its_own_earlier_output_but_not_a_lookalike(ws, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("id,text\n1,Great desk\n2,Broke in a week\n", encoding="utf-8")
    for _ in range(2):  # the second run replaces the first's table
        summary = batch.wait(batch.run(ws, "reviews", "text", file=path, method="lexical", output="c_few"))
        assert summary["rows"] == 2
    with ws.store.writing():  # a table of the user's that happens to start with c_
        ws.store.db.execute("CREATE TABLE c_mine (row_id BIGINT, note VARCHAR)")
    with pytest.raises(ClassifyError, match="'c_mine' already exists and was not made by classify"):
        batch.run(ws, "reviews", "text", file=path, method="lexical", output="c_mine")
    assert ws.store.table_exists("c_mine")


def test_default_output_names_are_ascii(ws):
    """A Chinese label set or table name once gave c_reviews_情感, which the output check then refused."""
    sets.create(ws, "情感", [("正面", ""), ("负面", "")])
    request = batch.params(ws, "情感", "text", file=TABLES / "reviews.csv")
    assert request["output"].isascii() and request["output"].startswith("c_reviews_")
    assert batch.output_name("情感", "t_评论") != batch.output_name("态度", "t_评论")
    assert batch.output_name("reviews", str(TABLES / "reviews.csv")) == "c_reviews_reviews"


def test_a_batch_without_a_text_column_is_one_line(ws):
    with pytest.raises(ClassifyError, match="give the column with the text to classify"):
        batch.params(ws, "reviews", "", table="t_reviews")


def test_an_export_folder_that_is_missing_is_refused_before_any_work(ws, tmp_path):
    jobs_before = len(ws.store.jobs())
    with pytest.raises(ClassifyError, match="no folder"):
        batch.run(ws, "reviews", "text", file=TABLES / "reviews.csv", method="lexical",
                  export=tmp_path / "gone" / "out.csv")
    assert len(ws.store.jobs()) == jobs_before


def test_an_export_that_fails_at_the_end_is_one_line_naming_the_file(ws, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("id,text\n1,Great desk\n2,Broke in a week\n", encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    run = batch.run(ws, "reviews", "text", file=path, method="lexical", output="c_export_gone",
                    export=folder / "out.csv")
    folder.rmdir()  # the folder goes away while the batch runs
    with pytest.raises(ClassifyError, match="out.csv: could not write the export"):
        run.wait()
    assert run.status == "failed"
    assert ws.store.batch_done("c_export_gone")[0] == 2  # the labels are kept in the table


def test_compare_gives_a_missing_model_its_own_row(ws):
    """An unknown chat model raised out of compare and left the pane's table loading forever."""
    rows = heads.compare(ws, "reviews", "Great desk", llm_model="no-such-model", methods=["lexical", "llm"])
    assert [r.method for r in rows] == ["lexical", "llm"]
    assert rows[0].prediction is not None
    assert rows[1].prediction is None and "no-such-model" in rows[1].error


def test_the_llm_method_refuses_a_remote_model(ws, user_models):
    """A remote (server) model has no llama.cpp logits or KV cache; it once failed with a raw ValueError."""
    from engine.models import catalog

    catalog.add_remote("http://127.0.0.1:9/v1", "whatever", "far-away")  # never contacted
    with pytest.raises(ClassifyError, match="needs a local GGUF model; 'far-away' is remote"):
        heads.classify(ws, "tickets", ["where is my parcel"], "llm", "far-away")
    rows = heads.compare(ws, "tickets", "where is my parcel", llm_model="far-away", methods=["llm"])
    assert "is remote" in rows[0].error


def test_the_embedder_memo_is_safe_across_threads(ws):
    """One thread clearing the memo while another read it gave a KeyError."""
    import threading

    from engine.classify.vectors import Embedder

    embed = Embedder(ws.encoder(), memo_limit=4)  # a tiny memo: it is cleared on almost every call
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(12):
                texts = [f"text {offset} {i} {j}" for j in range(3)] + ["shared text"]
                assert embed(texts).shape[0] == 4
        except BaseException as exc:  # noqa: BLE001  (reported by the assert below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_examples_stored_in_bulk_keep_order_text_and_features(ws):
    found = sets.create(ws, "bulk", [("a", ""), ("b", "")])
    rows = [(f"text {i}", None, "ab"[i % 2]) for i in range(1500)]
    assert ws.store.add_examples(found.id, rows, "test") == 1500
    stored = ws.store.examples(found.id)
    assert stored == rows
    ws.store.add_labels(found.id, [("c", "third"), ("a", "")])
    assert sets.get(ws, "bulk").labels == ["a", "b", "c"] and sets.get(ws, "bulk").descriptions["c"] == "third"
