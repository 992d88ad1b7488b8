"""Issue 14 (point 4, and the corporate parts of point 3): lists that do what they promise.

- the corporate RFM list: a selected row opens that company under the list;
- the overview's RM books: the clients without an RM are one book, at their rank by AUM;
- the segmentation list follows the open tab (each tab keeps its own pick);
- the credit scorecard's single-company table: variables and values in the viewer's language.

Expected values come from SQL on the demo snapshot fixture (``demo_db_path``), or, for segment
membership, from the reference implementation (``analytics.rfm.retail_rfm``).
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import app_pages
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics import rfm, scorecard, store
from analytics.access import Scope
from analytics.settings import load_settings
from ui import corporate_view, formats
from ui.i18n import EN, ZH
from ui.shell import PAGES, Viewer

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def app_data(demo_db_path, tmp_path_factory):
    """A data folder of its own with the small demo snapshot published as current. The app's
    workspace connection is cached per process (``shell.workspace``): it is dropped on the way in
    and out, so that neither this module nor the next one writes into the other's folder."""
    root = tmp_path_factory.mktemp("list_views_data")
    with app_pages.published_demo(root, demo_db_path) as published:
        yield published


def run_page(page_path: str, role: str, lang: str) -> AppTest:
    at = app_pages.run_page(page_path, role, lang, timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame(at: AppTest, key: str):
    """The selectable table ``key`` (AppTest knows the key of a selectable table only)."""
    return next(d for d in at.dataframe if d.key == key).value


def table_with(at: AppTest, column: str):
    """The (first) table showing ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def select_row(at: AppTest, key: str, row: int) -> AppTest:
    """Select one row of a selectable ``st.dataframe`` as a click does."""
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def manager_branch(wh) -> str:
    """The branch of the demo's ``as=manager`` (the first branch)."""
    return wh.scalar("SELECT MIN(branch_id) FROM branches")


# ---------------------------------------------------------------------------- corporate RFM row


def test_a_corporate_rfm_row_opens_that_company(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    want = wh.query(
        """
        SELECT c.corp_id, c.name_en,
               (COALESCE(a.avg_daily_deposit, 0) + COALESCE(a.loan_interest_12m, 0)
                + COALESCE(a.fee_income_12m, 0))::DOUBLE AS monetary
        FROM corp_clients c LEFT JOIN corp_accounts a USING (corp_id)
        WHERE c.branch_id = ?
        ORDER BY monetary DESC, c.corp_id
        LIMIT 5
        """,
        [manager_branch(wh)],
    )
    at = run_page("pages/corporate.py", "manager", "en")
    listed = frame(at, "corp_rfm_table_all")
    assert list(listed[EN["corp.id"]][:5]) == list(want["corp_id"])  # largest M first
    assert at.caption and any(c.value.startswith("Showing the top") and "click a row" in c.value
                              for c in at.caption)  # fmt: skip
    assert not [s for s in at.subheader if s.value.endswith(tuple(want["corp_id"]))]  # none open

    select_row(at, "corp_rfm_table_all", 2)
    corp_id, name = want["corp_id"][2], want["name_en"][2]
    assert listed[EN["corp.id"]].iloc[2] == corp_id  # the selected row's company ...
    titles = [s.value for s in at.subheader]
    assert EN["corp.open_title"].format(name=name, id=corp_id) in titles  # ... is the one shown
    m = next(x for x in at.metric if x.label == EN["corp.monetary"])
    assert m.value == formats.money(want["monetary"][2], "en")
    assert EN["corp.network"].format(name=name) in [x.value.strip("*") for x in at.markdown]
    log = store.AuditLog(Path(app_data).parent.parent / "audit.jsonl").read()
    opened = log[log["detail"] == "corp_open"]
    assert any(corp_id in ids for ids in opened["client_ids"])  # the view is audited

    select_row(at, "corp_rfm_table_all", 0)  # another row: that company instead
    titles = [s.value for s in at.subheader]
    assert EN["corp.open_title"].format(name=want["name_en"][0], id=want["corp_id"][0]) in titles
    assert EN["corp.open_title"].format(name=name, id=corp_id) not in titles
    # another segment's list: nothing selected there, nothing open
    at.selectbox(key="corp_rfm_segment").set_value(rfm.SEGMENTS[1]).run()
    assert not [s.value for s in at.subheader if re.search(r" · E\d+$", s.value)]


# ---------------------------------------------------------------------------- RM books


def test_the_no_rm_book_sits_at_its_rank_by_aum(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    branch = manager_branch(wh)
    books = wh.query(
        """
        WITH m AS (
            SELECT h.client_id, SUM(COALESCE(h.avg_balance, h.balance))::DOUBLE AS aum
            FROM holdings_monthly h
            WHERE h.month_end = (SELECT MAX(month_end) FROM holdings_monthly)
            GROUP BY h.client_id
        )
        SELECT c.rm_id, r.name_zh, COUNT(*) AS clients, SUM(m.aum) AS aum
        FROM m JOIN clients c USING (client_id) LEFT JOIN rms r ON r.rm_id = c.rm_id
        WHERE c.branch_id = ?
        GROUP BY c.rm_id, r.name_zh
        ORDER BY aum DESC
        """,
        [branch],
    )
    pool = books[books["rm_id"].isna()]
    assert len(pool) == 1 and pool["clients"].iloc[0] > 0  # the demo has clients without an RM
    rank = int(pool.index[0])  # 0-based place by AUM
    assert rank < len(books) - 1  # not the smallest book: it used to be listed last regardless

    at = run_page(PAGES[0].path, "manager", "zh")
    shown = at.dataframe[0].value
    want_names = [ZH["overview.unassigned"] if r is None or r != r else n
                  for r, n in zip(books["rm_id"], books["name_zh"], strict=True)]  # fmt: skip
    assert list(shown["rm"]) == want_names  # every book, the pool among them, by AUM
    assert shown["rm"].iloc[rank] == ZH["overview.unassigned"]
    assert list(shown["clients"]) == list(books["clients"])
    note = ZH["overview.unassigned_note"].format(
        clients=formats.count(pool["clients"].iloc[0], "zh"),
        aum=formats.money(pool["aum"].iloc[0], "zh"),
        rank=rank + 1,
        n=len(books),
    )
    assert note in [c.value for c in at.caption]


# ---------------------------------------------------------------------------- segmentation tabs


def test_the_segmentation_list_follows_the_open_tab(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    segs = rfm.retail_rfm(wh, Scope("manager", (manager_branch(wh),)))
    at = run_page("pages/segmentation.py", "manager", "en")

    def title() -> str:
        return at.subheader[-1].value

    def listed():
        return at.dataframe[-1].value

    def total() -> int:
        caption = next(c.value for c in at.caption if c.value.startswith("Showing the top"))
        return int(re.search(r"of ([\d,]+) clients", caption).group(1).replace(",", ""))

    # the first tab: value tiers, MVC
    assert title() == EN["seg.list_title"].format(what=EN["vt.MVC"])
    assert set(listed()[EN["client.value_tier"]]) == {EN["vt.MVC"]}

    # open the RFM tab: the list is that tab's segment, 重要价值 first
    at.session_state["seg_tab"] = EN["seg.tab_rfm"]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    first = rfm.SEGMENTS[0]
    assert title() == EN["seg.list_title"].format(what=EN[f"rfm.{first}"])
    members = set(segs.loc[segs["segment"] == first, "client_id"])
    assert set(listed()[EN["col.client_id"]]) <= members
    assert total() == len(members)
    assert at.selectbox(key="seg_pick").options == [EN[f"rfm.{s}"] for s in rfm.SEGMENTS]

    # another RFM segment, then the AUM tab: its own pick; back on RFM: the segment picked there
    at.selectbox(key="seg_pick").set_value(f"segment:{rfm.SEGMENTS[1]}").run()
    members = set(segs.loc[segs["segment"] == rfm.SEGMENTS[1], "client_id"])
    assert set(listed()[EN["col.client_id"]]) <= members and total() == len(members)
    at.session_state["seg_tab"] = EN["seg.tab_aum"]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    high = EN[f"tier.{load_settings()['tiers']['high_end_from']}"]  # the first high-end tier
    assert title() == EN["seg.list_title"].format(what=high)
    assert set(listed()[EN["col.tier"]]) == {high}
    at.session_state["seg_tab"] = EN["seg.tab_rfm"]
    at.run()
    assert title() == EN["seg.list_title"].format(what=EN[f"rfm.{rfm.SEGMENTS[1]}"])
    # the language switched: the same tab and segment, in the other language's words
    at.sidebar.segmented_control[0].set_value("zh").run()
    assert not at.exception, [e.value for e in at.exception]
    assert title() == ZH["seg.list_title"].format(what=ZH[f"rfm.{rfm.SEGMENTS[1]}"])
    at.sidebar.segmented_control[0].set_value("en").run()

    # back on the first tab: its MVC
    at.session_state["seg_tab"] = EN["seg.tab_value"]
    at.run()
    assert title() == EN["seg.list_title"].format(what=EN["vt.MVC"])


# ---------------------------------------------------------------------------- credit scorecard

RAW_FLOAT = re.compile(r"^-?\d+\.\d{5,}$|^-?\d+\.0$|^-?\d{5,}(\.\d+)?$")


def test_the_scorecard_single_company_table_reads_in_chinese(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    branch = manager_branch(wh)
    mine = scorecard.corporate_credit_table(wh, Scope("manager", (branch,)))
    # a company without a loan (its deposit-to-loan ratio is missing) and one with a loan
    no_loan = int(np.flatnonzero(mine["loan_balance"].to_numpy() == 0)[0])
    at = run_page("pages/corporate.py", "manager", "zh")
    picker = at.selectbox(key="credit_pick")
    assert picker.options[no_loan].endswith(mine["corp_id"].iloc[no_loan])
    picker.set_value(no_loan).run()
    assert not at.exception, [e.value for e in at.exception]
    one = table_with(at, ZH["credit.value"])
    names = list(one[ZH["credit.feature"]])
    assert names[0] == ZH["credit.base"]
    labels = {ZH[f"credit.col.{c}"]: c for c in corporate_view.CREDIT_COLUMNS}
    assert names[1:] and set(names[1:]) <= set(labels)  # every variable by its Chinese name
    values = dict(zip(names, one[ZH["credit.value"]], strict=True))
    row = wh.query(
        """
        SELECT c.industry, c.registered_capital::DOUBLE AS registered_capital, c.debt_ratio,
               c.overdue_tax, c.payroll_headcount, a.avg_daily_deposit::DOUBLE AS avg_daily_deposit,
               a.loan_balance::DOUBLE AS loan_balance, a.max_overdue_days
        FROM corp_clients c JOIN corp_accounts a USING (corp_id) WHERE c.corp_id = ?
        """,
        [mine["corp_id"].iloc[no_loan]],
    ).iloc[0]
    assert row["loan_balance"] == 0
    expect = {
        "industry": ZH[f"industry.{row['industry']}"],
        "registered_capital": formats.money(row["registered_capital"], "zh"),
        "avg_daily_deposit": formats.money(row["avg_daily_deposit"], "zh"),
        "overdue_tax": ZH["common.yes"] if row["overdue_tax"] else ZH["common.no"],
        "payroll_headcount": f"{int(row['payroll_headcount']):,}",
        "max_overdue_days": f"{int(row['max_overdue_days']):,}",
        "deposit_to_loan": "—",  # no loan: no ratio
    }
    for col, text in expect.items():
        if ZH[f"credit.col.{col}"] in values:
            assert values[ZH[f"credit.col.{col}"]] == text, col
    if ZH["credit.col.debt_ratio"] in values:
        shown = values[ZH["credit.col.debt_ratio"]]
        assert re.fullmatch(r"\d+\.\d{2,4}", shown) and math.isclose(
            float(shown), row["debt_ratio"], abs_tol=5e-5
        )
    cells = [str(v) for v in one[ZH["credit.value"]]]
    for bad in ("nan", "None", "False", "True", "manufacturing", "real_estate"):
        assert not [c for c in cells if bad in c], (bad, cells)
    assert not [c for c in cells if RAW_FLOAT.match(c)], cells
    # the variables table and the bins in Chinese too
    iv = table_with(at, "IV")
    assert set(iv[ZH["credit.feature"]]) <= set(labels)
    bins = table_with(at, ZH["credit.bin"])
    assert set(bins[ZH["credit.feature"]]) <= set(labels) | {ZH["credit.base"]}
    for bad in ("inf", "manufacturing", "False", "True", "(other)"):
        assert not [b for b in bins[ZH["credit.bin"]] if bad in str(b)], bad
    capital = bins[bins[ZH["credit.feature"]] == ZH["credit.col.registered_capital"]]
    assert capital.empty or all("万" in b or "亿" in b for b in capital[ZH["credit.bin"]])


# ---------------------------------------------------------------------------- value formats


def viewer(lang: str) -> Viewer:
    day = date(2026, 10, 31)
    return Viewer(Scope("head_office"), lang, True, "", day, "demo", day)


@pytest.mark.parametrize(
    "value, text",
    [(2410000.0, "2,410,000"), (0.4841, "0.4841"), (0.3, "0.30"), (0.040708, "0.0407"),
     (7.78, "7.78"), (12, "12"), (-1.5, "-1.50")],
)  # fmt: skip
def test_number_text(value, text):
    assert corporate_view.number_text(value) == text


def test_value_text_known_answers():
    zh, en = viewer("zh"), viewer("en")
    vt = corporate_view.value_text
    assert vt(zh, "overdue_tax", np.False_, True) == "否"
    assert vt(en, "has_guarantor", True, True) == "Yes"
    assert vt(zh, "deposit_to_loan", float("nan"), True) == "—"
    assert vt(zh, "deposit_to_loan", None, True) == "—"
    assert vt(zh, "registered_capital", 1160000.0, True) == "116万"
    assert vt(en, "registered_capital", 1160000.0, True) == "¥1,160,000"
    assert vt(zh, "industry", "manufacturing", True) == "制造业"
    assert vt(zh, "size", "micro", True) == "微型"
    assert vt(zh, "employees", np.int32(67), True) == "67"
    assert vt(zh, "deposit_to_loan", 0.539799, True) == "0.5398"
    # an uploaded file's columns: names as typed, values by type only
    assert vt(zh, "registered_capital", 1160000.0, False) == "1,160,000"
    assert vt(zh, "region", "华东", False) == "华东"
    assert vt(zh, "guaranteed", False, False) == "否"
    fl = corporate_view.feature_label
    assert fl(zh, "debt_ratio", True) == "资产负债率"
    assert fl(zh, "debt_ratio", False) == "debt_ratio"
    assert fl(en, scorecard.BASE_ROW, False) == EN["credit.base"]
    bt = corporate_view.bin_text
    assert bt(zh, "industry", "catering", True) == "餐饮"
    assert bt(zh, "overdue_tax", "True", True) == "是"
    assert bt(zh, "industry", scorecard.OTHER_BIN, True) == ZH["credit.bin_other"]
    inf = float("inf")
    assert bt(zh, "debt_ratio", "(-inf, 0.3435]", True, -inf, 0.3435) == "≤ 0.3435"
    assert bt(zh, "debt_ratio", "(0.9318, inf)", True, 0.9318, inf) == "> 0.9318"
    money = formats.money(5.83e6, "zh"), formats.money(4.308e7, "zh")
    assert bt(zh, "registered_capital", "(5830000, 43080000]", True, 5.83e6, 4.308e7) == (
        f"({money[0]}, {money[1]}]"
    )
    assert bt(en, "loan_balance", "(5830000, inf)", True, 5.83e6, inf) == "> ¥5,830,000"
    assert bt(en, "x", "(1.5, 2]", False, 1.5, 2.0) == "(1.50, 2]"  # an upload's own column
    assert bt(zh, "industry", "catering", True, np.nan, np.nan) == "餐饮"
