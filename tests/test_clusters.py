"""Behaviour clusters: features by hand, determinism, k within bounds, well-separated groups
recovered, traits naming the features that set a group apart, scope."""

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import clusters
from analytics.access import Scope
from analytics.clusters import FEATURES, behaviour_clusters, client_features
from analytics.settings import load_settings
from analytics.store import Database

AS_OF = date(2026, 10, 31)
CFG = load_settings()["clusters"]
# Three groups that differ in a few features only (sizes distinct so cluster numbers are known):
# 0 baseline (largest), 1 seniors (age), 2 wealthy digital clients (AUM, logins, investments).
# Half of each book is in deposits; the other half in gold (neither deposit nor investment) or,
# for group 2, in wealth products, so that only the investment share differs.
GROUPS = [
    dict(n=80, age=35, aum=100_000, logins=2, invest=0.0),
    dict(n=60, age=72, aum=100_000, logins=2, invest=0.0),
    dict(n=40, age=35, aum=3_000_000, logins=40, invest=0.5),
]
MONTH_ENDS = [(pd.Timestamp(AS_OF) - pd.offsets.MonthEnd(m)).date() for m in range(12)]


def create_tables(con):
    con.execute(
        """
        CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
            rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2));
        CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR,
            birth_date DATE, open_date DATE);
        CREATE TABLE products (product_id VARCHAR, category VARCHAR);
        CREATE TABLE holdings_monthly (month_end DATE, client_id VARCHAR, product_id VARCHAR,
            balance DECIMAL(18,2), avg_balance DECIMAL(18,2), cost DECIMAL(18,2),
            maturity_date DATE);
        CREATE TABLE transactions (txn_id BIGINT, client_id VARCHAR, txn_date DATE,
            txn_type VARCHAR, amount DECIMAL(18,2), channel VARCHAR, product_id VARCHAR,
            counterparty_bank VARCHAR, client_initiated BOOLEAN);
        CREATE TABLE digital_activity (month_end DATE, client_id VARCHAR, mobile_logins INTEGER);
        INSERT INTO products VALUES ('P_DEP', 'current_deposit'), ('P_TD', 'time_deposit'),
            ('P_WM', 'wealth'), ('P_EQ', 'equity_fund'), ('P_GOLD', 'precious_metal');
        """
    )


def birth(age, day_offset=0):
    return date(AS_OF.year - age, AS_OF.month, AS_OF.day) - timedelta(days=day_offset)


@pytest.fixture()
def groups_db(tmp_path):
    path = tmp_path / "g.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con)
    rng = np.random.default_rng(1)
    truth = {}
    rows = {t: [] for t in ("client_aum_monthly", "clients", "holdings", "digital", "txns")}
    for g, spec in enumerate(GROUPS):
        for i in range(spec["n"]):
            cid = f"G{g}-{i:03d}"
            truth[cid] = g
            aum = round(spec["aum"] * float(rng.uniform(0.9, 1.1)), 2)
            rm = "R1" if i % 2 == 0 else "R2"
            rows["client_aum_monthly"].append((AS_OF, cid, "B001", rm, aum, aum))
            # the same open date for all: a pure-noise feature would be split like any other
            age = spec["age"] + int(rng.integers(-2, 3))
            rows["clients"].append((cid, "B001", rm, birth(age), date(2020, 1, 1)))
            half = round(aum / 2, 2)
            other = "P_WM" if spec["invest"] else "P_GOLD"
            for pid, bal in [("P_DEP", aum - half), (other, half)]:
                rows["holdings"].append((AS_OF, cid, pid, bal, bal, bal, None))
            for month_end in MONTH_ENDS:
                logins = spec["logins"] + int(rng.integers(0, 2))
                rows["digital"].append((month_end, cid, logins))
            for t in range(10):
                txn = (len(rows["txns"]), cid, AS_OF - timedelta(days=10 * t), "deposit", 100)
                rows["txns"].append((*txn, "counter", None, None, True))
    for table, name in [
        ("client_aum_monthly", "client_aum_monthly"),
        ("clients", "clients"),
        ("holdings_monthly", "holdings"),
        ("digital_activity", "digital"),
        ("transactions", "txns"),
    ]:
        frame = pd.DataFrame(rows[name])  # noqa: F841 (read by the SQL below)
        con.execute(f"INSERT INTO {table} SELECT * FROM frame")
    con.close()
    db = Database(path, read_only=True)
    yield db, truth
    db.close()


