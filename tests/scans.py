"""Scanned pages made by the tests: English text drawn with Pillow's own font (no system font needed), the
Chinese page committed as tests/data/scan-zh.png (drawn once with Noto Sans CJK), PDFs of page images."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

DATA = Path(__file__).resolve().parent / "data"
ZH_PAGE = DATA / "scan-zh.png"
ZH_TEXT = "七天无理由退货：未拆封的扫描仪自签收之日起七天内可无理由退货，退货运费由顾客承担。"


def page(lines: list[str], width: int = 1000, mode: str = "L") -> Image.Image:
    """Gives a white page with the lines drawn in black, 28 px type (Pillow's bundled font), one line
    every 44 px."""
    font = ImageFont.load_default(size=28)
    image = Image.new(mode, (width, 80 + 44 * len(lines)), 255 if mode == "L" else "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 44 * i), line, font=font, fill=0 if mode == "L" else "black")
    return image


def scanned_pdf(path: Path, pages: list[Image.Image]) -> Path:
    """Writes the images as an image-only PDF (what a scanner makes: no text layer), 150 dpi."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, save_all=True, append_images=rest, resolution=150)
    return path


def mixed_pdf(path: Path, text: str, scan: Image.Image, tmp: Path) -> Path:
    """Writes a PDF whose page 1 has a text layer and whose page 2 is only an image of a page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.add_page()
    picture = tmp / "page2.png"
    scan.save(picture)
    pdf.image(str(picture), x=10, y=10, w=190)
    pdf.output(str(path))
    return path
