"""临界客户 Threshold clients: near an upgrade, at risk of a downgrade, one step from the full
relationship; each with its gap, what could close it and whether they were contacted lately."""

import plotly.graph_objects as go
import streamlit as st

from analytics import contact_log, snapshot, threshold, tiers
from analytics.settings import load_settings
from ui import charts, client_list, formats, needs, shell
from ui.client_list import Column

viewer = shell.page("threshold")
tr, lang = viewer.t, viewer.lang
rules = load_settings()
st.title(tr("th.title"))
st.caption(tr("th.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang)))

c1, c2, _ = st.columns([2, 2, 3])
band = c1.slider(
    tr("th.band"), 1, 30, int(round(float(rules["threshold"]["upgrade_band"]) * 100)),
    format="%d%%", key="th_band",
) / 100  # fmt: skip
near = shell.cached(threshold.threshold_clients, viewer, band)
# contacted lately: the CRM history plus contacts logged in BranchLens, counted back from the
# viewer's business day
logged = contact_log.contact_dates(
    shell.workspace(), shell.warehouse(viewer.snapshot_path), viewer.scope
)
contacted = threshold.contacted_recently(
    shell.warehouse(viewer.snapshot_path), viewer.scope, as_of=viewer.today,
    extra_contacts=logged,
)  # fmt: skip
near = near.assign(contacted=near["client_id"].isin(contacted["client_id"]))
if viewer.scope.role != "rm":
    _, _, rms = shell.snapshot_facts(viewer.snapshot_path)
    in_view = [r for r in rms["rm_id"] if r in set(near["rm_id"].dropna())]
    names = dict(zip(rms["rm_id"], rms["name_zh" if lang == "zh" else "name_en"], strict=True))
    rm = c2.selectbox(tr("th.rm_filter"), [None, *in_view], key="th_rm",
                      format_func=lambda r: tr("th.all_rms") if r is None else names[r])  # fmt: skip
    if rm is not None:
        near = near[near["rm_id"] == rm]

summary = threshold.summarise(near).set_index("kind")
months = snapshot.month_ends(shell.warehouse(viewer.snapshot_path))
known = {  # kinds this snapshot can judge (a roster-only import: upgrade near-misses)
    "upgrade": True, "downgrade": len(months) >= 2, "relationship": needs.has(viewer, "relationship"),
}  # fmt: skip
cols = st.columns(3)
for col, kind in zip(cols, threshold.KINDS, strict=True):
    row = summary.loc[kind]
    detail = (
        tr("th.gap_total", gap=formats.money(row["gap_total"], lang))
        if kind != "relationship" and known[kind]
        else None
    )
    count = tr("th.count", n=formats.count(row["clients"], lang)) if known[kind] else "—"
    col.metric(tr(f"th.{kind}"), count, detail, delta_color="off", delta_arrow="off", border=True)
st.caption(tr("th.contact_note", days=rules["invitations"]["exclude_contacted_days"]))
needs.note(viewer, "contacts", what="col.contacted")

money = lambda label: Column(label, "money")  # noqa: E731
up_tab, down_tab, rel_tab = st.tabs([tr(f"th.{k}") for k in threshold.KINDS])
with up_tab:
    st.caption(tr("th.upgrade_help", band=formats.pct(band, 0)))
    needs.note(viewer, "holdings", "transactions", what="th.closers", partial=False)
    up = near[near["kind"] == "upgrade"]
    lines = [t for t in tiers.tier_names(rules)[::-1] if t in set(up["line_tier"])]
    if not lines:
        st.info(tr("th.empty"))
    else:
        per_line = up.groupby("line_tier").agg(n=("client_id", "size"), gap=("gap", "sum"))
        per_line = per_line.reindex(lines)
        fig = go.Figure(go.Bar(
            x=per_line["n"], y=[tr(f"tier.{t}") for t in lines], orientation="h",
            text=[f"{formats.count(n, lang)} · {formats.money(g, lang)}" for n, g in zip(per_line["n"], per_line["gap"], strict=True)],
            textposition="auto", marker_color="#f2b134", hovertemplate="%{y}: %{text}<extra></extra>",
        ))  # fmt: skip
        fig.update_yaxes(autorange="reversed", type="category")
        fig.update_xaxes(showticklabels=False)
        st.markdown(f"**{tr('th.by_line')}**")
        st.plotly_chart(charts.style(fig, 60 + 40 * len(lines)), key="th_lines")
        high = rules["tiers"]["high_end_from"]  # the high-end line (50万) first if it has clients
        line = st.segmented_control(tr("th.pick_line"), lines, default=high if high in lines else lines[-1],
                                    format_func=lambda t: tr(f"tier.{t}"), key="th_line")  # fmt: skip
        members = up[up["line_tier"] == (line or lines[-1])]
        client_list.show(
            viewer,
            members[["client_id", "ease", "line_tier", "gap", "maturing_amount", "inflow_amount", "closable", "contacted"]],
            "th_up",
            {
                "ease": Column("col.ease", "count"),
                "line_tier": Column("col.line", "code:tier"), "gap": money("col.gap"),
                "maturing_amount": money("col.maturing"), "inflow_amount": money("col.inflow"),
                "closable": Column("col.closable", "yes_no"), "contacted": Column("col.contacted", "yes_no"),
            },
            sort_by="ease", export_name=f"upgrade-{line}",
        )  # fmt: skip
with down_tab:
    st.caption(
        tr(
            "th.downgrade_help",
            n=rules["tiers"]["downgrade_after_months"],
            band=formats.pct(band, 0),
        )
    )
    down = near[near["kind"] == "downgrade"]
    if needs.require_months(viewer, months, what="th.downgrade"):
        client_list.show(
            viewer,
            down[["client_id", "line_tier", "gap", "months_below", "reason", "contacted"]],
            "th_down",
            {
                "line_tier": Column("client.tier", "code:tier"), "gap": money("col.gap"),
                "months_below": Column("col.months_below", "count"), "reason": Column("col.reason", "code:reason"),
                "contacted": Column("col.contacted", "yes_no"),
            },
            export_name="downgrade-risk",
        )  # fmt: skip
with rel_tab:
    st.caption(tr("th.relationship_help"))
    rel = near[near["kind"] == "relationship"]
    if needs.require(viewer, "relationship", what="th.relationship"):
        client_list.show(
            viewer,
            rel[["client_id", "missing", "contacted"]],
            "th_rel",
            {"missing": Column("col.missing", "code:missing"), "contacted": Column("col.contacted", "yes_no")},
            export_name="relationship",
        )  # fmt: skip
