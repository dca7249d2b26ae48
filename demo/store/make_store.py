"""Writes the demo store's catalog and interaction log (demo/store). Deterministic; rerun to refresh.

The log has the structure real shop logs have, so the recommendation methods differ for real reasons:
long-tailed popularity within each product type, a category affinity per user, and sequences (a desk,
then a chair, then a monitor arm; a phone, then a case for that phone, then a charger), spread over six
months. Only the standard library is used.

Usage: python demo/store/make_store.py
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).parent
SEED = 17
USERS = 1200

# category -> (Chinese name, [(type, Chinese type, base price, [chain of types it leads to])])
CATEGORIES: dict[str, tuple[str, list[tuple[str, str, float]]]] = {
    "Furniture": ("家具", [("standing desk", "升降桌", 520), ("office chair", "办公椅", 260),
                           ("monitor arm", "显示器支架", 85), ("desk lamp", "台灯", 45),
                           ("bookshelf", "书架", 150), ("filing cabinet", "文件柜", 190)]),
    "Phones": ("手机与配件", [("smartphone", "智能手机", 690), ("phone case", "手机壳", 25),
                              ("fast charger", "快充充电器", 29), ("screen protector", "钢化膜", 12),
                              ("wireless earbuds", "无线耳机", 110), ("power bank", "充电宝", 39)]),
    "Computers": ("电脑与外设", [("laptop", "笔记本电脑", 1150), ("laptop sleeve", "电脑内胆包", 35),
                                 ("wireless mouse", "无线鼠标", 32), ("USB-C hub", "扩展坞", 55),
                                 ("mechanical keyboard", "机械键盘", 95), ("monitor", "显示器", 280)]),
    "Kitchen": ("厨房", [("espresso machine", "意式咖啡机", 420), ("coffee beans", "咖啡豆", 18),
                         ("milk frother", "奶泡器", 45), ("electric kettle", "电水壶", 40),
                         ("ceramic mug", "陶瓷马克杯", 14), ("blender", "破壁机", 120)]),
    "Outdoor": ("户外", [("tent", "帐篷", 230), ("sleeping bag", "睡袋", 95), ("camping stove", "露营炉", 60),
                         ("headlamp", "头灯", 28), ("hiking boots", "登山鞋", 140), ("trekking poles", "登山杖", 50)]),
    "Home": ("家居", [("air purifier", "空气净化器", 260), ("purifier filter", "净化器滤网", 40),
                      ("humidifier", "加湿器", 70), ("robot vacuum", "扫地机器人", 380),
                      ("LED bulb pack", "LED灯泡套装", 20), ("blackout curtains", "遮光窗帘", 55)]),
    "Audio & TV": ("影音", [("4K TV", "4K电视", 780), ("TV wall mount", "电视壁挂架", 45),
                            ("soundbar", "回音壁音箱", 220), ("HDMI cable", "HDMI线", 12),
                            ("streaming stick", "电视棒", 49), ("headphones", "头戴式耳机", 180)]),
    "Stationery": ("文具", [("notebook", "笔记本", 9), ("fountain pen", "钢笔", 38), ("ink bottle", "墨水", 11),
                            ("planner", "日程本", 19), ("desk organizer", "桌面收纳盒", 24),
                            ("sticky notes", "便利贴", 5)]),
}

CHAINS = [
    ["standing desk", "office chair", "monitor arm", "desk lamp"],
    ["smartphone", "phone case", "fast charger", "screen protector"],
    ["laptop", "laptop sleeve", "wireless mouse", "USB-C hub"],
    ["espresso machine", "coffee beans", "milk frother"],
    ["tent", "sleeping bag", "camping stove", "headlamp"],
    ["air purifier", "purifier filter"],
    ["4K TV", "TV wall mount", "soundbar", "HDMI cable"],
    ["fountain pen", "ink bottle", "notebook"],
    ["monitor", "mechanical keyboard", "desk organizer"],
]

BRANDS = ["Nova", "Pulse", "Orbit", "Lumen", "Kestrel", "Aster", "Tidal", "Juniper"]
BRANDS_ZH = {"Nova": "诺瓦", "Pulse": "脉冲", "Orbit": "轨道", "Lumen": "流明", "Kestrel": "红隼",
             "Aster": "紫菀", "Tidal": "潮汐", "Juniper": "杜松"}
COLORS = [("black", "黑色"), ("white", "白色"), ("grey", "灰色"), ("oak", "橡木色"), ("blue", "蓝色"),
          ("green", "绿色"), ("red", "红色")]
ADJECTIVES = ["quiet", "compact", "sturdy", "lightweight", "premium", "budget", "foldable", "ergonomic",
              "durable", "slim"]
ADJECTIVES_ZH = {"quiet": "静音", "compact": "小巧", "sturdy": "结实", "lightweight": "轻便", "premium": "高端",
                 "budget": "实惠", "foldable": "可折叠", "ergonomic": "人体工学", "durable": "耐用", "slim": "纤薄"}
VARIANTS = 7  # items per product type: 8 categories x 6 types x 7 = 336 items


def make_catalog(rng: random.Random) -> list[dict]:
    items = []
    for category, (category_zh, types) in CATEGORIES.items():
        for type_en, type_zh, base in types:
            for v in range(VARIANTS):
                brand = BRANDS[(v + len(items)) % len(BRANDS)]
                color, color_zh = COLORS[rng.randrange(len(COLORS))]
                adjective = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
                model = f"{brand} {type_en.split()[-1].capitalize()} {v + 1}"
                price = round(base * rng.uniform(0.6, 1.6), 0) - 0.01
                item_id = f"{''.join(w[0] for w in type_en.upper().split())[:3]}-{len(items) + 1:03d}"
                items.append({
                    "item_id": item_id,
                    "title": f"{model} {type_en} ({color})",
                    "text": (f"A {adjective} {type_en} by {brand} in {color}. {category} for home and office. "
                             f"{BRANDS_ZH[brand]}{ADJECTIVES_ZH[adjective]}{type_zh}，{color_zh}，"
                             f"适合家庭和办公室。"),
                    "category": category,
                    "price": price,
                    "attributes": json.dumps({"brand": brand, "color": color, "type": type_en,
                                              "title_zh": f"{BRANDS_ZH[brand]} {type_zh}（{color_zh}）",
                                              "category_zh": category_zh}, ensure_ascii=False),
                    "_type": type_en, "_variant": v,
                })
    return items


def make_log(rng: random.Random, items: list[dict]) -> list[tuple]:
    by_type: dict[str, list[dict]] = {}
    for item in items:
        by_type.setdefault(item["_type"], []).append(item)
    # Long tail: a Zipf weight per variant, shuffled so the favourite is not always variant 0.
    weights = {}
    for type_en, group in by_type.items():
        ranks = list(range(len(group)))
        rng.shuffle(ranks)
        weights[type_en] = [1.0 / (r + 1) ** 1.3 for r in ranks]
    type_pop = {t: rng.lognormvariate(0, 0.6) for t in by_type}
    chain_of = {c[0]: c for c in CHAINS}
    categories = list(CATEGORIES)
    start = datetime(2026, 5, 1)
    span = (datetime(2026, 10, 31) - start).total_seconds()
    events = []
    for u in range(USERS):
        user = f"u{u + 1:04d}"
        affinity = [rng.gammavariate(0.3, 1) + 1e-6 for _ in categories]
        sessions = max(1, int(rng.lognormvariate(1.9, 0.7)))
        visits = sorted(rng.random() * span for _ in range(sessions))
        for visit in visits:
            t = start + timedelta(seconds=visit)
            category = rng.choices(categories, affinity)[0]
            types = [t_[0] for t_ in CATEGORIES[category][1]]
            first = rng.choices(types, [type_pop[x] for x in types])[0]
            chain = chain_of.get(first, [first])
            family = None
            for step, type_en in enumerate(chain):
                group = by_type[type_en]
                if family is not None and rng.random() < 0.7:
                    pick = group[family % len(group)]
                else:
                    pick = rng.choices(group, weights[type_en])[0]
                family = pick["_variant"]
                for _ in range(rng.choice([0, 0, 1, 2])):  # look at other variants first
                    seen = rng.choices(group, weights[type_en])[0]
                    if seen is not pick:
                        events.append((user, seen["item_id"], "view", t))
                        t += timedelta(minutes=rng.randint(1, 20))
                events.append((user, pick["item_id"], "view", t))
                if rng.random() < 0.4:
                    t += timedelta(minutes=rng.randint(1, 30))
                    events.append((user, pick["item_id"], "cart", t))
                t += timedelta(minutes=rng.randint(1, 60))
                events.append((user, pick["item_id"], "purchase", t))
                if step + 1 < len(chain) and rng.random() > 0.7:
                    break
                t += timedelta(hours=rng.randint(2, 24 * 6))
            if rng.random() < 0.3:  # a stray look at something popular elsewhere
                type_en = rng.choices(list(type_pop), list(type_pop.values()))[0]
                stray = rng.choices(by_type[type_en], weights[type_en])[0]
                events.append((user, stray["item_id"], "view", t + timedelta(minutes=5)))
    events.sort(key=lambda e: (e[3], e[0]))
    return events


def main() -> None:
    rng = random.Random(SEED)
    items = make_catalog(rng)
    events = make_log(rng, items)
    with open(OUT / "catalog.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["item_id", "title", "text", "category", "price", "attributes"])
        for item in items:
            writer.writerow([item[k] for k in ("item_id", "title", "text", "category", "price", "attributes")])
    with gzip.GzipFile(OUT / "interactions.csv.gz", "wb", mtime=0) as raw, \
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["user_id", "item_id", "event", "timestamp"])
        for user, item, event, t in events:
            writer.writerow([user, item, event, t.strftime("%Y-%m-%d %H:%M:%S")])
    users = len({e[0] for e in events})
    print(f"{len(items)} items, {users} users, {len(events)} events -> {OUT}")


if __name__ == "__main__":
    main()
