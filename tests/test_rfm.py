"""RFM: quintile scores with deterministic ties, the eight segments, retail RFM and scope."""

from datetime import date

import duckdb
import pandas as pd
import pytest

from analytics import rfm
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

# key: recency days, frequency, monetary -> the expected (R, F, M) scores and segment.
# 10 rows, 5 quintiles: two rows per score, worst first, ties by key (module docstring).
#   R (fewer days is better): c 400, h 400 | j 90, d 60 | g 60, i 40 | b 20, f 20 | e 3, a 1
#     -> the tie d = g = 60 is split across quintiles 2 and 3 by key order (d first)
#   F: b 0, h 0 | d 3, i 5 | j 5, f 6 | e 8, g 8 | a 12, c 20   (tie i = j split by key)
#   M: e 0, h 0 | f 100, i 100 | g 500, j 500 | b 2000, d 2000 | c 8000, a 9000
# Mean score of each dimension = 3; high = above the mean = 4 or 5.
TABLE = {
    "a": (1, 12, 9000, (5, 5, 5), "important_value"),
    "b": (20, 0, 2000, (4, 1, 4), "important_develop"),
    "c": (400, 20, 8000, (1, 5, 5), "important_keep"),
    "d": (60, 3, 2000, (2, 2, 4), "important_retain"),
    "e": (3, 8, 0, (5, 4, 1), "general_value"),
    "f": (20, 6, 100, (4, 3, 2), "general_develop"),
    "g": (60, 8, 500, (3, 4, 3), "general_keep"),
    "h": (400, 0, 0, (1, 1, 1), "general_retain"),
    "i": (40, 5, 100, (3, 2, 2), "general_retain"),
    "j": (90, 5, 500, (2, 3, 3), "general_retain"),
}


def frame(keys=None):
    keys = keys or list(TABLE)
    return pd.DataFrame(
        {
            "client_id": keys,
            "days": [TABLE[k][0] for k in keys],
            "n": [TABLE[k][1] for k in keys],
            "amount": [float(TABLE[k][2]) for k in keys],
        }
    )


def scores(df, **kw):
    out = rfm.rfm_scores(df, "days", "n", "amount", quintiles=5, **kw)
    return out.set_index("client_id")


