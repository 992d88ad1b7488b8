"""Logging in (DESIGN.md §5): local accounts through a form, or single sign-on through ``st.login``.

``ui/shell.py`` calls one of these while it resolves the viewer, outside demo mode only:

- ``login_form(lang)`` (``[branchlens] login = "local"`` in the secrets): the logged-in user's
  ``Scope``, or the login form alone and a stop. The session lives in ``st.session_state`` and
  ends after ``[auth] session_minutes`` without use or ``session_max_hours`` after the login; the
  account is read afresh on every run, so a user disabled or changed by an administrator (page or
  CLI) is out at their next click. A password that must be changed (new, reset, or older than
  ``password_max_age_days``) is changed here before anything else is shown.
- ``oidc_scope(lang)`` (an ``[auth]`` section in the secrets): the ``st.login`` button, then the
  scope of the identity provider's e-mail in the accounts file; an unknown or disabled user sees
  the refusal and a button to log in as someone else, nothing more.
- ``logout_button(lang)``: who is logged in and the log-out button (the sidebar); for a local
  session it also ends an idle session on screen, without waiting for the next click.

Logins, failures, lockouts, password changes and log-outs are written to the audit log before the
app goes on; if the record cannot be written, nothing is shown. The password is never kept in the
session state (the form clears itself on submit) and never written anywhere.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

import streamlit as st

from analytics import store, users
from analytics.access import Scope
from analytics.audit import AuditEvent
from ui import shell
from ui.i18n import t

_LOG = logging.getLogger(__name__)

SESSION = "_login"  # {"user", "at", "seen", "epoch"} of the local session
CHANGE = "_login_change"  # {"user", "code"}: a right password that must be changed first
NOTICE = "_login_notice"  # (key, fields) to show above the form on the next run
SSO_DONE = "_login_sso"  # the e-mail whose single sign-on login was audited in this session


def accounts() -> users.Accounts:
    """The accounts file (``<data>/users.sqlite3``); cheap, opened per call."""
    return users.Accounts()


def _record(
    viewer: str,
    action: str,
    lang: str,
    *,
    role: str = "",
    branch_id: str | None = None,
    detail: str = "",
    outcome: str = "ok",
) -> None:
    """Append an audit record or stop the run (fail closed, like ``shell.audit``)."""
    event = AuditEvent(
        viewer, action, detail=detail, role=role, outcome=outcome,
        branch_ids=(branch_id,) if branch_id else (),
    )  # fmt: skip
    try:
        store.AuditLog().record(event)
    except Exception:
        _LOG.exception("audit record could not be written (%s %s)", action, detail)
        st.session_state["_audit_failed"] = True
        st.error(t("audit.failed", lang))
        st.stop()


def _record_for(acc: users.Account | None, action: str, lang: str, **kw) -> None:
    """A record about a login attempt: the account's id and role when it exists. What was typed
    for an unknown account is not written (it is sometimes a password typed in the wrong box)."""
    if acc is None:
        _record("unknown", action, lang, **kw)
    else:
        _record(acc.user_id, action, lang, role=acc.role, branch_id=acc.branch_id, **kw)


def _end_session(detail: str, lang: str) -> None:
    s = st.session_state.pop(SESSION, None)
    if s:
        acc = accounts().get(s["user"])
        _record_for(acc, "logout", lang, detail=detail)


# ---------------------------------------------------------------------------- local accounts


def login_form(lang: str) -> Scope:
    """The local session's scope; otherwise the login (or password change) form, then a stop."""
    state = st.session_state
    accts = accounts()
    now = users.utcnow()
    s = state.get(SESSION)
    if s:
        why = users.session_expired(s["at"], s["seen"], now, accts.cfg)
        if why is None:
            try:
                scope = accts.session_scope(s["user"], s["epoch"])
            except users.LoginRefused as e:
                _end_session(e.code, lang)
                state[NOTICE] = (f"login.refused.{e.code}", {})
            else:
                s["seen"] = now
                return scope
        else:
            _end_session(why, lang)
            state[NOTICE] = (
                f"login.session.{why}",
                {"minutes": accts.cfg.session_minutes, "hours": accts.cfg.session_max_hours},
            )
    shell.hide_navigation()  # before the form: see its docstring
    st.title(t("login.title", lang))
    notice = state.pop(NOTICE, None)
    if notice:
        st.info(t(notice[0], lang, **notice[1]))
    if state.get(CHANGE):
        _change_form(accts, lang)
    else:
        _login_form(accts, lang)
    shell.halt(navigation_done=True)


