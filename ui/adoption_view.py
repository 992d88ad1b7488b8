"""The RM adoption tab's status line and its undo (pages/high_end.py; analytics.adoption).

The status line is worked out from the same two facts the tab shows, so it can never contradict
them: how many moves are proposed now, and the latest acceptance in the viewer's branches
(``adoption.last_acceptance``). Nothing proposed and nothing accepted: "nothing to change";
nothing proposed after an acceptance: "35 accepted on <when> by <who>; nothing left to propose";
moves proposed: how many, and the latest acceptance when there is one; clients left unassigned or
RMs left over capacity that no move can fix (no RM with room): says so, never "nothing to change".
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from analytics import adoption, store
from analytics.access import AccessDenied, may
from ui import formats
from ui.i18n import t
from ui.plan_view import audited
from ui.shell import Viewer


def when(at: datetime, lang: str) -> str:
    """An acceptance's time: its day (``formats.day``) and HH:MM."""
    return f"{formats.day(at.date(), lang)} {at:%H:%M}"


def status(
    proposed: int, unassigned: int, over: int, last: adoption.Acceptance | None, lang: str
) -> tuple[str, str]:
    """The status line as (kind, text); kind is the ``st`` call: ``success`` when nothing is left
    to do, ``warning`` when something is left that no move can fix, ``info`` when moves are
    proposed. ``proposed``: moves proposed now; ``unassigned``: high-end clients without an RM;
    ``over``: RMs above capacity (the tab's two counts); ``last``: the latest acceptance or None.

    Nothing proposed while clients are unassigned or RMs over capacity happens only when their
    branch has no RM with room (or no RM at all): the line says so rather than "nothing to
    change"."""
    fields = {}
    if last is not None:
        fields = dict(n=formats.count(last.clients, lang), when=when(last.accepted_at, lang),
                      who=last.accepted_by)  # fmt: skip
    if proposed:
        m = formats.count(proposed, lang)
        if last is None:
            return "info", t("he.status_open", lang, m=m)
        return "info", t("he.status_more", lang, m=m, **fields)
    if unassigned or over:
        text = t("he.status_stuck", lang, u=formats.count(unassigned, lang),
                 o=formats.count(over, lang))  # fmt: skip
        if last is not None:
            text += ("" if lang == "zh" else " ") + t("he.status_last", lang, **fields)
        return "warning", text
    if last is None:
        return "success", t("he.no_proposal", lang)
    return "success", t("he.status_done", lang, **fields)


def show_status(
    viewer: Viewer, proposed: int, unassigned: int, over: int, last: adoption.Acceptance | None
) -> None:
    """The one-shot message of an undo just done, then the status line (``status``)."""
    flash = st.session_state.pop("he_flash", None)
    if flash is not None:
        getattr(st, flash[0])(flash[1])
    kind, text = status(proposed, unassigned, over, last, viewer.lang)
    getattr(st, kind)(text)


def undo(viewer: Viewer, ws, last: adoption.Acceptance | None) -> None:
    """The undo button for the latest acceptance, for who may accept adoption for every branch it
    touched (``adoption.may_undo``); the undo writes its own audit record."""
    if last is None or not may(viewer.scope, "accept_adoption"):
        return
    tr = viewer.t
    if not adoption.may_undo(viewer.scope, last):
        st.caption(tr("he.undo_scope"))
        return
    if st.button(tr("he.undo"), key="he_undo", help=tr("he.undo_help", n=last.clients)):
        try:
            n = audited(viewer, lambda: adoption.undo_acceptance(
                ws, last, viewer.scope, store.AuditLog()
            ))  # fmt: skip
        except adoption.UndoError as e:
            st.session_state["he_flash"] = ("error", tr(f"he.undo_{e.code}"))
        except AccessDenied:
            st.session_state["he_flash"] = ("error", tr("he.undo_refused"))
        else:
            st.session_state["he_flash"] = ("success", tr(
                "he.undone", n=formats.count(n, viewer.lang),
                when=when(last.accepted_at, viewer.lang), who=last.accepted_by,
            ))  # fmt: skip
        st.rerun()
