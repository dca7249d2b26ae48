"""Compare: one prompt to several models side by side, blind votes and ratings, batches over prompt sets.

Importing the package registers the `compare_batch` job kind (engine.jobs imports it on demand)."""

from engine.compare.batch import read_prompt_set, start_batch, summary
from engine.compare.ratings import Leaderboard, Rating, Vote, bradley_terry, elo, leaderboard
from engine.compare.run import (
    Column,
    ColumnFinished,
    ColumnStarted,
    CompareError,
    CompareRun,
    CompareSettings,
    Comparison,
    Finished,
    Piece,
    Started,
    chat_models,
    check_models,
)
from engine.compare.votes import board, pick_pair, rerun, reveal, vote

__all__ = ["Column", "ColumnFinished", "ColumnStarted", "CompareError", "CompareRun", "CompareSettings",
           "Comparison", "Finished", "Leaderboard", "Piece", "Rating", "Started", "Vote", "board",
           "bradley_terry", "chat_models", "check_models", "elo", "leaderboard", "pick_pair",
           "read_prompt_set", "rerun", "reveal", "start_batch", "summary", "vote"]
