"""Tier migration: counts add up to the clients present in both months, up/down/stay on held
tiers (the 3-month downgrade rule), new and gone clients reported apart, scope."""

from datetime import date

import duckdb
import pytest

from analytics.access import Scope
from analytics.migration import migration_summary, tier_migration
from analytics.store import Database
from analytics.tiers import tier_names

M1, M2, M3, M4 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
PLAT, GOLD = 600_000, 300_000

# client -> (branch, rm, AUM per month M1..M4; None = no row that month)
SERIES = {
    "up": ("B001", "R1", [GOLD, GOLD, GOLD, PLAT]),  # gold -> platinum
    "up_edge": ("B001", "R1", [499_999.99, 499_999.99, 499_999.99, 500_000.00]),
    "down": ("B001", "R1", [PLAT, GOLD, GOLD, GOLD]),  # 3 months below: platinum -> gold
    "grace": ("B001", "R1", [PLAT, GOLD, GOLD, PLAT]),  # never 3 below: stays platinum
    "grace_end": ("B001", "R1", [GOLD, PLAT, GOLD, GOLD]),  # 2 below at M4: still platinum (up)
    "stay": ("B001", "R2", [GOLD, GOLD, GOLD, GOLD]),
    "gone": ("B001", "R1", [GOLD, GOLD, None, None]),
    "new": ("B001", "R1", [None, None, None, 10_000]),
    "other": ("B002", "R9", [PLAT, PLAT, PLAT, 100]),  # another branch; 1 month below: platinum
}


@pytest.fixture()
def wh(tmp_path):
    path = tmp_path / "m.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,"
        " rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2))"
    )
    for cid, (branch, rm, values) in SERIES.items():
        for m, v in zip([M1, M2, M3, M4], values, strict=True):
            if v is not None:
                con.execute(
                    "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
                    [m, cid, branch, rm, v, v],
                )
    con.close()
    db = Database(path, read_only=True)
    yield db
    db.close()


def cell(df, a, b):
    row = df[(df["from_tier"] == a) & (df["to_tier"] == b)]
    assert len(row) == 1
    return row.iloc[0]


def test_matrix_counts_add_up_to_clients_in_both_months(wh):
    df = tier_migration(wh, Scope("head_office"), M1, M4)
    n = len(tier_names())
    assert len(df) == n * n  # the full grid, zeros included
    # present in both M1 and M4: all but "gone" and "new"
    assert df["clients"].sum() == len(SERIES) - 2
    assert cell(df, "gold", "platinum")["clients"] == 3  # up, up_edge, grace_end
    assert cell(df, "platinum", "gold")["clients"] == 1  # down
    assert cell(df, "platinum", "platinum")["clients"] == 2  # grace, other
    assert cell(df, "gold", "gold")["clients"] == 1  # stay
    assert cell(df, "gold", "platinum")["movement"] == "up"
    assert cell(df, "platinum", "gold")["movement"] == "down"
    assert cell(df, "gold", "gold")["movement"] == "stay"
    assert cell(df, "mass", "private")["clients"] == 0
    assert cell(df, "platinum", "gold")["aum_from"] == PLAT
    assert cell(df, "platinum", "gold")["aum_to"] == GOLD
    assert cell(df, "gold", "platinum")["aum_to"] == pytest.approx(PLAT + 500_000 + GOLD)


def test_summary_separates_new_and_gone(wh):
    s = migration_summary(wh, Scope("head_office"), M1, M4)
    assert (s.upgrades, s.downgrades, s.stayers, s.new, s.gone) == (3, 1, 3, 1, 1)
    assert s.both == tier_migration(wh, Scope("head_office"), M1, M4)["clients"].sum()
    assert s.new_aum == 10_000 and s.gone_aum == GOLD


def test_one_month_step(wh):
    # M3 -> M4: "down" reached its 3rd month below at M4; "grace_end" has 2 months below at M4
    # and is platinum in both months; "gone" has no row in M3.
    s = migration_summary(wh, Scope("head_office"), M3, M4)
    assert (s.upgrades, s.downgrades, s.stayers, s.new, s.gone) == (2, 1, 4, 1, 0)


def test_scope(wh):
    rm = Scope("rm", ("B001",), rm_id="R2")
    df = tier_migration(wh, rm, M1, M4)
    assert df["clients"].sum() == 1 and cell(df, "gold", "gold")["clients"] == 1
    mgr = migration_summary(wh, Scope("manager", ("B002",)), M1, M4)
    assert (mgr.upgrades, mgr.downgrades, mgr.stayers, mgr.new, mgr.gone) == (0, 0, 1, 0, 0)


def test_on_demo_snapshot(request):
    pytest.importorskip("analytics.demo_data")
    wh = Database(request.getfixturevalue("demo_db_path"), read_only=True)
    months = wh.query("SELECT DISTINCT month_end FROM client_aum_monthly ORDER BY 1")["month_end"]
    a, b = months.iloc[-2].date(), months.iloc[-1].date()
    scope = Scope("head_office")
    df = tier_migration(wh, scope, a, b)
    s = migration_summary(wh, scope, a, b)
    both = wh.scalar(
        "SELECT COUNT(*) FROM client_aum_monthly x JOIN client_aum_monthly y USING (client_id)"
        " WHERE x.month_end = ? AND y.month_end = ?",
        [a, b],
    )
    assert df["clients"].sum() == s.both == both
    wh.close()
