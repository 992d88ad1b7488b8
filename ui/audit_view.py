"""The audit log in the data view: head office reads every record, a branch manager the records
about their branch (``analytics.audit``: ``branch_ids``), newest first, with the state of the hash
chain. Reading it is itself recorded, before anything is shown. Nobody else reads it: an RM (or a
trainer) who gets here is refused, and that is recorded too."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import access, audit, store
from ui import shell
from ui.i18n import TABLES
from ui.shell import Viewer

MAX_ROWS = 2000  # the newest records shown; the search narrows them first


def show(viewer: Viewer) -> None:
    tr = viewer.t
    if not access.may(viewer.scope, "read_audit"):
        shell.audit(viewer, "read_audit", once=True, outcome="refused")
        st.info(tr("audit.readers_only"))
        return
    shell.audit(viewer, "read_audit", once=True)  # before the records are read and shown
    log = store.AuditLog()
    rows = log.read(viewer.scope, shell.warehouse(viewer.snapshot_path))
    st.caption(
        tr("audit.caption_all" if viewer.scope.role == "head_office" else "audit.caption_branch")
    )
    found = log.check()
    if found.broken is None:
        st.success(tr("audit.intact", n=found.records), icon=":material/verified:")
    else:
        why = tr(f"audit.why.{found.reason}")
        st.error(tr("audit.broken", line=found.broken, why=why), icon=":material/gpp_bad:")
    if rows.empty:
        st.info(tr("audit.empty"))
        return
    a, b, c = st.columns([2, 2, 3])
    actions = sorted(set(rows["action"]))
    pick = a.multiselect(tr("audit.filter_action"), actions, key="audit_actions",
                         format_func=lambda x: _action(viewer, x), placeholder=tr("audit.all"))  # fmt: skip
    outcomes = [o for o in audit.OUTCOMES if o in set(rows["outcome"])]
    pick_out = b.multiselect(tr("audit.filter_outcome"), outcomes, key="audit_outcomes",
                             format_func=lambda o: tr(f"audit.outcome.{o}"), placeholder=tr("audit.all"))  # fmt: skip
    needle = c.text_input(tr("audit.search"), key="audit_search").strip()
    if pick:
        rows = rows[rows["action"].isin(pick)]
    if pick_out:
        rows = rows[rows["outcome"].isin(pick_out)]
    if needle:
        hit = [
            needle in v or needle in ids
            for v, ids in zip(rows["viewer"], rows["client_ids"], strict=True)
        ]
        rows = rows[hit]
    total = len(rows)
    rows = rows.iloc[::-1].head(MAX_ROWS)
    st.caption(tr("audit.shown", shown=len(rows), total=total))
    st.dataframe(table(viewer, rows), hide_index=True, key="audit_table")


def _action(viewer: Viewer, code: str) -> str:
    """A known action in words; an action recorded by newer code shows as its code."""
    key = f"audit.action.{code}"
    return viewer.t(key) if key in TABLES[viewer.lang] else code


def table(viewer: Viewer, rows: pd.DataFrame) -> pd.DataFrame:
    """The records as the reader sees them (translated codes; ids as they are)."""
    tr = viewer.t
    roles = {r: tr(f"audit.role.{r}") for r in ("head_office", "manager", "rm", "trainer")}
    return pd.DataFrame({
        tr("audit.col.at"): [str(a)[:19].replace("T", " ") for a in rows["at"]],
        tr("audit.col.viewer"): rows["viewer"],
        tr("audit.col.role"): [roles.get(r, tr("audit.role.none")) for r in rows["role"]],
        tr("audit.col.action"): [_action(viewer, a) for a in rows["action"]],
        tr("audit.col.clients"): [", ".join(ids[:20]) + (" …" if len(ids) > 20 else "") for ids in rows["client_ids"]],
        tr("audit.col.detail"): rows["detail"],
        tr("audit.col.outcome"): [tr(f"audit.outcome.{o}") if o in audit.OUTCOMES else o for o in rows["outcome"]],
    })  # fmt: skip
