"""Client value: contribution components, the value-tier rule, the value score and scope.

Tiny hand-made warehouses (only the tables these functions read); every expected number is worked
out by hand below.
"""

import copy
from datetime import date

import duckdb
import pandas as pd
import pytest

from analytics import value
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

AS_OF = date(2026, 10, 31)
# 13 month-ends 2025-10-31 .. 2026-10-31: the first one is outside the 12-month window
MONTHS = [(pd.Timestamp("2025-10-31") + pd.offsets.MonthEnd(i)).date() for i in range(13)]
WINDOW = MONTHS[1:]

TABLES = {
    "clients": "client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR, birth_date DATE,"
    " occupation VARCHAR, open_date DATE",
    "products": "product_id VARCHAR, category VARCHAR",
    "holdings_monthly": "month_end DATE, client_id VARCHAR, product_id VARCHAR,"
    " balance DECIMAL(18,2), avg_balance DECIMAL(18,2)",
    "client_aum_monthly": "month_end DATE, client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR,"
    " aum DECIMAL(18,2), aum_month_end DECIMAL(18,2)",
    "transactions": "txn_id BIGINT, client_id VARCHAR, txn_date DATE, txn_type VARCHAR,"
    " amount DECIMAL(18,2), channel VARCHAR, product_id VARCHAR, client_initiated BOOLEAN",
    "insurance_policies": "client_id VARCHAR, product_id VARCHAR, start_date DATE,"
    " annual_premium DECIMAL(18,2)",
    "digital_activity": "month_end DATE, client_id VARCHAR, mobile_logins INTEGER",
}
PRODUCTS = {
    "P_CUR": "current_deposit",
    "P_TD": "time_deposit",
    "P_LCD": "large_cd",
    "P_BOND": "savings_bond",
    "P_WM": "wealth",
    "P_EQF": "equity_fund",
    "P_INS": "annuity_insurance",
    "P_GOLD": "precious_metal",
    "P_TRUST": "trust",
}


def build(path, clients, holdings=(), aum=(), txns=(), policies=(), logins=()):
    """A read-only Database over a tmp DuckDB file with the given rows."""
    con = duckdb.connect(str(path))
    for name, cols in TABLES.items():
        con.execute(f"CREATE TABLE {name} ({cols})")
    con.executemany("INSERT INTO products VALUES (?, ?)", list(PRODUCTS.items()))
    inserts = {
        "clients": clients,
        "holdings_monthly": holdings,
        "client_aum_monthly": aum,
        "insurance_policies": policies,
        "digital_activity": logins,
    }
    for table, rows in inserts.items():
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", [list(r) for r in rows])
    if txns:
        con.executemany(
            "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [[i, *t] for i, t in enumerate(txns)],
        )
    con.close()
    return Database(path, read_only=True)


def born(age, as_of=AS_OF):
    """A birth date that makes the client exactly ``age`` on ``as_of``."""
    return as_of.replace(year=as_of.year - age)


# ---------------------------------------------------------------------------- contribution

DEFAULT_RATES = {  # DESIGN.md §3 and the keys added for bonds and trusts
    "current_deposit_spread": 0.018,
    "time_deposit_spread": 0.006,
    "savings_bond_fee": 0.002,
    "wealth_fee": 0.005,
    "fund_subscription_fee": 0.010,
    "fund_trailing_fee": 0.004,
    "insurance_first_year": 0.04,
    "precious_metal_fee": 0.003,
    "trust_fee": 0.01,
    "cost_to_serve_per_year": 60,
    "cost_per_counter_txn": 15,
}


