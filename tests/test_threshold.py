"""Threshold clients (DESIGN.md §3): band edges, gaps, closers inside their windows only,
downgrade grace months, the exactly-one-missing relationship rule, scope, recent contacts."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from analytics.access import Scope
from analytics.settings import load_settings, tier_lines
from analytics.store import Database
from analytics.threshold import (
    contacted_recently,
    downgrade_risk,
    relationship_near_miss,
    threshold_clients,
    threshold_summary,
    upgrade_near_miss,
)

M1, M2, M3, M4 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
AS_OF = M4
TH = load_settings()["threshold"]
MATURITY_DAYS = TH["maturity_window_days"]
INFLOW_DAYS = TH["inflow_window_days"]
LINE = dict(tier_lines())
PLAT = LINE["platinum"]
assert TH["upgrade_band"] == 0.10 and TH["downgrade_band"] == 0.10  # the hand answers assume 10%

# client -> AUM per month M1..M4 (one value = the same every month)
AUM = {
    # upgrade near-miss (history flat, so held tier = raw tier)
    "u1_edge_in": 450_000.00,  # exactly (1 - b) * line: in, gap 50,000
    "u2_edge_out": 449_999.99,  # one fen below the band: out
    "u3_on_line": 500_000.00,  # on the line: platinum reached, not a near-miss
    "u4_just_under": 499_999.99,  # gap 0.01
    "u5_potential": 45_000.00,  # mass, just under potential: gap 5,000
    "u6_maturing": 460_000.00,  # gap 40,000, closed by maturities inside the window
    "u7_inflow": 470_000.00,  # gap 30,000, closed by inflows from other banks in the window
    # downgrade risk (platinum holders)
    "d1_grace1": [600_000, 600_000, 600_000, 480_000],  # 1 month below, gap 20,000
    "d2_grace2": [600_000, 600_000, 480_000, 490_000],  # 2 months below, gap 10,000
    "d3_lost": [600_000, 480_000, 480_000, 480_000],  # 3 below: gold now -> upgrade near-miss
    "d4_near_falling": [600_000, 600_000, 560_000, 549_999.99],  # in [line, 1.1 line), falling
    "d5_near_edge": [600_000, 600_000, 560_000, 550_000.00],  # exactly 1.1 line: out
    "d6_near_rising": [600_000, 600_000, 510_000, 520_000],  # near but rising: out
    "d7_on_line": [600_000, 600_000, 600_000, 500_000.00],  # on the line and falling: in, gap 0
    "d8_mass_falling": [30_000, 30_000, 30_000, 20_000],  # no tier to lose
    # relationship near-miss (AUM away from every band)
    "r1_full": 100_000,
    "r2_dormant_app": 100_000,  # activated mobile banking, last login before the window
    "r3_login_edge": 100_000,  # login in the first month of the window; no payroll/pension
    "r4_money_fund": 100_000,  # only a money-market fund: no wealth product
    "r5_no_insurance": 100_000,
    "r6_policy": 100_000,  # insurance through a policy, not a holding: full
    "r7_policy_later": 100_000,  # policy starts after as_of: missing insurance
    "r8_two_missing": 100_000,
    # another RM and another branch
    "x1_rm2": 455_000,  # upgrade near-miss of RM R2
    "x2_branch2": 455_000,  # upgrade near-miss in branch B002
}
OWNER = {"x1_rm2": ("B001", "R2"), "x2_branch2": ("B002", "R9")}
# relationship elements: mobile (flag, login months), payroll, pension, product categories, policy
FULL = dict(mobile=True, logins=[M4], payroll=True, pension=False, cats=["wealth"], insured=True)
NONE = dict(mobile=False, logins=[], payroll=False, pension=False, cats=[], insured=False)
REL = {
    "r1_full": FULL,
    "r2_dormant_app": {**FULL, "logins": [M1]},
    "r3_login_edge": {**FULL, "logins": [M2], "payroll": False},
    "r4_money_fund": {**FULL, "payroll": False, "pension": True, "cats": ["money_fund"]},
    "r5_no_insurance": {**FULL, "insured": False},
    "r6_policy": {**FULL, "insured": "policy"},
    "r7_policy_later": {**FULL, "insured": "policy_later"},
    "r8_two_missing": {**FULL, "mobile": False, "cats": []},
}
PRODUCTS = {
    "P_DEP": "current_deposit",
    "P_TD": "time_deposit",
    "P_WM": "wealth",
    "P_MMF": "money_fund",
    "P_INS": "protection_insurance",
}


@pytest.fixture()
def wh(tmp_path):
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
            rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2));
        CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR,
            payroll_flag BOOLEAN, pension_flag BOOLEAN, mobile_banking BOOLEAN);
        CREATE TABLE products (product_id VARCHAR, category VARCHAR);
        CREATE TABLE holdings_monthly (month_end DATE, client_id VARCHAR, product_id VARCHAR,
            balance DECIMAL(18,2), avg_balance DECIMAL(18,2), cost DECIMAL(18,2),
            maturity_date DATE);
        CREATE TABLE transactions (txn_id BIGINT, client_id VARCHAR, txn_date DATE,
            txn_type VARCHAR, amount DECIMAL(18,2), channel VARCHAR, product_id VARCHAR,
            counterparty_bank VARCHAR, client_initiated BOOLEAN);
        CREATE TABLE digital_activity (month_end DATE, client_id VARCHAR, mobile_logins INTEGER);
        CREATE TABLE insurance_policies (policy_id VARCHAR, client_id VARCHAR,
            product_id VARCHAR, start_date DATE);
        CREATE TABLE contact_history (client_id VARCHAR, rm_id VARCHAR, contact_date DATE,
            channel VARCHAR, topic VARCHAR, outcome VARCHAR);
        """
    )
    con.executemany("INSERT INTO products VALUES (?, ?)", list(PRODUCTS.items()))
    for cid, values in AUM.items():
        branch, rm = OWNER.get(cid, ("B001", "R1"))
        values = values if isinstance(values, list) else [values] * 4
        for m, v in zip([M1, M2, M3, M4], values, strict=True):
            con.execute(
                "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
                [m, cid, branch, rm, v, v],
            )
        rel = REL.get(cid, NONE)
        con.execute(
            "INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?)",
            [cid, branch, rm, rel["payroll"], rel["pension"], rel["mobile"]],
        )
        for m in rel["logins"]:
            con.execute("INSERT INTO digital_activity VALUES (?, ?, 3)", [m, cid])
        for cat in rel["cats"]:
            pid = next(p for p, c in PRODUCTS.items() if c == cat)
            con.execute(
                "INSERT INTO holdings_monthly VALUES (?, ?, ?, 1000, 1000, 1000, NULL)",
                [M4, cid, pid],
            )
        if rel["insured"] is True:
            con.execute(
                "INSERT INTO holdings_monthly VALUES (?, ?, 'P_INS', 500, 500, 500, NULL)",
                [M4, cid],
            )
        elif rel["insured"]:
            start = AS_OF if rel["insured"] == "policy" else AS_OF + timedelta(days=1)
            con.execute(
                "INSERT INTO insurance_policies VALUES (?, ?, 'P_INS', ?)", [cid, cid, start]
            )
    # u6: positions maturing inside (as_of, as_of + window] count, at the as-of month-end only
    for balance, due, month in [
        (30_000, AS_OF + timedelta(days=1), M4),  # in
        (10_000, AS_OF + timedelta(days=MATURITY_DAYS), M4),  # in (last day)
        (100_000, AS_OF, M4),  # out: matured on as_of
        (100_000, AS_OF + timedelta(days=MATURITY_DAYS + 1), M4),  # out: after the window
        (100_000, AS_OF + timedelta(days=5), M3),  # out: an earlier month's position
    ]:
        con.execute(
            "INSERT INTO holdings_monthly VALUES (?, 'u6_maturing', 'P_TD', ?, ?, ?, ?)",
            [month, balance, balance, balance, due],
        )
    # u7: transfer_in from another bank inside (as_of - window, as_of] counts
    txns = [
        (AS_OF - timedelta(days=INFLOW_DAYS - 1), "transfer_in", 20_000, "ICBC"),  # in
        (AS_OF, "transfer_in", 10_000, "CCB"),  # in (as_of itself)
        (AS_OF - timedelta(days=INFLOW_DAYS), "transfer_in", 50_000, "ICBC"),  # out: too old
        (AS_OF + timedelta(days=1), "transfer_in", 50_000, "ICBC"),  # out: after as_of
        (AS_OF, "transfer_in", 50_000, None),  # out: not from another bank
        (AS_OF, "deposit", 50_000, None),  # out: not a transfer in
        (AS_OF, "transfer_out", 50_000, "ICBC"),  # out: outflow
    ]
    for i, (d, kind, amount, bank) in enumerate(txns):
        con.execute(
            "INSERT INTO transactions VALUES (?, 'u7_inflow', ?, ?, ?, 'mobile', NULL, ?, TRUE)",
            [i, d, kind, amount, bank],
        )
    # contacts
    con.executemany(
        "INSERT INTO contact_history VALUES (?, 'R1', ?, 'call', 'review', 'reached')",
        [
            ["u1_edge_in", AS_OF - timedelta(days=29)],  # in the last 30 days
            ["u1_edge_in", AS_OF - timedelta(days=40)],
            ["u2_edge_out", AS_OF - timedelta(days=30)],  # exactly 30 days ago: out
            ["x2_branch2", AS_OF - timedelta(days=1)],
        ],
    )
    con.close()
    db = Database(path, read_only=True)
    yield db
    db.close()


