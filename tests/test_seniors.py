"""Senior view analytics: the maturity calendar against an independent weekly sum, bands, the four
opportunity rules checked by independent queries, scope, the digital split, the risk-level edge."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from analytics import seniors, tags
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

S = load_settings()["seniors"]


@pytest.fixture(scope="module")
def wh(demo_db_path):
    return Database(demo_db_path, read_only=True)


@pytest.fixture(scope="module")
def as_of(wh):
    return pd.Timestamp(wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")).date()


@pytest.fixture(scope="module")
def manager(wh):
    return Scope("manager", (wh.scalar("SELECT MIN(branch_id) FROM branches"),))


@pytest.fixture(scope="module")
def rm(wh):
    rid, bid = wh.query(
        "SELECT rm_id, branch_id FROM clients WHERE rm_id IS NOT NULL "
        "GROUP BY ALL ORDER BY COUNT(*) DESC, rm_id LIMIT 1"
    ).iloc[0]
    return Scope("rm", (bid,), rm_id=rid)


def _clients(wh, as_of) -> pd.DataFrame:
    """Every client with branch, RM, gender, pension flag, risk level and age (computed in Python)."""
    df = wh.query(
        "SELECT client_id, branch_id, rm_id, gender, pension_flag, risk_level, birth_date "
        "FROM clients"
    )
    df["age"] = [
        as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))
        for b in pd.to_datetime(df["birth_date"])
    ]
    return df.set_index("client_id")


def _in_scope(df: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    if scope.role == "rm":
        return df[df["rm_id"] == scope.rm_id]
    if scope.role == "manager":
        return df[df["branch_id"].isin(scope.branch_ids)]
    return df


def _seniors(wh, as_of, scope, lo=50, hi=200) -> set[str]:
    df = _in_scope(_clients(wh, as_of), scope)
    return set(df.index[(df["age"] >= lo) & (df["age"] <= hi)])


# ---------------------------------------------------------------------------- maturity calendar


def test_calendar_equals_independent_weekly_sum(wh, manager, as_of):
    cal = seniors.maturity_calendar(wh, manager)
    ids = pd.DataFrame({"client_id": sorted(_seniors(wh, as_of, manager))})
    with wh.cursor() as cur:
        cur.register("ids", ids)
        expected = cur.execute(
            """
            WITH weeks AS (
                SELECT ?::DATE + (7 * k)::INTEGER AS ws FROM range(0, 100) t(k)
            )
            SELECT w.ws AS week_start, SUM(h.balance)::DOUBLE AS amount,
                   COUNT(DISTINCT h.client_id) AS clients
            FROM holdings_monthly h
            JOIN products p ON p.product_id = h.product_id
            JOIN ids ON ids.client_id = h.client_id
            JOIN weeks w ON h.maturity_date >= w.ws AND h.maturity_date < w.ws + 7
            WHERE h.month_end = ? AND p.category IN ('time_deposit', 'large_cd', 'savings_bond',
                                                     'wealth')
              AND h.maturity_date > ? AND h.maturity_date <= ?::DATE + 90
            GROUP BY w.ws
            """,
            [as_of, as_of, as_of, as_of],
        ).df()
    assert set(S["maturity_categories"]) == {"time_deposit", "large_cd", "savings_bond", "wealth"}
    assert S["calendar_days"] == 90
    weekly = cal.groupby("week_start")["amount"].sum()
    assert expected["amount"].sum() > 0
    for row in expected.itertuples():
        assert weekly[pd.Timestamp(row.week_start).date()] == pytest.approx(row.amount, abs=0.01)
    assert weekly.sum() == pytest.approx(expected["amount"].sum(), abs=0.01)
    # drilling a week gives the same total and clients as its calendar rows
    busiest = weekly.idxmax()
    drill = seniors.maturing_clients(wh, manager, busiest)
    assert drill["amount"].sum() == pytest.approx(weekly[busiest], abs=0.01)
    assert set(drill["client_id"]) <= _seniors(wh, as_of, manager)
    assert all(busiest <= d < busiest + timedelta(days=7) for d in drill["first_maturity"])


def test_calendar_weeks_cover_the_window(wh, manager, as_of):
    cal = seniors.maturity_calendar(wh, manager)
    starts = sorted(set(cal["week_start"]))
    assert starts[0] == as_of
    assert all(b - a == timedelta(days=7) for a, b in zip(starts, starts[1:], strict=False))
    assert starts[-1] <= as_of + timedelta(days=90) < starts[-1] + timedelta(days=7)
    assert len(cal) == len(starts) * len(S["maturity_categories"])
    assert (cal["amount"] >= 0).all() and (cal["clients"] >= 0).all()
    assert ((cal["amount"] == 0) == (cal["clients"] == 0)).all()


def test_band_restricts_ages(wh, manager, as_of):
    ages = _clients(wh, as_of)["age"]
    band = seniors.opportunities(wh, manager, band="60-69")
    for df in band.values():
        assert ages[df["client_id"]].between(60, 69).all()
    split = seniors.digital_split(wh, manager, band="70+")
    assert set(split["client_id"]) == _seniors(wh, as_of, manager, 70)
    cal_all = seniors.maturity_calendar(wh, manager)
    cal_band = sum(
        seniors.maturity_calendar(wh, manager, band=b)["amount"] for b in ("50-59", "60-69", "70+")
    )
    assert cal_band.to_numpy() == pytest.approx(cal_all["amount"].to_numpy(), abs=0.01)
    drill = seniors.maturing_clients(wh, manager, as_of, band="60-69")
    assert ages[drill["client_id"]].between(60, 69).all()


# ---------------------------------------------------------------------------- opportunities


def test_opportunities_respect_their_rules(wh, manager, as_of):
    opp = seniors.opportunities(wh, manager)
    assert list(opp) == list(seniors.OPPORTUNITIES)
    members = _seniors(wh, as_of, manager)
    clients = _clients(wh, as_of)
    for name, df in opp.items():
        assert len(df) > 0, name
        assert set(df["client_id"]) <= members, name
        assert df["client_id"].is_unique, name

    # large maturity: independent total per senior in the window
    maturing = wh.query(
        """
        SELECT h.client_id, SUM(h.balance)::DOUBLE AS amount
        FROM holdings_monthly h JOIN products p USING (product_id)
        WHERE h.month_end = ? AND p.category IN ('time_deposit', 'large_cd', 'savings_bond',
                                                 'wealth')
          AND h.maturity_date > ? AND h.maturity_date <= ?
        GROUP BY h.client_id
        """,
        [as_of, as_of, as_of + timedelta(days=90)],
    ).set_index("client_id")["amount"]
    expected = {c for c in members if maturing.get(c, 0) >= S["large_maturity_amount"]}
    large = opp["large_maturity"].set_index("client_id")["amount"]
    assert set(large.index) == expected
    assert large.to_numpy() == pytest.approx(maturing[large.index].to_numpy(), abs=0.01)

    # pension paid elsewhere: retirement age by gender, no pension flag
    retire = load_settings()["tags"]["retirement_age"]
    mine = clients.loc[sorted(members)]
    expected = set(
        mine.index[(mine["age"] >= mine["gender"].map(retire).astype(int)) & ~mine["pension_flag"]]
    )
    pension = opp["pension_elsewhere"].set_index("client_id")["age"]
    assert set(pension.index) == expected
    assert (pension == clients.loc[pension.index, "age"]).all()

    # dormant: last client-initiated transaction on or before as_of - dormant_days, or none
    last = wh.query(
        "SELECT client_id, MAX(txn_date) AS last_txn FROM transactions "
        "WHERE client_initiated AND txn_date <= ? GROUP BY client_id",
        [as_of],
    ).set_index("client_id")["last_txn"]
    cutoff = pd.Timestamp(as_of - timedelta(days=S["dormant_days"]))
    expected = {c for c in members if c not in last.index or pd.Timestamp(last[c]) <= cutoff}
    dormant = opp["dormant"]
    assert set(dormant["client_id"]) == expected
    for row in dormant.itertuples():
        if row.last_txn is None:
            assert row.client_id not in last.index
        else:
            assert pd.Timestamp(row.last_txn) == pd.Timestamp(last[row.client_id])

    # above risk level: positions whose R number exceeds the client's C number
    pos = wh.query(
        """
        SELECT h.client_id, p.risk_level AS r, c.risk_level AS c, h.balance::DOUBLE AS balance
        FROM holdings_monthly h JOIN products p USING (product_id) JOIN clients c USING (client_id)
        WHERE h.month_end = ?
        """,
        [as_of],
    )
    pos = pos[pos["r"].str[1:].astype(int) > pos["c"].str[1:].astype(int)]
    pos = pos[pos["client_id"].isin(members)]
    above = opp["above_risk"].set_index("client_id")
    assert set(above.index) == set(pos["client_id"])
    grouped = pos.groupby("client_id")["balance"].agg(["count", "sum"]).loc[above.index]
    assert (above["products"] == grouped["count"]).all()
    assert above["amount"].to_numpy() == pytest.approx(grouped["sum"].to_numpy(), abs=0.01)


def test_rm_lists_hold_only_their_clients(wh, rm, as_of):
    own = set(_clients(wh, as_of).query("rm_id == @rm.rm_id").index)
    for df in seniors.opportunities(wh, rm).values():
        assert set(df["client_id"]) <= own
    assert set(seniors.digital_split(wh, rm)["client_id"]) == _seniors(wh, as_of, rm)
    for week in sorted(set(seniors.maturity_calendar(wh, rm)["week_start"])):
        assert set(seniors.maturing_clients(wh, rm, week)["client_id"]) <= own
    # the RM's calendar is part of the branch's
    branch = Scope("manager", rm.branch_ids)
    assert (
        seniors.maturity_calendar(wh, rm)["amount"].sum()
        <= seniors.maturity_calendar(wh, branch)["amount"].sum() + 0.01
    )


def test_digital_split_partitions_the_seniors(wh, manager, as_of):
    split = seniors.digital_split(wh, manager)
    assert split["client_id"].is_unique
    assert set(split["client_id"]) == _seniors(wh, as_of, manager)
    assert set(split["digital"]) == {"active", "silent"}
    flags = tags.client_tags(wh, manager).set_index("client_id")["digital_active"]
    assert ((split["digital"] == "active") == flags[split["client_id"]].to_numpy()).all()


# ---------------------------------------------------------------------------- hand-made edge


def test_above_risk_edge_on_a_hand_made_table(tmp_path):
    as_of = date(2026, 10, 31)
    path = tmp_path / "risk.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR,
            birth_date DATE, risk_level VARCHAR);
        CREATE TABLE products (product_id VARCHAR, category VARCHAR, risk_level VARCHAR);
        CREATE TABLE holdings_monthly (month_end DATE, client_id VARCHAR, product_id VARCHAR,
            balance DECIMAL(18, 2), avg_balance DECIMAL(18, 2), cost DECIMAL(18, 2),
            maturity_date DATE);
        CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
            rm_id VARCHAR, aum DECIMAL(18, 2), aum_month_end DECIMAL(18, 2));
        """
    )
    con.executemany(
        "INSERT INTO clients VALUES (?, 'B1', 'R1', ?, 'C3')",
        [("ok", date(1950, 1, 1)), ("flagged", date(1950, 1, 1)), ("young", date(1990, 1, 1))],
    )
    con.executemany("INSERT INTO products VALUES (?, 'wealth', ?)", [("P3", "R3"), ("P4", "R4")])
    con.executemany(
        "INSERT INTO holdings_monthly VALUES (?, ?, ?, ?, NULL, ?, NULL)",
        [
            (as_of, "ok", "P3", 1000, 1000),  # R3 for C3: allowed
            (as_of, "flagged", "P3", 1000, 1000),
            (as_of, "flagged", "P4", 2500, 2500),  # R4 for C3: above
            (as_of, "young", "P4", 9000, 9000),  # above, but not a senior
            (date(2026, 9, 30), "ok", "P4", 500, 500),  # above, but not at the as-of month-end
        ],
    )
    con.executemany(
        "INSERT INTO client_aum_monthly VALUES (?, ?, 'B1', 'R1', 1, 1)",
        [(m, c) for m in (date(2026, 9, 30), as_of) for c in ("ok", "flagged", "young")],
    )
    con.close()
    wh = Database(path, read_only=True)
    above = seniors.above_risk(wh, Scope("head_office"))
    assert above.to_dict("records") == [{"client_id": "flagged", "products": 1, "amount": 2500.0}]
