"""Log an AppTest session in with a local account, as ``ui/login.py`` leaves it after the form.

Outside demo mode (a bank's imported snapshot, or any login configured) the app shows nothing
until somebody logs in; the form itself is tested in test_users.py. Tests of the views on imported
data start from the state the form leaves behind: ``[branchlens] login = "local"`` in the secrets,
an account in ``<BRANCHLENS_DATA>/users.sqlite3`` and the session in ``st.session_state``.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analytics import users


def account(role: str, branch_id: str | None = None, rm_id: str | None = None) -> users.Account:
    """The test account of a role (made on first use, single sign-on only: no password)."""
    user_id = f"{role}.{(rm_id or branch_id or 'all').lower()}@test.bank"
    accts = users.Accounts()
    return accts.get(user_id) or accts.add(user_id, role, branch_id=branch_id, rm_id=rm_id)


def log_in(at: AppTest, role: str, branch_id: str | None = None, rm_id: str | None = None) -> str:
    """Make ``at`` a logged-in local session of ``role``; the account's id (the audit's viewer)."""
    acc = account(role, branch_id, rm_id)
    at.secrets["branchlens"] = {"login": "local"}
    now = users.utcnow()
    at.session_state["_login"] = {"user": acc.user_id, "at": now, "seen": now, "epoch": acc.epoch}
    return acc.user_id


def log_in_as(at: AppTest, as_value: str, rm_branch: dict[str, str] | None = None) -> str:
    """``log_in`` by a demo ``as=`` value: head_office, trainer, manager:B001, rm:R0001 (the RM's
    branch from ``rm_branch``)."""
    role, _, who = as_value.partition(":")
    if role == "manager":  # a bare "manager" is the first branch's, as in demo mode
        return log_in(at, role, branch_id=who or "B001")
    if role == "rm":
        return log_in(at, role, branch_id=(rm_branch or {}).get(who, "B001"), rm_id=who)
    return log_in(at, role)