def _refusal(e: users.LoginRefused, accts: users.Accounts, lang: str) -> str:
    if e.code == "locked":
        left = (e.until - users.utcnow()).total_seconds() if e.until else 60
        return t("login.refused.locked", lang, minutes=max(1, math.ceil(left / 60)))
    if e.code in ("unknown", "bad_password"):
        return t("login.refused.bad_password", lang)
    return t(f"login.refused.{e.code}", lang, days=accts.cfg.password_max_age_days)


def _start(acc: users.Account, lang: str, detail: str) -> None:
    now = users.utcnow()
    _record(acc.user_id, "login", lang, role=acc.role, branch_id=acc.branch_id, detail=detail)
    st.session_state.pop(CHANGE, None)
    st.session_state[SESSION] = {"user": acc.user_id, "at": now, "seen": now, "epoch": acc.epoch}
    st.rerun()


def _login_form(accts: users.Accounts, lang: str) -> None:
    with st.form("login_form", clear_on_submit=True, enter_to_submit=True):
        typed = st.text_input(t("login.user", lang), key="login_user", autocomplete="username")
        password = st.text_input(
            t("login.password", lang), type="password", key="login_password",
            autocomplete="current-password",
        )  # fmt: skip
        submitted = st.form_submit_button(t("login.submit", lang), type="primary")
    if not submitted:
        return
    if not typed.strip() or not password:
        st.error(t("login.refused.bad_password", lang))
        return
    try:
        acc = accts.authenticate(typed, password)
    except users.LoginRefused as e:
        known = accts.get(typed)
        if e.code in ("must_change", "expired"):
            _record_for(known, "login", lang, detail=e.code, outcome="refused")
            st.session_state[CHANGE] = {"user": known.user_id, "code": e.code}
            st.session_state[NOTICE] = (
                f"login.refused.{e.code}",
                {"days": accts.cfg.password_max_age_days},
            )
            st.rerun()
        if e.just_locked:
            _record_for(
                known, "lockout", lang, detail=f"until={e.until.isoformat()}", outcome="failed"
            )
        else:
            outcome = "refused" if e.code in ("locked", "disabled") else "failed"
            _record_for(known, "login", lang, detail=e.code, outcome=outcome)
        st.error(_refusal(e, accts, lang))
        return
    _start(acc, lang, "local")


def _change_form(accts: users.Accounts, lang: str) -> None:
    """A right password that must be changed: the current one again, and the new one twice."""
    pending = st.session_state[CHANGE]
    st.caption(
        t("login.policy", lang, min=accts.cfg.password_min_length,
          kinds=accts.cfg.password_min_kinds)
    )  # fmt: skip
    with st.form("password_change_form", clear_on_submit=True):
        st.text_input(t("login.user", lang), value=pending["user"], disabled=True)
        old = st.text_input(t("login.password", lang), type="password", key="login_old")
        new = st.text_input(t("login.new_password", lang), type="password", key="login_new")
        again = st.text_input(
            t("login.new_password_again", lang), type="password", key="login_again"
        )
        submitted = st.form_submit_button(t("login.change_submit", lang), type="primary")
    if st.button(t("login.cancel", lang), key="login_cancel"):
        st.session_state.pop(CHANGE, None)
        st.rerun()
    if not submitted:
        return
    if new != again:
        st.error(t("login.mismatch", lang))
        return
    try:
        acc = accts.change_password(pending["user"], old, new)
    except users.PasswordRejected as e:
        st.error(t(f"pw.{e.code}", lang, **e.fields))
        return
    except users.LoginRefused as e:
        known = accts.get(pending["user"])
        if e.just_locked:
            _record_for(
                known, "lockout", lang, detail=f"until={e.until.isoformat()}", outcome="failed"
            )
        else:
            _record_for(known, "login", lang, detail=e.code, outcome="failed")
        if e.code in ("locked", "disabled", "unknown"):
            st.session_state.pop(CHANGE, None)
        st.error(_refusal(e, accts, lang))
        return
    _record(acc.user_id, "user", lang, role=acc.role, branch_id=acc.branch_id,
            detail=f"change_password user={acc.user_id}")  # fmt: skip
    _start(acc, lang, "local password_changed")


