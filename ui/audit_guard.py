"""Fail-closed auditing for the pages (DESIGN.md §2 item 3, §5): the record comes before the data.

- ``write`` (behind ``shell.audit``) builds the record (login, role, the clients and the branches it
  is about), appends it, and only then lets the page go on. If the append fails the page shows
  ``audit.failed`` and stops, and the session is flagged. ``record`` does the same for a record
  built by the caller (a login attempt: no viewer exists yet).
- ``gate`` (behind ``shell.audit_gate``, the first line of ``shell.page``) stops every later run of
  a flagged session at the top of the page, before anything is rendered, until the log is writable
  again. It also counts the session's runs: a view recorded ``once`` is recorded again only after a
  run in which it was not shown (another client, another page, the unmask switch turned off).
- ``download_button`` hands out a file only after its export record is written. The file is made
  by Streamlit's deferred ``data`` callable, which runs on a server thread when the browser asks for
  the file after the click; the callable writes the record first and raises when it cannot, so no
  file leaves without its record (the browser then reports that the download failed, and the
  session is flagged for its next run). Eager ``data`` would already sit at a media URL before any
  click, and an ``on_click`` callback runs after the browser has the file, so neither records a
  download reliably.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import streamlit as st

from analytics import audit, store
from analytics.access import Scope
from ui.i18n import t

if TYPE_CHECKING:
    from ui.shell import Viewer

_LOG = logging.getLogger(__name__)

# Sessions (by their ``_audit_token``) whose deferred download could not be recorded: the callable
# runs outside the session's script thread, so it cannot set the session flag itself.
_BROKEN: set[str] = set()
_BROKEN_LOCK = threading.Lock()


def _token() -> str:
    return st.session_state.setdefault("_audit_token", uuid.uuid4().hex)


def _stop(lang: str) -> None:
    st.error(t("audit.failed", lang))
    st.stop()


def event_for(
    who: Viewer | Scope,
    action: str,
    client_ids: Iterable[str] = (),
    detail: str = "",
    outcome: str = "ok",
    branch_ids: Iterable[str] = (),
) -> audit.AuditEvent:
    """The record for ``who`` (a viewer, or a bare scope where no viewer exists yet), with the
    branches it is about: the clients' (looked up in the viewer's snapshot), the viewer's own if
    a branch manager or an RM, and ``branch_ids`` (e.g. the branch of a user account changed)."""
    from ui import shell

    scope = who if isinstance(who, Scope) else who.scope
    ids = tuple(str(c) for c in client_ids)
    db = None if isinstance(who, Scope) or not ids else shell.warehouse(who.snapshot_path)
    branches = {*audit.branches_for(db, scope, ids), *(b for b in branch_ids if b)}
    return audit.AuditEvent(
        scope.viewer_id, action, ids, detail, role=scope.role, outcome=outcome,
        branch_ids=tuple(sorted(branches)),
    )  # fmt: skip


def write(
    who: Viewer | Scope,
    action: str,
    client_ids: Iterable[str] = (),
    detail: str = "",
    once: bool = False,
    outcome: str = "ok",
    branch_ids: Iterable[str] = (),
) -> None:
    """Record, then return; or show ``audit.failed``, flag the session and stop the run."""
    state = st.session_state
    scope = who if isinstance(who, Scope) else who.scope
    lang = state.get("_lang", "en") if isinstance(who, Scope) else who.lang
    ids = tuple(str(c) for c in client_ids)
    run = state.get("_audit_run", 0)
    slot, key = (action, detail, outcome), (scope.viewer_id, ids)
    if once:
        last = state.setdefault("_audit_shown", {}).get(slot)
        if last is not None and last[0] == key and last[1] >= run - 1:  # still on screen
            state["_audit_shown"][slot] = (key, run)
            return
    try:
        event = event_for(who, action, ids, detail, outcome, branch_ids)
    except Exception:  # the branches could not be looked up: nothing may be shown either
        _LOG.exception("audit record could not be built (%s %s)", action, detail)
        state["_audit_failed"] = True
        _stop(lang)
    record(event, lang)
    if once:
        state["_audit_shown"][slot] = (key, run)


def record(event: audit.AuditEvent, lang: str) -> None:
    """Append a prepared record (e.g. a login attempt, where no viewer exists yet), or show
    ``audit.failed``, flag the session and stop the run."""
    try:
        store.AuditLog().record(event)
    except Exception:  # any failure to record: nothing may be shown
        _LOG.exception("audit record could not be written (%s %s)", event.action, event.detail)
        st.session_state["_audit_failed"] = True
        _stop(lang)


def gate() -> None:
    """The first thing every page does: count the run, and stop a session whose audit record could
    not be written (here or in a download) until the log is writable again."""
    state = st.session_state
    if state.get("_in_app"):  # a page run directly runs the app first, which runs it again
        state["_audit_run"] = state.get("_audit_run", 0) + 1
    token = _token()
    if not (state.get("_audit_failed") or token in _BROKEN):
        return
    if store.AuditLog().writable():
        state.pop("_audit_failed", None)
        with _BROKEN_LOCK:
            _BROKEN.discard(token)
        return
    _stop(state.get("_lang", "en"))


def download_button(
    viewer: Viewer,
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    mime: str | None = None,
    *,
    key: str,
    client_ids: Iterable[str] = (),
    event: audit.AuditEvent | None = None,
    where=None,
) -> None:
    """``st.download_button`` (in ``where``, a column or container, if given) whose file is made,
    and its ``export`` record written, only when the user downloads it. ``event`` is a prepared
    record (``event_for``) so a long client list is looked up once; its detail becomes the file
    name. ``data`` may be a callable so the file is only built on the click."""
    ev = event or event_for(viewer, "export", client_ids, file_name)
    ev = dataclasses.replace(ev, action="export", detail=file_name)
    token = _token()

    def deliver() -> bytes:
        body = data() if callable(data) else data
        try:
            store.AuditLog().record(ev)
        except Exception:
            _LOG.exception("audit record could not be written (export %s)", file_name)
            with _BROKEN_LOCK:
                _BROKEN.add(token)
            raise audit.AuditUnavailable("audit log not writable") from None
        return body

    (where or st).download_button(label, deliver, file_name, mime, key=key, on_click="ignore")
