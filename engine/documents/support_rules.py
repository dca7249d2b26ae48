"""What word overlap and the encoder's cosine cannot see when a sentence is checked against a passage.

Both ignore "not" and "I" (stop words; the cosine of "we do not collect X" to "we collect X" is high),
so a small model's "No, I do not collect your information [1]" over a passage on what a company collects
would pass as supported. A span cannot support a sentence that
- is negated where the span is not, or the other way round ("cannot be returned" over "may be returned");
- speaks in the first person singular (I, me, my) when the passage never does: the model's own voice,
  stating what the passage does not;
- says always, every, all or any where the span says none of them ("free on every order" over "free on
  orders over $75").
A number the best span lacks still fails the sentence (citations.py), unless it is part of a name that
the passage, its heading or its file's name holds too ("StandPro 60", "Nimbus 14"): names_numbers.
Measured on on-topic unsupported sentences and true paraphrases over the demo documents
(bench/support_check.py, bench/questions/support_en.jsonl).
"""

from __future__ import annotations

import re

from engine.documents.ingest.text import has_cjk

# English negation
_NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|nobody|neither|nor|without|cannot)\b|n['’]t\b",
                       re.IGNORECASE)
_I = re.compile(r"(?<![\w.])I(?![\w.])|\bI['’](?:m|ll|ve|d)\b")  # "I" only as a capital: "i" in "i.e." is not
_ME = re.compile(r"\b(?:me|my|mine|myself)\b", re.IGNORECASE)
_UNIVERSAL = re.compile(r"\b(?:always|every|everyone|everything|all|any|anyone|anything|entire|whole)\b",
                        re.IGNORECASE)
_NAMED_NUMBER = re.compile(r"\b([A-Z][\w-]*)\s+(\d+)\b")
# "No, ..." / "Yes, ..." answering a yes-no question: the word answers, the sentence after it states.
_ANSWER_WORD = re.compile(r"^\s*(?:yes|no)\s*[,.!;:—-]\s*", re.IGNORECASE)


def negated(text: str) -> bool:
    """Tells whether an English text states something negated (not, no, never, without, n't...)."""
    return bool(_NEGATION.search(text))


def first_person(text: str) -> bool:
    """Tells whether a text speaks as "I" (I, I'm, me, my, mine, myself)."""
    return bool(_I.search(text) or _ME.search(text))


def conflict(sentence: str, span: str, passage: str) -> str | None:
    """Gives why a span cannot support a sentence ('negation', 'voice', 'universal'), or None when nothing rules it
    out (then overlap and cosine decide). Chinese sentences are left to numbers and overlap: their
    negation and voice are not these words."""
    if has_cjk(sentence):
        return None
    body = _ANSWER_WORD.sub("", sentence, count=1)
    if negated(body) != negated(span):
        return "negation"
    if first_person(body) and not first_person(passage):
        return "voice"
    if _UNIVERSAL.search(body) and not _UNIVERSAL.search(span):
        return "universal"
    return None


def names_numbers(sentence: str, passage: str) -> set[str]:
    """Gives the numbers of a sentence that are part of a name the passage holds too ("StandPro 60"): a
    span about the desk's motors need not repeat the desk's name to support what the sentence says."""
    return {number for word, number in _NAMED_NUMBER.findall(sentence)
            if re.search(rf"\b{re.escape(word)}\s+{number}\b", passage, re.IGNORECASE)}