def test_scores_and_segments_by_hand():
    out = scores(frame())
    for k, (*_, (r, f, m), seg) in TABLE.items():
        assert tuple(out.loc[k, ["r_score", "f_score", "m_score"]]) == (r, f, m), k
        assert out.loc[k, "rfm_code"] == f"{r}{f}{m}"
        assert out.loc[k, "segment"] == seg, k
    assert set(out["segment"]) == set(rfm.SEGMENTS)  # every segment reachable
    assert out.loc["a", "r_score"] == 5 and out.loc["c", "r_score"] == 1  # recency direction
    for col in ("r_score", "f_score", "m_score"):
        assert sorted(out[col]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_scores_do_not_depend_on_row_order():
    df = frame()
    shuffled = df.sample(frac=1, random_state=3).reset_index(drop=True)
    a = scores(df).sort_index()
    b = scores(shuffled).sort_index()
    pd.testing.assert_frame_equal(a, b)
    # input columns and row order are kept
    out = rfm.rfm_scores(shuffled, "days", "n", "amount", quintiles=5)
    assert list(out["client_id"]) == list(shuffled["client_id"])
    assert list(out.columns) == [*shuffled.columns, *rfm.SCORE_COLUMNS]


def test_fewer_rows_than_quintiles():
    df = pd.DataFrame(
        {"client_id": ["x", "y", "z"], "days": [10, 20, 30], "n": [1, 2, 3], "amount": [3, 2, 1]}
    )
    out = scores(df)
    assert out["r_score"].to_dict() == {"x": 5, "y": 3, "z": 1}
    assert out["f_score"].to_dict() == {"x": 1, "y": 3, "z": 5}
    assert out["m_score"].to_dict() == {"x": 5, "y": 3, "z": 1}
    # mean 3: only the 5s are high
    assert out["segment"].to_dict() == {
        "x": "important_develop",
        "y": "general_retain",
        "z": "general_keep",
    }
    one = scores(df.iloc[:1])
    assert tuple(one.loc["x", ["r_score", "f_score", "m_score"]]) == (3, 3, 3)
    assert one.loc["x", "segment"] == "general_retain"  # equal to the mean is low
    two = scores(df.iloc[:2])
    assert two["r_score"].to_dict() == {"x": 4, "y": 2}
    empty = rfm.rfm_scores(df.iloc[:0], "days", "n", "amount", quintiles=5)
    assert empty.empty and set(rfm.SCORE_COLUMNS) <= set(empty.columns)


def test_groups_are_scored_separately():
    df = pd.concat([frame().assign(branch="B1"), frame().assign(branch="B2")])
    df["client_id"] = df["branch"] + df["client_id"]
    out = rfm.rfm_scores(df, "days", "n", "amount", quintiles=5, by="branch")
    for _, g in out.groupby("branch"):
        assert sorted(g["r_score"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        assert set(g["segment"]) == set(rfm.SEGMENTS)


def test_quintiles_default_from_settings():
    out = rfm.rfm_scores(frame(), "days", "n", "amount")
    assert out["r_score"].max() == load_settings()["rfm"]["quintiles"]


# ---------------------------------------------------------------------------- retail RFM

AS_OF = date(2026, 10, 31)


@pytest.fixture()
def wh(tmp_path):
    path = tmp_path / "rfm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR)")
    con.execute(
        "CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,"
        " rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2))"
    )
    con.execute(
        "CREATE TABLE transactions (txn_id BIGINT, client_id VARCHAR, txn_date DATE,"
        " txn_type VARCHAR, amount DECIMAL(18,2), channel VARCHAR, product_id VARCHAR,"
        " client_initiated BOOLEAN)"
    )
    clients = [("k1", "B1", "R1"), ("k2", "B1", "R1"), ("k3", "B1", "R2"), ("k4", "B1", None)]
    clients += [("m1", "B2", "R3")]
    con.executemany("INSERT INTO clients VALUES (?, ?, ?)", clients)
    con.executemany(
        "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, 0, 0)",
        [(AS_OF, c, b, r) for c, b, r in clients],
    )
    txns = [
        ("k1", AS_OF, "withdrawal", 500, True),  # on the as-of date: recency 0
        ("k1", date(2026, 1, 10), "deposit", 1_500, True),
        ("k1", date(2026, 10, 1), "payroll", 9_000, False),  # not client-initiated
        ("k2", date(2026, 10, 21), "card_spend", 300, True),  # recency 10
        ("k2", date(2025, 10, 31), "deposit", 7_000, True),  # window starts after this day
        ("k3", date(2025, 11, 1), "deposit", 100, True),  # first day of the window
        ("k4", date(2026, 6, 1), "pension", 3_000, False),  # never client-initiated
        ("m1", date(2026, 10, 30), "deposit", 1, True),
    ]
    con.executemany(
        "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, 'mobile', NULL, ?)",
        [(i, c, d, t, a, ci) for i, (c, d, t, a, ci) in enumerate(txns)],
    )
    con.close()
    return Database(path, read_only=True)


def test_retail_rfm_by_hand(wh):
    out = rfm.retail_rfm(wh, Scope("head_office")).set_index("client_id")  # as_of: latest
    assert out[["recency_days", "frequency", "monetary"]].to_dict("index") == {
        "k1": {"recency_days": 0, "frequency": 2, "monetary": 2_000.0},
        "k2": {"recency_days": 10, "frequency": 1, "monetary": 300.0},
        "k3": {"recency_days": 364, "frequency": 1, "monetary": 100.0},
        # no client-initiated transaction in the 12 months: the window's 365 days + 1
        "k4": {"recency_days": 366, "frequency": 0, "monetary": 0.0},
        "m1": {"recency_days": 1, "frequency": 1, "monetary": 1.0},
    }
    # B1 has 4 clients: R order worst first k4, k3, k2, k1 -> positions 0..3 -> 1, 2, 4, 5
    assert out.loc[["k4", "k3", "k2", "k1"], "r_score"].tolist() == [1, 2, 4, 5]
    # m1 is alone in B2: the middle score
    assert out.loc["m1", "rfm_code"] == "333"


def test_retail_rfm_scope(wh):
    branch = rfm.retail_rfm(wh, Scope("manager", ("B1",)), AS_OF)
    assert sorted(branch["client_id"]) == ["k1", "k2", "k3", "k4"]
    mine = rfm.retail_rfm(wh, Scope("rm", rm_id="R1"), AS_OF)
    assert sorted(mine["client_id"]) == ["k1", "k2"]
    same = branch.set_index("client_id").loc[mine["client_id"]].reset_index()
    pd.testing.assert_frame_equal(mine, same)  # scored within the branch, whoever is viewing
    assert rfm.retail_rfm(wh, Scope("rm", rm_id="nobody"), AS_OF).empty


# ---------------------------------------------------------------------------- demo snapshot


def test_demo_all_segments(demo_db_path):
    wh = Database(demo_db_path, read_only=True)
    try:
        out = rfm.retail_rfm(wh, Scope("head_office"))
        n_clients = wh.scalar("SELECT COUNT(*) FROM clients")
    finally:
        wh.close()
    assert len(out) == n_clients
    counts = out["segment"].value_counts()
    assert set(counts.index) == set(rfm.SEGMENTS), counts.to_dict()
    assert out[["r_score", "f_score", "m_score"]].stack().between(1, 5).all()
