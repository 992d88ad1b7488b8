"""Exports carry numbers as numbers (issue 14, point 1): a client list's XLSX holds money as yuan
(the unit in the header), counts as whole numbers, shares as fractions with a percent format and
dates as date cells; its CSV holds the same numbers and ISO dates; masked names stay masked text.
Checked on real client lists of the demo snapshot, against the warehouse's own numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analytics import client_lists, seniors, store, value
from analytics import invitations as inv
from analytics.access import Scope
from analytics.importer import pipeline
from ui import client_list, exports, import_view, plan_view
from ui.client_list import Column
from ui.shell import Viewer

APP = str(Path(__file__).resolve().parent.parent / "app.py")
AS_OF = dt.date(2026, 10, 31)  # the demo snapshot's as-of date
SCOPE = Scope("manager", ("B001",))
FUND_COLUMNS = {  # as pages/invitations.py lists the fund check-up
    "rank": Column("col.rank", "count"),
    "loss_pct": Column("col.loss_pct", "pct"),
    "loss_amount": Column("col.loss_amount", "money"),
    "level": Column("col.level", "code:inv.level"),
}
FUND_HEADER_EN = [
    "Client no.", "Name", "RM", "Age", "Tier", "AUM (yuan)", "Value tier", "Value score",
    "Rank", "Worst loss", "Loss (yuan)", "Level",
]  # fmt: skip
SENIOR_COLUMNS = {  # as pages/seniors.py lists a week's maturities
    "amount": Column("col.amount", "money"),
    "first_maturity": Column("col.first_maturity", "date"),
    "products": Column("col.products"),
}
SENIOR_HEADER_ZH = [
    "客户号", "姓名", "客户经理", "年龄", "层级", "AUM（元）", "价值分层", "价值评分",
    "金额（元）", "最早到期日", "产品数",
]  # fmt: skip


def viewer(path: Path, lang: str) -> Viewer:
    return Viewer(SCOPE, lang, True, str(path), AS_OF, "demo", dt.date(2026, 11, 2))


def sheet(xlsx: bytes) -> dict[str, list[openpyxl.cell.Cell]]:
    """Header -> the column's data cells, in order."""
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows())
    return {head.value: [r[i] for r in rows[1:]] for i, head in enumerate(rows[0])}


def csv_columns(data: bytes) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return {head: [r[i] for r in rows[1:]] for i, head in enumerate(rows[0])}


def warehouse_aum(wh, client_ids) -> dict[str, float]:
    """Each client's AUM of the latest month straight from the holdings (DESIGN.md §2: the sum
    of average balances, else month-end balances), in yuan."""
    marks = ", ".join("?" for _ in client_ids)
    df = wh.query(
        f"""SELECT client_id, SUM(COALESCE(avg_balance, balance)) AS aum FROM holdings_monthly
            WHERE month_end = (SELECT MAX(month_end) FROM holdings_monthly)
              AND client_id IN ({marks}) GROUP BY client_id""",
        list(client_ids),
    )
    return {c: float(a) for c, a in zip(df["client_id"], df["aum"], strict=True)}


def is_number(cell) -> bool:
    return cell.data_type == "n" and isinstance(cell.value, (int, float)) and not cell.is_date


def assert_money(cells):
    assert cells and all(is_number(c) and c.number_format == "#,##0.00" for c in cells)


def assert_count(cells):
    assert cells and all(
        is_number(c) and isinstance(c.value, int) and c.number_format == "0" for c in cells
    )


def assert_pct(cells):
    assert cells and all(is_number(c) and c.number_format == "0.0%" for c in cells)


@pytest.fixture(scope="module")
def wh(demo_db_path):
    return store.open_warehouse(demo_db_path)


@pytest.fixture(scope="module")
def fund_list(wh):
    """The fund check-up invitation list of branch B001 (29 clients on the test snapshot)."""
    members = inv.campaign_members(wh, SCOPE, "fund_diagnosis", today=dt.date(2026, 11, 2))
    scores = value.client_scores(wh, SCOPE)
    return client_lists.client_list(
        wh, SCOPE, members[["client_id", *FUND_COLUMNS]], scores,
        sort_by="rank", descending=False, limit=1000,
    ).rows  # fmt: skip


