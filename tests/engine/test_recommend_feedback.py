"""Accepted and dismissed suggestions on the tiny hand-made log: a dismissed item never comes back for its
user until undone, an accept is an interaction of its own type that the next fit sees, and evaluation never
tests on an accept."""

from __future__ import annotations

import numpy as np
import pytest

from engine import recommend as rec
from engine.errors import FeedbackError, RecommendError
from engine.recommend import feedback
from tests.engine.test_recommend import make_tiny


@pytest.fixture
def tiny_ws(tmp_path, encoder):
    ws = make_tiny(tmp_path)
    yield ws
    ws.close()


def _ids(ws, user: str) -> list[str]:
    return [r.item_id for r in rec.recommender(ws).for_user(user, "sequence", k=5).items]


def test_dismiss_accept_undo(tiny_ws):
    ws = tiny_ws
    first = _ids(ws, "u00")
    version = ws.store.rec_version()
    feedback.dismiss(ws, "u00", first[0])
    assert first[0] not in _ids(ws, "u00")
    assert first[0] in _ids(ws, "u01")  # another user's suggestions are left alone
    feedback.accept(ws, "u00", first[1])
    events = ws.store.db.execute("SELECT event, weight FROM rec_interactions WHERE user_id = 'u00' AND item_id = ?",
                                 [first[1]]).fetchall()
    assert ("accept", 2.0) in events
    assert first[1] not in _ids(ws, "u00")
    assert ws.store.rec_version() == version  # the evaluation's tuned hybrid weights still apply
    assert rec.recommender(ws).dataset.data.n_items and ws.store.rec_data_version()[1] == 1
    undone = feedback.undo(ws, "u00")
    assert undone.kind == "accept" and ws.store.db.execute(
        "SELECT count(*) FROM rec_interactions WHERE event = 'accept'").fetchone()[0] == 0
    feedback.undo(ws, "u00", first[0])
    assert _ids(ws, "u00") == first
    with pytest.raises(FeedbackError, match="user 'u00' has not accepted or dismissed any item; nothing to undo"):
        feedback.undo(ws, "u00")


def test_items_outside_the_catalog_are_refused(tiny_ws):
    ws = tiny_ws
    ws.store.rec_add_interaction("u00", "GONE-1", "view")  # seen in interactions, not in the catalog
    for item in ("GONE-1", "ZZZ"):
        with pytest.raises(RecommendError, match=f"item '{item}' is not in the catalog .*; nothing stored"):
            feedback.dismiss(ws, "u00", item)
        with pytest.raises(RecommendError, match=f"item '{item}' is not in the catalog"):
            feedback.accept(ws, "u00", item)
    assert ws.store.feedback() == []


def test_evaluation_never_tests_on_an_accept(tiny_ws):
    ws = tiny_ws
    feedback.accept(ws, "u00", "C")  # u00 bought P, A, B; then accepts C, then views T
    ws.store.rec_add_interaction("u00", "T", "view")
    dataset = rec.load_dataset(ws)
    u = dataset.user_index["u00"]
    index = dataset.catalog.index
    for holdout, target, trained in ((1, "T", {"P", "A", "B", "C"}), (2, "B", {"P", "A"})):
        train, users, items = dataset.split(holdout)
        assert items[users == u].tolist() == [index[target]]
        assert {str(dataset.catalog.ids[i]) for i in train.item[train.user == u]} == trained
    # a user whose last interaction is an accept is tested on the step before it
    feedback.accept(ws, "u01", "C")
    dataset = rec.load_dataset(ws)
    _, users, items = dataset.split(1)
    assert items[users == dataset.user_index["u01"]].tolist() == [index["B"]]
    assert int(np.sum(dataset.feedback)) == 2


def test_an_item_answered_twice_is_stored_once(tiny_ws):
    """Accepted twice (a key pressed twice before the list refreshed, or the command run again) stored two
    accepts and two interactions, so the next fit counted it twice; dismissed after an accept, the accept's
    interaction stayed in the log."""
    ws = tiny_ws
    item = _ids(ws, "u00")[0]

    def accepts() -> int:
        return ws.store.db.execute("SELECT count(*) FROM rec_interactions WHERE user_id = 'u00' AND item_id = ?"
                                   " AND event = 'accept'", [item]).fetchone()[0]

    feedback.accept(ws, "u00", item)
    feedback.accept(ws, "u00", item)
    assert accepts() == 1 and len(ws.store.feedback("accept", "u00")) == 1
    feedback.dismiss(ws, "u00", item)
    assert accepts() == 0 and ws.store.feedback("accept", "u00") == []
    assert [f.target for f in ws.store.feedback("dismiss", "u00")] == [item]
    feedback.undo(ws, "u00")
    assert ws.store.feedback() == [] and item in _ids(ws, "u00")


def test_an_accept_outlives_a_reimport_of_the_log(tiny_ws, tmp_path):
    """Importing the log again (replacing it) deleted the accepted suggestions' interactions too, while
    `quarry feedback list` still listed them as accepted, counted in the next fit."""
    ws = tiny_ws
    item = _ids(ws, "u00")[0]
    feedback.accept(ws, "u00", item)
    rec.import_data(ws, str(tmp_path / "log.csv"))  # the same log, replacing what is there

    def accepts() -> int:
        return ws.store.db.execute("SELECT count(*) FROM rec_interactions WHERE event = 'accept'").fetchone()[0]

    assert accepts() == 1 and len(ws.store.feedback("accept")) == 1
    assert item not in _ids(ws, "u00")
    feedback.undo(ws, "u00")
    assert accepts() == 0


def test_an_item_that_left_the_catalog_is_no_longer_suggested(tiny_ws, tmp_path):
    """An item dropped from the catalog by a re-import kept being suggested (titled by its bare id) by every
    method but content, and could then be neither accepted nor dismissed ("not in the catalog")."""
    from tests.engine.test_recommend import CATALOG, write_csv

    ws = tiny_ws
    engine = rec.recommender(ws)
    gone = engine.for_user("u00", "sequence", k=1).items[0].item_id
    popular = engine.for_user("nobody", k=1).items[0].item_id
    kept = [row for row in CATALOG if row[0] not in (gone, popular)]
    rec.import_data(ws, items=write_csv(tmp_path / "items2.csv", ["item_id", "title", "text", "category", "price"],
                                        kept))
    engine = rec.recommender(ws)
    for method in ("hybrid", "sequence", "cooccur", "als", "popular"):
        suggested = [r.item_id for r in engine.for_user("u00", method, k=20).items]
        assert gone not in suggested and popular not in suggested, method
        assert suggested, method
    assert popular not in [r.item_id for r in engine.for_user("nobody", k=20).items]
    assert gone not in [r.item_id for r in engine.similar(kept[0][0], k=20).items]
