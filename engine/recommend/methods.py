"""The recommendation methods by name: the one list both fronts offer (no numpy here, so a pane can import it
before its first paint)."""

METHODS = ("hybrid", "sequence", "cooccur", "als", "content", "popular", "popular_category")
DEFAULT = "hybrid"
