"""中高端客户 High-end clients: the profile by tier, allocation gaps against tier peers, and RM
adoption (认养): who has no RM, which RMs are above capacity, and a balanced proposal to accept."""

import pandas as pd
import streamlit as st

from analytics import access, adoption, cohorts, store
from analytics.settings import load_settings
from analytics.tiers import tier_names
from ui import adoption_view, charts, client_list, cohort_view, formats, needs, plan_view, shell
from ui.client_list import Column

viewer = shell.page("high_end")
tr, lang = viewer.t, viewer.lang
rules = load_settings()
st.title(tr("he.title"))
high_from = rules["tiers"]["high_end_from"]
st.caption(tr("he.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang),
              tier=tr(f"tier.{high_from}")))  # fmt: skip

names = tier_names(rules)
high = names[names.index(high_from) :]
tier = st.segmented_control(
    tr("he.tier"), ["all", *high], default="all", key="he_tier",
    format_func=lambda t: tr("he.all") if t == "all" else tr(f"tier.{t}"),
) or "all"  # fmt: skip
tier_arg = None if tier == "all" else tier

profile_tab, needs_tab, adoption_tab = st.tabs(
    [tr(k) for k in ("he.tab_profile", "he.tab_needs", "he.tab_adoption")]
)
with profile_tab:
    cohort_view.profile(viewer, shell.cached(cohorts.high_end_profile, viewer, tier_arg), "he")

with needs_tab:
    st.caption(tr("he.needs_help", share=formats.pct(rules["cohorts"]["peer_penetration"], 0)))
    if needs.require(viewer, "holdings", what="he.tab_needs"):
        gaps = shell.cached(cohorts.missing_products, viewer, tier_arg)
        if gaps.empty:
            st.info(tr("he.no_needs"))
        else:
            counts = gaps.pivot_table(
                index="tier", columns="category", values="client_id", aggfunc="count", fill_value=0
            )
            counts = counts.reindex([t for t in reversed(high) if t in counts.index])
            shown = counts.rename(index=lambda t: tr(f"tier.{t}"), columns=lambda c: tr(f"cat.{c}"))
            codes = {
                (tr(f"tier.{t}"), tr(f"cat.{c}")): f"{t}|{c}"
                for t in counts.index
                for c in counts.columns
            }

            def on_need() -> None:
                picked = charts.picked(st.session_state.get("he_needs"))
                if picked is not None:
                    st.session_state["he_need"] = picked

            st.plotly_chart(charts.grid(shown, tr("col.category"), tr("he.tier"), codes, 60 + 70 * len(counts)),
                            key="he_needs", on_select=on_need, selection_mode="points")  # fmt: skip
            options = list(codes.values())
            if st.session_state.get("he_need") not in options:
                st.session_state["he_need"] = options[0]

            def need_label(code: str) -> str:
                t, c = code.split("|")
                return f"{tr(f'tier.{t}')} · {tr(f'cat.{c}')}"

            pick = st.selectbox(tr("col.category"), options, format_func=need_label, key="he_need")
            t, c = pick.split("|")
            members = gaps[(gaps["tier"] == t) & (gaps["category"] == c)][
                ["client_id", "peer_share"]
            ]
            client_list.show(viewer, members, "he_need_list", {"peer_share": Column("col.peer_share", "pct")},
                             export_name=f"high-end-gap-{t}-{c}")  # fmt: skip

with adoption_tab:
    wh, ws = shell.warehouse(viewer.snapshot_path), shell.workspace()
    _, _, rms = shell.snapshot_facts(viewer.snapshot_path)
    rm_name = dict(zip(rms["rm_id"], rms["name_zh" if lang == "zh" else "name_en"], strict=True))

    def rm_label(r) -> str:
        return tr("client.no_rm") if pd.isna(r) else rm_name.get(r, r)

    load = adoption.rm_load(wh, ws, viewer.scope)
    missing = adoption.unassigned(wh, ws, viewer.scope)
    a, b = st.columns(2)
    a.metric(tr("he.unassigned"), formats.count(len(missing), lang), border=True)
    b.metric(
        tr("he.over_capacity"), formats.count(int(load["over_capacity"].sum()), lang), border=True
    )
    st.markdown(f"**{tr('he.load')}**")
    st.dataframe(
        pd.DataFrame({
            tr("col.rm"): [rm_label(r) for r in load["rm_id"]],
            tr("col.high_end"): load["high_end_clients"],
            tr("col.capacity"): load["capacity"],
            tr("col.aum"): [formats.money(v, lang) for v in load["high_end_aum"]],
            tr("col.over"): [tr("common.yes") if o else tr("common.no") for o in load["over_capacity"]],
        }),
        hide_index=True,
    )  # fmt: skip
    st.markdown(f"**{tr('he.proposal')}**")
    st.caption(tr("he.proposal_help"))
    proposal = adoption.propose_assignment(wh, ws, viewer.scope)
    last = adoption.last_acceptance(ws, viewer.scope)
    over = int(load["over_capacity"].sum())
    adoption_view.show_status(viewer, len(proposal), len(missing), over, last)  # matches the counts
    if not proposal.empty:
        st.dataframe(
            pd.DataFrame({
                tr("col.client_id"): proposal["client_id"],
                tr("col.tier"): [tr(f"tier.{t}") for t in proposal["tier"]],
                tr("col.aum"): [formats.money(v, lang) for v in proposal["aum"]],
                tr("col.from_rm"): [rm_label(r) for r in proposal["from_rm"]],
                tr("col.to_rm"): [rm_label(r) for r in proposal["to_rm"]],
                tr("col.reason"): [tr(f"reason.{r}") for r in proposal["reason"]],
            }),
            hide_index=True,
        )  # fmt: skip
        if access.may(viewer.scope, "accept_adoption"):
            if st.button(tr("he.accept"), type="primary", key="he_accept"):
                plan_view.audited(viewer, lambda: adoption.accept_assignment(
                    ws, proposal, viewer.scope, store.AuditLog()
                ))  # fmt: skip
                st.rerun()
        else:
            st.caption(tr("he.accept_role"))
    adoption_view.undo(viewer, ws, last)
