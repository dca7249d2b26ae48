"""Ingest faults: a batch goes on past a bad file, records it failed with its cause, and exits non-zero;
limits refuse what would eat the machine; what was stored before stays, and the indexes agree."""

from __future__ import annotations

import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from engine import locations
from engine.documents.ingest import IngestSummary, ingest_paths
from engine.workspace import Workspace
from tests.reliability.util import as_nobody, assert_consistent, error_line, failed_lines, quarry, stored

DEMO = locations.demo_corpus()


def folder_with(tmp_path: Path, **files: bytes | str) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        path = folder / name.replace("__", ".")
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return folder


GOOD = "# Good\nThe good file mentions the zebra budget of 42 dollars."


def ingest(ws_dir: Path, *paths, env=None):
    return quarry("ingest", *paths, "-w", ws_dir, env=env)


def one_failure(ran, *names) -> str:
    """The run failed (exit 1) naming one file on one line, and the rest was ingested."""
    assert ran.exception is None, repr(ran.exception)
    assert ran.code == 1, ran.stderr
    lines = failed_lines(ran)
    assert len(lines) == 1, lines
    for name in names:
        assert name in lines[0]
    assert "Traceback" not in ran.stderr
    return lines[0]


# -- bad names and bad entries -----------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_ingested_and_skipped_next_time(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    bad = os.path.join(os.fsencode(folder), b"caf\xe9-notes.txt")
    with open(bad, "wb") as fh:
        fh.write(b"The quokka inventory is counted every Tuesday.")
    first = ingest(tmp_path / "ws", folder)
    assert first.code == 0 and first.exception is None, first.stderr
    again = ingest(tmp_path / "ws", folder)
    assert again.code == 0 and "2 unchanged" in again.stdout
    names = [d[0] for d in stored(tmp_path / "ws").documents]
    assert any(n.endswith("caf\\xe9-notes.txt") for n in names)
    hits = quarry("search", "quokka inventory", "--json", "-w", tmp_path / "ws")
    assert "caf\\\\xe9-notes.txt" in hits.stdout


