"""Who may do what is one table, ``analytics.access.PERMISSIONS`` (issue 13 point 7): the pages'
roles are its ``page:<id>`` rows, ``may`` answers each action for each role as the table below
says (with demo-mode viewers never importing, rolling back or changing accounts), and every place
that acts on a permission follows the table when it changes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics import access, adoption, client360, contact_log, contact_plan, scorecard, users
from analytics.access import AccessDenied, Scope
from analytics.audit import AuditLog
from ui.shell import PAGES, PAGES_BY_ID

ROLES = ("head_office", "manager", "rm", "trainer")
# y = may, n = may not; for a logged-in viewer, then for a demo-mode viewer (viewer id "demo:...")
KNOWN = """
action              head_office manager rm trainer | demo: head_office manager rm trainer
page:overview       y y y y | y y y y
page:segmentation   y y y y | y y y y
page:threshold      y y y y | y y y y
page:seniors        y y y y | y y y y
page:high_end       y y y y | y y y y
page:allocation     y y y y | y y y y
page:client         y y y y | y y y y
page:contact_plan   y y y y | y y y y
page:invitations    y y y y | y y y y
page:corporate      y y y y | y y y y
page:data           y y n y | y y n y
page:users          y y n n | y y n n
page:glossary       y y y y | y y y y
page:settings       y y y y | y y y y
import              y y n n | n n n n
check_import        y y n y | y y n y
rollback            y y n n | n n n n
see_bank_data       y y y n | y y y n
read_audit          y y n n | y y n n
manage_users        y y n n | n n n n
unmask              n n y n | n n y n
log_contact         n n y n | n n y n
accept_plan         n n y n | n n y n
accept_adoption     y y n n | y y n n
set_grade           y y n y | y y n y
no_such_action      n n n n | n n n n
"""


def known() -> list[tuple[str, dict[str, bool], dict[str, bool]]]:
    rows = []
    for line in KNOWN.strip().splitlines()[1:]:
        action, *marks = line.replace("|", " ").split()
        flags = [m == "y" for m in marks]
        rows.append((action, dict(zip(ROLES, flags[:4], strict=True)),
                     dict(zip(ROLES, flags[4:], strict=True))))  # fmt: skip
    return rows


def scope(role: str, demo: bool = False) -> Scope:
    who = f"demo:{role}" if demo else f"{role}@bank.cn"
    if role == "manager":
        return Scope("manager", ("B001",), viewer_id=who)
    if role == "rm":
        return Scope("rm", ("B001",), rm_id="R0001", viewer_id=who)
    return Scope(role, ("B001",), viewer_id=who)


@pytest.mark.parametrize(
    "action, logged_in, demo", known(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_may_answers_the_known_table(action, logged_in, demo):
    assert {r: access.may(scope(r), action) for r in ROLES} == logged_in
    assert {r: access.may(scope(r, demo=True), action) for r in ROLES} == demo


def test_the_known_table_covers_every_row_of_permissions():
    assert {a for a, _, _ in known()} - {"no_such_action"} == set(access.PERMISSIONS)
    assert not access.may(None, "page:overview")  # no viewer: nothing


def test_page_roles_are_the_tables_page_rows():
    assert {f"page:{p.id}" for p in PAGES} == {
        a for a in access.PERMISSIONS if a.startswith("page:")
    }
    for p in PAGES:
        assert p.roles == access.PERMISSIONS[f"page:{p.id}"], p.id
        assert all(access.may(scope(r), f"page:{p.id}") == (r in p.roles) for r in ROLES)


def test_a_page_missing_from_the_table_is_an_error_not_a_silent_refusal(monkeypatch):
    monkeypatch.delitem(access.PERMISSIONS, "page:settings")
    with pytest.raises(KeyError):
        PAGES_BY_ID["settings"].roles  # noqa: B018


def test_every_permission_check_follows_the_table(monkeypatch, tmp_path):
    """Change a row and the place that acts on it changes with it: no second list anywhere."""
    mgr, ho, rm = scope("manager"), scope("head_office"), scope("rm")
    monkeypatch.setitem(access.PERMISSIONS, "page:settings", ("head_office",))
    assert PAGES_BY_ID["settings"].roles == ("head_office",)

    monkeypatch.setitem(access.PERMISSIONS, "accept_adoption", ("head_office",))
    empty = pd.DataFrame(columns=["client_id", "branch_id", "from_rm", "to_rm"])
    assert adoption.accept_assignment(None, empty, ho) == 0
    with pytest.raises(AccessDenied):
        adoption.accept_assignment(None, empty, mgr)

    monkeypatch.setitem(access.PERMISSIONS, "set_grade", ())
    with pytest.raises(AccessDenied):
        scorecard.record_manual_grade(None, None, ho, "C1", "A", "BB", "why", "ho")
    with pytest.raises(AccessDenied):
        scorecard.record_rule_overrides(None, None, ho, pd.DataFrame(), "ho", "snap")

    monkeypatch.setitem(access.PERMISSIONS, "unmask", ("manager",))
    assert client360.may_unmask(mgr, "B001", "R0002")  # (if [privacy] owner_may_unmask)
    assert not client360.may_unmask(rm, "B001", "R0001")

    monkeypatch.setitem(access.PERMISSIONS, "read_audit", ("head_office",))
    log = AuditLog(tmp_path / "audit.jsonl")
    assert log.read(ho).empty
    with pytest.raises(AccessDenied):
        log.read(mgr)

    monkeypatch.setitem(access.PERMISSIONS, "log_contact", ())
    with pytest.raises(AccessDenied):
        contact_log.log_contact(
            None, None, rm, "C1", date(2026, 10, 30), "call", "reached", today=date(2026, 10, 30)
        )
    monkeypatch.setitem(access.PERMISSIONS, "accept_plan", ())
    with pytest.raises(AccessDenied):
        contact_plan.accept_plan(None, rm, pd.DataFrame({"rm_id": ["R0001"]}), "R0001")

    monkeypatch.setitem(access.PERMISSIONS, "see_bank_data", ("head_office",))
    access.check_trainer_snapshot(ho, "import")
    with pytest.raises(AccessDenied):
        access.check_trainer_snapshot(mgr, "import")
    access.check_trainer_snapshot(mgr, "demo")  # the demo is everybody's

    monkeypatch.setitem(access.PERMISSIONS, "manage_users", ("head_office",))
    accounts = users.Accounts(tmp_path / "users.sqlite3")
    with pytest.raises(users.UserChangeRefused, match="not_allowed"):
        accounts.add("new.rm", "rm", branch_id="B001", rm_id="R0009", actor=mgr)


def test_the_old_role_lists_are_gone():
    """The table replaced them; a second list would drift from it."""
    assert not hasattr(adoption, "ACCEPT_ROLES")
    assert not hasattr(scorecard, "GRADE_DECIDERS")
    import analytics.audit

    assert not hasattr(analytics.audit, "READERS")
