"""Feedback across panes (the table is engine/store/feedback.py): listing and exporting read it as it is;
removing one piece also undoes what it did (an accept's interaction goes with it; a label given in review
takes its example with it and gives a batch row its model's label back)."""

from __future__ import annotations

from engine.errors import FeedbackError
from engine.store.feedback import KINDS, Feedback

__all__ = ["KINDS", "remove"]


def remove(ws, feedback_id: int) -> Feedback:
    """Removes one piece of feedback and what it did; gives what was removed."""
    item = ws.store.feedback_item(feedback_id)
    if item is None:
        raise FeedbackError(f"feedback {feedback_id}: no such feedback; `quarry feedback list` shows the ids")
    if item.kind in ("accept", "dismiss"):
        from engine.recommend.feedback import forget

        return forget(ws, item)
    if item.kind == "label":
        ws.store.undo_review_answer(feedback_id)
        return item
    return ws.store.remove_feedback(feedback_id)
