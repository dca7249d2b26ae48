"""The leaderboard: ratings from blind votes with their intervals, and the pair to compare next."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from tui import actions


class LeaderboardScreen(ModalScreen[None]):
    """Bradley–Terry and Elo ratings with 95% intervals, votes and W-T-L per model (engine Leaderboard)."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, board) -> None:
        super().__init__()
        self.board = board

    def compose(self) -> ComposeResult:
        with Vertical(id="leaderboard-dialog"):
            yield Label("Leaderboard — blind votes", classes="title")
            yield DataTable(id="leaderboard-table", cursor_type="row", zebra_stripes=True)
            yield Static(Text(self._footer()), id="leaderboard-footer", classes="hint")

    def _footer(self) -> str:
        b = self.board
        votes = f"{b.votes} vote" + ("" if b.votes == 1 else "s")
        lines = [f"{votes} · 95% intervals from {b.rounds} bootstrap resamples · ties and "
                 "'both bad' count half a win each"]
        if b.next_pair:
            lines.append(f"Least certain next: {b.next_pair[0]} vs {b.next_pair[1]}")
        lines.append("esc to close")
        return "\n".join(lines)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Model", "Bradley–Terry", "95% CI", "Elo", "95% CI", "Votes", "W-T-L")
        if not self.board.ratings:
            blind = actions.key(self.app, "compare.blind")
            table.add_row("", Text(f"no votes yet: blind mode ({blind}), send, vote"), "", "", "", "", "", "")
        for i, r in enumerate(self.board.ratings, start=1):
            table.add_row(str(i), Text(r.model), f"{r.bt:.0f}", f"{r.bt_low:.0f}–{r.bt_high:.0f}", f"{r.elo:.0f}",
                          f"{r.elo_low:.0f}–{r.elo_high:.0f}", str(r.votes),
                          f"{r.wins}-{r.ties + r.both_bad}-{r.losses}", key=r.model)