def test_contribution_components_by_hand(tmp_path):
    rate = load_settings()["contribution"]
    hold = []
    for m in MONTHS:
        # current deposit: 1,000,000 in the month before the window (ignored), then 100,000
        # average balance, except one month without an average (month-end 40,000 counts)
        if m == MONTHS[0]:
            hold.append((m, "X", "P_CUR", 1_000_000, 1_000_000))
        elif m == MONTHS[5]:
            hold.append((m, "X", "P_CUR", 40_000, None))
        else:
            hold.append((m, "X", "P_CUR", 90_000, 100_000))  # the average wins over month-end
    for m in WINDOW:
        hold += [
            (m, "X", "P_TD", 240_000, 240_000),
            (m, "X", "P_BOND", 60_000, 60_000),
            (m, "X", "P_WM", 300_000, 300_000),
            (m, "X", "P_EQF", 50_000, 50_000),
            (m, "X", "P_INS", 80_000, 80_000),  # insurance earns on premium, not on balance
            (m, "X", "P_GOLD", 10_000, 10_000),
        ]
    hold += [(m, "X", "P_LCD", 120_000, 120_000) for m in WINDOW[:6]]
    hold += [(m, "X", "P_TRUST", 1_000_000, 1_000_000) for m in WINDOW[-3:]]
    txns = [
        # client_id, date, type, amount, channel, product, client_initiated
        ("X", date(2026, 3, 5), "purchase", 50_000, "mobile", "P_EQF", True),  # fund: fee
        ("X", date(2026, 4, 5), "purchase", 10_000, "counter", "P_WM", True),  # not a fund
        ("X", date(2025, 10, 20), "purchase", 99_000, "mobile", "P_EQF", True),  # before window
        ("X", date(2026, 5, 6), "withdrawal", 1_000, "counter", None, True),  # counter
        ("X", date(2026, 6, 8), "payroll", 9_000, "counter", None, False),  # not client's
        ("X", date(2025, 10, 31), "deposit", 1_000, "counter", None, True),  # before window
    ]
    policies = [
        ("X", "P_INS", date(2026, 2, 1), 20_000),  # started in the window
        ("X", "P_INS", date(2024, 2, 1), 50_000),  # older: no first-year fee
    ]
    clients = [
        ("X", "B001", "R1", born(40), "it", date(2015, 1, 1)),
        ("Y", "B001", "R1", born(40), "it", date(2015, 1, 1)),  # no business at all
    ]
    wh = build(tmp_path / "w.duckdb", clients, hold, txns=txns, policies=policies)
    df = value.contribution(wh, Scope("head_office"), AS_OF).set_index("client_id")

    x = df.loc["X"]
    expected = {
        "current_deposit": (11 * 100_000 + 40_000) * rate["current_deposit_spread"] / 12,
        "time_deposit": (12 * 240_000 + 6 * 120_000) * rate["time_deposit_spread"] / 12,
        "savings_bond": 12 * 60_000 * rate["savings_bond_fee"] / 12,
        "wealth": 12 * 300_000 * rate["wealth_fee"] / 12,
        "fund_trailing": 12 * 50_000 * rate["fund_trailing_fee"] / 12,
        "fund_subscription": 50_000 * rate["fund_subscription_fee"],
        "insurance": 20_000 * rate["insurance_first_year"],
        "precious_metal": 12 * 10_000 * rate["precious_metal_fee"] / 12,
        "trust": 3 * 1_000_000 * rate["trust_fee"] / 12,
        "cost_to_serve": rate["cost_to_serve_per_year"] + 2 * rate["cost_per_counter_txn"],
    }
    for col, want in expected.items():
        assert x[col] == pytest.approx(want, abs=0.01), col
    revenue = sum(v for k, v in expected.items() if k != "cost_to_serve")
    assert x["contribution"] == pytest.approx(revenue - expected["cost_to_serve"], abs=0.01)
    # with the default rates: 1710 + 1800 + 120 + 1500 + 200 + 500 + 800 + 30 + 2500 - 90
    if all(rate[k] == v for k, v in DEFAULT_RATES.items()):
        assert x["contribution"] == pytest.approx(9070.0, abs=0.01)

    y = df.loc["Y"]
    assert y["contribution"] == -rate["cost_to_serve_per_year"]
    assert (y[list(value.REVENUE_COLUMNS)] == 0).all()
    assert list(df.columns) == ["branch_id", "rm_id", *value.CONTRIBUTION_COLUMNS]


# ---------------------------------------------------------------------------- value tiers