def test_fund_list_xlsx_holds_yuan_counts_and_fractions(demo_db_path, wh, fund_list):
    export = client_list.export_table(viewer(demo_db_path, "en"), fund_list, FUND_COLUMNS)
    cells = sheet(exports.xlsx_bytes(export))
    assert list(cells) == FUND_HEADER_EN
    assert len(cells["Client no."]) == len(fund_list) == 29
    for money in ("AUM (yuan)", "Loss (yuan)"):
        assert_money(cells[money])
    for count in ("Age", "Value score", "Rank"):
        assert_count(cells[count])
    assert [c.value for c in cells["Rank"]] == list(range(1, 30))  # sorted by rank, 1 = first
    assert all(18 <= c.value <= 110 for c in cells["Age"])
    assert all(0 <= c.value <= 100 for c in cells["Value score"])
    assert_pct(cells["Worst loss"])  # a fraction of cost, at or below the -15% line
    assert all(-1 < c.value <= -0.15 for c in cells["Worst loss"])
    assert all(c.value > 0 for c in cells["Loss (yuan)"])  # cost minus value, in yuan
    # each client's AUM is the warehouse's, to the fen
    ids = [c.value for c in cells["Client no."]]
    aum = warehouse_aum(wh, ids)
    assert [c.value for c in cells["AUM (yuan)"]] == [aum[i] for i in ids]
    # names are masked text, never the warehouse's name
    names = wh.query(
        f"SELECT client_id, name_en FROM clients WHERE client_id IN ({', '.join('?' * len(ids))})",
        ids,
    ).set_index("client_id")["name_en"]
    for i, c in zip(ids, cells["Name"], strict=True):
        assert c.data_type == "s" and "*" in c.value and c.value != names[i]


def test_fund_list_csv_holds_the_same_numbers(demo_db_path, wh, fund_list):
    export = client_list.export_table(viewer(demo_db_path, "en"), fund_list, FUND_COLUMNS)
    data = exports.csv_bytes(export)
    cols = csv_columns(data)
    assert list(cols) == FUND_HEADER_EN
    aum = warehouse_aum(wh, cols["Client no."])
    assert [float(v) for v in cols["AUM (yuan)"]] == [aum[i] for i in cols["Client no."]]
    assert [int(v) for v in cols["Rank"]] == list(range(1, 30))
    assert all(-1 < float(v) <= -0.15 for v in cols["Worst loss"])
    for count in ("Age", "Value score"):
        assert all(str(int(v)) == v for v in cols[count])  # whole numbers, no "63.0"
    assert all(float(v) > 0 for v in cols["Loss (yuan)"])
    # numbers are written unquoted (Excel reads them as numbers); text is quoted
    first = data.decode("utf-8-sig").splitlines()[1]
    assert first.startswith(f'"{cols["Client no."][0]}","{cols["Name"][0]}",')
    assert f",{cols['AUM (yuan)'][0]}," in first and f",{cols['Rank'][0]}," in first


def test_senior_maturities_export_dates_as_dates(demo_db_path, wh):
    cal = seniors.maturity_calendar(wh, SCOPE)
    week = cal.loc[cal["clients"] > 0, "week_start"].min()
    start = pd.Timestamp(week).date()
    members = seniors.maturing_clients(wh, SCOPE, start)
    rows = client_lists.client_list(
        wh, SCOPE, members, value.client_scores(wh, SCOPE), sort_by="amount", limit=1000
    ).rows
    export = client_list.export_table(viewer(demo_db_path, "zh"), rows, SENIOR_COLUMNS)
    cells = sheet(exports.xlsx_bytes(export, "到期"))
    assert list(cells) == SENIOR_HEADER_ZH
    assert len(cells["客户号"]) == len(members) > 0
    assert_money(cells["AUM（元）"])
    assert_money(cells["金额（元）"])
    assert_count(cells["年龄"])
    assert all(is_number(c) and c.value >= 1 for c in cells["产品数"])  # positions, a number
    dates = cells["最早到期日"]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in dates)
    ids = [c.value for c in cells["客户号"]]
    for client_id, c in zip(ids, dates, strict=True):
        day = c.value.date()
        assert start <= day < start + dt.timedelta(days=7)
        held = wh.scalar(
            "SELECT COUNT(*) FROM holdings_monthly WHERE client_id = ? AND maturity_date = ?",
            [client_id, day],
        )
        assert held > 0  # a real maturity of that client
    aum = warehouse_aum(wh, ids)
    assert [c.value for c in cells["AUM（元）"]] == [aum[i] for i in ids]
    # CSV: ISO dates, yuan as numbers
    cols = csv_columns(exports.csv_bytes(export))
    assert [dt.date.fromisoformat(v) for v in cols["最早到期日"]] == [c.value.date() for c in dates]
    assert [float(v) for v in cols["金额（元）"]] == [c.value for c in cells["金额（元）"]]
    # the screen keeps its display strings (万/元)
    shown = client_list.table(viewer(demo_db_path, "zh"), rows, SENIOR_COLUMNS)
    assert all(isinstance(v, str) and v[-1] in "万元亿" for v in shown["AUM"])
    assert all(isinstance(v, str) and "年" in v for v in shown["最早到期日"])


