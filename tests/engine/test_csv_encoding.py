"""A CSV that is not UTF-8 (Excel on a Chinese Windows saves CSV as GBK; older Taiwanese files are Big5;
Western ones cp1252) failed to ingest and to import as "CSV Error on Line: 2": DuckDB reads UTF-8 only.
Such a file is read from a UTF-8 copy, and ingest says which encoding it was read in."""

from __future__ import annotations

import pytest

from engine.classify import sets
from engine.documents.ingest import IngestSummary, ingest_paths
from engine.documents.ingest.encoding import utf8_path
from engine.errors import IngestError
from engine.workspace import Workspace

ROWS = "text,label\n质量很好,好评\n太差了,差评\n物流很快，下次还来买,好评\n"


TRADITIONAL = "text,label\n品質很好,好評\n太差了,差評\n"


@pytest.mark.parametrize("encoding, rows, expected", [("gbk", ROWS, "gb18030"), ("big5", TRADITIONAL, "big5"),
                                                      ("utf-8", ROWS, None), ("utf-8-sig", ROWS, None)])
def test_a_csv_is_read_in_its_encoding(tmp_path, encoding, rows, expected):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(rows.encode(encoding))
    readable, found = utf8_path(path)
    assert found == expected and (readable == path) == (expected is None)
    assert rows.splitlines()[1].split(",")[0] in readable.read_text(encoding="utf-8")


def test_a_western_csv_and_undecodable_bytes(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,city\ncafé,Zürich\n".encode("cp1252"))
    readable, found = utf8_path(latin)
    assert found and "Zürich" in readable.read_text(encoding="utf-8")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("text,label\n好,好评\n".encode("utf-16"))
    with pytest.raises(IngestError, match="utf16.csv: binary content, or UTF-16 text: save it as a UTF-8 CSV"):
        utf8_path(utf16)


def test_a_gbk_csv_ingests_and_imports_as_examples(tmp_path):
    path = tmp_path / "reviews_gbk.csv"
    path.write_bytes(ROWS.encode("gbk"))
    with Workspace(tmp_path / "ws") as ws:
        summary = IngestSummary()
        events = list(ingest_paths(ws, [path], summary=summary))
        assert summary.ingested == 1 and any("read as gb18030" in w for e in events for w in e.warnings)
        texts = [c.text for batch in ws.store.iter_chunks() for c in batch]
        assert any("质量很好" in t for t in texts)
        found, added, _ = sets.import_examples(ws, "reviews", "label", file=path, text_column="text")
        assert added == 3 and found.counts == {"好评": 2, "差评": 1}