def test_a_table_file_whose_name_is_not_utf8_is_one_line(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    with open(os.path.join(os.fsencode(folder), b"pr\xefces.csv"), "wb") as fh:
        fh.write(b"sku,price\nA1,10\n")
    ran = ingest(tmp_path / "ws", folder)
    if ran.code == 0:  # DuckDB read it: fine too, as long as it is stored and consistent
        assert len(stored(tmp_path / "ws").documents) == 2
    else:
        one_failure(ran, "pr\\xefces.csv")


def test_an_unreadable_file_fails_alone(encoder, open_tmp):
    folder = folder_with(open_tmp, good__md=GOOD, secret__txt="top secret words")
    ws = open_tmp / "ws"
    with as_nobody(open_tmp):
        os.chmod(folder / "secret.txt", 0)
        ran = ingest(ws, folder)
    one_failure(ran, "secret.txt", "permission")
    docs = dict((p.rsplit("/", 1)[-1], s) for p, s, _ in stored(ws).documents)
    assert docs == {"good.md": "ready", "secret.txt": "failed"}


def test_an_unreadable_subfolder_is_reported(encoder, open_tmp):
    folder = folder_with(open_tmp, good__md=GOOD, **{"private/plan__md": "# Plan\nhidden plan"})
    ws = open_tmp / "ws"
    with as_nobody(open_tmp):
        os.chmod(folder / "private", 0)
        ran = ingest(ws, folder)
        os.chmod(folder / "private", 0o755)
    one_failure(ran, "private", "folder cannot be read")
    assert [d[0].rsplit("/", 1)[-1] for d in stored(ws).documents] == ["good.md"]


def test_a_file_deleted_mid_run_fails_alone(encoder, tmp_path):
    folder = folder_with(tmp_path, a__md=GOOD, b__md="# B\nbravo", c__md="# C\ncharlie")
    with Workspace(tmp_path / "ws") as ws:
        summary = IngestSummary()
        events = []
        for event in ingest_paths(ws, [folder], summary=summary):
            events.append(event)
            if event.kind == "start":
                (folder / "c.md").unlink()
        failed = [e.message for e in events if e.kind == "failed"]
        assert len(failed) == 1 and "c.md" in failed[0] and "disappeared" in failed[0]
        assert summary.ingested == 2 and summary.failed == 1
        assert_consistent(ws)


def test_a_symlink_loop_given_directly_is_one_line(encoder, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    ran = ingest(tmp_path / "ws", loop)
    assert ran.code == 1 and ran.exception is None
    lines = failed_lines(ran)
    assert len(lines) == 1 and "symlink loop" in lines[0] and "loop" in lines[0]


def test_a_symlink_loop_inside_a_folder_fails_alone(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder)  # a folder loop: not followed
    one_failure(ingest(tmp_path / "ws", folder), "loop.md", "symlink loop")


def test_a_dangling_link_in_a_folder_names_its_missing_target(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    (folder / "gone.md").symlink_to(tmp_path / "nowhere.md")  # used to say "check its permissions"
    line = one_failure(ingest(tmp_path / "ws", folder), "gone.md", "nowhere.md, which does not exist")
    assert "permission" not in line


def test_a_fifo_and_a_folder_named_like_files_do_not_hang(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    os.mkfifo(folder / "pipe.txt")
    (folder / "folder.md").mkdir()
    started = time.monotonic()
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0 and time.monotonic() - started < 60


def test_when_every_file_fails_the_run_fails(encoder, tmp_path):
    folder = folder_with(tmp_path, a__pdf=b"%PDF-1.4 garbage", b__txt=b"\x00\x01\x02" * 100)
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 1 and len(failed_lines(ran)) == 2 and "2 failed" in ran.stdout


def test_an_unsupported_file_given_directly_is_one_line(encoder, tmp_path):
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    one_failure(ingest(tmp_path / "ws", exe), "tool.exe", "unsupported file type")


def test_a_folder_with_nothing_quarry_reads_says_so_in_one_line(encoder, tmp_path):
    folder = folder_with(tmp_path, tool__exe=b"MZ", notes__xyz="x")
    (folder / "elsewhere").symlink_to(tmp_path)  # a link to a folder: walked past, not into
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0, ran.stderr  # nothing failed; it used to say only "everything up to date"
    lines = [line for line in ran.stderr.splitlines() if "skipped" in line]
    assert len(lines) == 1 and str(folder) in lines[0] and "no file of a type Quarry reads" in lines[0]
    assert "2 other files" in lines[0] and "1 link to folders, not followed" in lines[0] and " md " in lines[0]
    kept = ingest(tmp_path / "ws", folder_with(tmp_path, good__md=GOOD))  # a folder with a file: no such line
    assert kept.code == 0 and "no file of a type" not in kept.stderr


def test_a_missing_path_with_nothing_stored_is_one_line(encoder, tmp_path):
    error_line(ingest(tmp_path / "ws", tmp_path / "nope"), "nope", "no such file or folder", code=1)


def test_a_moved_folder_can_be_cleared_by_ingesting_its_old_path(encoder, tmp_path):
    folder = folder_with(tmp_path, a__md=GOOD, b__md="# B\nThe bravo deadline is Friday.")
    ws = tmp_path / "ws"
    assert ingest(ws, folder).code == 0
    folder.rename(tmp_path / "moved")
    ran = ingest(ws, folder)
    assert ran.code == 0, ran.stderr
    assert stored(ws).documents == ()
    assert "no results" in quarry("search", "zebra budget", "-w", ws).stdout


def test_a_deleted_file_can_be_cleared_by_ingesting_its_path(encoder, tmp_path):
    folder = folder_with(tmp_path, a__md=GOOD, b__md="# B\nThe bravo deadline is Friday.")
    ws = tmp_path / "ws"
    ingest(ws, folder)
    (folder / "b.md").unlink()
    assert ingest(ws, folder / "b.md").code == 0
    assert [d[0].rsplit("/", 1)[-1] for d in stored(ws).documents] == ["a.md"]


def test_a_file_given_twice_is_ingested_once(encoder, tmp_path):
    folder = folder_with(tmp_path, a__md=GOOD)
    ran = ingest(tmp_path / "ws", folder / "a.md", folder / "a.md", folder)
    assert ran.code == 0 and len(stored(tmp_path / "ws").documents) == 1


# -- content ---------------------------------------------------------------------------------

def test_nul_bytes_in_a_csv_are_stripped_so_its_words_are_found(encoder, tmp_path):
    folder = folder_with(tmp_path, parts__csv=b"sku,name\nA1,Flux\x00capacitor\x00 deluxe\nB2,Plain lamp\n")
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0, ran.stderr
    hits = quarry("search", "capacitor", "--mode", "keyword", "--json", "-w", tmp_path / "ws")
    assert "parts.csv" in hits.stdout and "\\u0000" not in hits.stdout


def test_two_tables_with_one_name_in_two_folders_keep_both(encoder, tmp_path):
    folder = folder_with(tmp_path, **{"eu/prices__csv": "sku,price\nA1,10\nA2,11\n",
                                      "us/prices__csv": "sku,price\nB1,20\nB2,21\nB3,22\n"})
    assert ingest(tmp_path / "ws", folder).code == 0
    with Workspace(tmp_path / "ws") as ws:
        names = {ws.store.table_source(n): n for n in ("t_prices", "t_us_prices", "t_eu_prices")
                 if ws.store.table_source(n)}
        assert len(names) == 2
        counts = sorted(ws.store.table_rows(n) for n in names.values())
        assert counts == [2, 3]
    again = ingest(tmp_path / "ws", folder)  # a rerun keeps the same names
    assert again.code == 0 and "2 unchanged" in again.stdout


def _encrypted_pdf(path: Path, user_password: str, algorithm: str = "AES-256") -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(DEMO / "onboarding-guide.pdf")))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)


def test_an_aes_encrypted_pdf_without_a_password_is_ingested(encoder, tmp_path):
    folder = folder_with(tmp_path)
    _encrypted_pdf(folder / "aes.pdf", "")
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0, ran.stderr
    assert stored(tmp_path / "ws").documents[0][1] == "ready"


def test_a_password_protected_pdf_is_one_line(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD)
    _encrypted_pdf(folder / "locked.pdf", "s3cret")
    one_failure(ingest(tmp_path / "ws", folder), "locked.pdf", "password")


def _docx_with(document_xml: bytes, compression=zipfile.ZIP_DEFLATED) -> bytes:
    source = zipfile.ZipFile(DEMO / "policies" / "travel-policy.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, source.read(info))
        zf.writestr("word/document.xml", document_xml)
    return out.getvalue()


def _bomb_xml(mb: int) -> bytes:
    head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    para = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    return head + para * (mb * 1000) + b"</w:body></w:document>"


def test_a_docx_bomb_is_refused_by_the_ratio_limit_in_seconds(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD, bomb__docx=_docx_with(_bomb_xml(20)))
    started = time.monotonic()
    line = one_failure(ingest(tmp_path / "ws", folder), "bomb.docx", "max_unpack_ratio", "QUARRY_MAX_UNPACK_RATIO")
    assert time.monotonic() - started < 30 and "\n" not in line


def test_a_docx_over_the_unpacked_limit_is_refused(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD, big__docx=_docx_with(_bomb_xml(3), zipfile.ZIP_STORED))
    one_failure(ingest(tmp_path / "ws", folder, env={"QUARRY_MAX_UNPACKED_MB": "2", "QUARRY_MAX_FILE_MB": "64"}),
                "big.docx", "max_unpacked_mb")


def test_an_xlsx_bomb_is_refused(encoder, tmp_path):
    source = zipfile.ZipFile(DEMO / "price-list.xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        zf.writestr("xl/padding.xml", b" " * (30 << 20))
    folder = folder_with(tmp_path, good__md=GOOD, bomb__xlsx=out.getvalue())
    one_failure(ingest(tmp_path / "ws", folder), "bomb.xlsx", "max_unpack_ratio")


def test_a_docx_is_read_as_a_stream_within_its_limits(encoder, tmp_path):
    """Under raised limits a big (but not bomb-like) document ingests, paragraphs in document order."""
    folder = folder_with(tmp_path, big__docx=_docx_with(_bomb_xml(1)))
    ran = ingest(tmp_path / "ws", folder, env={"QUARRY_MAX_UNPACK_RATIO": "100000"})
    assert ran.code == 0, ran.stderr


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD, huge__txt="word " * 500_000)
    line = one_failure(ingest(tmp_path / "ws", folder, env={"QUARRY_MAX_FILE_MB": "1"}), "huge.txt",
                       "max_file_mb = 1", "QUARRY_MAX_FILE_MB")
    assert "2 MB" in line


def test_text_over_the_text_limit_is_refused(encoder, tmp_path):
    folder = folder_with(tmp_path, good__md=GOOD, long__md="# Long\n" + "many words here. " * 80_000)
    one_failure(ingest(tmp_path / "ws", folder, env={"QUARRY_MAX_TEXT_MB": "1"}), "long.md", "max_text_mb")


def test_a_line_over_the_line_limit_is_refused_before_it_is_chunked(encoder, tmp_path):
    """A 10 MB line took 27 minutes to embed; past max_line_mb (1 by default) it is one line in seconds."""
    folder = folder_with(tmp_path, good__md=GOOD, dump__txt="x1 " * 400_000)  # 1.2 MB, no line break
    line = one_failure(ingest(tmp_path / "ws", folder), "dump.txt", "max_line_mb = 1", "QUARRY_MAX_LINE_MB")
    assert "1.1 MB" in line


def test_a_single_long_line_is_chunked_within_the_encoder(encoder, tmp_path):
    words = " ".join(f"token{i}" for i in range(6_000))  # ~60 KB on one line, no sentence end
    folder = folder_with(tmp_path, line__txt=words)
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0, ran.stderr
    with Workspace(tmp_path / "ws") as ws:
        chunks = [c for batch in ws.store.iter_chunks() for c in batch]
        assert len(chunks) > 50 and max(c.tokens for c in chunks) <= 200
        assert any(c.text.endswith("token5999") for c in chunks)
        assert_consistent(ws)


def test_a_big_file_gets_a_reading_line_when_output_is_not_a_terminal(encoder, tmp_path, monkeypatch):
    import engine.documents.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "BIG_FILE_BYTES", 1000)
    folder = folder_with(tmp_path, big__md="# Big\n" + "The sentence repeats. " * 100)
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0 and "reading" in ran.stderr and "big.md" in ran.stderr


def test_a_file_of_many_chunks_reports_embedding_progress_and_cancels_between_slices(encoder, tmp_path,
                                                                                      monkeypatch):
    import engine.documents.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "ENCODE_SLICE", 8)  # the real slice is 1024 chunks: minutes of text
    words = " ".join(f"token{i}" for i in range(3_000))  # about 30 chunks
    folder = folder_with(tmp_path, line__txt=words)
    ran = ingest(tmp_path / "ws", folder)
    assert ran.code == 0, ran.stderr
    steps = [line for line in ran.stderr.splitlines() if "embedding" in line]
    assert len(steps) >= 3 and "line.txt: 8/" in steps[0], ran.stderr
    with Workspace(tmp_path / "ws") as ws:
        total = sum(len(batch) for batch in ws.store.iter_chunks())
        assert steps[-1].split(": ")[-1].startswith(f"{total}/{total} chunks")
    # cancelled after the first slice: nothing of the file is stored, and the next run does it whole
    events = []
    with Workspace(tmp_path / "ws2") as ws:
        for event in ingest_paths(ws, [folder], cancel=lambda: any(e.kind == "embedding" for e in events)):
            events.append(event)
        assert [e.kind for e in events].count("embedding") == 1
        assert not any(e.kind == "ingested" for e in events)
        assert sum(len(batch) for batch in ws.store.iter_chunks()) == 0
        assert_consistent(ws)
        kinds = [e.kind for e in ingest_paths(ws, [folder])]
        assert "ingested" in kinds and sum(len(batch) for batch in ws.store.iter_chunks()) == total


