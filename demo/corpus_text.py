"""The demo company's documents as text: Corvid Home & Office, a fictional retailer of office furniture
and electronics. Written for Quarry; every fact here is invented. make_corpus.py writes them out."""

RETURNS_PAGES = [
    """Corvid Home & Office — Returns and Refunds Policy
Version 4.2, effective 1 March 2026. Owner: Customer Care.

1. Standard return window
Unopened items in their original packaging may be returned within 30 days of delivery for a full refund.
Proof of purchase (order number or receipt) is required for every return.

2. Opened electronics
Opened electronics (laptops, monitors, soundbars, headphones and other devices with a power supply) may
be returned within 15 days of delivery. A 10% restocking fee applies to opened electronics unless the item
is defective. All accessories, cables and manuals must be included.

3. Furniture
Assembled furniture can be returned within 14 days if it is undamaged. Customers must disassemble the
item and book a pickup; a pickup fee of $49 applies to furniture returns.""",
    """4. Refund timing
Refunds are issued to the original payment method within 5 business days after the returned item is
received and inspected at our Reno warehouse. Store credit is issued immediately on request.

5. Damaged or defective items
Items that arrive damaged must be reported within 48 hours of delivery with photos. We ship a replacement
at no cost or refund in full, including original shipping charges. No restocking fee applies.

6. Exceptions
Clearance items marked "final sale", gift cards, opened software licences and custom-cut desktops cannot be
returned. Gift recipients may return items for store credit using the gift receipt.

7. How to start a return
Open the Returns page in your account, choose the items, and print the prepaid label. Drop the parcel at
any partner carrier location. Questions: returns@corvid.example, +1 775 555 0142.""",
]

TRAVEL_POLICY = [
    ("h1", "Corvid Travel and Per Diem Policy"),
    ("p", "This policy covers business travel by all employees and contractors. Effective 1 January 2026."),
    ("h2", "Booking"),
    ("p", "All flights, hotels and rail must be booked through the Corvid travel portal (TripDesk) at least "
          "14 days before departure when possible. Bookings made outside the portal are not reimbursed "
          "without written approval from Finance."),
    ("p", "Economy class is required for flights under 6 hours. Premium economy is allowed for flights of "
          "6 hours or more. Business class requires approval from a vice president."),
    ("h2", "Hotels"),
    ("p", "The nightly hotel cap is $220 in most cities and $320 in New York, San Francisco, London and Tokyo."),
    ("h2", "Per diem"),
    ("p", "Meals and incidentals are covered by a daily per diem of $65 for domestic travel and $90 for "
          "international travel. No receipts are needed for meals covered by the per diem."),
    ("p", "Personal car use is reimbursed at $0.67 per mile. Rental cars must be compact or mid-size."),
    ("h2", "Expense reports"),
    ("p", "Submit receipts for flights, hotels and ground transport in the expense tool within 10 days of "
          "returning. Late reports are escalated to the employee's manager."),
]

SECURITY_POLICY = """# Information Security Policy

Applies to every employee, contractor and system of Corvid Home & Office. Owner: IT Security.

## Passwords and sign-in

- Passwords must be at least 14 characters long and unique to Corvid.
- Multi-factor authentication (MFA) is mandatory for email, the VPN and every admin console.
- Passwords are never shared, not even with IT staff.

## Devices

- Laptops must use full-disk encryption and lock after 5 minutes of inactivity.
- Lost or stolen devices are reported to IT within 1 hour.
- Personal USB drives are blocked on company laptops.

## Incidents

Report any suspected phishing email, malware or data leak to security@corvid.example within 1 hour.
Do not forward the suspicious message; use the Report Phish button instead.

## Visitors

Visitors sign in at reception, wear a red badge and are escorted at all times in the warehouse.
"""

REMOTE_WORK = """Corvid Remote Work Policy (2026)

Eligible employees may work remotely up to 3 days per week. Core collaboration hours are 10:00 to 15:00
Pacific time, when everyone is expected to be reachable.

Equipment: each remote employee receives a one-time home office stipend of $500 for a chair, desk or
monitor, plus $40 per month toward internet costs.

Warehouse and showroom staff are not eligible for remote work. Managers review arrangements every 6 months.
Working from another country for more than 14 days requires approval from HR because of tax rules.
"""

EXPENSE_POLICY_HTML = """<html><head><title>Expense Policy</title></head><body>
<h1>Expense Policy</h1>
<p>Employees are reimbursed for reasonable business expenses that are submitted with receipts.</p>
<h2>Approvals</h2>
<ul><li>Expenses up to $1,000 are approved by the employee's manager.</li>
<li>Expenses over $1,000 need approval from a director.</li>
<li>Expenses over $10,000 need approval from the CFO.</li></ul>
<h2>Corporate card</h2>
<p>The corporate card is for business expenses only. Personal charges must be repaid within 30 days.</p>
<h2>Client entertainment</h2>
<p>Client meals are capped at $120 per person, including tip. Alcohol is reimbursed only at client dinners.</p>
<script>var tracking = "this script text must not be ingested";</script>
</body></html>"""

