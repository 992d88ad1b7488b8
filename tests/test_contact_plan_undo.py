"""Undo in the contact plan (issue 14 point 4): withdrawing an accepted day and taking a contact
marked done back to open each restore exactly the workspace rows that were there before, write
one audit record, and are refused to anyone who may not do the original action for that plan."""

from __future__ import annotations

from datetime import date

import pytest
from plan_fixtures import MONDAY, TinyWarehouse

from analytics import contact_plan as cp
from analytics.access import AccessDenied, Scope
from analytics.audit import AuditLog, AuditUnavailable
from analytics.store import open_workspace

R1 = Scope("rm", ("B001",), rm_id="R1", viewer_id="rm:R1")
R2 = Scope("rm", ("B001",), rm_id="R2", viewer_id="rm:R2")
MANAGER = Scope("manager", ("B001",), viewer_id="manager:B001")
CLIENTS = ["p0", "p1", "p2"]


@pytest.fixture()
def setup(tmp_path):
    tiny = TinyWarehouse(tmp_path / "wh.duckdb")
    for cid in CLIENTS:  # platinum and overdue: each is planned on MONDAY
        tiny.client(cid, aum=600_000, last_contact=date(2026, 10, 1))
    tiny.client("q0", rm="R2", aum=600_000, last_contact=date(2026, 10, 1))
    wh = tiny.open()
    ws = open_workspace(tmp_path / "ws.duckdb")
    log = AuditLog(tmp_path / "audit.jsonl")
    yield wh, ws, log
    ws.close()
    wh.close()


def rows(ws) -> dict[str, list[tuple]]:
    """Every workspace row the plan touches, column by column (created_at and accepted_at
    included), in a fixed order."""
    return {
        table: [tuple(r) for r in ws.query(f"SELECT * FROM {table} ORDER BY {key}").values]
        for table, key in (("planned_contacts", "plan_id"), ("contact_logs", "log_id"))
    }


def actions(log: AuditLog) -> list[str]:
    return log.read()["action"].tolist()


def accept(wh, ws, log, scope=R1, rm="R1") -> list[int]:
    plan = cp.contact_plan(wh, scope, rm, [MONDAY])
    assert cp.accept_plan(ws, scope, plan, scope.viewer_id, audit_log=log) == len(plan)
    return cp.accepted_plan(ws, wh, scope, MONDAY, MONDAY)["plan_id"].astype(int).tolist()


def test_withdrawing_a_day_restores_the_rows_before_it_was_accepted(setup):
    wh, ws, log = setup
    cp.accept_plan(ws, R2, cp.contact_plan(wh, R2, "R2", [MONDAY]), "rm:R2")  # another RM's day
    before = rows(ws)
    ids = accept(wh, ws, log)
    assert len(ids) == 3 and rows(ws) != before
    assert cp.withdraw_plan(ws, wh, R1, "R1", MONDAY, audit_log=log) == 3
    assert rows(ws) == before  # R2's plan untouched, R1's day gone
    assert cp.accepted_plan(ws, wh, R1, MONDAY, MONDAY).empty  # the view proposes it again
    assert actions(log) == ["accept_plan", "undo"]
    undo = log.read().iloc[-1]
    assert undo["viewer"] == "rm:R1" and undo["role"] == "rm"
    assert sorted(undo["client_ids"]) == CLIENTS and undo["branch_ids"] == ["B001"]
    assert undo["detail"] == (
        f"accept_plan: R1 {MONDAY}, 3 planned contacts withdrawn "
        f"(plan_id {', '.join(map(str, ids))})"
    )
    # the day can be accepted again, as a proposal can
    assert len(accept(wh, ws, log)) == 3


def test_undoing_done_restores_the_open_contact(setup):
    wh, ws, log = setup
    ids = accept(wh, ws, log)
    before = rows(ws)
    log_id = cp.mark_done(ws, wh, R1, ids[0], "visited", "came at 10", today=MONDAY, audit_log=log)
    after = rows(ws)
    assert (
        len(after["contact_logs"]) == 1 and after["planned_contacts"] == before["planned_contacts"]
    )
    assert cp.undo_done(ws, wh, R1, ids[0], audit_log=log) == log_id
    assert rows(ws) == before
    stored = cp.accepted_plan(ws, wh, R1, MONDAY, MONDAY).set_index("plan_id")
    assert not stored["done"].any()
    assert actions(log) == ["accept_plan", "mark_done", "undo"]
    undo = log.read().iloc[-1]
    assert undo["client_ids"] == [stored.loc[ids[0], "client_id"]]
    assert undo["detail"] == (
        f"mark_done: plan_id={ids[0]} log_id={log_id} outcome=visited, back to open"
    )
    # open again: it can be marked done anew, with its own note
    cp.mark_done(ws, wh, R1, ids[0], "reached", "second call", today=MONDAY, audit_log=log)
    notes = ws.query("SELECT plan_id, outcome, note FROM contact_logs").values.tolist()
    assert notes == [[ids[0], "reached", "second call"]]