HO = Scope("head_office")


def by_client(df):
    return df.set_index("client_id")


def test_upgrade_band_edges_and_gaps(wh):
    df = by_client(upgrade_near_miss(wh, HO))
    assert set(df.index) == {
        "u1_edge_in",
        "u4_just_under",
        "u5_potential",
        "u6_maturing",
        "u7_inflow",
        "d3_lost",  # gold again after 3 months below platinum, 20,000 under the line
        "x1_rm2",
        "x2_branch2",
    }
    # d1/d2 (platinum held in the grace period) are not near-misses for platinum
    assert df.loc["u1_edge_in", "gap"] == 50_000
    assert df.loc["u4_just_under", "gap"] == 0.01
    assert df.loc["u5_potential", ["tier", "line_tier", "gap"]].tolist() == [
        "mass",
        "potential",
        5_000,
    ]
    assert df.loc["u1_edge_in", ["tier", "line_tier", "line"]].tolist() == [
        "gold",
        "platinum",
        PLAT,
    ]
    assert df.loc["d3_lost", "gap"] == 20_000


def test_closers_counted_inside_their_windows_only(wh):
    df = by_client(upgrade_near_miss(wh, HO))
    assert df.loc["u6_maturing", "maturing_amount"] == 40_000
    assert df.loc["u6_maturing", "inflow_amount"] == 0
    assert df.loc["u7_inflow", "inflow_amount"] == 30_000
    assert df.loc["u7_inflow", "maturing_amount"] == 0
    assert df["closable"].to_dict() == {c: c in {"u6_maturing", "u7_inflow"} for c in df.index}


