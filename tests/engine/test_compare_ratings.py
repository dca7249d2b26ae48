"""Ratings from blind votes: Bradley–Terry against a hand-computed case, Elo against a known sequence."""

import math

import pytest

from engine.compare.ratings import Vote, bradley_terry, elo, leaderboard, next_pair


def test_elo_replays_a_known_sequence():
    # K = 32, both start at 1000. A beats B: expected 0.5, so A +16, B -16.
    ratings = elo([Vote("A", "B", "a")])
    assert ratings == {"A": 1016.0, "B": 984.0}
    # B beats A: B expected 1/(1+10^(32/400)) = 0.454078, so B gains 32 * 0.545922 = 17.4695.
    ratings = elo([Vote("A", "B", "a"), Vote("A", "B", "b")])
    assert ratings["B"] == pytest.approx(1001.4695, abs=1e-3)
    assert ratings["A"] == pytest.approx(998.5305, abs=1e-3)
    # A tie moves the lower-rated one up a little: A expected 0.495770, so A gains 32 * 0.004230.
    ratings = elo([Vote("A", "B", "a"), Vote("A", "B", "b"), Vote("B", "A", "tie")])
    assert ratings["A"] == pytest.approx(998.6659, abs=1e-3)
    assert sum(ratings.values()) == pytest.approx(2000.0)


def test_bradley_terry_matches_a_hand_computed_case():
    # A beats B 3 of 4, B beats C 3 of 4, A and C never met. The likelihood splits by pair, so the MLE has
    # p_A/p_B = 3 and p_B/p_C = 3: ratings 400·log10(3) = 190.85 apart, centred on 1000.
    votes = [Vote("A", "B", "a")] * 3 + [Vote("B", "A", "a")] + [Vote("B", "C", "a")] * 3 + [Vote("C", "B", "a")]
    ratings = bradley_terry(votes)
    gap = 400 * math.log10(3)
    assert ratings["B"] == pytest.approx(1000.0, abs=0.01)
    assert ratings["A"] == pytest.approx(1000.0 + gap, abs=0.01)
    assert ratings["C"] == pytest.approx(1000.0 - gap, abs=0.01)


def test_ties_and_both_bad_count_half_a_win():
    # A: one win and one tie against B scores 1.5 to 0.5, odds 3, as in the case above.
    ratings = bradley_terry([Vote("A", "B", "a"), Vote("A", "B", "tie")])
    assert ratings["A"] - ratings["B"] == pytest.approx(400 * math.log10(3), abs=0.01)
    assert bradley_terry([Vote("A", "B", "both_bad")]) == pytest.approx({"A": 1000.0, "B": 1000.0})


def test_leaderboard_has_intervals_counts_and_order():
    votes = [Vote("big", "small", "a")] * 6 + [Vote("small", "big", "b")] * 2 + [Vote("small", "big", "a"),
                                                                                   Vote("big", "small", "tie")]
    board = leaderboard(votes, rounds=100, seed=1)
    assert [r.model for r in board.ratings] == ["big", "small"]
    big = board.ratings[0]
    assert (big.wins, big.ties, big.losses, big.votes) == (8, 1, 1, 10)
    for r in board.ratings:
        assert r.bt_low <= r.bt <= r.bt_high and r.elo_low <= r.elo <= r.elo_high
        assert r.bt_high - r.bt_low > 10  # ten votes leave real uncertainty
    assert board.to_dict()["votes"] == 10


def test_next_pair_prefers_the_least_certain():
    votes = [Vote("a", "b", "a")] * 10
    board = leaderboard(votes, rounds=50)
    # "c" was never voted on: any pair with it is less certain than a-vs-b after ten votes.
    assert "c" in next_pair(board, votes, ["a", "b", "c"])
    assert next_pair(board, votes, ["a"]) is None


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError):
        elo([Vote("a", "b", "maybe")])
