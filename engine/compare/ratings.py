"""Ratings from blind votes: Elo (votes replayed in order) and Bradley–Terry (maximum likelihood), each
with bootstrap confidence intervals, and the pair to show next where the ratings are least certain.

A tie counts half a win to each side; "both bad" counts as a tie for the ratings (it says the two are
equally unhelpful) and is reported on its own in the table. The leaderboard's Bradley–Terry fit adds half a
virtual tie to each pair that met, so a model that won its only vote gets a large but finite rating."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

BASE = 1000.0
SCALE = 400.0  # rating points per factor of 10 in odds
ELO_K = 32.0
PRIOR = 0.5  # virtual ties per compared pair on the leaderboard, so an unbeaten model's rating stays finite
OUTCOMES = ("a", "b", "tie", "both_bad")


@dataclass(frozen=True)
class Vote:
    """One blind vote: model_a was shown as A, model_b as B."""

    model_a: str
    model_b: str
    outcome: str  # a | b | tie | both_bad


@dataclass
class Rating:
    """One row of the leaderboard."""

    model: str
    elo: float
    elo_low: float
    elo_high: float
    bt: float
    bt_low: float
    bt_high: float
    votes: int
    wins: int
    ties: int
    losses: int
    both_bad: int = 0

    def to_dict(self) -> dict:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class Leaderboard:
    ratings: list[Rating] = field(default_factory=list)
    votes: int = 0
    rounds: int = 0  # bootstrap resamples behind the intervals
    next_pair: tuple[str, str] | None = None

    def to_dict(self) -> dict:
        return {"votes": self.votes, "bootstrap_rounds": self.rounds,
                "next_pair": list(self.next_pair) if self.next_pair else None,
                "ratings": [r.to_dict() for r in self.ratings]}


def score_a(outcome: str) -> float:
    """Gives A's score in a vote: 1 for a win, 0 for a loss, 0.5 for a tie or both bad."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown vote outcome {outcome!r}")
    return {"a": 1.0, "b": 0.0}.get(outcome, 0.5)


def elo(votes: Sequence[Vote], k: float = ELO_K, base: float = BASE) -> dict[str, float]:
    """Gives Elo ratings after replaying the votes in order, every model starting at `base`."""
    ratings: dict[str, float] = {}
    for v in votes:
        ra = ratings.setdefault(v.model_a, base)
        rb = ratings.setdefault(v.model_b, base)
        expected_a = 1.0 / (1.0 + 10 ** ((rb - ra) / SCALE))
        delta = k * (score_a(v.outcome) - expected_a)
        ratings[v.model_a] = ra + delta
        ratings[v.model_b] = rb - delta
    return ratings


def bradley_terry(votes: Sequence[Vote], iterations: int = 1000, tol: float = 1e-10,
                  prior: float = 0.0) -> dict[str, float]:
    """Gives Bradley–Terry ratings (maximum likelihood by Hunter's MM updates) on the Elo scale:
    P(i beats j) = 1 / (1 + 10^((r_j - r_i)/400)), the ratings' mean fixed at 1000.

    `prior` adds that many virtual ties between each compared pair (0 = plain MLE); the bootstrap uses a
    small one so a model that won every resampled vote gets a finite rating.
    """
    models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
    if not models:
        return {}
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    wins = np.zeros((n, n))  # wins[i, j]: points i scored against j
    for v in votes:
        a, b = index[v.model_a], index[v.model_b]
        s = score_a(v.outcome)
        wins[a, b] += s
        wins[b, a] += 1.0 - s
    games = wins + wins.T
    if prior:
        pairs = games > 0
        wins = wins + prior / 2 * pairs
        games = wins + wins.T
    total_wins = wins.sum(axis=1)
    p = np.ones(n)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, total_wins / np.where(denom > 0, denom, 1.0), p)
        new = np.clip(new, 1e-12, None)
        new /= math.exp(np.log(new).mean())
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    logs = SCALE * np.log10(p)
    logs = logs - logs.mean() + BASE
    return {m: float(logs[index[m]]) for m in models}