STANDPRO = """# StandPro 60 Electric Standing Desk — Product Sheet

SKU: DSK-060. Category: furniture.

## Specifications

| Feature | Value |
|---|---|
| Desktop | 160 × 80 cm bamboo or white laminate |
| Height range | 62 to 127 cm, dual motor |
| Load capacity | 120 kg |
| Lift speed | 38 mm per second |
| Memory presets | 4 |

## Warranty

The frame is covered for 7 years and the motors and control box for 2 years.

## In the box

Frame, desktop, control panel, cable tray and an assembly kit. Assembly takes about 45 minutes.
"""

ERGOCHAIR_HTML = """<html><head><title>ErgoChair X</title></head><body>
<h1>ErgoChair X</h1>
<p>SKU CHR-210. A breathable mesh office chair with adjustable lumbar support and 4D armrests.</p>
<h2>Details</h2>
<p>Seat height 44 to 54 cm. Maximum user weight 136 kg. Synchro-tilt with 5 lock positions.</p>
<h2>Warranty</h2>
<p>The ErgoChair X has a 5-year warranty on the frame, mechanism and mesh.</p>
</body></html>"""

SOUNDBAR = """Aurora Mini Soundbar — product information
SKU: AUD-040 (electronics)

The Aurora Mini is a compact 40 W soundbar for desks and small rooms. It connects over Bluetooth 5.3,
USB-C audio or a 3.5 mm input. Two full-range drivers and a passive radiator.

Battery: none; it is powered by USB-C (15 W adapter included).
Warranty: 1 year from the date of delivery. Opened units follow the electronics return rules.
Colours: graphite and sand.
"""

NIMBUS_PAGES = [
    """Nimbus 14 Laptop — Technical Sheet (SKU LAP-014)

Display: 14-inch 2880 x 1800 OLED, 90 Hz.
Processor: 8-core, up to 4.8 GHz. Memory: 16 GB LPDDR5. Storage: 1 TB NVMe SSD.
Weight: 1.2 kg. Ports: 2x USB-C (Thunderbolt), 1x USB-A, HDMI 2.1, headphone jack.""",
    """Battery and charging
The 72 Wh battery lasts up to 12 hours of web browsing. The 65 W USB-C charger reaches 50% in 30 minutes.

Warranty and support
Nimbus 14 comes with a 2-year limited warranty. An extended 3-year care plan can be bought within
60 days of purchase.""",
]

CLARITY_MONITOR = [
    ("h1", "Clarity 27 4K Monitor"),
    ("p", "SKU MON-027. A 27-inch 3840 x 2160 IPS monitor for office and photo work."),
    ("h2", "Connectivity"),
    ("p", "USB-C with 90 W power delivery, DisplayPort 1.4, two HDMI 2.0 ports and a 4-port USB hub."),
    ("h2", "Colour"),
    ("p", "Covers 98% of DCI-P3 and ships factory calibrated with a report in the box."),
    ("h2", "Warranty"),
    ("p", "3 years, including a zero bright-pixel guarantee for the first 30 days."),
]

FAQ = """# Customer FAQ

## How long does shipping take?
Standard shipping takes 3 to 5 business days within the continental US. Express shipping takes 1 to 2
business days.

## Is shipping free?
Shipping is free on orders over $75. Furniture over 30 kg ships with white-glove delivery for $79.

## Do you ship internationally?
We ship to Canada and Mexico. Duties are collected at checkout.

## Do you match prices?
Yes. If you find a lower advertised price from an authorised retailer within 14 days of purchase, we refund
the difference once per order.

## How do I track my order?
Open "My orders" in your account; tracking numbers are emailed when the parcel leaves the warehouse.

## Can I change my delivery address?
Addresses can be changed until the order is packed, usually within 2 hours of ordering.
"""

LEADERSHIP_NOTES = """# Leadership meeting — 8 September 2026

Attendees: Maya Lin (CEO), Tom Okafor (CFO), Priya Raman (COO), Luis Vega (Sales).

## Decisions

1. The Clarity 27 monitor launches on 15 October 2026 with a launch price of $449.
2. Customer Care will hire 2 additional support agents before the holiday season.
3. The Q4 revenue target is set at $4.2 million.

## Discussion

Tom reported that gross margin fell to 38% in Q3 because of freight costs. Priya will renegotiate the
ocean freight contract before November. Luis asked for a bundle of the StandPro 60 desk with the ErgoChair X.

## Action items

- Priya: freight contract proposal by 30 September.
- Luis: bundle pricing proposal for the next meeting.
"""

