"""`quarry ingest` reads scans by OCR; `quarry search` finds their text and `quarry ask` cites their page."""

import json
import shutil

from click.testing import CliRunner

from tests.scans import ZH_PAGE, page, scanned_pdf
from tui.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_scans_are_searched_and_cited_by_page(tmp_path, encoder, chat_model):
    folder = tmp_path / "scans"
    folder.mkdir()
    page(["Visitor badges are printed at the east lobby kiosk."]).save(folder / "badges.png")
    shutil.copy(ZH_PAGE, folder / "退货扫描件.png")
    scanned_pdf(folder / "lease.pdf", [page(["Office lease between Quarry Ltd and Harbor Estates."]),
                                       page(["The monthly rent for the office is 4,200 euros,",
                                             "paid on the first working day of each month."])])
    ws = tmp_path / "ws"
    result = run("ingest", folder, "-w", ws)
    assert result.exit_code == 0 and "3 ingested" in result.stdout and "0 failed" in result.stdout
    assert "OCR lease.pdf: page 2/2" in result.stderr  # progress per scanned page
    english = json.loads(run("search", "--json", "east lobby kiosk", "-w", ws).stdout)["hits"][0]
    assert english["file"].endswith("badges.png") and english["page"] == 1 and english["ocr"]
    chinese = json.loads(run("search", "--json", "退货运费由顾客承担", "-w", ws).stdout)["hits"][0]
    assert chinese["file"].endswith("退货扫描件.png") and "七天内可无理由退货" in chinese["text"]
    answer = json.loads(run("ask", "--json", "What is the monthly rent for the office?", "-w", ws).stdout)
    assert not answer["refused"]
    assert answer["citations"][0]["file"].endswith("lease.pdf") and answer["citations"][0]["page"] == 2
