from engine.documents.ingest.chunking import CHUNK_TOKENS, chunk_blocks, sentences
from engine.documents.ingest.loaders import Block


def test_chunks_fit_the_encoder_and_overlap(encoder):
    text = " ".join(f"Sentence number {i} talks about shipping pallets and invoices." for i in range(120))
    pieces = chunk_blocks([Block(text, page=3, heading="Logistics")], encoder.token_offsets)
    assert len(pieces) > 3
    for piece in pieces:
        assert piece.tokens <= CHUNK_TOKENS and piece.page == 3 and piece.heading == "Logistics"
        assert len(encoder.tokenizer.encode(piece.text, add_special_tokens=False).ids) <= CHUNK_TOKENS + 2
    for first, second in zip(pieces, pieces[1:]):
        assert sentences(first.text)[-1] in second.text  # the last sentence carries over


def test_pages_and_headings_do_not_mix(encoder):
    blocks = [Block("Page one text.", 1, "A"), Block("More of page one.", 1, "A"), Block("Page two.", 2, "A"),
              Block("New section.", 2, "B")]
    pieces = chunk_blocks(blocks, encoder.token_offsets)
    assert [(p.page, p.heading) for p in pieces] == [(1, "A"), (2, "A"), (2, "B")]
    assert pieces[0].text == "Page one text. More of page one."


def test_a_sentence_longer_than_a_chunk_is_split_and_nothing_is_lost(encoder):
    long = " ".join(f"w{i}" for i in range(900))  # one 'sentence' far past the encoder's 256 tokens
    pieces = chunk_blocks([Block(long)], encoder.token_offsets)
    assert len(pieces) >= 5 and all(p.tokens <= CHUNK_TOKENS for p in pieces)
    assert pieces[-1].text.endswith("w899")


def test_chinese_sentences_split_on_chinese_punctuation():
    assert sentences("退货政策很简单。七天内可退！有问题吗？") == ["退货政策很简单。", "七天内可退！", "有问题吗？"]


def test_records_stay_one_chunk_each(encoder):
    rows = [Block(f"sku: A{i}; name: Lamp {i}", None, "products") for i in range(5)]
    assert len(chunk_blocks(rows, encoder.token_offsets, records=True)) == 5