@pytest.fixture()
def tier_settings(monkeypatch):
    """The settings in force with a simple contribution (A = the as-of month's current-deposit
    balance − 100) and the DESIGN.md shares, so the expected tiers below are fixed."""
    s = copy.deepcopy(load_settings())
    s["contribution"].update(current_deposit_spread=12.0, cost_to_serve_per_year=100)
    s["value_tiers"].update(
        mvc_top_share=0.2,
        mgc_top_share=0.3,
        potential_percentile=0.8,
        age_band_start=18,
        age_band_years=10,
    )
    monkeypatch.setattr(value, "load_settings", lambda: s)
    return s


# client: branch, rm, age, occupation, AUM at as-of (and two months before), A
TIER_CLIENTS = {
    # G1: B001, ages 28-37, it, mass
    "c01": ("B001", "R1", 28, "it", 1_000, 500),
    "c02": ("B001", "R2", 37, "it", 1_000, 500),
    "c03": ("B001", "R1", 30, "it", 1_000, 0),
    "c04": ("B001", "R2", 33, "it", 1_000, -50),
    "c05": ("B001", "R1", 30, "it", 1_000, 0),
    # G2: B001, 38-47, teacher, gold (c08 has fallen under the Gold line but still holds Gold)
    "c06": ("B001", "R1", 45, "teacher", 300_000, 2_000),
    "c07": ("B001", "R2", 45, "teacher", 300_000, 300),
    "c08": ("B001", "R1", 45, "teacher", 10_000, 300),
    # G3: B001, 58-67, retired, mass
    "c09": ("B001", "R2", 65, "retired", 1_000, 50),
    "c10": ("B001", "R1", 65, "retired", 1_000, 0),
    "c11": ("B001", "R2", 65, "retired", 1_000, -100),  # no holdings at all
    "c13": ("B001", "R1", 65, "retired", 1_000, 0),
    # G4: B001, 38-47, it, mass: alone (38 is the next band after 28-37)
    "c12": ("B001", "R2", 38, "it", 1_000, 1_000),
    # B002: the same look-alike keys as G1, but another branch
    "c21": ("B002", "R3", 30, "it", 1_000, 40),
    "c22": ("B002", "R3", 30, "it", 1_000, 30),
}

# By hand (0.8 quantile, linear interpolation between order statistics):
#   G1 A = -50, 0, 0, 500, 500        -> position 3.2 -> P = 500
#   G2 A = 300, 300, 2000             -> position 1.6 -> P = 300 + 0.6 * 1700 = 1320
#   G3 A = -100, 0, 0, 50             -> position 2.4 -> P = 0 + 0.4 * 50 = 20
#   G4 A = 1000                        -> P = 1000
#   B002 A = 30, 40                    -> position 0.8 -> P = 38
# B001: BZ = c04, c11. 11 others -> ceil(0.2 * 11) = 3 MVC by A: c06 2000, c12 1000, then the tie
# c01 = c02 = 500 goes to the lower id c01. Rest (8): growth c07 1020, c08 1020, c03 500,
# c05 500, c10 20, c13 20, c02 0, c09 -30 -> ceil(0.3 * 8) = 3 MGC: c07, c08 and c03 (tie with
# c05 broken by id). B002: 2 non-BZ -> 1 MVC (c21); rest c22 growth 8 -> 1 MGC.
EXPECTED_TIERS = {
    "c01": "MVC",
    "c02": "LVC",
    "c03": "MGC",
    "c04": "BZ",
    "c05": "LVC",
    "c06": "MVC",
    "c07": "MGC",
    "c08": "MGC",
    "c09": "LVC",
    "c10": "LVC",
    "c11": "BZ",
    "c12": "MVC",
    "c13": "LVC",
    "c21": "MVC",
    "c22": "MGC",
}
EXPECTED_POTENTIAL = {
    **dict.fromkeys(["c01", "c02", "c03", "c04", "c05"], 500),
    **dict.fromkeys(["c06", "c07", "c08"], 1320),
    **dict.fromkeys(["c09", "c10", "c11", "c13"], 20),
    "c12": 1000,
    "c21": 38,
    "c22": 38,
}


