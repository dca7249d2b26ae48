"""Writes the demo corpus (demo/docs) in every format Quarry ingests. Deterministic; rerun to refresh.

Usage: python demo/make_corpus.py
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import datetime
from pathlib import Path

import duckdb
from docx import Document
from fpdf import FPDF
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).parent))
import corpus_text as T  # noqa: E402

OUT = Path(__file__).parent / "docs"

PRODUCTS = [
    ("DSK-060", "StandPro 60 Electric Standing Desk", "furniture", 649.0,
     "Dual-motor standing desk, 62-127 cm, 120 kg capacity, bamboo or white top."),
    ("DSK-040", "StandPro 40 Compact Desk", "furniture", 429.0,
     "Single-motor compact standing desk for small rooms, 120 x 60 cm top."),
    ("CHR-210", "ErgoChair X", "furniture", 379.0,
     "Mesh office chair with adjustable lumbar support and 4D armrests."),
    ("CHR-110", "ErgoChair Basic", "furniture", 189.0, "Upholstered task chair with tilt lock."),
    ("CAB-020", "Oak Filing Cabinet", "furniture", 259.0, "Three-drawer lockable filing cabinet in oak veneer."),
    ("LMP-005", "Lumen Desk Lamp", "furniture", 69.0, "LED desk lamp with dimmer and USB charging port."),
    ("MON-027", "Clarity 27 4K Monitor", "electronics", 449.0,
     "27-inch 4K IPS monitor with USB-C 90 W power delivery."),
    ("MON-024", "Clarity 24 Monitor", "electronics", 229.0, "24-inch 1440p monitor with height-adjustable stand."),
    ("LAP-014", "Nimbus 14 Laptop", "electronics", 1299.0, "14-inch OLED laptop, 16 GB RAM, 1 TB SSD."),
    ("AUD-040", "Aurora Mini Soundbar", "electronics", 99.0, "Compact 40 W Bluetooth soundbar for desks."),
    ("AUD-100", "Aurora Headphones", "electronics", 199.0, "Noise-cancelling over-ear headphones, 30 h battery."),
    ("KBD-075", "Quill Mechanical Keyboard", "electronics", 129.0, "75% mechanical keyboard with hot-swap switches."),
    ("MSE-010", "Glide Wireless Mouse", "electronics", 49.0, "Ergonomic wireless mouse with silent clicks."),
    ("CAM-001", "Focus Webcam", "electronics", 89.0, "1080p webcam with privacy shutter."),
    ("AIR-400", "清风 400 空气净化器", "appliances", 1999.0, "适用面积 28-48 平方米的空气净化器。"),
]

REVIEWS_EN = [
    ("DSK-060", "Sturdy, quiet motors and the presets are great. Best desk I have owned.", "好评"),
    ("DSK-060", "Assembly took an hour, but the desk is rock solid at standing height.", "好评"),
    ("DSK-060", "Wobbles a little at full height. Fine for typing, annoying for drawing.", "中评"),
    ("DSK-060", "One motor died after three weeks and support took ages to answer.", "差评"),
    ("CHR-210", "My back pain is gone after a month with this chair. Worth every cent.", "好评"),
    ("CHR-210", "Comfortable mesh, but the armrests feel cheap.", "中评"),
    ("CHR-210", "The lumbar support broke in the first week. Very disappointed.", "差评"),
    ("MON-027", "Colours are stunning and one USB-C cable powers my laptop. Love it.", "好评"),
    ("MON-027", "Sharp picture, but the stand only tilts and does not swivel.", "中评"),
    ("MON-027", "Arrived with a dead pixel cluster and the replacement took two weeks.", "差评"),
    ("LAP-014", "Gorgeous screen and the battery really lasts all day.", "好评"),
    ("LAP-014", "Fast laptop, though the fan gets loud under load.", "中评"),
    ("LAP-014", "Keyboard stopped working after a month. Terrible quality for the price.", "差评"),
    ("AUD-040", "Surprisingly big sound for such a small bar.", "好评"),
    ("AUD-040", "Sound is okay, Bluetooth sometimes drops.", "中评"),
    ("AUD-040", "After the firmware update it will not turn on anymore. Useless.", "差评"),
    ("KBD-075", "Typing feels amazing and the build is heavy and solid.", "好评"),
    ("KBD-075", "Nice keyboard but the software is clunky.", "中评"),
    ("MSE-010", "Silent clicks as promised, fits my hand perfectly.", "好评"),
    ("MSE-010", "Scroll wheel started squeaking after two months. Not happy.", "差评"),
    ("CAM-001", "Clear image even in my dim office.", "好评"),
    ("CAM-001", "Average webcam, does the job.", "中评"),
    ("LMP-005", "Lovely warm light, the dimmer is smooth.", "好评"),
    ("CAB-020", "The drawer rails jammed out of the box and the lock is flimsy.", "差评"),
]

REVIEWS_ZH = [
    ("DSK-060", "桌子非常稳，升降很安静，安装也简单，非常满意。", "好评"),
    ("DSK-060", "质量不错，就是送货慢了两天。", "中评"),
    ("DSK-060", "用了一个月电机就坏了，客服一直不回复，太失望了。", "差评"),
    ("CHR-210", "椅子坐着很舒服，腰托设计很贴心，推荐购买。", "好评"),
    ("CHR-210", "还行吧，扶手有点晃。", "中评"),
    ("CHR-210", "网布很快就松了，质量太差。", "差评"),
    ("MON-027", "画面清晰，颜色准确，一根线就能给笔记本充电，好评！", "好评"),
    ("MON-027", "显示效果可以，但是底座不能旋转。", "中评"),
    ("MON-027", "收到就有坏点，换货等了两周，体验很差。", "差评"),
    ("AIR-400", "净化效果明显，晚上开睡眠模式很安静。", "好评"),
    ("AIR-400", "效果一般，滤网有点贵。", "中评"),
    ("AIR-400", "用了三天就有异响，申请退货很麻烦。", "差评"),
    ("LAP-014", "屏幕太漂亮了，续航也很给力。", "好评"),
    ("LAP-014", "性能不错，但风扇声音有点大。", "中评"),
    ("LAP-014", "键盘一个月就坏了，这个价格太不值了。", "差评"),
    ("AUD-040", "小小的音箱声音很大，很惊喜。", "好评"),
    ("AUD-040", "蓝牙偶尔断开，音质一般。", "中评"),
    ("AUD-040", "升级固件后就开不了机了，垃圾。", "差评"),
    ("KBD-075", "手感超级好，做工扎实。", "好评"),
    ("MSE-010", "静音效果好，握感舒服。", "好评"),
    ("MSE-010", "滚轮两个月就开始响，不满意。", "差评"),
    ("CAM-001", "画质清楚，暗光也不错。", "好评"),
    ("LMP-005", "灯光柔和，调光顺滑，很喜欢。", "好评"),
    ("CAB-020", "抽屉卡住了，锁也很松，质量差。", "差评"),
]

TICKETS = {
    "refund_request": [
        "I returned my monitor two weeks ago and still have not received my refund.",
        "Please refund my order, the desk is not what I expected.",
        "How do I get my money back for the soundbar I sent back?",
        "Refund status for order 10442? It has been 8 days.",
        "我退货已经一周了，退款什么时候到账？",
        "申请退款，椅子不合适。",
    ],
    "shipping_delay": [
        "My order was supposed to arrive on Monday and it is still not here.",
        "Tracking has not updated in five days, where is my parcel?",
        "The desk delivery appointment was missed by the freight company.",
        "Is my laptop stuck in customs? Tracking says exception.",
        "快递三天没有更新物流信息了，请帮忙查一下。",
        "订单显示已发货但是一直没收到。",
    ],
    "warranty_claim": [
        "One of the desk motors stopped working, it is under warranty.",
        "My soundbar will not power on after the firmware update.",
        "The chair's lumbar support snapped, can you replace it under warranty?",
        "Dead pixels appeared on my Clarity 27 after three months.",
        "升降桌电机坏了，在保修期内，怎么申请维修？",
        "空气净化器有异响，还在保修期。",
    ],
    "account_access": [
        "I cannot log in, the password reset email never arrives.",
        "My account is locked after too many attempts.",
        "How do I change the email address on my account?",
        "Two-factor code is not working when I sign in.",
        "账号登录不上，验证码收不到。",
        "忘记密码了，怎么重置？",
    ],
    "product_question": [
        "Does the StandPro 60 fit a 180 cm desktop?",
        "Can the Clarity 27 charge a laptop over USB-C?",
        "What is the maximum weight for the ErgoChair X?",
        "Is the Nimbus 14 RAM upgradeable?",
        "空气净化器适合多大的房间？",
        "这款键盘支持热插拔吗？",
    ],
    "billing": [
        "I was charged twice for the same order.",
        "Can I get an invoice with my company VAT number?",
        "The discount code was not applied at checkout.",
        "Why was I charged a restocking fee?",
        "怎么开增值税专用发票？",
        "优惠券没有生效，多扣了钱。",
    ],
}

STORES = [
    ("PDX-1", "Portland head office showroom", "Portland", "OR", "Mon-Sat 10:00-18:00"),
    ("SEA-1", "Seattle showroom", "Seattle", "WA", "Mon-Sun 10:00-19:00"),
    ("RNO-W", "Reno warehouse pickup desk", "Reno", "NV", "Mon-Fri 08:00-16:00"),
    ("SHA-1", "上海体验店", "上海", "SH", "每天 10:00-21:00"),
]

LOYALTY = [
    {"tier": "Silver", "min_spend_usd": 0, "discount_pct": 0, "perks": "Free returns on furniture pickups"},
    {"tier": "Gold", "min_spend_usd": 1000, "discount_pct": 5, "perks": "Early access to sales"},
    {"tier": "Platinum", "min_spend_usd": 3000, "discount_pct": 10,
     "perks": "Free white-glove delivery and a dedicated account manager"},
]


def latin(text: str) -> str:
    """Gives text that the PDF core fonts can draw."""
    return text.replace("—", "-").replace("×", "x").replace("’", "'")


def write_pdf(path: Path, pages: list[str]) -> None:
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    for page in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in page.split("\n"):
            pdf.multi_cell(0, 6, latin(line) or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_docx(path: Path, blocks: list[tuple[str, str]]) -> None:
    doc = Document()
    for kind, text in blocks:
        if kind == "h1":
            doc.add_heading(text, level=1)
        elif kind == "h2":
            doc.add_heading(text, level=2)
        else:
            doc.add_paragraph(text)
    doc.core_properties.created = datetime(2026, 10, 1)
    doc.save(str(path))


def write_tables(out: Path) -> None:
    rng = random.Random(7)
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    with (tables / "products.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "name", "category", "price_usd", "description"])
        w.writerows(PRODUCTS)
    with (tables / "reviews.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "sku", "lang", "text", "sentiment"])
        rows = [(s, "en", t, lab) for s, t, lab in REVIEWS_EN] + [(s, "zh", t, lab) for s, t, lab in REVIEWS_ZH]
        for i, (sku, lang, text, label) in enumerate(rows, start=1):
            w.writerow([f"R{i:04d}", sku, lang, text, label])
    with (tables / "support-tickets.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "text", "intent"])
        n = 1
        for intent, texts in TICKETS.items():
            for text in texts:
                w.writerow([f"T{n:04d}", text, intent])
                n += 1
    skus = [p[0] for p in PRODUCTS]
    # Orders follow sequences (desk -> chair -> lamp ...) so order-aware recommenders have signal.
    follow = {"DSK-060": ["CHR-210", "MON-027", "LMP-005"], "LAP-014": ["MON-027", "MSE-010", "KBD-075"],
              "MON-027": ["KBD-075", "CAM-001"], "CHR-210": ["LMP-005", "CAB-020"]}
    with (tables / "orders.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["order_id", "user_id", "sku", "ordered_at"])
        n = 1
        for user in range(1, 121):
            day = rng.randint(1, 200)
            sku = rng.choice(skus)
            for _ in range(rng.randint(1, 5)):
                w.writerow([f"O{n:05d}", f"U{user:03d}", sku,
                            f"2026-{1 + day // 31:02d}-{1 + day % 28:02d}T{rng.randint(8, 21):02d}:00:00"])
                n += 1
                day = min(day + rng.randint(1, 20), 330)
                nxt = follow.get(sku)
                sku = rng.choice(nxt) if nxt and rng.random() < 0.7 else rng.choice(skus)
    (tables / "loyalty-tiers.json").write_text(json.dumps(LOYALTY, indent=2, ensure_ascii=False),
                                               encoding="utf-8")
    con = duckdb.connect()
    con.execute("CREATE TABLE stores (store_id VARCHAR, name VARCHAR, city VARCHAR, region VARCHAR,"
                " hours VARCHAR)")
    con.executemany("INSERT INTO stores VALUES (?, ?, ?, ?, ?)", STORES)
    con.execute(f"COPY stores TO '{tables / 'stores.parquet'}' (FORMAT parquet)")
    wb = Workbook()
    ws = wb.active
    ws.title = "Prices 2026"
    ws.append(["SKU", "Product", "List price (USD)", "Member price (USD)"])
    for sku, name, _cat, price, _ in PRODUCTS:
        ws.append([sku, name, price, round(price * 0.95, 2)])
    wb.save(str(out / "price-list.xlsx"))
    import make_classify_data  # grows reviews and tickets past the hand-written rows; credit applications

    make_classify_data.write(tables, REVIEWS_EN, REVIEWS_ZH, TICKETS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for sub in ("policies", "products", "meetings", "zh"):
        (OUT / sub).mkdir(exist_ok=True)
    write_pdf(OUT / "policies" / "returns-policy.pdf", T.RETURNS_PAGES)
    write_docx(OUT / "policies" / "travel-policy.docx", T.TRAVEL_POLICY)
    (OUT / "policies" / "security-policy.md").write_text(T.SECURITY_POLICY, encoding="utf-8")
    (OUT / "policies" / "remote-work-policy.txt").write_text(T.REMOTE_WORK, encoding="utf-8")
    (OUT / "policies" / "expense-policy.html").write_text(T.EXPENSE_POLICY_HTML, encoding="utf-8")
    (OUT / "policies" / "data-retention-policy.md").write_text(T.DATA_RETENTION, encoding="utf-8")
    write_docx(OUT / "policies" / "vendor-code-of-conduct.docx", T.VENDOR_CODE)
    (OUT / "policies" / "shipping-policy.html").write_text(T.SHIPPING_HTML, encoding="utf-8")
    (OUT / "products" / "standpro-60.md").write_text(T.STANDPRO, encoding="utf-8")
    (OUT / "products" / "ergochair-x.html").write_text(T.ERGOCHAIR_HTML, encoding="utf-8")
    (OUT / "products" / "aurora-mini-soundbar.txt").write_text(T.SOUNDBAR, encoding="utf-8")
    write_pdf(OUT / "products" / "nimbus-14-laptop.pdf", T.NIMBUS_PAGES)
    write_docx(OUT / "products" / "clarity-27-monitor.docx", T.CLARITY_MONITOR)
    (OUT / "faq.md").write_text(T.FAQ, encoding="utf-8")
    (OUT / "warranty-claims.md").write_text(T.WARRANTY_CLAIMS, encoding="utf-8")
    (OUT / "meetings" / "2026-09-08-leadership.md").write_text(T.LEADERSHIP_NOTES, encoding="utf-8")
    (OUT / "meetings" / "2026-10-13-support-review.txt").write_text(T.SUPPORT_REVIEW, encoding="utf-8")
    write_docx(OUT / "meetings" / "2026-10-27-pricing.docx", T.PRICING_NOTES)
    write_pdf(OUT / "onboarding-guide.pdf", T.ONBOARDING_PAGES)
    (OUT / "holiday-schedule.txt").write_text(T.HOLIDAYS, encoding="utf-8")
    (OUT / "sustainability-report.md").write_text(T.SUSTAINABILITY, encoding="utf-8")
    (OUT / "company-overview.html").write_text(T.COMPANY_HTML, encoding="utf-8")
    (OUT / "zh" / "退货政策.md").write_text(T.ZH_RETURNS, encoding="utf-8")
    # Written in GBK on purpose: Chinese files from Windows often are; ingest must detect it.
    (OUT / "zh" / "员工手册.txt").write_bytes(T.ZH_HANDBOOK_GBK.encode("gbk"))
    (OUT / "zh" / "空气净化器说明.html").write_text(T.ZH_PURIFIER_HTML, encoding="utf-8")
    write_docx(OUT / "zh" / "双十一促销会议纪要.docx", T.ZH_MEETING)
    (OUT / "zh" / "常见问题.md").write_text(T.ZH_FAQ, encoding="utf-8")
    (OUT / "zh" / "保修条款.txt").write_text(T.ZH_WARRANTY, encoding="utf-8")
    (OUT / "zh" / "升降桌产品说明.md").write_text(T.ZH_DESK, encoding="utf-8")
    (OUT / "zh" / "台北門市公告.txt").write_bytes(T.ZH_TW_NOTICE.encode("big5"))
    (OUT / "supplier-letter-fr.txt").write_bytes(T.SUPPLIER_LETTER_FR.encode("latin-1"))
    write_pdf(OUT / "q3-sales-summary.pdf", T.SALES_SUMMARY_PAGES)
    (OUT / "it-helpdesk.md").write_text(T.IT_HELPDESK, encoding="utf-8")
    write_tables(OUT)
    print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files to {OUT}")


if __name__ == "__main__":
    main()
