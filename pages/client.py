"""客户360 One client: identity, KYC, segments, AUM trend, holdings, activity, talking points."""

import pandas as pd
import streamlit as st

from analytics import (
    adoption,
    allocation,
    client360,
    clusters,
    contact_log,
    segments,
    tags,
    threshold,
)
from analytics.access import AccessDenied, may
from analytics.settings import tier_lines
from ui import charts, describe, errors, formats, needs, notes, plan_view, shell

viewer = shell.page("client")
tr, lang = viewer.t, viewer.lang
name_col = "name_zh" if lang == "zh" else "name_en"

st.title(tr("client.title"))
client_id = shell.client_id_input(tr("client.pick"), help=tr("client.pick_help"))
if not client_id:
    st.info(tr("client.pick_help"))
    st.stop()

try:
    card = shell.cached(client360.client_card, viewer, client_id, False, viewer.today)
except AccessDenied:
    shell.audit(viewer, "view", [client_id], "client360", once=True, outcome="refused")
    st.error(tr("client.refused"))
    st.stop()
shell.audit(viewer, "view", [client_id], "client360", once=True)  # before anything of the client

if client360.may_unmask(viewer.scope, card.branch_id, card.rm_id) and st.toggle(
    tr("client.unmask")
):
    card = client360.client_card(
        shell.warehouse(viewer.snapshot_path), viewer.scope, client_id, True, viewer.today
    )
    shell.audit(viewer, "unmask", [client_id], "client360", once=True)
else:
    st.caption(tr("client.masked_note"))

# --- who the client is
ident, kyc, segs = st.columns(3)
with ident.container(border=True):
    st.markdown(
        f"**{tr('client.identity')}** · {formats.md(getattr(card, name_col))} · `{card.client_id}`"
    )
    gender = describe.code("gender", card.gender, lang)
    st.markdown(
        f"{tr('client.gender_age')}: {gender if card.age is None else tr('client.age_value', gender=gender, age=card.age)}  \n"
        f"{tr('client.occupation')}: {describe.code('occupation', card.occupation, lang)}  \n"
        f"{tr('client.family')}: {describe.family(card, lang, needs.has(viewer, 'family'))}  \n"
        f"{tr('client.id_number')}: {formats.md(card.id_number)}  \n"
        f"{tr('client.phone')}: {formats.md(card.phone)}  \n"
        f"{tr('client.address')}: {formats.md(card.address)}"
    )
with kyc.container(border=True):
    stale = f" ⚠️ {tr('client.risk_stale')}" if card.risk_stale else ""
    yes_no = {True: tr("common.yes"), False: tr("common.no"), None: tr("common.none")}
    rm = getattr(card, f"rm_{name_col}") or tr("client.no_rm")
    reassigned = adoption.assigned_rm(shell.workspace(), client_id)  # accepted in BranchLens
    if reassigned is not None and reassigned != card.rm_id:
        _, _, rms = shell.snapshot_facts(viewer.snapshot_path)
        rm = rms.set_index("rm_id")[name_col].get(reassigned, reassigned)
    st.markdown(
        f"**{tr('client.kyc')}**  \n"
        f"{tr('client.risk_level')}: **{card.risk_level or tr('common.none')}** · {tr('client.risk_assessed')} "
        f"{formats.day(card.risk_assessed_on, lang)}{stale}  \n"
        f"{tr('client.income_spending')}: {formats.money(card.monthly_income, lang)} / "
        f"{formats.money(card.monthly_spending, lang)}  \n"
        f"{tr('client.payroll')}: {yes_no[card.payroll]} · {tr('client.pension')}: "
        f"{yes_no[card.pension]} · {tr('client.mobile')}: {yes_no[card.mobile_banking]}  \n"
        f"{tr('client.rm')}: {rm} · {tr('client.open_date')}: {formats.day(card.open_date, lang)}"
    )

