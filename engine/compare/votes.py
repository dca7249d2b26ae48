"""Blind votes, reveals, the leaderboard, the next pair to show, and reruns of stored comparisons."""

from __future__ import annotations

from engine.compare.ratings import OUTCOMES, Leaderboard, Vote, leaderboard
from engine.compare.run import CompareError, CompareSettings, Comparison, check_models

OUTCOME_NAMES = {"a": "A is better", "b": "B is better", "tie": "tie", "both_bad": "both are bad"}
ALIASES = {"a": "a", "b": "b", "tie": "tie", "t": "tie", "both_bad": "both_bad", "bad": "both_bad",
           "x": "both_bad", "both-bad": "both_bad"}


def _blind_run(ws, run_id: int):
    run = ws.store.compare_run(run_id)
    if run is None:
        raise CompareError(f"no comparison run {run_id}; `quarry compare runs` lists them")
    return run


def vote(ws, run_id: int, outcome: str) -> Vote:
    """Records a blind vote on a finished two-model run and gives it; one line of error otherwise."""
    key = ALIASES.get(outcome.strip().lower())
    if key not in OUTCOMES:
        raise CompareError(f"unknown vote '{outcome}'; vote a, b, tie or both_bad")
    # The checks and the insert are one transaction: a reveal or a second vote from another thread
    # between them would let a vote count with the names already shown.
    with ws.store.writing():
        run = _blind_run(ws, run_id)
        if not run.blind:
            raise CompareError(f"run {run_id} was not blind; votes count only for blind runs (--blind)")
        if run.revealed:
            raise CompareError(f"run {run_id}'s names are already revealed; votes count only while blind")
        if run.status != "done" or len(run.answers) < 2:
            raise CompareError(f"run {run_id} is still answering; vote when both answers have finished")
        failed = [a.label for a in run.answers if a.status != "done"]
        if failed:
            raise CompareError(f"answer {failed[0]} of run {run_id} did not finish; there is nothing to vote on")
        if ws.store.compare_vote(run_id) is not None:
            raise CompareError(f"run {run_id} already has a vote")
        by_label = {a.label: a.model for a in run.answers}
        ws.store.add_compare_vote(run_id, by_label["A"], by_label["B"], key)
    return Vote(by_label["A"], by_label["B"], key)


def reveal(ws, run_id: int, skip_vote: bool = False) -> dict[str, str]:
    """Reveals which model was A and which B; gives {label: model}. A blind run without a vote is
    revealed only with `skip_vote` (the CLI's --skip-vote, the app's reveal key): a reveal gives up the
    vote, since a vote after it is no longer blind and is refused."""
    run = _blind_run(ws, run_id)
    if not run.blind:
        return {a.label or str(a.position): a.model for a in run.answers}
    if run.status != "done":
        raise CompareError(f"run {run_id} is still answering; reveal when both answers have finished")
    if not run.revealed and not skip_vote and ws.store.compare_vote(run_id) is None:
        raise CompareError(f"run {run_id} has no vote yet: vote first (`quarry compare vote {run_id} "
                           "a|b|tie|both_bad`), or `--skip-vote` to reveal without voting (the run then takes"
                           " no vote)")
    ws.store.reveal_compare_run(run_id)
    return {a.label: a.model for a in run.answers}


def board(ws, candidates: list[str] | tuple[str, ...] = (), rounds: int = 200) -> Leaderboard:
    """Gives the leaderboard from every stored vote."""
    votes = [Vote(v.model_a, v.model_b, v.outcome) for v in ws.store.compare_votes()]
    return leaderboard(votes, rounds=rounds, candidates=candidates)


def pick_pair(ws, candidates: list[str]) -> list[str]:
    """Gives the two of `candidates` whose comparison the ratings are least certain about."""
    ids = check_models(candidates)
    if len(ids) == 2:
        return ids
    pair = board(ws, ids, rounds=100).next_pair
    return list(pair) if pair else ids[:2]


def rerun(ws, run_id: int) -> Comparison:
    """Gives a comparison that repeats a stored run: same prompt, models, settings, blind or not."""
    run = ws.store.compare_run(run_id)
    if run is None:
        raise CompareError(f"no comparison run {run_id}; `quarry compare runs` lists them")
    settings = CompareSettings.from_dict(run.settings)
    return Comparison(ws, run.prompt, sorted(run.models) if run.blind else run.models, settings,
                      blind=run.blind, rerun_of=run_id)
