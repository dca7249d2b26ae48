"""Agreement of an answer with a reference answer: does it contain it, and how close is its meaning."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = "。．.,，!！?？:：;；\"'“”‘’()（）[]【】 "


def normalise(text: str) -> str:
    """Gives text folded for matching: NFKC (full-width digits and letters), lower case, one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def contains(answer: str, reference: str) -> bool:
    """Tells whether the answer holds the reference (folded, edge punctuation ignored)."""
    ref = normalise(reference).strip(_EDGE_PUNCT)
    return bool(ref) and ref in normalise(answer)


def similarity(answer: str, reference: str, encoder) -> float:
    """Gives the cosine of the answer's and the reference's sentence embeddings."""
    if not answer.strip() or not reference.strip():
        return 0.0
    vectors = encoder.encode([answer, reference])
    return float(np.dot(vectors[0], vectors[1]))


def agreement(answer: str, reference: str, encoder) -> dict:
    """Gives {"contains": bool, "similarity": cosine} for an answer against its reference."""
    return {"contains": contains(answer, reference),
            "similarity": round(similarity(answer, reference, encoder), 3) if encoder is not None else None}