def test_ease_order(wh):
    df = upgrade_near_miss(wh, HO)
    assert df["ease"].tolist() == list(range(1, len(df) + 1))
    # closable first (smaller gap share first), then by gap / line, ties by client_id
    assert df["client_id"].tolist()[:4] == ["u7_inflow", "u6_maturing", "u4_just_under", "d3_lost"]
    assert df["client_id"].tolist()[-2:] == ["u1_edge_in", "u5_potential"]  # both 10% of the line


def test_band_argument(wh):
    df = upgrade_near_miss(wh, HO, band=0.05)  # [475,000, 500,000) under platinum
    assert set(df["client_id"]) == {"u4_just_under", "d3_lost"}
    with pytest.raises(ValueError):
        upgrade_near_miss(wh, HO, band=1.5)


def test_downgrade_grace_months_and_falling(wh):
    df = by_client(downgrade_risk(wh, HO))
    assert set(df.index) == {"d1_grace1", "d2_grace2", "d4_near_falling", "d7_on_line"}
    assert df.loc[
        "d1_grace1", ["reason", "months_below", "months_left", "gap_to_keep"]
    ].tolist() == [
        "below_line",
        1,
        2,
        20_000,
    ]
    assert df.loc[
        "d2_grace2", ["reason", "months_below", "months_left", "gap_to_keep"]
    ].tolist() == [
        "below_line",
        2,
        1,
        10_000,
    ]
    assert df.loc["d4_near_falling", ["reason", "months_below", "gap_to_keep"]].tolist() == [
        "near_and_falling",
        0,
        0,
    ]
    assert df.loc["d7_on_line", "reason"] == "near_and_falling"
    assert (df["tier"] == "platinum").all() and (df["line_tier"] == "platinum").all()
    assert df.loc["d4_near_falling", "prev_aum"] == 560_000
    # most urgent first: one month left, then two, then the near-and-falling
    assert downgrade_risk(wh, HO)["client_id"].tolist() == [
        "d2_grace2",
        "d1_grace1",
        "d4_near_falling",
        "d7_on_line",
    ]


def test_downgrade_earlier_month(wh):
    # at M3, d2 has its first month below and d3 its second; d1 is not yet below
    df = by_client(downgrade_risk(wh, HO, as_of=M3 + timedelta(days=10)))
    assert df.loc["d2_grace2", "months_below"] == 1
    assert df.loc["d3_lost", "months_below"] == 2
    assert "d1_grace1" not in df.index


def test_relationship_exactly_one_missing(wh):
    df = by_client(relationship_near_miss(wh, HO))
    assert df["missing"].to_dict() == {
        "r2_dormant_app": "mobile",
        "r3_login_edge": "payroll_pension",
        "r4_money_fund": "wealth",
        "r5_no_insurance": "insurance",
        "r7_policy_later": "insurance",
    }
    assert df.loc["r4_money_fund", "has_payroll_pension"]  # a pension counts


