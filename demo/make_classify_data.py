"""Writes the demo tables a user would classify: reviews (English and Chinese, 好评/中评/差评), support tickets
(nine intents) and credit applications (a default label that depends on the features non-linearly, with
noise). Deterministic; rerun to refresh. Texts are composed from many fragments with mixed feelings and a
little label noise, so no method scores 1.0 and the figures mean something.

Usage: python demo/make_classify_data.py
"""

from __future__ import annotations

import csv
import math
import random
import sys
from pathlib import Path

TABLES = Path(__file__).parent / "docs" / "tables"
CREDIT_FILE = Path(__file__).parent / "classify" / "credit-applications.csv"
REVIEW_ROWS = 640
TICKET_ROWS = 450
CREDIT_ROWS = 2000
LABEL_NOISE = 0.05

SKUS = ["DSK-060", "DSK-040", "CHR-210", "CHR-110", "MON-027", "MON-024", "LAP-014", "AUD-040", "AUD-100",
        "KBD-075", "MSE-010", "CAM-001", "LMP-005", "AIR-400"]
THING_EN = {"DSK": "desk", "CHR": "chair", "MON": "monitor", "LAP": "laptop", "AUD": "speaker", "KBD": "keyboard",
            "MSE": "mouse", "CAM": "webcam", "LMP": "lamp", "AIR": "purifier"}
THING_ZH = {"DSK": "桌子", "CHR": "椅子", "MON": "显示器", "LAP": "笔记本", "AUD": "音箱", "KBD": "键盘", "MSE": "鼠标",
            "CAM": "摄像头", "LMP": "台灯", "AIR": "净化器"}

GOOD_EN = ["the {t} feels solid and well made", "setup took ten minutes", "it looks great on my desk",
           "works exactly as described", "the build quality surprised me", "delivery was quicker than promised",
           "my back pain is gone since I switched", "very quiet, I barely notice it",
           "the price was fair for what you get",
           "the colours are accurate out of the box", "battery lasts all week", "support answered within an hour",
           "the instructions were clear", "sturdy and stable even at full height", "comfortable for long days",
           "everything arrived well packed", "it does what I need without fuss", "my kids love it",
           "worth every cent", "the finish is lovely", "easy to adjust", "I would buy it again"]
BAD_EN = ["the {t} stopped working after a week", "a part was missing from the box", "it wobbles constantly",
          "the paint chipped on day two", "way too loud for an office", "the remote broke immediately",
          "support never replied to my emails", "it arrived scratched", "the manual is useless",
          "it overheats after an hour", "the screws did not fit", "returns were a nightmare",
          "it feels cheap and flimsy", "the colours are washed out", "delivery took a month",
          "it smells of plastic", "the battery died within days", "it squeaks every time I move",
          "I was charged twice", "nothing like the photos", "the app keeps disconnecting"]
MEH_EN = ["it is okay for the price", "does the job, nothing special", "average at best", "fine, I guess",
          "neither great nor terrible", "it is what it is", "acceptable but I expected more",
          "not bad, not amazing", "a decent {t} overall", "three stars feels right", "it works most of the time",
          "I have mixed feelings about it"]
OPEN_EN = ["", "", "Bought this for my home office. ", "Second one I own. ", "Gift for my partner. ",
           "After a month of use: ", "Honest review: ", "Short version: ", "Updated after two weeks. "]
CLOSE_EN = {"好评": ["", "", " Recommended.", " Five stars.", " Thanks!"],
            "中评": ["", "", " We'll see how it holds up.", " Meh.", " Three stars."],
            "差评": ["", "", " Would not recommend.", " Returning it.", " One star."]}
BUT_EN = [", but ", "; however ", ". On the other hand ", ", although ", ". Still, "]

GOOD_ZH = ["做工很扎实", "安装十分钟就搞定了", "放在桌上很好看", "和描述的一模一样", "质量超出预期", "物流比预计的还快",
           "用了以后腰不疼了", "非常安静几乎听不到", "这个价格很划算", "颜色很正", "续航一周没问题",
           "客服一小时就回复了",
           "说明书写得很清楚", "升到最高也很稳", "坐一整天也舒服", "包装很用心", "简单好用", "孩子很喜欢", "物超所值",
           "手感很好", "调节很方便", "还会回购"]
BAD_ZH = ["用了一周就坏了", "少发了一个零件", "一直晃来晃去", "第二天就掉漆了", "声音太大了", "遥控器一用就坏",
          "客服一直不回消息", "收到时有划痕", "说明书根本看不懂", "用一小时就发烫", "螺丝对不上", "退货太麻烦了",
          "做工粗糙", "颜色发灰", "等了一个月才到", "有股塑料味", "电池几天就没电了", "一动就吱吱响", "被扣了两次钱",
          "和图片差太多", "蓝牙老是断"]
MEH_ZH = ["这个价格还行吧", "能用，没什么亮点", "一般般", "凑合用", "不好不坏", "就那样吧", "还可以但没有想象中好",
          "中规中矩", "整体还算可以", "给三星吧", "大部分时候能用", "说不上喜欢也说不上讨厌"]