def _interval(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))


def leaderboard(votes: Sequence[Vote], rounds: int = 200, seed: int = 0,
                candidates: Sequence[str] = ()) -> Leaderboard:
    """Gives every voted model's Elo and Bradley–Terry ratings with 95% bootstrap intervals (votes
    resampled with replacement; Elo also in a shuffled order, so its interval covers order effects),
    best first by Bradley–Terry, and the pair to show next among the rated models and `candidates`."""
    votes = list(votes)
    board = Leaderboard(votes=len(votes), rounds=rounds if votes else 0)
    if votes:
        point_elo = elo(votes)
        point_bt = bradley_terry(votes, prior=PRIOR)
        rng = np.random.default_rng(seed)
        samples_elo: dict[str, list[float]] = {m: [] for m in point_elo}
        samples_bt: dict[str, list[float]] = {m: [] for m in point_bt}
        for _ in range(rounds):
            picked = [votes[i] for i in rng.integers(0, len(votes), len(votes))]
            for m, r in elo(picked).items():
                samples_elo[m].append(r)
            for m, r in bradley_terry(picked, iterations=200, tol=1e-6, prior=PRIOR).items():
                samples_bt[m].append(r)
        for m in point_bt:
            wins = sum(1 for v in votes if (v.outcome == "a" and v.model_a == m) or
                       (v.outcome == "b" and v.model_b == m))
            losses = sum(1 for v in votes if (v.outcome == "b" and v.model_a == m) or
                         (v.outcome == "a" and v.model_b == m))
            ties = sum(1 for v in votes if v.outcome == "tie" and m in (v.model_a, v.model_b))
            bad = sum(1 for v in votes if v.outcome == "both_bad" and m in (v.model_a, v.model_b))
            elo_lo, elo_hi = _interval(samples_elo[m] or [point_elo[m]])
            bt_lo, bt_hi = _interval(samples_bt[m] or [point_bt[m]])
            board.ratings.append(Rating(m, point_elo[m], min(elo_lo, point_elo[m]), max(elo_hi, point_elo[m]),
                                        point_bt[m], min(bt_lo, point_bt[m]), max(bt_hi, point_bt[m]),
                                        wins + losses + ties + bad, wins, ties, losses, bad))
        board.ratings.sort(key=lambda r: (-r.bt, r.model))
    board.next_pair = next_pair(board, votes, candidates)
    return board


def next_pair(board: Leaderboard, votes: Sequence[Vote], candidates: Sequence[str] = ()) -> tuple[str, str] | None:
    """Gives the pair whose outcome is least certain: a model never voted on first, then the pair with the
    widest combined intervals, closest ratings and fewest votes between them."""
    rated = {r.model: r for r in board.ratings}
    models = sorted(set(candidates) | (set(rated) if not candidates else set()))
    if len(models) < 2:
        return None
    met: dict[frozenset, int] = {}
    for v in votes:
        key = frozenset((v.model_a, v.model_b))
        met[key] = met.get(key, 0) + 1
    wide = 2 * SCALE  # an unrated model: as uncertain as anything can be

    def uncertainty(a: str, b: str) -> float:
        ra, rb = rated.get(a), rated.get(b)
        width = (ra.bt_high - ra.bt_low if ra else wide) + (rb.bt_high - rb.bt_low if rb else wide)
        gap = abs(ra.bt - rb.bt) if ra and rb else 0.0  # an unrated model could be anywhere
        p = 1.0 / (1.0 + 10 ** (-gap / SCALE))
        return width * p * (1 - p) / math.sqrt(1 + met.get(frozenset((a, b)), 0))

    pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1:]]
    return max(pairs, key=lambda pair: (uncertainty(*pair), pair[0], pair[1]))