# --- where the client sits in each segmentation (computed for the viewer's scope, cached)
trend = shell.cached(client360.aum_trend, viewer, client_id)
seg = shell.cached(segments.client_segments, viewer).set_index("client_id")
info = seg.loc[client_id] if client_id in seg.index else None  # None: no AUM in the last month
groups = shell.cached(clusters.behaviour_clusters, viewer)
near = shell.cached(threshold.threshold_clients, viewer)
near = near[near["client_id"] == client_id]
with segs.container(border=True):
    none = tr("common.none")
    cluster_no = None if info is None or pd.isna(info["cluster"]) else int(info["cluster"])
    cluster_text = (
        tr("client.cluster_value", name=tr("cluster.name", n=int(cluster_no) + 1),
           traits=describe.cluster(groups.traits.get(int(cluster_no), []), lang))
        if cluster_no is not None
        else none
    )  # fmt: skip
    status = []
    for row in near.itertuples():
        kind = tr(f"th.{row.kind}")
        if row.kind == "relationship":
            status.append(
                tr("client.threshold_missing", kind=kind, missing=tr(f"missing.{row.missing}"))
            )
        else:
            status.append(
                tr("client.threshold_gap", kind=kind, tier=tr(f"tier.{row.line_tier}"),
                   gap=formats.money(row.gap, lang))
            )  # fmt: skip
    tier_now = tr(f"tier.{trend['tier'].iloc[-1]}") if len(trend) else tr("common.none")
    aum_now = formats.money(trend["aum"].iloc[-1] if len(trend) else 0, lang)
    value_tier = none if info is None else describe.code("vt", info["value_tier"], lang)
    score = none if info is None or pd.isna(info["value_score"]) else f"{info['value_score']:.0f}"
    segment = (
        none if info is None or pd.isna(info["segment"])
        else f"{tr('rfm.' + info['segment'])} ({info['rfm_code']})"
    )  # fmt: skip
    st.markdown(
        f"**{tr('client.segments')}**  \n"
        f"{tr('client.tier')}: **{tier_now}** · AUM {aum_now}  \n"
        f"{tr('client.value_tier')}: {value_tier} · "
        f"{tr('client.value_score')}: {score}  \n"
        f"{tr('client.rfm')}: {segment}  \n"
        f"{tr('client.cluster')}: {cluster_text}  \n"
        f"{tr('client.threshold')}: {tr('common.list_sep').join(status) or tr('client.not_threshold')}"
    )
    if needs.has(viewer, "holdings"):  # the check reads the client's positions
        portfolio, kyc = shell.cached(allocation.client_portfolio, viewer, client_id)
        st.page_link(
            "pages/allocation.py", icon=":material/balance:", query_params={"client": client_id},
            label=f"{tr('al.open_check')} · {tr('al.finding_count', n=len(allocation.findings(portfolio, kyc)))}",
        )  # fmt: skip
    held_tags = shell.cached(tags.tags_of, viewer, client_id, viewer.today)  # windows from today
    st.markdown(" ".join(f":blue-badge[{tr('tag.' + code)}]" for code in held_tags))

# --- AUM over the months, with the tier lines inside the chart's range
left, right = st.columns([3, 2])
with left:
    st.subheader(tr("client.aum_trend"))
    lines = [(tr(f"tier.{name}"), line, charts.tier_colours()[rank])
             for rank, (name, line) in enumerate(tier_lines())]  # fmt: skip
    st.plotly_chart(charts.aum_trend(trend, lines, lang), key="client_trend")
with right:
    st.subheader(tr("client.talking_points"))
    points = shell.cached(client360.talking_points, viewer, client_id, viewer.today)
    for code, fields in points:
        st.markdown(f"- {describe.talking_point(code, fields, lang)}")
    if not points:
        st.caption(tr("client.no_points"))

st.subheader(tr("client.holdings"))
pos = shell.cached(client360.holdings, viewer, client_id)
if not needs.require(viewer, "holdings", what="client.holdings"):
    pass  # the message names the file
elif pos.empty:
    st.caption(tr("client.no_holdings"))
