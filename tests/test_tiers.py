"""AUM tiers: the edges of each line and the 3-month downgrade rule (settings.toml [tiers])."""

from datetime import date

import duckdb
import pytest

from analytics.access import Scope
from analytics.settings import tier_lines
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_of


@pytest.mark.parametrize("name, line", [(n, x) for n, x in tier_lines() if x > 0])
def test_tier_edges(name, line):
    below = tier_names()[tier_names().index(name) - 1]
    assert tier_of(line) == name  # exactly on the line
    assert tier_of(line - 0.01) == below  # one fen below


def test_zero_and_huge():
    assert tier_of(0) == "mass"
    assert tier_of(1e12) == "private"


def months(n):
    return [date(2026, m, 28) for m in range(1, n + 1)]


@pytest.fixture()
def wh(tmp_path):
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,"
        " rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2))"
    )
    platinum, gold = 500_000, 300_000
    series = {
        # reaches Platinum in month 1, then 2 months below: still Platinum
        "two_below": [platinum, gold, gold, platinum],
        # 3 months below: Gold from the 3rd month below
        "three_below": [platinum, gold, gold, gold],
        # upgrades at once in the month the line is reached
        "upgrade": [gold, gold, gold, platinum],
        # exactly on the line counts; a fen below does not
        "edge": [platinum - 0.01, platinum, platinum - 0.01, platinum - 0.01],
    }
    for cid, values in series.items():
        for m, v in zip(months(4), values, strict=True):
            con.execute(
                "INSERT INTO client_aum_monthly VALUES (?, ?, 'B001', 'R0001', ?, ?)",
                [m, cid, v, v],
            )
    con.close()
    return Database(path, read_only=True)


def held(wh):
    sql, params = held_tiers_sql(Scope("head_office"))
    df = wh.query(f"SELECT client_id, month_end, tier FROM ({sql}) ORDER BY ALL", params)
    names = tier_names()
    return {c: [names[t] for t in g["tier"]] for c, g in df.groupby("client_id")}


def test_downgrade_needs_three_months_below(wh):
    got = held(wh)
    assert got["two_below"] == ["platinum"] * 4
    assert got["three_below"] == ["platinum", "platinum", "platinum", "gold"]
    assert got["upgrade"] == ["gold", "gold", "gold", "platinum"]
    assert got["edge"] == ["gold", "platinum", "platinum", "platinum"]
