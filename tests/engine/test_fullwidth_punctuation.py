"""Ingest keeps Chinese full-width punctuation as written (NFKC folds only letters, digits, ligatures)."""

from engine.documents.ingest.text import clean


def test_clean_keeps_fullwidth_punctuation():
    assert clean("退货期限：十五天，需要发票！（见第３条）") == "退货期限：十五天，需要发票！（见第3条）"


def test_clean_still_folds_fullwidth_letters_and_ligatures():
    assert clean("ＡＢＣ１２３ ﬁle") == "ABC123 file"
