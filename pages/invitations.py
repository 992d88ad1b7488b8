"""客户邀约 Invitation lists: the four campaigns with their parameters, count and AUM, the ranked
list (recently contacted left out), a call script, an export, a form to record an invitation and
each campaign's funnel from those records: invited → reached → visited → converted."""

from functools import partial

import plotly.graph_objects as go
import streamlit as st

from analytics import invitations as inv
from analytics import value
from analytics.access import may
from analytics.contact_log import contact_dates, log_contact, logged_contacts
from analytics.settings import load_settings
from ui import charts, client_list, formats, invitation_view, needs, plan_view, shell
from ui.client_list import Column

viewer = shell.page("invitations")
tr, lang = viewer.t, viewer.lang
rules = load_settings()
ir = rules["invitations"]
wh, ws, scope = shell.warehouse(viewer.snapshot_path), shell.workspace(), viewer.scope
names = "name_zh" if lang == "zh" else "name_en"
rms = shell.snapshot_facts(viewer.snapshot_path)[2]  # the RM who recorded an invitation, by name
today = viewer.today  # the business day: the 30-day window and a logged invitation's date

st.title(tr("inv.title"))
st.caption(tr("inv.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang),
              days=ir["exclude_contacted_days"]))  # fmt: skip

logged = contact_dates(ws, wh, scope)
summary = inv.campaign_summary(wh, scope, today=today, extra_contacts=logged).set_index("campaign")
logs = logged_contacts(ws, wh, scope)
scores = shell.cached(value.client_scores, viewer)

params = {
    "upgrade": dict(line=formats.money(inv.upgrade_line(), lang),
                    band=formats.pct(ir["upgrade_band_below"], 0)),
    "fund_diagnosis": dict(first=formats.pct(inv.fund_loss_levels()[0], 0),
                           second=formats.pct(inv.fund_loss_levels()[1], 0)),
    "insurance_review": dict(rate=formats.pct(ir["deposit_rate_3y"], 2)),
    "family_event": dict(age=ir["event_child_max_age"],
                         aum=formats.money(inv.affluent_line(), lang)),
}  # fmt: skip
extra_columns = {
    "upgrade": {"gap": Column("col.gap", "money")},
    "fund_diagnosis": {"loss_pct": Column("col.loss_pct", "pct"),
                       "loss_amount": Column("col.loss_amount", "money"),
                       "level": Column("col.level", "code:inv.level")},
    "insurance_review": {"yield_gap": Column("col.yield_gap", "pct"),
                         "reason": Column("col.reason", "code:inv.reason")},
    "family_event": {"reason": Column("col.reason", "code:inv.reason"),
                     "children": Column("col.children", "count")},
}  # fmt: skip

tabs = st.tabs([tr(f"inv.{c}") for c in inv.CAMPAIGNS])
for tab, campaign in zip(tabs, inv.CAMPAIGNS, strict=True):
    with tab:
        st.caption(tr(f"inv.rule.{campaign}", **params[campaign]))
        if not needs.require(viewer, *inv.CAMPAIGN_NEEDS[campaign], what=f"inv.{campaign}"):
            continue  # the message names the file the campaign's rule reads
        row = summary.loc[campaign]
        a, b, c = st.columns(3)
        a.metric(tr("inv.clients"), formats.count(row["clients"], lang), border=True)
        b.metric(tr("inv.aum"), formats.money(row["aum"], lang), border=True)
        c.metric(tr("inv.excluded"), formats.count(row["excluded_recent"], lang), border=True)

        left, right = st.columns([3, 2])
        with (
            left,
            st.expander(tr("inv.script"), expanded=True, icon=":material/record_voice_over:"),
        ):
            st.markdown(tr(f"inv.script.{campaign}", tier=tr(f"tier.{ir['upgrade_line_tier']}")))
        with right:
            f = inv.funnel(wh, scope, campaign, logs)
            st.markdown(f"**{tr('inv.funnel')}**")
            if int(f["invited"]) == 0:
                st.info(tr("inv.funnel_empty"), icon=":material/filter_alt:")
            else:
                stages = [s for s in inv.FUNNEL_STAGES if f[s] is not None]
                fig = go.Figure(go.Funnel(
                    y=[tr(f"inv.stage.{s}") for s in stages], x=[int(f[s]) for s in stages],
                    textinfo="value+percent initial", marker_color="#3b7dd8",
                ))  # fmt: skip
                st.plotly_chart(charts.style(fig, 220), key=f"inv_{campaign}_funnel")
            st.caption(tr("inv.funnel_help", date=formats.day(f["data_until"], lang))
                       if f.get("data_until") else tr("inv.funnel_help_nodata"))  # fmt: skip

        members = inv.campaign_members(
            wh, scope, campaign, today=today, extra_contacts=logged,
            scores=scores[["client_id", "value_score"]],
        )  # fmt: skip
        cols = ["client_id", "rank", *extra_columns[campaign]]
        client_list.show(
            viewer, members[cols], f"inv_{campaign}",
            {"rank": Column("col.rank", "count"), **extra_columns[campaign]},
            sort_by="rank", export_name=f"invitation-{campaign}",
        )  # fmt: skip

        if may(scope, "log_contact") and not members.empty:
            top = plan_view.with_clients(viewer, members.sort_values("rank").head(200))
            invitation_view.record_form(
                viewer, campaign, top["client_id"].tolist(),
                dict(zip(top["client_id"], top[names], strict=True)),
                partial(log_contact, ws, wh, scope, contact_date=today,
                        reason=inv.invite_reason(campaign), today=today),
            )  # fmt: skip
        elif not may(scope, "log_contact"):
            st.caption(tr("inv.record_rm_only"))

        mine = logs[logs["reason"] == inv.invite_reason(campaign)]
        if not mine.empty:  # recorded by the team: who recorded each is a column
            st.markdown(f"**{tr('inv.recent_invites')}**")
            shown = plan_view.with_clients(viewer, mine.head(50))
            st.dataframe(invitation_view.recorded_table(viewer, shown, rms), hide_index=True,
                         key=f"inv_{campaign}_logs")  # fmt: skip