def test_plan_export_holds_dates_and_yuan():
    """The contact plan's export (plan_view.plan_exports' table), on two known rows."""
    rows = pd.DataFrame({
        "day": [dt.date(2026, 11, 23), dt.date(2026, 11, 24)], "client_id": ["C1", "C2"],
        "channel": ["visit", "sms"], "reason": ["birthday", "cadence_overdue"],
        "detail": ['{"age": 60}', "{}"], "forced": ["", "no_mobile"],
        "status": ["accepted", "proposed"], "done": [True, False],
        "outcome": ["visit_booked", None], "name_zh": ["张*", "李*"],
        "name_en": ["Zhang *", "Li *"], "tier_now": ["platinum", "gold"],
        "aum_now": [1_234_567.891, 250_000.0],
    })  # fmt: skip
    en = Viewer(Scope("rm", ("B001",), rm_id="R1"), "en", True, "-", AS_OF, "demo", AS_OF)
    export = plan_view.plan_export_table(en, rows, with_day=True)
    cells = sheet(exports.xlsx_bytes(export))
    assert list(cells)[:5] == ["Day", "Client no.", "Name", "Tier", "AUM (yuan)"]
    assert [c.value for c in cells["Day"]] == [dt.datetime(2026, 11, 23), dt.datetime(2026, 11, 24)]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in cells["Day"])
    assert [c.value for c in cells["AUM (yuan)"]] == [1234567.89, 250000]
    assert_money(cells["AUM (yuan)"])
    assert [c.value for c in cells["Name"]] == ["Zhang *", "Li *"]
    lines = exports.csv_bytes(export).decode("utf-8-sig").splitlines()
    assert lines[1].startswith('"2026-11-23","C1","Zhang *","Platinum",1234567.89,"Birthday",')
    zh = Viewer(Scope("rm", ("B001",), rm_id="R1"), "zh", True, "-", AS_OF, "demo", AS_OF)
    assert "AUM（元）" in plan_view.plan_export_table(zh, rows, with_day=False).columns


def test_import_report_download_keeps_row_numbers_as_numbers():
    """The data view's problem report (ui/import_view.report_frame, downloaded as it is shown):
    row numbers are numbers, a file-level problem has no row, the quoted value stays text."""
    report = pipeline.ImportReport()
    report.problems = pd.DataFrame(
        {"file": ["a.csv", "a.csv"], "row": [12, None], "column": ["aum", None],
         "reason": ["not_a_number", "empty"], "value": ["1,2", None],
         "severity": ["error", "error"]}
    ).astype({"row": "Int64"})  # fmt: skip
    en = Viewer(SCOPE, "en", True, "-", AS_OF, "demo", AS_OF)
    df = import_view.report_frame(en, report)
    rows = list(openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(df))).active.iter_rows())
    row_at = [c.value for c in rows[0]].index(en.t("imp.col.row"))
    assert [(r[row_at].data_type, r[row_at].value) for r in rows[1:]] == [("n", 12), ("n", None)]
    value_at = [c.value for c in rows[0]].index(en.t("imp.col.value"))
    assert (rows[1][value_at].data_type, rows[1][value_at].value) == ("s", "1,2")
    lines = exports.csv_bytes(df).decode("utf-8-sig").splitlines()
    assert lines[1].startswith('"a.csv",12,"aum",')


# ---------------------------------------------------------------------------- the real page


@pytest.fixture
def page_data(demo_db_path, tmp_path, monkeypatch):
    root = tmp_path / "data"
    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    monkeypatch.setenv("BRANCHLENS_DATA", str(root))
    return root


@pytest.fixture
def downloads(monkeypatch):
    """File name -> the callable its download button hands the file out with (audited)."""
    captured: dict[str, object] = {}
    register = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return captured


def test_invitation_page_export_holds_numbers(page_data, downloads, wh):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["as"] = "manager"
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/invitations.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = next(d.value for d in at.dataframe if "Worst loss" in d.value.columns)
    assert all(v.startswith("¥") for v in shown["AUM"])  # the screen keeps ¥1,234,567
    assert all(v.endswith("%") for v in shown["Worst loss"])
    at.button(key="inv_fund_diagnosis_export").click().run()
    assert not at.exception, [e.value for e in at.exception]
    cells = sheet(downloads["invitation-fund_diagnosis.xlsx"]())
    assert list(cells) == FUND_HEADER_EN
    assert_money(cells["AUM (yuan)"])
    assert_money(cells["Loss (yuan)"])
    assert_count(cells["Rank"])
    assert_pct(cells["Worst loss"])
    ids = [c.value for c in cells["Client no."]]
    aum = warehouse_aum(wh, ids)
    assert [c.value for c in cells["AUM (yuan)"]] == [aum[i] for i in ids]
    cols = csv_columns(downloads["invitation-fund_diagnosis.csv"]())
    assert [float(v) for v in cols["AUM (yuan)"]] == [aum[i] for i in cols["Client no."]]
    assert [float(v) for v in cols["Worst loss"]] == [c.value for c in cells["Worst loss"]]