BROKEN = {
    "corrupt__pdf": (b"%PDF-1.4\n" + b"garbage" * 50, "not a readable PDF"),
    "binary__md": (bytes(range(256)) * 8, "binary content"),
    "empty__txt": (b"", "empty file"),
    "nozip__docx": (b"PK\x03\x04 not really", "not a"),
    "junk__xlsx": (b"hello", "not an .xlsx"),
    "header__csv": (b"sku,price\n", "no rows"),
    "broken__json": (b'{"a": [1, 2', "not a readable json"),
    "garbage__parquet": (b"PAR1 nope", "not a readable parquet"),
    "script__html": (b"<html><script>var x = 1;</script></html>", "no text"),
}


@pytest.mark.parametrize("name", BROKEN, ids=[n.replace("__", ".") for n in BROKEN])
def test_a_broken_file_is_one_line_and_the_rest_ingests(encoder, tmp_path, name):
    data, cause = BROKEN[name]
    folder = folder_with(tmp_path, good__md=GOOD, **{name: data})
    one_failure(ingest(tmp_path / "ws", folder), name.replace("__", "."), cause)
    docs = {p.rsplit("/", 1)[-1]: s for p, s, _ in stored(tmp_path / "ws").documents}
    assert docs["good.md"] == "ready" and docs[name.replace("__", ".")] == "failed"


def test_a_truncated_docx_is_one_line(encoder, tmp_path):
    data = (DEMO / "policies" / "travel-policy.docx").read_bytes()
    folder = folder_with(tmp_path, good__md=GOOD, cut__docx=data[: len(data) // 2])
    one_failure(ingest(tmp_path / "ws", folder), "cut.docx")


def test_latin1_text_is_decoded(encoder, tmp_path):
    folder = folder_with(tmp_path, fr__txt="Le café coûte trois euros à Genève.".encode("latin-1"))
    assert ingest(tmp_path / "ws", folder).code == 0
    hits = quarry("search", "Genève café", "--mode", "keyword", "--json", "-w", tmp_path / "ws")
    assert "Genève" in hits.stdout


def test_a_failed_file_keeps_what_was_stored_before(demo_workspace_dir, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace_dir, ws)
    before = stored(ws)
    folder = folder_with(tmp_path, bad__pdf=b"%PDF-1.4 nope")
    assert ingest(ws, folder).code == 1
    after = stored(ws)
    assert set(before.documents) < set(after.documents) and before.chunk_ids == after.chunk_ids
