"""中老年客群 Senior clients: the profile against the rest, the maturity calendar, opportunities,
and the split into digitally active (reach online) and silent (reach offline)."""

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import cohorts, seniors
from analytics.settings import load_settings
from ui import charts, client_list, cohort_view, formats, needs, shell
from ui.client_list import Column

viewer = shell.page("seniors")
tr, lang = viewer.t, viewer.lang
rules = load_settings()
min_age = rules["cohorts"]["senior_min_age"]
st.title(tr("sen.title"))
st.caption(
    tr(
        "sen.caption",
        scope=shell.scope_label(viewer),
        date=formats.day(viewer.as_of, lang),
        age=min_age,
    )
)

if not needs.require_column(viewer, "age", what="sen.title"):  # no ages: no senior cohort
    st.stop()

bands = ["all", *[label for label, _, _ in cohorts.senior_bands()]]
band = st.segmented_control(
    tr("sen.band"), bands, default="all", key="sen_band",
    format_func=lambda b: tr("sen.all", age=min_age) if b == "all" else b,
) or "all"  # fmt: skip
band_arg = None if band == "all" else band

profile_tab, calendar_tab, opp_tab, digital_tab = st.tabs(
    [
        tr(k)
        for k in ("sen.tab_profile", "sen.tab_calendar", "sen.tab_opportunities", "sen.tab_digital")
    ]
)
with profile_tab:
    cohort_view.profile(viewer, shell.cached(cohorts.senior_profile, viewer, band_arg), "sen")

with calendar_tab:
    days = rules["seniors"]["calendar_days"]
    st.caption(tr("sen.calendar_help", days=days))
    if needs.require(viewer, "holdings", what="sen.tab_calendar"):
        cal = shell.cached(seniors.maturity_calendar, viewer, band_arg, viewer.today)
        weeks = sorted(cal["week_start"].unique())
        if cal["amount"].sum() == 0:
            st.info(tr("sen.no_maturities", days=days))
        else:
            unit, unit_label = formats.money_axis(lang)

            def week_label(w) -> str:  # the axis in the viewer's language, not Plotly's dates
                return formats.day(pd.Timestamp(w).date(), lang)

            fig = go.Figure()
            for category, part in cal.groupby("category", sort=False):
                part = part.sort_values("week_start")
                fig.add_bar(
                    x=[week_label(w) for w in part["week_start"]], y=part["amount"] / unit, name=tr(f"cat.{category}"),
                    customdata=[str(w) for w in part["week_start"]],
                    hovertemplate="%{x} · " + tr(f"cat.{category}") + ": %{y:,.1f} " + unit_label + "<extra></extra>",
                )  # fmt: skip
            fig.update_layout(barmode="stack")
            fig.update_xaxes(type="category", categoryorder="array",
                             categoryarray=[week_label(w) for w in weeks])  # fmt: skip
            fig.update_yaxes(title_text=unit_label, tickformat=",.0f")

            def on_week() -> None:
                picked = charts.picked(st.session_state.get("sen_calendar"))
                if picked is not None:
                    st.session_state["sen_week"] = picked

            st.plotly_chart(charts.style(fig, 360), key="sen_calendar", on_select=on_week,
                            selection_mode="points")  # fmt: skip
            week_labels = [str(w) for w in weeks]
            if st.session_state.get("sen_week") not in week_labels:
                st.session_state["sen_week"] = week_labels[0]
            week = st.selectbox(tr("sen.pick_week"), week_labels, key="sen_week",
                                format_func=lambda w: tr("sen.week", date=formats.day(date.fromisoformat(w), lang)))  # fmt: skip
            members = shell.cached(
                seniors.maturing_clients, viewer, date.fromisoformat(week), band_arg
            )
            client_list.show(
                viewer, members, "sen_week_list",
                {"amount": Column("col.amount", "money"), "first_maturity": Column("col.first_maturity", "date"),
                 "products": Column("col.products", "count")},
                sort_by="amount", export_name=f"senior-maturities-{week}",
            )  # fmt: skip

with opp_tab:
    opps = shell.cached(seniors.opportunities, viewer, band_arg)
    cols = st.columns(len(opps))
    for col, (code, members) in zip(cols, opps.items(), strict=True):
        parts, columns = seniors.OPPORTUNITY_NEEDS[code]
        known = needs.has(viewer, *parts) and all(needs.has_column(viewer, c) for c in columns)
        col.metric(tr(f"sen.opp.{code}"), formats.count(len(members), lang) if known else "—",
                   border=True)  # fmt: skip
    code = st.segmented_control(tr("sen.pick_opportunity"), list(opps), default=list(opps)[0],
                                format_func=lambda c: tr(f"sen.opp.{c}"), key="sen_opp") or list(opps)[0]  # fmt: skip
    s = rules["seniors"]
    st.caption(
        tr(
            f"sen.opp_help.{code}",
            amount=formats.money(s["large_maturity_amount"], lang),
            days=s["dormant_days"],
        )
    )
    detail = {
        "large_maturity": {"amount": Column("col.amount", "money")},
        "pension_elsewhere": {"age": Column("col.age", "count")},
        "dormant": {"last_txn": Column("col.last_txn", "date")},
        "above_risk": {
            "products": Column("col.products", "count"),
            "amount": Column("col.amount", "money"),
        },
    }[code]
    parts, columns = seniors.OPPORTUNITY_NEEDS[code]
    if needs.require(viewer, *parts, what=f"sen.opp.{code}", columns=columns):
        client_list.show(viewer, opps[code], "sen_opp_list", detail, export_name=f"senior-{code}")

with digital_tab:
    st.caption(tr("sen.digital_help"))
    split = shell.cached(seniors.digital_split, viewer, band_arg)
    if needs.require(viewer, "digital", what="sen.tab_digital"):
        a, b = st.columns(2)
        for col, kind in ((a, "active"), (b, "silent")):
            col.metric(
                tr(f"sen.digital.{kind}"),
                formats.count(int((split["digital"] == kind).sum()), lang),
                border=True,
            )
        kind = st.segmented_control(tr("sen.pick_digital"), ["active", "silent"], default="silent",
                                    format_func=lambda k: tr(f"sen.digital.{k}"), key="sen_digital") or "silent"  # fmt: skip
        client_list.show(viewer, split[split["digital"] == kind][["client_id"]], "sen_digital_list",
                         export_name=f"senior-digital-{kind}")  # fmt: skip