@pytest.fixture()
def tier_wh(tmp_path):
    clients, hold, aum = [], [], []
    for cid, (branch, rm, age, occ, aum_now, a) in TIER_CLIENTS.items():
        clients.append((cid, branch, rm, born(age), occ, date(2020, 1, 1)))
        if a + 100 > 0:
            hold.append((AS_OF, cid, "P_CUR", a + 100, a + 100))
        before = 300_000 if cid == "c08" else aum_now
        aum += [
            (MONTHS[-3], cid, branch, rm, before, before),
            (MONTHS[-2], cid, branch, rm, aum_now, aum_now),
            (AS_OF, cid, branch, rm, aum_now, aum_now),
        ]
    return build(tmp_path / "tiers.duckdb", clients, hold, aum)


def test_value_tier_rule_by_hand(tier_wh, tier_settings):
    df = value.value_tiers(tier_wh, Scope("head_office"), AS_OF).set_index("client_id")
    assert df["actual"].to_dict() == {c: float(v[-1]) for c, v in TIER_CLIENTS.items()}
    assert df["potential"].to_dict() == pytest.approx(EXPECTED_POTENTIAL)
    assert df["growth"].to_dict() == pytest.approx(
        {c: EXPECTED_POTENTIAL[c] - TIER_CLIENTS[c][-1] for c in TIER_CLIENTS}
    )
    assert df["value_tier"].to_dict() == EXPECTED_TIERS
    assert df.loc["c08", "aum_tier"] == "gold"  # held tier (downgrade rule), not the raw one
    assert df.loc["c01", "age_band"] == 28 and df.loc["c12", "age_band"] == 38
    assert df.loc["c01", "peers"] == 5 and df.loc["c12", "peers"] == 1


def test_value_tiers_do_not_depend_on_the_viewer(tier_wh, tier_settings):
    branch = value.value_tiers(tier_wh, Scope("manager", ("B001",)), AS_OF)
    assert set(branch["client_id"]) == {c for c, v in TIER_CLIENTS.items() if v[0] == "B001"}
    for rm_scope in (Scope("rm", ("B001",), rm_id="R1"), Scope("rm", rm_id="R2")):
        mine = value.value_tiers(tier_wh, rm_scope, AS_OF)
        assert set(mine["client_id"]) == {
            c for c, v in TIER_CLIENTS.items() if v[1] == rm_scope.rm_id
        }
        same = branch.set_index("client_id").loc[mine["client_id"]].reset_index()
        pd.testing.assert_frame_equal(mine, same)
    assert value.value_tiers(tier_wh, Scope("rm", rm_id="nobody"), AS_OF).empty


def test_value_tier_summary(tier_wh, tier_settings):
    s = value.value_tier_summary(tier_wh, Scope("manager", ("B001",)), AS_OF)
    assert list(s["value_tier"]) == list(value.VALUE_TIERS)
    assert s.set_index("value_tier")["clients"].to_dict() == {
        "MVC": 3,
        "MGC": 3,
        "LVC": 5,
        "BZ": 2,
    }
    # MVC contribution 500 + 2000 + 1000 of the branch's net 4500
    mvc = s.set_index("value_tier").loc["MVC"]
    assert mvc["contribution"] == 3500
    assert mvc["contribution_share"] == pytest.approx(3500 / 4500)
    for col in ("client_share", "aum_share", "contribution_share"):
        assert s[col].sum() == pytest.approx(1.0)
    empty = value.value_tier_summary(tier_wh, Scope("rm", rm_id="nobody"), AS_OF)
    assert list(empty["clients"]) == [0, 0, 0, 0]


# ---------------------------------------------------------------------------- value score


