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
from analytics.audit import AuditUnavailable
from analytics.settings import load_settings
from analytics.store import AuditLog, Database, open_workspace

MONTH = date(2026, 10, 31)
HEAD = Scope("head_office", viewer_id="ho:1")
M1 = Scope("manager", ("B1",), viewer_id="mgr:B1")


# The grade match of the shipped settings, spelled out so the known answers below do not move
# when a bank edits its settings.toml.
TITLES_BY_TIER = {
    "private": ["private", "wealth"],
    "diamond": ["private", "wealth"],
    "platinum": ["wealth", "client"],
}


def _settings(capacity_by_title: dict, default: int, titles_by_tier: dict | None = None) -> dict:
    s = copy.deepcopy(load_settings())
    s["adoption"] = {
        "capacity_by_title": capacity_by_title,
        "default_capacity": default,
        "titles_by_tier": TITLES_BY_TIER if titles_by_tier is None else titles_by_tier,
    }
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


def build_wh(path, clients, rms) -> Database:
    """A warehouse with only rms, clients and one month-end of client_aum_monthly (MONTH):
    ``clients`` as (client_id, branch_id, rm_id, aum), ``rms`` as (rm_id, branch_id, title)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE rms (rm_id VARCHAR, branch_id VARCHAR, title VARCHAR)")
    con.execute("CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR)")
    con.execute(
        """CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
           rm_id VARCHAR, aum DECIMAL(18, 2), aum_month_end DECIMAL(18, 2))"""
    )
    con.executemany("INSERT INTO rms VALUES (?, ?, ?)", rms)
    con.executemany("INSERT INTO clients VALUES (?, ?, ?)", [c[:3] for c in clients])
    con.executemany(
        "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
        [(MONTH, cid, b, rm, aum, aum) for cid, b, rm, aum in clients],
    )
    con.close()
    return Database(path, read_only=True)


@pytest.fixture
def small_wh(tmp_path):
    db = build_wh(tmp_path / "wh.duckdb", CLIENTS, RMS)
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
    # B1 by hand: R1 (private, cap 2) keeps c1, c2 and hands over c3, c4 (smallest first); R2
    # (wealth, cap 3) holds c5; R3 (client, cap 2) nothing. Movers by AUM: u1 (diamond 300万):
    # R1 is full, so the next title of diamond, wealth: R2. u2 (platinum): wealth first: R2 (now
    # full, 3). c3, c4 (platinum): no wealth room left, then client: R3, R3.
    assert got == {
        "u1": (None, "R2", "unassigned"),
        "u2": (None, "R2", "unassigned"),
        "c3": ("R1", "R3", "over_capacity"),
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
    assert eff.loc["u1", "rm_id"] == "R2" and eff.loc["c3", "rm_id"] == "R3"
    assert eff.loc["c1", "rm_id"] == "R1" and pd.isna(eff.loc["u3", "rm_id"])  # B2 untouched
    assert not adoption.rm_load(small_wh, ws, M1, settings=SMALL_CAP)["over_capacity"].any()
    assert adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP).empty
    # the new RM sees the adopted client, the old one no longer does
    r3 = Scope("rm", ("B1",), rm_id="R3")
    assert set(adoption.effective_rm(small_wh, ws, r3, settings=SMALL_CAP)["client_id"]) == {
        "c3",
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
    again = p[p["client_id"] == "u1"].assign(from_rm="R2", to_rm="R3")
    adoption.accept_assignment(ws, again, M1)
    eff = adoption.effective_rm(small_wh, ws, M1, settings=SMALL_CAP).set_index("client_id")
    assert eff.loc["u1", "rm_id"] == "R3"
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


# ---------------------------------------------------------------------------- RM grades

# Issue 14 point 4: a 1,030万 private client went to a junior RM while the private banker had
# room. Capacities: private 3, wealth 2, client 1; grade match: TITLES_BY_TIER.
GRADE_CAP = _settings({"private": 3, "wealth": 2, "client": 1}, 1)
GRADE_RMS = [
    ("P1", "G1", "private"),
    ("W1", "G1", "wealth"),
    ("W2", "G1", "wealth"),
    ("J1", "G1", "client"),
    ("P2", "G2", "private"),
    ("J2", "G2", "client"),
]
GRADE_CLIENTS = [
    # G1: P1 holds one diamond, W1 one platinum; W2 and J1 hold nothing
    ("p0", "G1", "P1", 2_500_000),  # diamond
    ("w0", "G1", "W1", 800_000),  # platinum
    ("x1", "G1", None, 10_300_000),  # private (≥ 600万): the 1,030万 client
    ("d1", "G1", None, 5_000_000),  # diamond
    ("d2", "G1", None, 4_000_000),  # diamond
    ("d3", "G1", None, 2_200_000),  # diamond
    ("q1", "G1", None, 900_000),  # platinum
    ("q2", "G1", None, 520_000),  # platinum
    # G2: two platinum clients, a private banker and one client manager with room for one
    ("r1", "G2", None, 800_000),
    ("r2", "G2", None, 600_000),
]


@pytest.fixture
def grade_wh(tmp_path):
    db = build_wh(tmp_path / "grades.duckdb", GRADE_CLIENTS, GRADE_RMS)
    yield db
    db.close()


def test_proposal_follows_rm_grades_known_answer(grade_wh):
    p = adoption.propose_assignment(grade_wh, None, HEAD, settings=GRADE_CAP)
    # Worked by hand, movers largest first (G1 start: P1 1/3 at 250万, W1 1/2 at 80万, W2 0/2,
    # J1 0/1):
    #   x1 private 1,030万: private first, P1 has room            -> P1 (2/3)
    #   d1 diamond 500万:   private first, P1 still has room      -> P1 (3/3, full)
    #   d2 diamond 400万:   P1 full; wealth W1 (80万) or W2 (0): lower AUM -> W2 (1/2, 400万)
    #   d3 diamond 220万:   wealth W1 (80万) or W2 (400万)        -> W1 (2/2, full)
    #   q1 platinum 90万:   wealth first, only W2 has room        -> W2 (2/2, full)
    #   q2 platinum 52万:   wealth full, then client: J1          -> J1 (1/1)
    # G2: r1 platinum 80万 -> client J2 (wealth none; a private banker is not listed for
    # platinum); r2 60万: J2 is full, so the private banker, as nothing else has room -> P2.
    assert list(zip(p["client_id"], p["to_rm"], p["reason"], strict=True)) == [
        ("x1", "P1", "unassigned"),
        ("d1", "P1", "unassigned"),
        ("d2", "W2", "unassigned"),
        ("d3", "W1", "unassigned"),
        ("q1", "W2", "unassigned"),
        ("q2", "J1", "unassigned"),
        ("r1", "J2", "unassigned"),
        ("r2", "P2", "unassigned"),
    ]
    assert p.set_index("client_id").loc["x1", "tier"] == "private"
    assert p["from_rm"].isna().all()


def test_the_grade_table_comes_from_settings(grade_wh):
    """Reverse the private/diamond order: those clients then fill the wealth managers first."""
    flipped = _settings(
        {"private": 3, "wealth": 2, "client": 1}, 1,
        {**TITLES_BY_TIER, "private": ["wealth", "private"], "diamond": ["wealth", "private"]},
    )  # fmt: skip
    p = adoption.propose_assignment(grade_wh, None, HEAD, settings=flipped)
    got = dict(zip(p["client_id"], p["to_rm"], strict=True))
    # by hand (G1 start: P1 1/3, W1 1/2 at 80万, W2 0/2, J1 0/1):
    #   x1 private: wealth first, W1 (80万) or W2 (0)   -> W2 (1/2, 1,030万)
    #   d1 diamond: wealth, W1 (80万) or W2 (1,030万)   -> W1 (2/2, full)
    #   d2 diamond: wealth, W2 still has room           -> W2 (2/2, full)
    #   d3 diamond: wealth full, then private           -> P1 (2/3)
    #   q1 platinum: wealth full, then client           -> J1 (1/1)
    #   q2 platinum: only the private banker has room   -> P1 (3/3)
    assert got == {
        "x1": "W2", "d1": "W1", "d2": "W2", "d3": "P1", "q1": "J1", "q2": "P1",
        "r1": "J2", "r2": "P2",
    }  # fmt: skip
    # without a table every title matches equally: the AUM balance alone. x1 goes to an RM with
    # no AUM yet, W2 or J1, the one with more room: W2 (2 free against 1), not the private banker
    plain = adoption.propose_assignment(
        grade_wh, None, HEAD, settings=_settings({"private": 3, "wealth": 2, "client": 1}, 1, {})
    )
    assert plain.set_index("client_id").loc["x1", "to_rm"] == "W2"


def test_shipped_settings_send_private_and_diamond_to_private_bankers_first():
    rule = load_settings()["adoption"]["titles_by_tier"]
    assert rule["private"][0] == "private" and rule["diamond"][0] == "private"
    assert rule["private"][1] == "wealth" and rule["diamond"][1] == "wealth"
    assert "private" not in rule["platinum"] and "private" not in rule["mass"]


# ---------------------------------------------------------------------------- undo


def _rows(ws) -> pd.DataFrame:
    return ws.query("SELECT * FROM rm_assignments ORDER BY rowid")


def test_undo_restores_the_workspace_and_writes_one_record(small_wh, ws_path, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    ws = open_workspace(ws_path)
    first = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    adoption.accept_assignment(ws, first[first["client_id"] == "u1"], M1, audit)  # u1 -> R2
    before = _rows(ws)
    p = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    # by hand, with u1 at R2 (2/3): u2 -> R2 (wealth, 3/3), c3 and c4 -> R3
    assert list(zip(p["client_id"], p["to_rm"], strict=True)) == [
        ("u2", "R2"),
        ("c3", "R3"),
        ("c4", "R3"),
    ]
    assert adoption.accept_assignment(ws, p, M1, audit) == 3
    last = adoption.last_acceptance(ws, M1)
    assert last.accepted_by == "mgr:B1" and last.clients == 3
    assert last.client_ids == ("c3", "c4", "u2") and last.branch_ids == ("B1",)
    assert adoption.may_undo(M1, last)

    assert adoption.undo_acceptance(ws, last, M1, audit) == 3
    pd.testing.assert_frame_equal(_rows(ws), before)  # exactly the rows before the acceptance
    log = audit.read()
    assert list(log["action"]) == ["assign", "assign", "undo"]
    undo = log.iloc[-1]
    assert undo["viewer"] == "mgr:B1" and undo["role"] == "manager"
    assert list(undo["client_ids"]) == ["u2", "c3", "c4"]
    assert list(undo["branch_ids"]) == ["B1"]
    assert undo["detail"] == (
        f"assign: withdrew 3 rm_assignments accepted by mgr:B1 at {last.accepted_at.isoformat()}"
        " (client RM->back to): u2 R2->-, c3 R3->R1, c4 R3->R1"
    )
    # the effective RMs are back, and the same moves are proposed again
    eff = adoption.effective_rm(small_wh, ws, M1, settings=SMALL_CAP).set_index("client_id")
    assert pd.isna(eff.loc["u2", "rm_id"]) and eff.loc["c3", "rm_id"] == "R1"
    pd.testing.assert_frame_equal(
        adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP), p
    )
    # the latest acceptance is now the earlier one (u1), and the withdrawn one cannot be undone
    assert adoption.last_acceptance(ws, M1).client_ids == ("u1",)
    with pytest.raises(adoption.UndoError) as e:
        adoption.undo_acceptance(ws, last, M1, audit)
    assert e.value.code == "not_accepted"
    assert len(audit.read()) == 3
    ws.close()


def test_undo_only_by_who_may_accept_for_every_branch(small_wh, ws_path, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, HEAD, settings=SMALL_CAP)
    adoption.accept_assignment(ws, p, HEAD, audit)  # B1 and B2
    rows, records = _rows(ws), len(audit.read())
    last = adoption.last_acceptance(ws, M1)
    assert last.accepted_by == "ho:1" and last.branch_ids == ("B1", "B2")
    assert last.client_ids == ("c3", "c4", "u1", "u2")  # the manager's part of it
    refused = [
        Scope("rm", ("B1",), rm_id="R1"),  # no accept_adoption permission
        Scope("trainer", ("B1", "B2")),  # no permission
        M1,  # may accept, but the acceptance also covers B2
        Scope("manager", ("B2",), viewer_id="mgr:B2"),
    ]
    for scope in refused:
        assert not adoption.may_undo(scope, last)
        with pytest.raises(AccessDenied):
            adoption.undo_acceptance(ws, last, scope, audit)
    pd.testing.assert_frame_equal(_rows(ws), rows)
    assert len(audit.read()) == records
    assert adoption.may_undo(HEAD, last)
    assert adoption.undo_acceptance(ws, last, HEAD, audit) == len(p)
    assert ws.scalar("SELECT COUNT(*) FROM rm_assignments") == 0
    assert adoption.last_acceptance(ws, M1) is None
    ws.close()


def test_undo_of_a_superseded_acceptance_is_refused(small_wh, ws_path):
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    adoption.accept_assignment(ws, p, M1)
    first = adoption.last_acceptance(ws, M1)
    adoption.accept_assignment(ws, p[p["client_id"] == "u1"].assign(from_rm="R2", to_rm="R3"), M1)
    assert adoption.last_acceptance(ws, M1).client_ids == ("u1",)
    with pytest.raises(adoption.UndoError) as e:
        adoption.undo_acceptance(ws, first, M1)
    assert e.value.code == "superseded"
    assert ws.scalar("SELECT COUNT(*) FROM rm_assignments") == len(p) + 1
    ws.close()


def test_nothing_changes_when_the_audit_record_cannot_be_written(small_wh, ws_path, tmp_path):
    ws = open_workspace(ws_path)
    p = adoption.propose_assignment(small_wh, ws, M1, settings=SMALL_CAP)
    broken = AuditLog(tmp_path)  # a directory: the record cannot be appended
    with pytest.raises(AuditUnavailable):
        adoption.accept_assignment(ws, p, M1, broken)
    assert ws.scalar("SELECT COUNT(*) FROM rm_assignments") == 0
    adoption.accept_assignment(ws, p, M1)
    rows = _rows(ws)
    with pytest.raises(AuditUnavailable):
        adoption.undo_acceptance(ws, adoption.last_acceptance(ws, M1), M1, broken)
    pd.testing.assert_frame_equal(_rows(ws), rows)
    ws.close()


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
