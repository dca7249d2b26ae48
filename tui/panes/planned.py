"""Panes whose engines are their own issues: they say what they will do and what to provision."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

PLANNED = {
    "classify": """# Classify

Label records with your own categories — support tickets by intent, reviews by sentiment
(好评 / 中评 / 差评) — by three methods chosen by cross-validation on your labelled examples:
embedding zero-shot, a few-shot head on encoder vectors, and a character n-gram model for Chinese.

**Not built yet.** It will use tables you ingest (try `demo/docs/tables/support-tickets.csv`)
and the encoder you already have. Needed: `quarry models pull minilm-l6`.
""",
    "recommend": """# Recommend

Recommend items from your catalog and interaction history (`orders.csv`: user, item, time):
content-based, collaborative and order-aware co-visitation, each with its reasons.

**Not built yet.** Needed: ingest a catalog and an interactions table
(`quarry ingest demo/docs/tables`) and `quarry models pull minilm-l6`.
""",
    "compare": """# Compare

Send one prompt to several local models side by side, with time to first token and tokens/s
for each, and blind votes that build a rating of which model suits your work.

**Not built yet.** Needed: two or more chat models —
`quarry models pull smollm2-135m gemma3-270m`, or `quarry models add PATH.gguf` for your own.
""",
}


class PlannedPane(VerticalScroll):
    def __init__(self, name: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pane_name = name

    def compose(self) -> ComposeResult:
        yield Markdown(PLANNED[self.pane_name])
