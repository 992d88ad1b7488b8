"""Make the sample import files in data/samples/ (deterministic: run it again, get the same bytes,
except the XLSX files' zip timestamps, which openpyxl sets to a fixed date here).

    python data/samples/make_samples.py

Every file is made from ONE canonical list of 30 clients of branch B001 (RMs R0001..R0003), so the
three clean client rosters — a GBK CSV in 万元, an XLSX with a title and a two-row merged header, a
UTF-8-BOM CSV with slash dates and other header spellings — describe exactly the same clients and
values. The faulty files each carry the faults named in README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from analytics.demo_data import id_check_char  # noqa: E402

AS_OF = dt.date(2026, 10, 31)
BRANCH = "B001"
TITLE = "XX支行 客户清单 2026年10月"
RMS = [
    ("R0001", "王芳", "理财经理", dt.date(2015, 7, 1)),
    ("R0002", "李强", "客户经理", dt.date(2019, 3, 18)),
    ("R0003", "陈静", "私人银行家", dt.date(2012, 9, 3)),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_M = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "建国", "志强", "海波", "文博"]
GIVEN_F = ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂兰", "婷婷", "雪梅", "晓燕"]
REGIONS = ["110101", "110105", "310104", "320102", "330106", "440305", "510107", "420106"]
RISK_WORDS = {"C1": "保守型", "C2": "稳健型", "C3": "平衡型", "C4": "成长型", "C5": "进取型"}
PRODUCTS = [
    # code, name, category (bank words), risk, expected return, on shelf
    ("P0001", "活期储蓄", "活期", "R1", "0.15%", "是"),
    ("P0002", "整存整取三年期", "定期", "R1", "1.75%", "是"),
    ("P0003", "个人大额存单2026年第8期", "大额存单", "R1", "1.90%", "是"),
    ("P0004", "稳享添利90天", "理财", "R2", "2.85%", "是"),
    ("P0005", "睿盈稳健增强一年持有", "理财", "R3", "3.25%", "是"),
    ("P0006", "沪深300指数增强A", "基金", "R4", "", "是"),
    ("P0007", "添福年金保险(分红型)", "保险", "R2", "3.00%", "是"),
    ("P0008", "积存金", "贵金属", "R3", "", "是"),
    ("P0009", "2026年第三期储蓄国债(凭证式)", "国债", "R1", "2.38%", "否"),
    ("P0010", "成长先锋混合C", "基金", "PR4", "", "否"),
]
TERMED = {"P0002": 3 * 365, "P0003": 3 * 365, "P0004": 90, "P0005": 365, "P0009": 3 * 365}
CHANNELS = ["柜面", "手机银行", "网银", "ATM"]
OTHER_BANKS = ["中国工商银行北京分行", "招商银行上海分行", "中国建设银行深圳分行", ""]


def cents(x: float) -> Decimal:
    return Decimal(round(x * 100)) / 100


def make_clients() -> list[dict]:
    """The canonical roster: 30 clients, every value fixed by one seed."""
    rng = random.Random(20261031)
    clients = []
    for i in range(1, 31):
        male = rng.random() < 0.5
        birth = dt.date(1942, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 60))
        seq = f"{rng.randrange(0, 100):02d}" + str(rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8]))
        first17 = rng.choice(REGIONS) + birth.strftime("%Y%m%d") + seq
        id_number = first17 + id_check_char(first17)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_M if male else GIVEN_F)
        phone = rng.choice(["13", "15", "18"]) + str(rng.randrange(0, 10)) + f"{rng.randrange(0, 10**8):08d}"
        tier = rng.random()
        if i in (7, 19):
            aum = rng.uniform(10_000_000, 30_000_000)  # private-banking clients: 1,000万+
        elif tier < 0.35:
            aum = rng.uniform(2_000, 50_000)
        elif tier < 0.65:
            aum = rng.uniform(50_000, 200_000)
        elif tier < 0.85:
            aum = rng.uniform(200_000, 500_000)
        else:
            aum = rng.uniform(500_000, 2_500_000)
        if i == 12:
            aum = 498_650.37  # an upgrade near-miss just under the 50万 line
        aum = cents(aum)
        month_end = cents(float(aum) * rng.uniform(0.9, 1.1))
        open_date = dt.date(2003, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 23 - 60))
        open_date = max(open_date, dt.date(birth.year + 18, birth.month, min(birth.day, 28)))
        risk = f"C{rng.randint(1, 5)}"
        assessed = AS_OF - dt.timedelta(days=rng.randrange(10, 700))
        clients.append({
            "client_id": f"C{i:08d}",
            "name_zh": name,
            "gender": "M" if male else "F",
            "birth_date": birth,
            "id_number": id_number,
            "phone": phone,
            "branch_id": BRANCH,
            "rm_id": RMS[(i - 1) % 3][0],
            "risk_level": risk,
            "risk_assessed_on": assessed,
            "open_date": open_date,
            "aum": aum,
            "aum_month_end": month_end,
        })  # fmt: skip
    return clients


# ------------------------------------------------------------------------------------- spellings


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def slash_date(d: dt.date) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def wan(x: Decimal) -> str:
    """Yuan with fen as 万元, exact (up to 6 decimals), with thousands separators from 1,000万."""
    w = (x / 10000).quantize(Decimal("0.000001")).normalize()
    text = f"{w:,f}"
    return text


def yuan(x: Decimal) -> str:
    return f"{x:.2f}"


def write_csv(name: str, rows: list[list], encoding: str, lines_before: list[str] = ()) -> None:
    buf = io.StringIO(newline="")
    for line in lines_before:
        buf.write(line + "\r\n")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (HERE / name).write_bytes(buf.getvalue().encode(encoding))


ROSTER_ZH = ["客户号", "客户姓名", "性别", "出生日期", "证件类型", "证件号码", "手机号", "所属机构",
             "所属客户经理", "风险等级", "风评日期", "开户日期"]  # fmt: skip


def gbk_wan(clients: list[dict]) -> None:
    """Excel re-saved on a Chinese Windows: GBK, title + blank row, 万元, 合计 and 制表 rows."""
    header = ROSTER_ZH + ["月日均资产(万元)", "时点资产(万元)"]
    rows = [header]
    for c in clients:
        rows.append([
            c["client_id"], c["name_zh"], "男" if c["gender"] == "M" else "女", cn_date(c["birth_date"]),
            "身份证", c["id_number"], c["phone"], c["branch_id"], c["rm_id"],
            RISK_WORDS[c["risk_level"]], cn_date(c["risk_assessed_on"]), cn_date(c["open_date"]),
            wan(c["aum"]), wan(c["aum_month_end"]),
        ])  # fmt: skip
    total = sum(c["aum"] for c in clients)
    total_end = sum(c["aum_month_end"] for c in clients)
    rows.append(["合计"] + [""] * 11 + [wan(total), wan(total_end)])
    rows.append(["制表：XX支行个人金融部  数据来源：CRM系统"] + [""] * 13)
    write_csv("clients-gbk-wan.csv", rows, "gbk", [TITLE + "," * 13, "," * 13])


def bom_slash(clients: list[dict], name="clients-bom-slash.csv") -> None:
    """Excel's 'CSV UTF-8': a BOM, other header spellings, slash dates, codes, yuan; one empty
    line in the middle (another tool's export)."""
    header = ["客户编号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "网点", "管户经理",
              "风评等级", "风险评估日期", "建立关系日期", "日均AUM", "资产余额"]  # fmt: skip
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for n, c in enumerate(clients, start=1):
        w.writerow([
            c["client_id"], c["name_zh"], "1" if c["gender"] == "M" else "2", slash_date(c["birth_date"]),
            c["id_number"], c["phone"], c["branch_id"], c["rm_id"], c["risk_level"],
            slash_date(c["risk_assessed_on"]), slash_date(c["open_date"]), yuan(c["aum"]),
            yuan(c["aum_month_end"]),
        ])  # fmt: skip
        if n == 15:
            buf.write("\r\n")
    (HERE / name).write_bytes(buf.getvalue().encode("utf-8-sig"))


def title_xlsx(clients: list[dict], name="clients-title.xlsx", ids_as_numbers=False) -> None:
    """A careful bank's XLSX: title row, blank row, two-row header with merged group labels
    (客户信息 / 资产情况(元)), real date cells, AUM as numbers, IDs and phones as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "客户清单"
    ncol = len(ROSTER_ZH) + 2
    ws.cell(1, 1, TITLE).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(3, 1, "客户信息")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(ROSTER_ZH))
    ws.cell(3, len(ROSTER_ZH) + 1, "资产情况(元)")
    ws.merge_cells(start_row=3, start_column=len(ROSTER_ZH) + 1, end_row=3, end_column=ncol)
    for j, h in enumerate(ROSTER_ZH + ["月日均", "时点"], start=1):
        ws.cell(4, j, h).font = Font(bold=True)
    for j in (1, len(ROSTER_ZH) + 1):
        ws.cell(3, j).alignment = Alignment(horizontal="center")
    for r, c in enumerate(clients, start=5):
        values = [
            c["client_id"], c["name_zh"], "男" if c["gender"] == "M" else "女", c["birth_date"], "身份证",
            c["id_number"], c["phone"], c["branch_id"], c["rm_id"], RISK_WORDS[c["risk_level"]],
            c["risk_assessed_on"], c["open_date"], float(c["aum"]), float(c["aum_month_end"]),
        ]  # fmt: skip
        if ids_as_numbers and not c["id_number"].endswith("X"):
            # What Excel keeps of an 18-digit number: 15 significant digits, the rest zeros.
            values[5] = int(c["id_number"][:15]) * 1000
        for j, v in enumerate(values, start=1):
            cell = ws.cell(r, j, v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(v, float):
                cell.number_format = "#,##0.00"
            elif j == 6 and ids_as_numbers:
                cell.number_format = "0"
            else:
                cell.number_format = "@"  # stored as text, as a careful export does
    last = 4 + len(clients)
    ws.cell(last + 1, 1, "合计")
    for j in (ncol - 1, ncol):
        col = ws.cell(4, j).column_letter
        ws.cell(last + 1, j, f"=SUM({col}5:{col}{last})").number_format = "#,##0.00"
    ws.cell(last + 2, 1, "数据来源：CRM系统  制表：XX支行个人金融部")
    ws.merge_cells(start_row=last + 2, start_column=1, end_row=last + 2, end_column=ncol)
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 11, 1, 8, 0)
    _save_deterministic(wb, HERE / name)


def _save_deterministic(wb, path: Path) -> None:
    """openpyxl stamps zip entries with the current time: rewrite them with a fixed one."""
    import zipfile

    raw = io.BytesIO()
    wb.save(raw)
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-11-01T08:00:00Z", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 8, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    path.write_bytes(out.getvalue())


def plain_roster(clients: list[dict], name: str, aum_key="aum", end_key="aum_month_end") -> list[list]:
    header = ["客户号", "客户姓名", "性别", "出生日期", "证件号码", "手机号", "所属机构", "所属客户经理",
              "风险等级", "风评日期", "开户日期", "月日均资产", "时点资产"]  # fmt: skip
    rows = [header]
    for c in clients:
        rows.append([
            c["client_id"], c["name_zh"], "男" if c["gender"] == "M" else "女", c["birth_date"].isoformat(),
            c["id_number"], c["phone"], c["branch_id"], c["rm_id"], c["risk_level"],
            c["risk_assessed_on"].isoformat(), c["open_date"].isoformat(), yuan(c[aum_key]), yuan(c[end_key]),
        ])  # fmt: skip
    return rows


# ------------------------------------------------------------------------------- other tables


def rms_csv() -> None:
    rows = [["工号", "姓名", "所属网点", "岗位", "入职日期"]]
    rows += [[rid, name, BRANCH, title, hired.isoformat()] for rid, name, title, hired in RMS]
    write_csv("rms.csv", rows, "utf-8")


def products_csv() -> None:
    rows = [["产品代码", "产品名称", "产品类型", "风险等级", "业绩比较基准", "是否在售"]]
    rows += [list(p) for p in PRODUCTS]
    write_csv("products.csv", rows, "utf-8")


def make_holdings(clients: list[dict]) -> list[list]:
    """Each client's month-average AUM and month-end AUM split over 1–4 products: the holdings
    add up to the roster's figures to the fen."""
    rng = random.Random(31)
    rows = []
    for c in clients:
        risk = int(c["risk_level"][1])
        shelf = [p for p in PRODUCTS if int(p[3][-1]) <= risk and p[5] == "是" or p[0] == "P0001"]
        k = min(len(shelf), 1 + rng.randrange(0, 4))
        picks = ["P0001"] + rng.sample([p[0] for p in shelf if p[0] != "P0001"], k - 1)
        weights = [rng.uniform(0.2, 1.0) for _ in picks]
        total_w = sum(weights)
        avg_left, bal_left = c["aum"], c["aum_month_end"]
        for n, (code, w) in enumerate(zip(picks, weights, strict=True)):
            last = n == len(picks) - 1
            avg = avg_left if last else cents(float(c["aum"]) * w / total_w)
            bal = bal_left if last else cents(float(c["aum_month_end"]) * w / total_w)
            avg_left -= avg
            bal_left -= bal
            product = next(p for p in PRODUCTS if p[0] == code)
            cost = bal if product[2] in ("活期", "定期", "大额存单", "国债") else cents(float(bal) * rng.uniform(0.92, 1.05))
            if code in TERMED:
                maturity = (AS_OF + dt.timedelta(days=rng.randrange(3, TERMED[code]))).isoformat()
            else:
                maturity = ""
            rows.append([c["client_id"], code, product[1], product[2], yuan(bal), yuan(avg), yuan(cost), maturity])
    return rows


HOLDINGS_HEADER = ["客户号", "产品代码", "产品名称", "产品类型", "余额", "月日均余额", "成本", "到期日"]


def holdings_csv(clients: list[dict]) -> list[list]:
    rows = make_holdings(clients)
    write_csv("holdings.csv", [HOLDINGS_HEADER] + rows, "utf-8")
    return rows


def transactions_csv(clients: list[dict]) -> None:
    rng = random.Random(77)
    kinds = [("代发工资", "贷"), ("消费", "借"), ("他行转入", "贷"), ("转出", "借"), ("理财购买", "借"),
             ("理财赎回", "贷"), ("取现", "借"), ("存现", "贷"), ("养老金", "贷")]  # fmt: skip
    rows = [["交易日期", "客户号", "摘要", "借贷标志", "交易金额", "交易渠道", "对方行名"]]
    events = []
    for c in clients:
        for _ in range(rng.randrange(1, 6)):
            day = AS_OF - dt.timedelta(days=rng.randrange(0, 120))
            kind, direction = rng.choice(kinds)
            amount = cents(rng.uniform(50, min(50_000, float(c["aum"]) / 2 + 100)))
            channel = "柜面" if kind in ("存现", "养老金") else rng.choice(CHANNELS)
            if kind in ("代发工资", "养老金"):
                channel = "批量代发"
            bank = rng.choice(OTHER_BANKS) if "转" in kind else ""
            events.append((day, c["client_id"], kind, direction, yuan(amount), channel, bank))
    events.sort()
    rows += [[d.isoformat(), *rest] for d, *rest in events]
    write_csv("transactions.csv", rows, "utf-8")


def next_month(clients: list[dict]) -> None:
    """The November roster: the same clients, new month-average and month-end AUM."""
    rng = random.Random(1130)
    moved = []
    for c in clients:
        d = dict(c)
        d["aum"] = cents(float(c["aum"]) * rng.uniform(0.85, 1.2))
        d["aum_month_end"] = cents(float(d["aum"]) * rng.uniform(0.9, 1.1))
        moved.append(d)
    moved[11]["aum"] = Decimal("503210.55")  # the near-miss of October crossed the 50万 line
    write_csv("clients-2026-11.csv", plain_roster(moved, "clients-2026-11.csv"), "utf-8")


# ------------------------------------------------------------------------------- faulty files


def faulty(clients: list[dict], holdings: list[list]) -> None:
    title_xlsx(clients, "clients-id-as-number.xlsx", ids_as_numbers=True)

    # Excel showed the ID column as 1.10101E+17 and saved what it showed (GBK, as on Windows).
    rows = plain_roster(clients, "")
    for r in rows[1:]:
        if not r[4].endswith("X"):
            r[4] = f"{float(r[4]):.5E}"
    write_csv("clients-sci-notation.csv", rows, "gbk")

    rows = plain_roster(clients, "")
    rows[0].append("交易密码")
    rng = random.Random(6)
    for r in rows[1:]:
        r.append(f"{rng.randrange(0, 10**6):06d}")
    write_csv("clients-with-password.csv", rows, "utf-8")

    rows = plain_roster(clients, "")
    ids = rows[2][4]
    rows[2][4] = ids[:17] + ("0" if ids[17] != "0" else "1")  # line 3: wrong check digit
    rows[3][5] = rows[3][5][:10]  # line 4: a 10-digit mobile
    rows[4][3] = "2030-05-01"  # line 5: born in the future
    rows[5][11] = "-1234.56"  # line 6: negative AUM
    rows[7][0] = ""  # line 8: no 客户号
    rows[8][10] = "2019-02-30"  # line 9: a date that does not exist
    dup = list(rows[6])  # line 7's client again, with other data (line 32)
    dup[1], dup[11], dup[12] = "张伟", "88000.00", "90500.00"
    rows.append(dup)
    write_csv("clients-bad-rows.csv", rows, "utf-8")

    orphan = ["C00000999", "P0004", PRODUCTS[3][1], "理财", "50000.00", "50000.00", "50000.00",
              (AS_OF + dt.timedelta(days=45)).isoformat()]  # fmt: skip
    write_csv("holdings-orphan.csv", [HOLDINGS_HEADER] + holdings + [orphan], "utf-8")


def main() -> None:
    clients = make_clients()
    gbk_wan(clients)
    title_xlsx(clients)
    bom_slash(clients)
    rms_csv()
    products_csv()
    holdings = holdings_csv(clients)
    transactions_csv(clients)
    next_month(clients)
    faulty(clients, holdings)
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix in (".csv", ".xlsx"))))


if __name__ == "__main__":
    main()