SUPPORT_REVIEW = """Support review meeting — 13 October 2026

Present: Customer Care leads and Priya Raman.

The ticket backlog stands at 340 open tickets. Median first response time is 6 hours; the goal is 2 hours by
the end of the year. The most common intents this month were shipping delays and refund requests.

Decision: start a 6-week pilot of a self-service assistant for order tracking questions on 1 November.
Decision: weekend coverage moves from 1 agent to 2 agents during November and December.
Risk: warranty claims for the Aurora Mini rose after a firmware update; engineering is investigating.
"""

PRICING_NOTES = [
    ("h1", "Pricing committee — 27 October 2026"),
    ("p", "The committee reviewed freight and supplier costs for 2027."),
    ("h2", "Decisions"),
    ("p", "Furniture prices rise by 4% effective 1 January 2027. Electronics prices are unchanged."),
    ("p", "The StandPro 60 and ErgoChair X bundle will sell at $899, a saving of $120."),
    ("p", "Black Friday discount: 15% off furniture and 10% off electronics from 27 to 30 November."),
]

WARRANTY_CLAIMS = """# How to file a warranty claim

1. Find the serial number on the product label or in the box.
2. Take a photo of the fault and of the serial number label.
3. Submit the claim on the Warranty Claims portal with your order number.

We reply to every claim within 3 business days. Approved claims are repaired or replaced at no cost; we
send a prepaid shipping label. Warranty does not cover accidental damage, misuse or normal wear of desk
surfaces.
"""

SHIPPING_HTML = """<html><head><title>Shipping Policy</title></head><body>
<h1>Shipping Policy</h1>
<p>Orders placed before 1 pm Pacific ship the same business day from our Reno, Nevada warehouse.</p>
<p>Carriers: parcels ship by UPS or FedEx; furniture over 30 kg ships by freight with a delivery appointment.</p>
<p>Lost parcels are investigated for 5 business days before a replacement is sent.</p>
<p>We do not ship to PO boxes for furniture orders.</p>
</body></html>"""

ONBOARDING_PAGES = [
    """New Employee Onboarding Guide

Welcome to Corvid Home & Office. Your first week follows this plan.
Day 1: collect your laptop from IT at 9:00, set up MFA and meet your buddy.
Day 2: complete the security awareness course (45 minutes) and the harassment prevention course.""",
    """Day 3 to 5: shadow your team, and read the returns, travel and security policies.
Benefits enrolment must be completed within 30 days of your start date.
Payroll runs every other Friday. Your first paycheck arrives on the second payroll date after you start.""",
]

HOLIDAYS = """Corvid office holidays 2026

The offices and showroom are closed on: 1 January, 19 January, 25 May, 4 July (observed 3 July),
7 September, 26 November (Thanksgiving), 27 November, 24 December and 25 December.
The warehouse ships on 27 November for Black Friday with a reduced team.
"""

SUSTAINABILITY = """# Sustainability Report 2025

- 85% of our packaging is made from recycled cardboard; plastic foam was phased out in 2024.
- Warehouse electricity is 60% solar since the Reno roof array opened in May 2025.
- We took back 1,900 old office chairs for refurbishment or recycling.
- Scope 1 and 2 emissions fell 22% compared with 2022.
Goal: fully plastic-free packaging by the end of 2027.
"""

VENDOR_CODE = [
    ("h1", "Vendor Code of Conduct"),
    ("p", "Suppliers must pay at least the local minimum wage and respect a maximum 60-hour working week."),
    ("p", "Child labour and forced labour are prohibited. Suppliers allow unannounced audits."),
    ("p", "Gifts to Corvid employees above $50 in value are not allowed."),
]

DATA_RETENTION = """# Data Retention Policy

Customer order records are kept for 7 years for tax purposes. Support tickets are kept for 3 years.
When a customer asks for their personal data to be deleted, we delete it within 30 days, except records we
must keep by law. Backups are encrypted and expire after 90 days.
Marketing consent records are kept for as long as the customer is subscribed, plus 1 year.
"""

COMPANY_HTML = """<html><head><title>About Corvid</title></head><body>
<h1>About Corvid Home & Office</h1>
<p>Corvid was founded in 2011 in Portland, Oregon by Maya Lin and Daniel Brooks.</p>
<p>We employ 140 people across our Portland head office, a showroom in Seattle and a warehouse in Reno.</p>
<p>Our mission: comfortable, durable workspaces at fair prices.</p>
</body></html>"""