def test_threshold_clients_and_summary(wh):
    df = threshold_clients(wh, HO)
    counts = df["kind"].value_counts().to_dict()
    assert counts == {"upgrade": 8, "downgrade": 4, "relationship": 5}
    rel = df[df["kind"] == "relationship"]
    assert rel["gap"].isna().all() and rel["line_tier"].isna().all()
    down = df[df["kind"] == "downgrade"].set_index("client_id")
    assert (
        down.loc["d1_grace1", "gap"] == 20_000 and down.loc["d1_grace1", "reason"] == "below_line"
    )
    s = threshold_summary(wh, HO).set_index("kind")
    up_gap = 50_000 + 0.01 + 5_000 + 40_000 + 30_000 + 20_000 + 45_000 + 45_000
    assert s.loc["upgrade", "gap_total"] == pytest.approx(up_gap)
    assert s.loc["downgrade", "gap_total"] == 30_000
    assert s.loc["upgrade", "closable"] == 2
    assert s["clients"].to_dict() == counts


def test_scope_rm_and_manager(wh):
    rm2 = Scope("rm", ("B001",), rm_id="R2")
    assert upgrade_near_miss(wh, rm2)["client_id"].tolist() == ["x1_rm2"]
    assert downgrade_risk(wh, rm2).empty and relationship_near_miss(wh, rm2).empty
    b2 = threshold_clients(wh, Scope("manager", ("B002",)))
    assert b2["client_id"].tolist() == ["x2_branch2"]
    assert set(threshold_clients(wh, Scope("rm", ("B001",), rm_id="R1"))["client_id"]).isdisjoint(
        {"x1_rm2", "x2_branch2"}
    )


def test_contacted_recently(wh):
    df = contacted_recently(wh, HO, days=30)
    assert df.set_index("client_id")["last_contact"].to_dict() == {
        "u1_edge_in": AS_OF - timedelta(days=29),
        "x2_branch2": AS_OF - timedelta(days=1),
    }
    extra = pd.DataFrame(
        {
            "client_id": ["u5_potential", "x2_branch2", "u3_on_line"],
            "contact_date": [AS_OF + timedelta(days=3), AS_OF, AS_OF - timedelta(days=31)],
        }
    )
    rm1 = contacted_recently(wh, Scope("rm", ("B001",), rm_id="R1"), extra_contacts=extra)
    assert rm1["client_id"].tolist() == ["u1_edge_in", "u5_potential"]  # x2 is not theirs
    assert (
        contacted_recently(wh, HO, days=45).set_index("client_id").loc["u1_edge_in", "contacts"]
        == 2
    )


def test_on_demo_snapshot(request):
    pytest.importorskip("analytics.demo_data")
    wh = Database(request.getfixturevalue("demo_db_path"), read_only=True)
    df = threshold_clients(wh, HO)
    assert set(df["kind"]) == {"upgrade", "downgrade", "relationship"}
    up = df[df["kind"] == "upgrade"]
    assert (up["gap"] > 0).all()
    # recount each line's near-misses independently: AUM in the band under the line and the held
    # tier (best raw tier of the last n month-ends) below it
    n = load_settings()["tiers"]["downgrade_after_months"]
    aum = wh.query("SELECT client_id, month_end, aum::DOUBLE AS aum FROM client_aum_monthly")
    last = sorted(aum["month_end"].unique())[-n:]
    recent = aum[aum["month_end"].isin(last)].copy()
    recent["rank"] = recent["aum"].map(lambda a: sum(a >= line for _, line in tier_lines()) - 1)
    held = recent.groupby("client_id")["rank"].max()
    now = recent[recent["month_end"] == last[-1]].set_index("client_id")["aum"]
    expected = {}
    for rank, (name, line) in enumerate(tier_lines()):
        if line > 0:
            band = now[(now >= line * (1 - TH["upgrade_band"])) & (now < line)]
            expected[name] = int((held.loc[band.index] < rank).sum())
    got = up["line_tier"].value_counts().to_dict()
    assert {k: got.get(k, 0) for k in expected} == expected
    # the demo has clients under the lower lines (the top line needs a larger snapshot)
    assert {"potential", "gold", "platinum"} <= set(got)
    branch = wh.scalar("SELECT MIN(branch_id) FROM clients")
    mine = threshold_clients(wh, Scope("manager", (branch,)))
    assert 0 < len(mine) < len(df) and (mine["branch_id"] == branch).all()
    wh.close()