def test_features_by_hand(tmp_path):
    path = tmp_path / "f.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con)
    con.execute(
        "INSERT INTO client_aum_monthly VALUES (?, 'A', 'B001', 'R1', 100000, 100000),"
        " (?, 'A', 'B001', 'R1', 1, 1)",
        [AS_OF, AS_OF - timedelta(days=31)],
    )
    # turns 40 the day after as_of: still 39; client for 10 years (3652.5 days -> 10.0)
    con.execute(
        "INSERT INTO clients VALUES ('A', 'B001', 'R1', ?, ?)",
        [birth(40, day_offset=-1), AS_OF - timedelta(days=3652)],
    )
    con.execute(
        """
        INSERT INTO holdings_monthly VALUES
            (?, 'A', 'P_DEP', 30000, 20000, 30000, NULL),   -- average balance counts: 20,000
            (?, 'A', 'P_TD', 30000, NULL, 30000, NULL),     -- no average: month-end 30,000
            (?, 'A', 'P_EQ', 40000, 40000, 30000, NULL),
            (?, 'A', 'P_WM', 10000, 10000, 10000, NULL),
            (?, 'A', 'P_GOLD', 0, 0, 0, NULL),              -- empty position: not in breadth
            (?, 'A', 'P_WM', 99999, 99999, 99999, NULL)     -- an earlier month: ignored
        """,
        [AS_OF] * 5 + [AS_OF - timedelta(days=31)],
    )
    txns = [
        (AS_OF, True),  # in
        (date(2025, 11, 1), True),  # in (first day of the 12 months)
        (date(2025, 10, 31), True),  # out: 12 months before
        (AS_OF, False),  # out: not client-initiated (e.g. payroll)
        (AS_OF + timedelta(days=1), True),  # out: after as_of
    ]
    for i, (d, ci) in enumerate(txns):
        con.execute(
            "INSERT INTO transactions VALUES (?, 'A', ?, 'purchase', 1, 'mobile', NULL, NULL, ?)",
            [i, d, ci],
        )
    con.execute(
        "INSERT INTO digital_activity VALUES (?, 'A', 5), (DATE '2025-11-30', 'A', 7),"
        " (DATE '2025-10-31', 'A', 100)",
        [AS_OF],
    )
    con.close()
    wh = Database(path, read_only=True)
    f = client_features(wh, Scope("head_office")).set_index("client_id").loc["A"]
    assert f["age"] == 39
    assert f["aum"] == 100_000
    total = 20_000 + 30_000 + 40_000 + 10_000
    assert f["deposit_share"] == pytest.approx(50_000 / total)
    assert f["investment_share"] == pytest.approx(50_000 / total)
    assert f["breadth"] == 4
    assert f["transactions"] == 2
    assert f["mobile_logins"] == 12
    assert f["tenure"] == pytest.approx(3652 / 365.25)
    assert list(client_features(wh, Scope("head_office")).columns) == ["client_id", *FEATURES]
    wh.close()


