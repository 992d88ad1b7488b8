"""客户邀约 Invitation lists: the four campaigns with their parameters, count and AUM, the ranked
list (recently contacted left out), a call script, an export, a form to record an invitation and
each campaign's funnel from those records: invited → reached → visited → converted."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import invitations as inv
from analytics import value
from analytics.access import AccessDenied, may
from analytics.contact_log import (
    CHANNELS,
    OUTCOMES,
    ContactLogError,
    contact_dates,
    log_contact,
    logged_contacts,
)
from analytics.settings import load_settings
from ui import charts, client_list, errors, formats, needs, notes, plan_view, shell
from ui.client_list import Column

viewer = shell.page("invitations")
tr, lang = viewer.t, viewer.lang
rules = load_settings()
ir = rules["invitations"]
wh, ws, scope = shell.warehouse(viewer.snapshot_path), shell.workspace(), viewer.scope
names = "name_zh" if lang == "zh" else "name_en"
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
            label = dict(zip(top["client_id"], top[names], strict=True))
            notes.warning(viewer, f"inv_{campaign}_log")
            with st.form(f"inv_{campaign}_log"):
                st.markdown(f"**{tr('inv.record')}**")
                who = st.selectbox(
                    tr("inv.record_client"), top["client_id"].tolist(),
                    format_func=lambda cid, label=label: f"{label[cid]} · {cid}",
                    key=f"inv_{campaign}_who",
                )  # fmt: skip
                x, y = st.columns(2)
                channel = x.selectbox(tr("col.channel"), CHANNELS, index=CHANNELS.index("call"),
                                      format_func=lambda ch: tr(f"channel.{ch}"))  # fmt: skip
                outcome = y.selectbox(tr("col.outcome"), OUTCOMES, key=f"inv_{campaign}_outcome",
                                      format_func=lambda o: tr(f"outcome.{o}"))  # fmt: skip
                note = st.text_input(tr("col.note"), max_chars=500, key=f"inv_{campaign}_note")
                if st.form_submit_button(tr("inv.record_button"), type="primary",
                                         key=f"inv_{campaign}_save"):  # fmt: skip
                    try:
                        log_contact(ws, wh, scope, who, today, channel, outcome, note,
                                    reason=inv.invite_reason(campaign), today=today)  # fmt: skip
                    except (AccessDenied, ContactLogError) as e:
                        st.error(errors.contact_not_saved(e, lang))
                    else:
                        notes.saved(f"inv_{campaign}_log", note)
                        st.rerun()
        elif not may(scope, "log_contact"):
            st.caption(tr("inv.record_rm_only"))

        mine = logs[logs["reason"] == inv.invite_reason(campaign)]
        if not mine.empty:
            st.markdown(f"**{tr('inv.recent_invites')}**")
            shown = plan_view.with_clients(viewer, mine.head(50))
            st.dataframe(pd.DataFrame({
                tr("col.date"): [formats.day(d, lang) for d in shown["contact_date"]],
                tr("col.client_id"): shown["client_id"], tr("col.name"): shown[names],
                tr("col.channel"): [tr(f"channel.{c}") for c in shown["channel"]],
                tr("col.outcome"): [tr(f"outcome.{o}") for o in shown["outcome"]],
                tr("col.note"): shown["note"].fillna(""),
            }), hide_index=True, key=f"inv_{campaign}_logs")  # fmt: skip