else:
    st.dataframe(
        pd.DataFrame({
            tr("col.category"): [tr(f"cat.{c}") for c in pos["category"]],
            tr("col.product"): pos[name_col],
            tr("col.risk"): pos["risk_level"],
            tr("col.balance"): [formats.money(v, lang) for v in pos["balance"]],
            tr("col.pnl"): [formats.money(v, lang) for v in pos["pnl"]],
            tr("col.pnl_pct"): [formats.pct(v) for v in pos["pnl_pct"]],
            tr("col.maturity"): [formats.day(pd.Timestamp(d).date(), lang) if pd.notna(d) else "" for d in pos["maturity_date"]],
        }),
        hide_index=True,
    )  # fmt: skip

txns, contacts = st.tabs([tr("client.transactions"), tr("client.contacts")])
with txns:
    tx = shell.cached(client360.recent_transactions, viewer, client_id)
    if needs.require(viewer, "transactions", what="client.transactions"):
        st.dataframe(
            pd.DataFrame({
                tr("col.date"): [formats.day(pd.Timestamp(d).date(), lang) for d in tx["txn_date"]],
                tr("col.type"): [tr(f"txn.{x}") for x in tx["txn_type"]],
                tr("col.amount"): [formats.money(v, lang) for v in tx["amount"]],
                tr("col.channel"): [describe.code("channel", x, lang) for x in tx["channel"]],
                tr("col.product"): tx["product_zh" if lang == "zh" else "product_en"].fillna(""),
                tr("col.counterparty"): tx["counterparty_bank"].fillna(""),
            }),
            hide_index=True,
        )  # fmt: skip
with contacts:
    wh, ws = shell.warehouse(viewer.snapshot_path), shell.workspace()
    ours = contact_log.logged_contacts(ws, wh, viewer.scope, client_id=client_id)
    ch = client360.contact_history(wh, viewer.scope, client_id, logged=ours)
    needs.note(viewer, "contacts", what="client.contacts")
    if ch.empty:
        if needs.has(viewer, "contacts"):  # without the CRM's history, none is not a fact
            st.caption(tr("client.no_contacts"))
    else:
        st.dataframe(
            pd.DataFrame({
                tr("col.date"): [formats.day(d, lang) for d in ch["contact_date"]],
                tr("col.channel"): [tr(f"channel.{x}") for x in ch["channel"]],
                tr("col.topic"): [
                    tr(f"topic.{x}") if src == "crm" else plan_view.reason_label(viewer, x)
                    for x, src in zip(ch["topic"], ch["source"], strict=True)
                ],
                tr("col.outcome"): [tr(f"outcome.{x}") for x in ch["outcome"]],
                tr("col.note"): ch["note"].fillna(""),
                tr("col.source"): [tr(f"source.{x}") for x in ch["source"]],
            }),
            hide_index=True,
            key="client_contacts",
        )  # fmt: skip
    if may(viewer.scope, "log_contact") and viewer.scope.owns(card.branch_id, card.rm_id):
        notes.warning(viewer, "client_log")
        with st.form("client_log"):
            st.markdown(f"**{tr('client.log_contact')}**")
            a, b, c = st.columns(3)
            when = a.date_input(tr("col.date"), value=viewer.today, max_value=viewer.today,
                                format="YYYY-MM-DD")  # fmt: skip
            channel = b.selectbox(tr("col.channel"), contact_log.CHANNELS,
                                  format_func=lambda x: tr(f"channel.{x}"))  # fmt: skip
            outcome = c.selectbox(tr("col.outcome"), contact_log.OUTCOMES,
                                  format_func=lambda x: tr(f"outcome.{x}"))  # fmt: skip
            note = st.text_input(
                tr("col.note"), max_chars=contact_log.NOTE_MAX_CHARS, key="client_log_note"
            )
            if st.form_submit_button(tr("client.log_button"), type="primary"):
                try:
                    contact_log.log_contact(ws, wh, viewer.scope, client_id, when, channel,
                                            outcome, note, today=viewer.today)  # fmt: skip
                except (AccessDenied, contact_log.ContactLogError) as e:
                    st.error(errors.contact_not_saved(e, lang))
                else:
                    notes.saved("client_log", note)
                    st.rerun()
    else:
        st.caption(tr("client.log_rm_only"))
