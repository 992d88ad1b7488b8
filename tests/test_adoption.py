"""RM adoption (认养/领养分配): effective RM, loads, the proposed assignment and its acceptance."""

from __future__ import annotations

import copy
import math
from datetime import date

import duckdb
import pandas as pd
import pytest

from analytics import adoption
from analytics.access import AccessDenied, Scope
from analytics.settings import load_settings
from analytics.store import AuditLog, Database, open_workspace

MONTH = date(2026, 10, 31)
HEAD = Scope("head_office", viewer_id="ho:1")
M1 = Scope("manager", ("B1",), viewer_id="mgr:B1")


def _settings(capacity_by_title: dict, default: int) -> dict:
    s = copy.deepcopy(load_settings())
    s["adoption"] = {"capacity_by_title": capacity_by_title, "default_capacity": default}
    return s


SMALL_CAP = _settings({"private": 2, "wealth": 3, "client": 2}, 2)

# (client_id, branch_id, warehouse rm_id, AUM)
CLIENTS = [
    ("c1", "B1", "R1", 900_000),
    ("c2", "B1", "R1", 800_000),
    ("c3", "B1", "R1", 600_000),
    ("c4", "B1", "R1", 550_000),
    ("c5", "B1", "R2", 1_000_000),
    ("u1", "B1", None, 3_000_000),
    ("u2", "B1", None, 700_000),
    ("m1", "B1", None, 100_000),  # mass: not high-end, never proposed
    ("u3", "B2", None, 600_000),
    ("u4", "B2", None, 520_000),
    ("u5", "B2", None, 510_000),
]
RMS = [
    ("R1", "B1", "private"),
    ("R2", "B1", "wealth"),
    ("R3", "B1", "client"),
    ("R4", "B2", "client"),
]