@pytest.fixture()
def score_wh(tmp_path):
    clients = [
        ("best", "B001", "R1", born(50), "it", date(2001, 1, 1)),
        ("mid", "B001", "R1", born(40), "it", date(2015, 1, 1)),
        ("aum_only", "B001", "R2", born(30), "it", AS_OF),  # top AUM, nothing else
        ("worst", "B001", "R2", born(30), "it", AS_OF),
        ("other", "B002", "R3", born(30), "it", AS_OF),  # alone in its branch
    ]
    hold = [
        (AS_OF, "best", "P_CUR", 500_000, 500_000),
        (AS_OF, "best", "P_WM", 500_000, 500_000),
        (AS_OF, "best", "P_EQF", 100_000, 100_000),
        (MONTHS[-2], "best", "P_GOLD", 100_000, 100_000),  # sold before as-of: not held
        (AS_OF, "mid", "P_CUR", 200_000, 200_000),
        (AS_OF, "mid", "P_TD", 100_000, 100_000),
    ]
    aum = [
        (AS_OF, "best", "B001", "R1", 1_000_000, 1_000_000),
        (AS_OF, "mid", "B001", "R1", 300_000, 300_000),
        (AS_OF, "aum_only", "B001", "R2", 1_000_000, 1_000_000),
        (AS_OF, "other", "B002", "R3", 5, 5),
    ]
    txns = [("best", date(2026, 9, 1), "deposit", 100, "mobile", None, True)] * 10
    txns += [("mid", date(2026, 9, 1), "deposit", 100, "mobile", None, True)] * 3
    txns += [("worst", date(2026, 9, 1), "payroll", 100, "system", None, False)]
    policies = [("best", "P_INS", date(2022, 1, 1), 10_000)]
    logins = [(m, "best", 20) for m in WINDOW] + [(AS_OF, "mid", 2)]
    return build(tmp_path / "score.duckdb", clients, hold, aum, txns, policies, logins)


def test_value_score_bounds_and_weights(score_wh):
    weights = load_settings()["value_score"]
    total = sum(weights[k] for k in value.SCORE_COMPONENTS)
    df = value.value_scores(score_wh, Scope("head_office"), AS_OF).set_index("client_id")
    assert df["value_score"].between(0, 100).all()
    rank_cols = [f"{k}_rank" for k in value.SCORE_COMPONENTS]
    assert df[rank_cols].stack().between(0, 100).all()

    best = df.loc["best"]
    assert best["product_breadth"] == 4  # current, wealth, equity fund + the insurance policy
    assert best["activity"] == 10 + 12 * 20
    assert best["aum"] == 1_000_000
    assert (best[rank_cols] == 100).all()
    assert best["value_score"] == 100  # the best client on every component

    assert df.loc["worst", "value_score"] == 0
    assert df.loc["worst", "activity"] == 0  # payroll is not client-initiated
    # tied for the top AUM (100) and tied for the bottom of everything else (0)
    assert df.loc["aum_only", "value_score"] == pytest.approx(100 * weights["aum"] / total)
    assert 0 < df.loc["mid", "value_score"] < 100
    assert df.loc["other", "value_score"] == 100  # alone in its branch: best of its branch


def test_value_score_scope(score_wh):
    branch = value.value_scores(score_wh, Scope("manager", ("B001",)), AS_OF)
    mine = value.value_scores(score_wh, Scope("rm", ("B001",), rm_id="R2"), AS_OF)
    assert sorted(mine["client_id"]) == ["aum_only", "worst"]
    same = branch.set_index("client_id").loc[mine["client_id"]].reset_index()
    pd.testing.assert_frame_equal(mine, same)


# ---------------------------------------------------------------------------- demo snapshot


def test_demo_value_tiers(demo_db_path):
    wh = Database(demo_db_path, read_only=True)
    try:
        df = value.value_tiers(wh, Scope("head_office"), None)
        scores = value.value_scores(wh, Scope("head_office"), None)
        rm_id = wh.scalar("SELECT rm_id FROM clients WHERE rm_id IS NOT NULL ORDER BY rm_id")
        mine = value.value_tiers(wh, Scope("rm", rm_id=rm_id), None)
    finally:
        wh.close()
    counts = df["value_tier"].value_counts()
    assert set(counts.index) == set(value.VALUE_TIERS), counts.to_dict()
    for branch, g in df.groupby("branch_id"):
        mvc = g["value_tier"] == "MVC"
        positive = g.loc[g["actual"] > 0, "actual"].sum()
        assert mvc.mean() <= 0.25, branch
        assert g.loc[mvc, "actual"].sum() >= 0.5 * positive, branch
    assert scores["value_score"].between(0, 100).all()
    assert len(scores) == len(df)
    # an RM sees their own clients, with the tiers the head office sees
    assert len(mine) and (mine["rm_id"] == rm_id).all()
    same = df.set_index("client_id").loc[mine["client_id"]].reset_index()
    pd.testing.assert_frame_equal(mine, same)