OPEN_ZH = ["", "", "买来放家里办公用，", "第二次买了，", "送朋友的，", "用了一个月，", "说实话，", "简单说，"]
CLOSE_ZH = {"好评": ["", "", "推荐购买。", "五星好评。", "谢谢！"],
            "中评": ["", "", "再观察看看。", "唉。", "三星吧。"],
            "差评": ["", "", "不推荐。", "准备退了。", "一星。"]}
BUT_ZH = ["，但是", "，不过", "，可惜", "，就是", "，然而"]

LABELS = ["好评", "中评", "差评"]


def _review(rng: random.Random, lang: str, label: str, thing: str) -> str:
    good, bad, meh = (GOOD_EN, BAD_EN, MEH_EN) if lang == "en" else (GOOD_ZH, BAD_ZH, MEH_ZH)
    opener, closer, but = (OPEN_EN, CLOSE_EN, BUT_EN) if lang == "en" else (OPEN_ZH, CLOSE_ZH, BUT_ZH)
    joiner = ", and " if lang == "en" else "，"
    if label == "好评":
        parts = rng.sample(good, rng.randint(1, 3))
        tail = [rng.choice(bad)] if rng.random() < 0.2 else []
    elif label == "差评":
        parts = rng.sample(bad, rng.randint(1, 3))
        tail = [rng.choice(good)] if rng.random() < 0.2 else []
    else:
        shape = rng.random()
        if shape < 0.4:
            parts, tail = [rng.choice(meh)], []
        elif shape < 0.8:
            parts, tail = [rng.choice(good)], [rng.choice(bad)]
            if rng.random() < 0.5:
                parts, tail = [rng.choice(bad)], [rng.choice(good)]
        else:
            parts, tail = [rng.choice(meh), rng.choice(good if rng.random() < 0.5 else bad)], []
    text = joiner.join(parts)
    if tail:
        text += rng.choice(but) + tail[0]
    text = text.format(t=thing)
    if lang == "en":
        text = text[0].upper() + text[1:] + "."
        if len(text) > 2 and text[1].islower() and rng.random() < 0.1:
            text = text.lower()  # some people never press shift
    else:
        text += "。"
    mood = label if rng.random() < 0.75 else rng.choice(LABELS)  # a closer that disagrees, now and then
    return (rng.choice(opener) + text + rng.choice(closer[mood])).strip()


TICKETS = {
    "refund_request": ["I want my money back for {o}", "please refund {o}", "how long does a refund take for {o}",
                       "still waiting on the refund for {o}", "can I get a refund instead of store credit for {o}",
                       "the return was received but no refund yet for {o}",
                       "refund me please, {o} was not what I ordered"],
    "shipping_delay": ["where is {o}", "{o} has not arrived yet", "tracking for {o} has not moved in days",
                       "the courier says {o} is delayed again", "{o} was due last week", "is {o} lost in transit",
                       "when will {o} finally ship"],
    "account_access": ["I cannot log in to my account", "the password reset email never comes",
                       "my account is locked after too many tries", "two-factor code is not accepted",
                       "I forgot which email I signed up with", "the site says my login is invalid",
                       "how do I unlock my account"],
    "billing": ["I was charged twice for {o}", "the invoice for {o} shows the wrong amount",
                "why is there an extra fee on {o}", "my card was billed but {o} was cancelled",
                "the VAT on {o} looks wrong", "please send a corrected invoice for {o}", "the price I paid for {o} "
                "does not match the sale price"],
    "product_question": ["does the {p} work with a Mac", "what is the weight limit of the {p}",
                         "is the {p} available in white", "can the {p} be wall mounted", "does the {p} come with a "
                         "cable", "how tall does the {p} go", "what warranty does the {p} have"],
    "warranty_claim": ["the {p} broke after four months, is it covered", "the motor of my {p} failed within the "
                       "warranty", "my {p} has a dead pixel line, warranty please", "the {p} stopped charging, I "
                       "bought it last spring", "a crack appeared in the {p} frame, it is under warranty",
                       "can you repair my {p} under the guarantee"],
    "order_change": ["can I change the address on {o}", "please cancel {o} before it ships",
                     "I need to add a second item to {o}", "switch {o} to express delivery",
                     "I ordered the wrong colour in {o}, can you swap it", "change the delivery date of {o}"],
    "damaged_item": ["{o} arrived with a dented corner", "the box of {o} was crushed and the {p} is cracked",
                     "glass in {o} was shattered on arrival", "the {p} in {o} came scratched",
                     "parts of {o} are bent", "the courier dropped {o}, the {p} is damaged"],
    "feedback": ["just wanted to say the {p} is great", "your delivery driver was very kind",
                 "suggestion: offer the {p} in more colours", "the new website is confusing",
                 "love the {p}, thanks team", "your store staff in Seattle were helpful",
                 "please make the manuals for the {p} easier to read"],
}
TICKET_OPEN = ["", "", "Hi, ", "Hello team, ", "Urgent: ", "Good morning. ", "Quick question - ", "Hey, ",
               "To whom it may concern: "]