@pytest.fixture
def small_wh(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE rms (rm_id VARCHAR, branch_id VARCHAR, title VARCHAR)")
    con.execute("CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR)")
    con.execute(
        """CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
           rm_id VARCHAR, aum DECIMAL(18, 2), aum_month_end DECIMAL(18, 2))"""
    )
    con.executemany("INSERT INTO rms VALUES (?, ?, ?)", RMS)
    con.executemany("INSERT INTO clients VALUES (?, ?, ?)", [c[:3] for c in CLIENTS])
    con.executemany(
        "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
        [(MONTH, cid, b, rm, aum, aum) for cid, b, rm, aum in CLIENTS],
    )
    con.close()
    db = Database(path, read_only=True)
    yield db
    db.close()


@pytest.fixture
def ws_path(tmp_path):
    return tmp_path / "workspace.duckdb"


def _apply(status: pd.DataFrame, proposal: pd.DataFrame) -> pd.DataFrame:
    """The status after the proposal's moves."""
    out = status.set_index("client_id").copy()
    out.loc[proposal["client_id"], "rm_id"] = proposal["to_rm"].to_numpy()
    return out.reset_index()


# ---------------------------------------------------------------------------- hand-made tables


def test_status_and_load_on_small_tables(small_wh):
    st = adoption.adoption_status(small_wh, None, HEAD, settings=SMALL_CAP)
    assert list(st.columns) == adoption.STATUS_COLUMNS
    assert "m1" not in set(st["client_id"]) and len(st) == 10
    assert st.set_index("client_id").loc["u1", "tier"] == "diamond"
    assert set(adoption.unassigned(small_wh, None, HEAD, settings=SMALL_CAP)["client_id"]) == {
        "u1",
        "u2",
        "u3",
        "u4",
        "u5",
    }
    load = adoption.rm_load(small_wh, None, M1, settings=SMALL_CAP).set_index("rm_id")
    assert list(load.index) == ["R1", "R2", "R3"]  # the manager's branch only
    assert load.loc["R1", "high_end_clients"] == 4
    assert load.loc["R1", "high_end_aum"] == pytest.approx(2_850_000)
    assert load.loc["R1", "capacity"] == 2 and bool(load.loc["R1", "over_capacity"])
    assert not load.loc[["R2", "R3"], "over_capacity"].any()
    # an RM sees their own book and their own load row
    rm1 = Scope("rm", ("B1",), rm_id="R1")
    assert set(adoption.effective_rm(small_wh, None, rm1, settings=SMALL_CAP)["client_id"]) == {
        "c1",
        "c2",
        "c3",
        "c4",
    }
    assert list(adoption.rm_load(small_wh, None, rm1, settings=SMALL_CAP)["rm_id"]) == ["R1"]


def test_proposal_known_answer(small_wh):
    p = adoption.propose_assignment(small_wh, None, HEAD, settings=SMALL_CAP)
    assert list(p.columns) == adoption.PROPOSAL_COLUMNS
    got = {
        r.client_id: (None if pd.isna(r.from_rm) else r.from_rm, r.to_rm, r.reason)
        for r in p.itertuples()
    }
    assert got == {
        # B1: R1 keeps its two largest, the excess (smallest AUM first) moves
        "u1": (None, "R3", "unassigned"),
        "u2": (None, "R2", "unassigned"),
        "c3": ("R1", "R2", "over_capacity"),
        "c4": ("R1", "R3", "over_capacity"),
        # B2: capacity 2 for 3 clients: everyone still gets the branch's RM
        "u3": (None, "R4", "unassigned"),
        "u4": (None, "R4", "unassigned"),
        "u5": (None, "R4", "unassigned"),
    }
    # B1 has room for all: nobody unassigned and nobody over capacity afterwards
    b1 = p[p["branch_id"] == "B1"]
    st = _apply(adoption.adoption_status(small_wh, None, M1, settings=SMALL_CAP), b1)
    assert st["rm_id"].notna().all()
    counts = st.groupby("rm_id").size()
    caps = {"R1": 2, "R2": 3, "R3": 2}
    assert all(counts[r] <= caps[r] for r in counts.index)


def test_proposal_is_deterministic_and_within_branch(small_wh):
    a = adoption.propose_assignment(small_wh, None, HEAD, settings=SMALL_CAP)
    b = adoption.propose_assignment(small_wh, None, HEAD, settings=SMALL_CAP)
    pd.testing.assert_frame_equal(a, b)
    branch_of = dict((r, b_) for r, b_, _ in RMS)
    assert (a["to_rm"].map(branch_of) == a["branch_id"]).all()
    # a manager's proposal is the head office's rows for that branch
    m = adoption.propose_assignment(small_wh, None, M1, settings=SMALL_CAP)
    pd.testing.assert_frame_equal(m, a[a["branch_id"] == "B1"].reset_index(drop=True))


def test_accept_persists_and_is_audited(small_wh, ws_path, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    assert adoption.accept_assignment(ws, p, M1, audit) == len(p) == 4
    ws.close()

    ws = open_workspace(ws_path)  # as after an app restart
    eff = adoption.effective_rm(small_wh, ws, HEAD, settings=SMALL_CAP).set_index("client_id")
    assert eff.loc["u1", "rm_id"] == "R3" and eff.loc["c3", "rm_id"] == "R2"
    assert eff.loc["c1", "rm_id"] == "R1" and pd.isna(eff.loc["u3", "rm_id"])  # B2 untouched
    assert not adoption.rm_load(small_wh, ws, M1, settings=SMALL_CAP)["over_capacity"].any()
    assert adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP).empty
    # the new RM sees the adopted client, the old one no longer does
    r3 = Scope("rm", ("B1",), rm_id="R3")
    assert set(adoption.effective_rm(small_wh, ws, r3, settings=SMALL_CAP)["client_id"]) == {
        "u1",
        "c4",
    }
    r1 = Scope("rm", ("B1",), rm_id="R1")
    assert set(adoption.effective_rm(small_wh, ws, r1, settings=SMALL_CAP)["client_id"]) == {
        "c1",
        "c2",
    }
    saved = ws.query("SELECT * FROM rm_assignments ORDER BY client_id")
    assert set(saved["accepted_by"]) == {"mgr:B1"}
    assert saved.set_index("client_id").loc["c3", "previous_rm_id"] == "R1"

    log = audit.read()
    assert len(log) == 1
    line = log.iloc[0]
    assert line["viewer"] == "mgr:B1" and line["action"] == "assign"
    assert sorted(line["client_ids"]) == sorted(p["client_id"])

    # a later acceptance overrides an earlier one
    again = p[p["client_id"] == "u1"].assign(from_rm="R3", to_rm="R2")
    adoption.accept_assignment(ws, again, M1)
    eff = adoption.effective_rm(small_wh, ws, M1, settings=SMALL_CAP).set_index("client_id")
    assert eff.loc["u1", "rm_id"] == "R2"
    ws.close()


def test_only_manager_or_head_office_accepts_within_scope(small_wh, ws_path, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, HEAD, settings=SMALL_CAP)
    for scope in (Scope("rm", ("B1",), rm_id="R1"), Scope("trainer", ("B1", "B2"))):
        with pytest.raises(AccessDenied):
            adoption.accept_assignment(ws, p, scope, audit)
    with pytest.raises(AccessDenied):  # B2 rows are outside the B1 manager's scope
        adoption.accept_assignment(ws, p, M1, audit)
    assert ws.scalar("SELECT COUNT(*) FROM rm_assignments") == 0
    assert audit.read().empty
    assert adoption.accept_assignment(ws, p, HEAD, audit) == len(p)
    assert adoption.unassigned(small_wh, ws, HEAD, settings=SMALL_CAP).empty


def test_accept_rolls_back_on_error(small_wh, ws_path):
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    p.loc[p.index[-1], "to_rm"] = None  # violates NOT NULL on the last row
    with pytest.raises(duckdb.Error):
        adoption.accept_assignment(ws, p, M1)
    assert ws.scalar("SELECT COUNT(*) FROM rm_assignments") == 0


# ---------------------------------------------------------------------------- demo snapshot


@pytest.fixture(scope="module")
def demo_wh(demo_db_path):
    db = Database(demo_db_path, read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="module")
def tight(demo_wh):
    """Capacities low enough that some RMs are over capacity but each branch has room for all."""
    st = adoption.adoption_status(demo_wh, None, HEAD)
    rms = demo_wh.query("SELECT branch_id, COUNT(*) AS n FROM rms GROUP BY branch_id")
    need = max(
        math.ceil((st["branch_id"] == b).sum() / n)
        for b, n in zip(rms["branch_id"], rms["n"], strict=True)
    )
    return _settings({}, need + 1)


def test_demo_proposal_fixes_unassigned_and_overload(demo_wh, tight):
    before = adoption.rm_load(demo_wh, None, HEAD, settings=tight)
    assert before["over_capacity"].any()  # the test exercises the over-capacity path
    p = adoption.propose_assignment(demo_wh, None, HEAD, settings=tight)
    assert set(p["reason"]) <= {"unassigned", "over_capacity"}
    assert (p["reason"] == "over_capacity").any()
    st = _apply(adoption.adoption_status(demo_wh, None, HEAD, settings=tight), p)
    assert st["rm_id"].notna().all()
    cap = before.set_index("rm_id")["capacity"]
    counts = st.groupby("rm_id").size()
    assert (counts <= cap.reindex(counts.index)).all()
    # never across branches
    branch_of = demo_wh.query("SELECT rm_id, branch_id FROM rms").set_index("rm_id")["branch_id"]
    assert (p["to_rm"].map(branch_of) == p["branch_id"]).all()
    # deterministic
    pd.testing.assert_frame_equal(
        p, adoption.propose_assignment(demo_wh, None, HEAD, settings=tight)
    )


def test_demo_rm_load_matches_independent_sql(demo_wh):
    s = load_settings()
    n = int(s["tiers"]["downgrade_after_months"])
    line = float(s["tiers"]["lines"][s["tiers"]["high_end_from"]])
    branch = demo_wh.scalar("SELECT MIN(branch_id) FROM branches")
    expected = demo_wh.query(
        """
        WITH months AS (SELECT DISTINCT month_end FROM client_aum_monthly
                        ORDER BY month_end DESC LIMIT ?),
        he AS (SELECT a.client_id, arg_max(a.aum, a.month_end)::DOUBLE AS aum
               FROM client_aum_monthly a SEMI JOIN months USING (month_end)
               GROUP BY a.client_id
               HAVING MAX(a.aum) >= ?
                  AND MAX(a.month_end) = (SELECT MAX(month_end) FROM months))
        SELECT c.rm_id, COUNT(*) AS n, SUM(he.aum) AS aum
        FROM he JOIN clients c USING (client_id)
        WHERE c.branch_id = ? AND c.rm_id IS NOT NULL GROUP BY c.rm_id
        """,
        [n, line, branch],
    ).set_index("rm_id")
    load = adoption.rm_load(demo_wh, None, Scope("manager", (branch,))).set_index("rm_id")
    assert set(load.index) == set(
        demo_wh.query("SELECT rm_id FROM rms WHERE branch_id = ?", [branch])["rm_id"]
    )
    got = load["high_end_clients"]
    assert got[got > 0].to_dict() == expected["n"].to_dict()
    for rm, aum in expected["aum"].items():
        assert load.loc[rm, "high_end_aum"] == pytest.approx(aum)
    caps = s["adoption"]["capacity_by_title"]
    assert (load["capacity"] == load["title"].map(caps)).all()


def test_demo_accept_then_reopen(demo_wh, tight, tmp_path):
    ws_path = tmp_path / "workspace.duckdb"
    audit = AuditLog(tmp_path / "audit.jsonl")
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(demo_wh, ws, HEAD, settings=tight)
    adoption.accept_assignment(ws, p, HEAD, audit)
    ws.close()
    ws = open_workspace(ws_path)
    assert adoption.unassigned(demo_wh, ws, HEAD, settings=tight).empty
    assert not adoption.rm_load(demo_wh, ws, HEAD, settings=tight)["over_capacity"].any()
    eff = adoption.effective_rm(demo_wh, ws, HEAD, settings=tight).set_index("client_id")["rm_id"]
    assert (eff.loc[p["client_id"]].to_numpy() == p["to_rm"].to_numpy()).all()
    assert adoption.propose_assignment(demo_wh, ws, HEAD, settings=tight).empty
    assert len(audit.read()) == 1
    ws.close()