def test_groups_recovered_with_traits(groups_db):
    wh, truth = groups_db
    res = behaviour_clusters(wh, Scope("head_office"))
    assert res.k == 3
    assert set(res.silhouette) <= set(range(CFG["k_min"], CFG["k_max"] + 1))
    assert max(res.silhouette, key=res.silhouette.get) == 3
    got = res.assignments.set_index("client_id")["cluster"]
    assert all(got[c] == g for c, g in truth.items())  # groups numbered by size
    p = res.profiles.set_index("cluster")
    assert p["size"].tolist() == [80, 60, 40]
    assert p["share"].sum() == pytest.approx(1.0)
    assert p.loc[2, "investment_share"] == pytest.approx(0.5)
    assert p["deposit_share"].tolist() == pytest.approx([0.5] * 3, abs=1e-6)
    assert p.loc[1, "age"] == pytest.approx(72, abs=1)
    assert res.traits[0][0] == ("age", "low")
    assert res.traits[1][0] == ("age", "high")
    assert ("mobile_logins", "high") not in res.traits[1]
    assert {("aum", "high"), ("investment_share", "high"), ("mobile_logins", "high")} == set(
        res.traits[2]
    )
    assert all(len(t) <= CFG["max_traits"] for t in res.traits.values())
    assert res.effects.shape == (3, len(FEATURES))


def test_trait_threshold(groups_db, monkeypatch):
    wh, _ = groups_db
    strict = {**load_settings(), "clusters": {**CFG, "trait_min_d": 10.0}}
    monkeypatch.setattr(clusters, "load_settings", lambda: strict)
    res = behaviour_clusters(wh, Scope("head_office"))
    assert res.k == 3 and res.traits == {0: [], 1: [], 2: []}


def test_deterministic(groups_db, monkeypatch):
    wh, _ = groups_db
    a = behaviour_clusters(wh, Scope("head_office"), seed=5)
    b = behaviour_clusters(wh, Scope("head_office"), seed=5)
    assert a.assignments.equals(b.assignments) and a.silhouette == b.silhouette
    # fitted on a sample, the rest predicted: still deterministic and every client assigned
    small = {**load_settings(), "clusters": {**CFG, "fit_sample": 50}}
    monkeypatch.setattr(clusters, "load_settings", lambda: small)
    c = behaviour_clusters(wh, Scope("head_office"), seed=5)
    d = behaviour_clusters(wh, Scope("head_office"), seed=5)
    assert c.assignments.equals(d.assignments) and len(c.assignments) == 180
    assert CFG["k_min"] <= c.k <= CFG["k_max"]


def test_scope_and_small_populations(groups_db):
    wh, truth = groups_db
    rm = behaviour_clusters(wh, Scope("rm", ("B001",), rm_id="R1"))
    assert len(rm.assignments) == sum(g["n"] for g in GROUPS) // 2
    assert rm.assignments["client_id"].map(lambda c: int(c[-3:]) % 2 == 0).all()
    nobody = behaviour_clusters(wh, Scope("manager", ("B999",)))
    assert nobody.k == 0 and nobody.assignments.empty and nobody.traits == {}


def test_too_few_clients_make_one_cluster(tmp_path):
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con)
    for cid, aum in [("A", 1000), ("B", 2000)]:
        con.execute(
            "INSERT INTO client_aum_monthly VALUES (?, ?, 'B001', 'R1', ?, ?)",
            [AS_OF, cid, aum, aum],
        )
        con.execute(
            "INSERT INTO clients VALUES (?, 'B001', 'R1', '1980-01-01', '2010-01-01')", [cid]
        )
    con.close()
    wh = Database(path, read_only=True)
    res = behaviour_clusters(wh, Scope("head_office"))
    assert res.k == 1 and res.assignments["cluster"].tolist() == [0, 0] and res.silhouette == {}
    wh.close()


def test_on_demo_snapshot(request):
    pytest.importorskip("analytics.demo_data")
    wh = Database(request.getfixturevalue("demo_db_path"), read_only=True)
    res = behaviour_clusters(wh, Scope("head_office"))
    assert CFG["k_min"] <= res.k <= CFG["k_max"]
    assert sorted(res.assignments["cluster"].unique()) == list(range(res.k))
    assert (res.profiles["size"] > 0).all()
    assert res.profiles["size"].sum() == len(res.assignments)
    assert res.assignments["client_id"].is_unique
    wh.close()