TICKET_CLOSE = ["", "", " Thanks.", " Regards.", " Please help.", " This is the second time I ask.",
                " Order placed online.", " I am a loyalty member."]


def _ticket(rng: random.Random, intent: str) -> str:
    text = rng.choice(TICKETS[intent]).format(o=rng.choice(["my order", f"order {rng.randint(10000, 19999)}",
                                                             "the parcel", "my purchase", "the delivery"]),
                                               p=rng.choice(list(THING_EN.values())))
    if rng.random() < 0.15:  # a second concern muddies some tickets, as real ones do
        other = rng.choice([k for k in TICKETS if k != intent])
        text += ". Also, " + rng.choice(TICKETS[other]).format(o="another order", p=rng.choice(list(THING_EN.values())))
    opener = rng.choice(TICKET_OPEN)
    text = (text[0].upper() if opener in ("", "Urgent: ", "Good morning. ", "To whom it may concern: ") else
            text[0]) + text[1:]
    if not text.endswith(("?", ".")):
        text += "?" if text.split()[0].lower() in ("how", "where", "when", "is", "can", "does", "what", "why") else "."
    return (opener + text + rng.choice(TICKET_CLOSE)).strip()


REGIONS = ["north", "south", "east", "west", "central"]


def _credit(rng: random.Random, n: int) -> list[list]:
    rows = []
    for i in range(1, n + 1):
        age = int(min(80, max(18, rng.gauss(41, 13))))
        employment = max(0.0, round(min(age - 18, rng.expovariate(1 / 6)), 1))
        income = int(max(9000, rng.lognormvariate(math.log(48000), 0.5)))
        debt_ratio = round(min(0.95, max(0.0, rng.betavariate(2, 5))), 3)
        past = min(4, int(rng.expovariate(2.2)))
        region = rng.choices(REGIONS, weights=[3, 2, 2, 2, 1])[0]
        loan = int(rng.choice([2000, 5000, 8000, 12000, 20000, 35000]) * rng.uniform(0.8, 1.2))
        z = -2.6
        z += 2.2 * (debt_ratio > 0.45) * (income < 42000)          # stretched and poor: an interaction
        z += 0.9 * past + 0.5 * (past >= 2)
        z += 0.9 * (employment < 1.0)
        z += 0.8 * ((age - 45) / 20) ** 2 - 0.4                     # young and old borrowers: U-shaped
        z += 1.1 * max(0.0, loan / income - 0.35) * 3
        z += {"north": -0.3, "south": 0.4, "east": 0.0, "west": -0.1, "central": 0.6}[region]
        label = "default" if rng.random() < 1 / (1 + math.exp(-z)) else "repaid"
        rows.append([f"A{i:05d}", age, income, debt_ratio, employment, past, region, loan, label])
    return rows


def write(tables: Path = TABLES, reviews_en=(), reviews_zh=(), tickets: dict | None = None) -> None:
    """Writes reviews.csv, support-tickets.csv and demo/classify/credit-applications.csv; hand-written rows first."""
    rng = random.Random(16)
    tables.mkdir(parents=True, exist_ok=True)
    rows = [(s, "en", t, lab) for s, t, lab in reviews_en] + [(s, "zh", t, lab) for s, t, lab in reviews_zh]
    while len(rows) < REVIEW_ROWS:
        sku = rng.choice(SKUS)
        lang = "zh" if rng.random() < 0.45 else "en"
        label = rng.choices(LABELS, weights=[5, 3, 3])[0]
        thing = (THING_EN if lang == "en" else THING_ZH)[sku[:3]]
        text = _review(rng, lang, label, thing)
        if rng.random() < LABEL_NOISE:
            label = rng.choice([x for x in LABELS if x != label])
        rows.append((sku, lang, text, label))
    with (tables / "reviews.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "sku", "lang", "text", "sentiment"])
        for i, (sku, lang, text, label) in enumerate(rows, start=1):
            w.writerow([f"R{i:04d}", sku, lang, text, label])
    ticket_rows = [(text, intent) for intent, texts in (tickets or {}).items() for text in texts]
    intents = list(TICKETS)
    while len(ticket_rows) < TICKET_ROWS:
        intent = rng.choice(intents)
        text = _ticket(rng, intent)
        if rng.random() < LABEL_NOISE:
            intent = rng.choice([x for x in intents if x != intent])
        ticket_rows.append((text, intent))
    with (tables / "support-tickets.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "text", "intent"])
        for i, (text, intent) in enumerate(ticket_rows, start=1):
            w.writerow([f"T{i:04d}", text, intent])
    # Credit rows are numbers, not documents: they live beside the corpus, not in it (no chunks to embed).
    CREDIT_FILE.parent.mkdir(parents=True, exist_ok=True)
    with CREDIT_FILE.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["application_id", "age", "income", "debt_ratio", "employment_years", "past_defaults", "region",
                    "loan_amount", "outcome"])
        w.writerows(_credit(rng, CREDIT_ROWS))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import make_corpus

    write(TABLES, make_corpus.REVIEWS_EN, make_corpus.REVIEWS_ZH, make_corpus.TICKETS)
