"""The support check's rules (engine/documents/support_rules.py): a sentence in the model's voice, negated
where the passage is not, or saying always/every where it does not, no longer passes as supported; true
paraphrases, negated ones included, still pass, and so does a sentence naming a product by its number.
Real encoder, real passages of the demo's data retention and shipping policies."""

from __future__ import annotations

from engine.documents.citations import SUPPORT_BAR, Source, SupportScorer, check
from engine.documents.support_rules import conflict, first_person, names_numbers, negated

RETENTION = ("Customer order records are kept for 7 years for tax purposes. Support tickets are kept for 3 years. "
             "When a customer asks for their personal data to be deleted, we delete it within 30 days, except "
             "records we must keep by law. Backups are encrypted and expire after 90 days.")
SHIPPING = ("Orders placed before 1 pm Pacific ship the same business day from our Reno, Nevada warehouse. "
            "We do not ship to PO boxes for furniture orders.")


def _sources() -> list[Source]:
    return [Source(1, 1, "/d/data-retention-policy.md", None, None, RETENTION),
            Source(2, 2, "/d/shipping-policy.html", None, None, SHIPPING)]


def _support(scorer: SupportScorer, sentence: str, strict: bool = True) -> float:
    return max(s for s, _ in scorer.score(sentence, strict=strict).values())


def test_the_models_voice_a_flipped_negation_and_always_used_to_pass_and_now_fail(encoder):
    scorer = SupportScorer(encoder, _sources())
    for sentence in ("I keep customer order records for 7 years [1].",
                     "Customer order records are not kept for tax purposes [1].",
                     "Orders placed before 1 pm do not ship the same day [2].",
                     "Support tickets are always kept for 3 years [1]."):
        assert _support(scorer, sentence, strict=False) >= SUPPORT_BAR, sentence  # without the rules
        assert _support(scorer, sentence) < SUPPORT_BAR, sentence
    text, citations, checks = check("I keep customer order records for 7 years [1].", _sources(), encoder)
    assert not checks[0].supported and citations == [] and "⚠" in text


def test_true_paraphrases_still_pass_negated_ones_too(encoder):
    scorer = SupportScorer(encoder, _sources())
    for sentence in ("Customer order records are kept for 7 years for tax purposes [1].",
                     "We delete a customer's personal data within 30 days when they ask [1].",
                     "Furniture orders are not shipped to PO boxes [2].",
                     "Yes, backups are encrypted and expire after 90 days [1]."):
        assert _support(scorer, sentence) >= SUPPORT_BAR, sentence
    _, citations, checks = check("Furniture orders are not shipped to PO boxes [1].", _sources(), encoder)
    assert checks[0].supported and checks[0].note == "moved" and citations[0].path.endswith("shipping-policy.html")


def test_the_rules_themselves():
    assert negated("Opened items cannot be returned.") and negated("We don't ship there.")
    assert not negated("Notebooks ship in 2 days.")  # "not" inside a word is not a negation
    assert first_person("I never ask for your password.") and first_person("In my view, yes.")
    assert not first_person("Item I.e. the first one") and not first_person("We ship to Canada.")
    assert conflict("No, returns are accepted within 30 days.", "Returns are accepted within 30 days.", "") is None
    assert conflict("I accept gifts.", "Gifts above $50 are not allowed.", "Gifts above $50 are not allowed.") \
        == "negation"
    assert conflict("I keep records for 7 years.", "Records are kept for 7 years.", "Records are kept.") == "voice"
    assert conflict("Every order ships free.", "Orders over $75 ship free.", "") == "universal"
    assert names_numbers("The StandPro 60 motors are covered for 2 years.", "standpro 60 electric desk") == {"60"}
    assert conflict("退货不需要运费。", "Returns are not free.", "") is None  # Chinese: numbers and overlap decide


def test_a_number_of_the_products_name_need_not_be_in_the_span(encoder):
    warranty = Source(1, 1, "/d/products/standpro-60.md", None, "Warranty",
                      "The frame is covered for 7 years and the motors and control box for 2 years.")
    scorer = SupportScorer(encoder, [warranty])
    assert _support(scorer, "The StandPro 60 motors are covered for 2 years.") >= SUPPORT_BAR
    assert _support(scorer, "The StandPro 60 motors are covered for 3 years.") == 0.0  # a changed figure still fails
    assert _support(scorer, "The StandPro 60 motors are covered for 2 years.", strict=False) == 0.0  # as it was