def test_a_day_with_a_done_contact_is_not_withdrawn(setup):
    wh, ws, log = setup
    ids = accept(wh, ws, log)
    cp.mark_done(ws, wh, R1, ids[1], "reached", today=MONDAY, audit_log=log)
    before, records = rows(ws), len(actions(log))
    with pytest.raises(cp.PlanError) as err:
        cp.withdraw_plan(ws, wh, R1, "R1", MONDAY, audit_log=log)
    assert err.value.code == "has_done"
    assert rows(ws) == before and len(actions(log)) == records
    # undo the marking first, then the day withdraws: back to nothing at all
    cp.undo_done(ws, wh, R1, ids[1], audit_log=log)
    assert cp.withdraw_plan(ws, wh, R1, "R1", MONDAY, audit_log=log) == 3
    assert rows(ws) == {"planned_contacts": [], "contact_logs": []}
    assert actions(log) == ["accept_plan", "mark_done", "undo", "undo"]


def test_an_rm_cannot_undo_another_rms_plan(setup):
    wh, ws, log = setup
    ids = accept(wh, ws, log)
    cp.mark_done(ws, wh, R1, ids[0], "reached", today=MONDAY, audit_log=log)
    before, records = rows(ws), len(actions(log))
    for scope in (R2, MANAGER, Scope("head_office", ("B001", "B002"))):
        with pytest.raises(AccessDenied):
            cp.withdraw_plan(ws, wh, scope, "R1", MONDAY, audit_log=log)
        with pytest.raises(AccessDenied):
            cp.undo_done(ws, wh, scope, ids[0], audit_log=log)
    with pytest.raises(AccessDenied):  # R2 naming their own id cannot reach R1's rows either
        cp.undo_done(ws, wh, R2, ids[0], audit_log=log)
    assert rows(ws) == before and len(actions(log)) == records


def test_nothing_to_undo_and_no_second_marking(setup):
    wh, ws, log = setup
    with pytest.raises(cp.PlanError) as err:
        cp.withdraw_plan(ws, wh, R1, "R1", MONDAY, audit_log=log)
    assert err.value.code == "not_accepted"
    ids = accept(wh, ws, log)
    with pytest.raises(cp.PlanError) as err:
        cp.undo_done(ws, wh, R1, ids[0], audit_log=log)
    assert err.value.code == "not_done"
    cp.mark_done(ws, wh, R1, ids[0], "reached", today=MONDAY, audit_log=log)
    with pytest.raises(cp.PlanError) as err:
        cp.mark_done(ws, wh, R1, ids[0], "declined", today=MONDAY, audit_log=log)
    assert err.value.code == "already_done"
    assert len(ws.query("SELECT * FROM contact_logs")) == 1
    assert actions(log) == ["accept_plan", "mark_done"]


def test_no_change_without_its_audit_record(setup, tmp_path):
    wh, ws, log = setup
    ids = accept(wh, ws, log)
    cp.mark_done(ws, wh, R1, ids[0], "reached", today=MONDAY, audit_log=log)
    broken = AuditLog(tmp_path)  # a folder: nothing can be appended to it
    before = rows(ws)
    with pytest.raises(AuditUnavailable):
        cp.undo_done(ws, wh, R1, ids[0], audit_log=broken)
    with pytest.raises(AuditUnavailable):
        cp.mark_done(ws, wh, R1, ids[1], "reached", today=MONDAY, audit_log=broken)
    assert rows(ws) == before
    cp.undo_done(ws, wh, R1, ids[0], audit_log=log)
    before = rows(ws)
    with pytest.raises(AuditUnavailable):
        cp.withdraw_plan(ws, wh, R1, "R1", MONDAY, audit_log=broken)
    with pytest.raises(AuditUnavailable):
        cp.accept_plan(ws, R1, cp.contact_plan(wh, R1, "R1", [MONDAY]), "rm:R1", audit_log=broken)
    assert rows(ws) == before