# -- Chinese documents --------------------------------------------------------------------------
ZH_RETURNS = """# 中国区退货政策

适用于通过天猫旗舰店和官方小程序购买的商品。

## 七天无理由退货
未拆封商品自签收之日起七天内可无理由退货，退货运费由顾客承担。

## 电子产品
已拆封的电子产品（笔记本电脑、显示器、音箱）仅在出现质量问题时可以退换，需在签收后十五天内申请。

## 退款时间
仓库收到退货并检验合格后，退款将在三个工作日内原路退回。

## 家具
已组装的家具不支持无理由退货。
"""

ZH_HANDBOOK_GBK = """员工手册（中国分公司）

工作时间：周一至周五，上午九点至下午六点，午休一小时。
年假：入职满一年的员工每年享有十五天带薪年假，未休年假可顺延至次年三月底。
病假：每年十天带薪病假，超过三天需提供医院证明。
加班：工作日加班按一点五倍工资计算，法定节假日加班按三倍工资计算。
"""

ZH_PURIFIER_HTML = """<html><head><meta charset="utf-8"><title>空气净化器说明</title></head><body>
<h1>清风 400 空气净化器</h1>
<p>型号 AIR-400，适用面积 28 至 48 平方米，洁净空气输出比率（CADR）为每小时 400 立方米。</p>
<h2>滤网更换</h2>
<p>建议每六个月更换一次滤网，滤网指示灯变红时请及时更换。</p>
<h2>保修</h2>
<p>整机保修两年，电机保修五年。</p>
</body></html>"""

ZH_MEETING = [
    ("h1", "双十一促销会议纪要（2026年10月20日）"),
    ("p", "参会人员：市场部、电商运营部、仓储部。"),
    ("h2", "决定"),
    ("p", "双十一期间全场家具打八折，电子产品满一千元减一百元。"),
    ("p", "仓库在十一月十日至十五日期间安排两班倒，保证四十八小时内发货。"),
    ("p", "客服团队增加五名临时客服。"),
]

ZH_FAQ = """# 常见问题

## 配送需要多长时间？
国内订单一般在二到四天内送达，偏远地区可能需要七天。

## 可以开发票吗？
可以。下单时选择电子发票，订单完成后发票将发送到您的邮箱。

## 如何联系客服？
工作日上午九点至晚上九点，可拨打客服热线 400-800-1234。
"""

ZH_WARRANTY = """保修条款

所有家具产品享受两年保修，升降桌电机享受五年保修。
保修期内因质量问题产生的维修免费，人为损坏不在保修范围内。
申请保修时请提供订单号和产品照片，客服将在两个工作日内回复。
"""

ZH_DESK = """# StandPro 60 电动升降桌产品说明

型号 DSK-060。双电机驱动，升降范围 62 至 127 厘米，最大承重 120 公斤。
桌面尺寸 160 × 80 厘米，可选竹木或白色桌面。支持四组高度记忆。
安装时间约四十五分钟，包装内含全部安装工具。
"""

# Traditional Chinese, written in Big5 by make_corpus.py.
ZH_TW_NOTICE = """台北門市公告

台北信義門市將於2026年12月1日開幕，營業時間為每日上午十一點至晚上九點。
開幕首週凡購買升降桌即贈送檯燈一盞，數量有限，送完為止。
"""

# French, written in Latin-1 by make_corpus.py.
SUPPLIER_LETTER_FR = """Lyon, le 2 octobre 2026

Objet : retard de livraison des plateaux en chêne

Madame, Monsieur,
Nous vous informons que la livraison des plateaux en chêne prévue le 15 octobre est reportée au 5 novembre
en raison d'une pénurie de bois séché. Nous vous prions d'accepter nos excuses et vous accordons une remise
de 3 % sur cette commande.

Élodie Marchand, Ateliers Marchand
"""

SALES_SUMMARY_PAGES = [
    """Q3 2026 Sales Summary

Revenue: $3.6 million, up 9% on Q3 2025. Online sales were 71% of revenue.
Top sellers by revenue: Nimbus 14 Laptop, StandPro 60 desk, ErgoChair X.""",
    """Returns rate: 6.1% overall; electronics 8.4%, furniture 3.9%.
The Aurora Mini soundbar had the highest return rate at 14% after the August firmware update.
Average order value rose to $312.""",
]

IT_HELPDESK = """# IT Helpdesk Guide

- VPN: install the Corvid VPN client and sign in with your email and MFA. The VPN is required for the
  finance and HR systems.
- Printers: the Portland office printers are named PDX-PRN-1 and PDX-PRN-2; scan-to-email is enabled.
- New software requests go through the IT portal and are reviewed within 2 business days.
- The helpdesk is open 7:00 to 19:00 Pacific on weekdays, extension 4357 (HELP).
"""
