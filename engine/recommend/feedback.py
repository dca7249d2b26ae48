"""A suggestion accepted or dismissed by a user. An accept is stored twice in one transaction: as feedback
(listed, exported, removable) and as an interaction of its own event type, so the next fit learns from it; a
dismissal is feedback only, and the items a user accepted or dismissed are left out of that user's
recommendations until the feedback is undone or removed."""

from __future__ import annotations

from engine.errors import FeedbackError, RecommendError
from engine.store.feedback import Feedback
from engine.store.recommendations import ACCEPT_EVENT

__all__ = ["accept", "answered", "dismiss", "forget", "undo"]

KINDS = ("accept", "dismiss")


def _title(ws, item_id: str) -> str:
    title = ws.store.rec_in_catalog(item_id)
    if title is None:
        raise RecommendError(f"item '{item_id}' is not in the catalog (it left it, or never was in it); nothing "
                             "stored; `quarry recommend --query TEXT` searches the catalog")
    return title


def _user(user_id: str) -> str:
    user_id = (user_id or "").strip()
    if not user_id:
        raise RecommendError("no user given; give the user id the suggestion was for, e.g. u0042")
    return user_id


def accept(ws, user_id: str, item_id: str) -> int:
    """Stores that the user accepted a suggested item (feedback and an `accept` interaction); gives the
    feedback id. An accept or a dismissal of the same item before it is replaced (accepted twice, by a key
    pressed twice before the list refreshed, it counted twice in the next fit)."""
    user_id = _user(user_id)
    title = _title(ws, item_id)
    with ws.store.writing():
        ws.store.remove_feedback_of("dismiss", user_id, item_id)
        _forget_accepts(ws, user_id, item_id)
        ts = ws.store.rec_add_interaction(user_id, item_id, ACCEPT_EVENT)
        return ws.store.add_feedback("accept", user_id, item_id, "accepted",
                                     {"title": title, "event": ACCEPT_EVENT, "ts": str(ts)})


def dismiss(ws, user_id: str, item_id: str) -> int:
    """Stores that the user dismissed a suggested item, which is then never recommended to them again
    (until undone); gives the feedback id. An accept of the same item before is replaced, with the
    interaction it added (the user changed their mind: the next fit no longer learns from it)."""
    user_id = _user(user_id)
    title = _title(ws, item_id)
    with ws.store.writing():
        ws.store.remove_feedback_of("dismiss", user_id, item_id)  # once is enough
        _forget_accepts(ws, user_id, item_id)
        return ws.store.add_feedback("dismiss", user_id, item_id, "dismissed", {"title": title})


def _forget_accepts(ws, user_id: str, item_id: str) -> None:
    for earlier in ws.store.feedback("accept", user_id):
        if earlier.target == item_id:
            forget(ws, earlier)


def answered(ws, user_id: str) -> set[str]:
    """Gives the items a user accepted or dismissed (left out of their recommendations)."""
    return ws.store.feedback_targets(KINDS, user_id)


def forget(ws, item: Feedback) -> Feedback:
    """Removes one accept or dismissal, and for an accept the interaction it added; gives what was removed."""
    with ws.store.writing():
        if item.kind == "accept" and item.detail and item.detail.get("ts"):
            ws.store.rec_remove_interaction(item.subject, item.target, item.detail.get("event", ACCEPT_EVENT),
                                            item.detail["ts"])
        return ws.store.remove_feedback(item.id)


def undo(ws, user_id: str, item_id: str | None = None) -> Feedback:
    """Undoes the user's latest accept or dismissal (of `item_id` when given); gives what was undone."""
    user_id = _user(user_id)
    latest = None
    for kind in KINDS:
        for item in ws.store.feedback(kind, user_id):
            if (item_id is None or item.target == item_id) and (latest is None or item.id > latest.id):
                latest = item
    if latest is None:
        what = f"'{item_id}'" if item_id else "any item"
        raise FeedbackError(f"user '{user_id}' has not accepted or dismissed {what}; nothing to undo"
                            " (`quarry feedback list --kind dismiss` shows what is stored)")
    return forget(ws, latest)