# ---------------------------------------------------------------------------- single sign-on


def oidc_scope(lang: str) -> Scope:
    """The single sign-on user's scope; otherwise the login button or the refusal, then a stop.
    Nothing in the URL is read: only the identity provider's e-mail decides who this is."""
    if not st.user.is_logged_in:
        shell.hide_navigation()  # before the form: see its docstring
        st.title(t("login.title", lang))
        st.info(t("access.login_needed", lang))
        st.button(t("access.login", lang), on_click=st.login, type="primary", key="oidc_login")
        shell.halt(navigation_done=True)
    email = users.normalize_user_id(str(st.user.get("email") or ""))
    verified = st.user.get("email_verified")
    accts = accounts()
    try:
        if not email or verified is False or verified == "false":
            raise users.LoginRefused("unknown")
        scope = accts.sso_scope(email)
    except users.LoginRefused as e:
        if st.session_state.get(SSO_DONE) != ("refused", email):
            acc = accts.get(email) if email else None
            _record_for(acc, "login", lang, detail=f"sso {e.code}", outcome="refused")
            st.session_state[SSO_DONE] = ("refused", email)
        shell.hide_navigation()  # before the form: see its docstring
        st.title(t("login.title", lang))
        key = "login.sso_disabled" if e.code == "disabled" else "access.unknown_user"
        st.error(t(key, lang, user=email or "?"))
        st.button(t("login.switch_account", lang), on_click=st.logout, key="oidc_switch")
        shell.halt(navigation_done=True)
    if st.session_state.get(SSO_DONE) != ("ok", email):
        _record(email, "login", lang, role=scope.role,
                branch_id=scope.branch_ids[0] if scope.branch_ids else None, detail="sso")  # fmt: skip
        st.session_state[SSO_DONE] = ("ok", email)
    return scope


# ---------------------------------------------------------------------------- sidebar


def logout_button(lang: str) -> None:
    """Who is logged in and a log-out button (put it in the sidebar); nothing in demo mode."""
    s = st.session_state.get(SESSION)
    if s:
        acc = accounts().get(s["user"])
        name = (acc.display_name if acc else "") or s["user"]
        st.caption(t("login.signed_in_as", lang, name=name, user=s["user"]))
        if st.button(t("login.logout", lang), key="logout_local"):
            _end_session("logout", lang)
            st.session_state[NOTICE] = ("login.logged_out", {})
            st.rerun()
        _idle_watch()
        return
    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:  # no single sign-on configured
        logged_in = False
    if logged_in:
        email = str(st.user.get("email") or "")
        acc = accounts().get(email) if email else None
        name = (acc.display_name if acc else "") or str(st.user.get("name") or "") or email
        st.caption(t("login.signed_in_as", lang, name=name, user=email))
        if st.button(t("login.logout", lang), key="logout_sso"):
            _record(users.normalize_user_id(email), "logout", lang, detail="sso")
            st.session_state.pop(SSO_DONE, None)
            st.logout()


@st.fragment(run_every=timedelta(seconds=60))
def _idle_watch() -> None:
    """Once a minute: an idle local session is ended on screen too (the whole app reruns and
    ``login_form`` shows the login), so data does not stay on an unattended screen."""
    s = st.session_state.get(SESSION)
    if s and users.session_expired(s["at"], s["seen"], users.utcnow(), accounts().cfg):
        st.rerun(scope="app")
