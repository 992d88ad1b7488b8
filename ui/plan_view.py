"""How a planned contact reads on screen: its reason, topic and a short opener in the viewer's
language, and the plan rows joined to the masked client facts (name, tier, AUM)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import streamlit as st

from analytics import client_lists
from ui import formats, shell
from ui.shell import Viewer

# The opener's variant when one trigger has several situations (detail "kind").
_VARIANT = {"threshold": "kind", "insurance_callback": "kind", "pay_day": "kind"}


def reason_label(viewer: Viewer, reason: str | None) -> str:
    """A trigger or campaign code in words (a contact logged by hand has no reason)."""
    return viewer.t(f"reason.{reason}") if reason else viewer.t("reason.manual")


def forced_label(viewer: Viewer, codes: str | None) -> str:
    """Why a planned contact's channel breaks the priority order (``contact_plan.forced_flags``
    codes joined by commas), in words; '' when it does not."""
    if not isinstance(codes, str) or not codes:
        return ""
    return "; ".join(viewer.t(f"plan.forced_{c}") for c in codes.split(","))


def opener(viewer: Viewer, reason: str, detail: str | dict | None) -> str:
    """The suggested first sentence for a planned contact, filled with the trigger's facts."""
    facts = json.loads(detail) if isinstance(detail, str) else dict(detail or {})
    key = reason if reason not in _VARIANT else f"{reason}_{facts.get(_VARIANT[reason])}"
    if reason == "cadence_overdue" and facts.get("days") is None:  # no contact on record at all
        key = "cadence_overdue_never"
    lang = viewer.lang
    fields = {
        "product": facts.get(f"product_{lang}", ""),
        "date": formats.day(date.fromisoformat(facts["date"]), lang) if "date" in facts else "",
        "amount": formats.money(facts.get("amount"), lang) if "amount" in facts else "",
        "pct": formats.pct(facts["pct"]) if "pct" in facts else "",
        "gap": formats.money(facts.get("gap"), lang) if "gap" in facts else "",
        "tier": viewer.t(f"tier.{facts['tier']}") if facts.get("tier") else "",
        "age": facts.get("age", ""),
        "years": facts.get("years", ""),
        "days": facts.get("days") if facts.get("days") is not None else "—",
    }
    return viewer.t(f"plan.opener.{key}", **fields)


def with_clients(viewer: Viewer, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (with client_id) plus each client's masked names, tier and latest AUM, fetched
    under the viewer's scope (a client outside it drops out)."""
    if rows.empty:
        return rows.assign(name_zh=[], name_en=[], tier_now=[], aum_now=[])
    ids = pd.DataFrame({"client_id": rows["client_id"].drop_duplicates()})
    facts = client_lists.client_list(
        shell.warehouse(viewer.snapshot_path), viewer.scope, ids, limit=len(ids)
    ).rows[["client_id", "name_zh", "name_en", "tier", "aum"]]
    facts = facts.rename(columns={"tier": "tier_now", "aum": "aum_now"})
    return rows.merge(facts, on="client_id", how="inner")


def fill_summary(viewer: Viewer, summary: pd.DataFrame, interval: int) -> None:
    """How each proposed day's slots were filled (``contact_plan.plan_with_summary``): by a
    trigger, from the cadence queue, or left empty and why. Nothing when there is no summary."""
    if summary.empty:
        return
    tr = viewer.t
    st.markdown(f"**{tr('plan.summary')}**")
    st.caption(tr("plan.summary_help", slots=int(summary["slots"].max()), interval=interval))
    st.dataframe(pd.DataFrame({
        tr("col.day"): [formats.day(d, viewer.lang) for d in summary["day"]],
        tr("plan.sum_trigger"): summary["by_trigger"],
        tr("plan.sum_cadence"): summary["by_cadence"],
        tr("plan.sum_empty_interval"): summary["empty_interval"],
        tr("plan.sum_empty_none"): summary["empty_no_client"],
    }), hide_index=True)  # fmt: skip
