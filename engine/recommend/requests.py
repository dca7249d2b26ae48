"""What a recommendation request gives and takes: the items with reasons, the filters, and a text request's
price and category phrases turned into filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.errors import RecommendError

__all__ = ["Filters", "Recommendation", "Recommendations", "check_k", "cjk_share", "filters_given", "parse_request"]


@dataclass
class Recommendation:
    """One recommended item with its score and a human reason."""

    rank: int
    item_id: str
    title: str
    category: str | None
    price: float | None
    score: float
    reason: str


@dataclass
class Filters:
    """What may be recommended: a category, a price range, and whether to leave out what was bought."""

    category: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    exclude_bought: bool = True

    def describe(self) -> str:
        parts = []
        if self.category:
            parts.append(f"in {self.category}")
        if self.price_min is not None:
            parts.append(f"from {self.price_min:g}")
        if self.price_max is not None:
            parts.append(f"up to {self.price_max:g}")
        return " ".join(parts)


@dataclass
class Recommendations:
    """The answer to one request: the items, the method used, and a note (cold start, fallback)."""

    items: list[Recommendation]
    method: str
    note: str = ""
    elapsed_ms: float = 0.0
    filters: Filters = field(default_factory=Filters)


_NUM = r"(\d+(?:\.\d+)?)"
_PRICE_RULES = [
    (re.compile(rf"\bbetween\s*\$?{_NUM}\s*(?:and|-|to)\s*\$?{_NUM}", re.I), "range"),
    (re.compile(rf"{_NUM}\s*(?:-|到|至)\s*{_NUM}\s*(?:元|块)?"), "range"),
    (re.compile(rf"(?:\bunder|\bbelow|\bless than|\bcheaper than|\bup to|\bmax|<=?|不超过|低于|少于)\s*\$?{_NUM}",
                re.I), "max"),
    (re.compile(rf"\$?{_NUM}\s*(?:元|块)?\s*(?:以下|以内|之内)"), "max"),
    (re.compile(rf"(?:\bover|\babove|\bmore than|\bat least|\bfrom|>=?|超过|高于)\s*\$?{_NUM}", re.I), "min"),
    (re.compile(rf"\$?{_NUM}\s*(?:元|块)?\s*以上"), "min"),
]


def parse_request(text: str, categories: dict[str, str] | None = None) -> tuple[str, Filters]:
    """Gives the request with its price and category phrases taken out, and the filters they name.

    `categories` maps lower-cased names and aliases (e.g. Chinese names) to the catalog's category."""
    filters = Filters(exclude_bought=False)
    rest = text
    for pattern, kind in _PRICE_RULES:
        match = pattern.search(rest)
        if not match:
            continue
        values = [float(v) for v in match.groups()]
        if kind == "range":
            filters.price_min, filters.price_max = min(values), max(values)
        elif kind == "max" and filters.price_max is None:
            filters.price_max = values[0]
        elif kind == "min" and filters.price_min is None:
            filters.price_min = values[0]
        rest = rest[:match.start()] + " " + rest[match.end():]
    lowered = rest.lower()
    for alias in sorted(categories or {}, key=len, reverse=True):
        if len(alias) > 1 and re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", lowered):
            filters.category = (categories or {})[alias]
            break
    return re.sub(r"\s+", " ", rest).strip(" ,.;"), filters



def cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in letters) / len(letters)


def filters_given(f: Filters) -> bool:
    """Tells whether any filter is set (a category or a price bound)."""
    return bool(f.category or f.price_min is not None or f.price_max is not None)


def check_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise RecommendError(f"k = {k}: give a positive number of items (e.g. --k 10)")


