"""客群分层 Segmentation: value tiers, AUM tiers, RFM, behaviour groups, value x AUM, migration.

The client list below the tabs follows the open tab (``seg_tab``): it lists the segment picked in
that tab (``seg_pick``, "dimension:code", by a click on a bar, point or cell or in the box above
the list). Each tab remembers its own pick (``seg_last``); a tab not picked in yet starts on its
default (MVC, the first high-end tier, 重要价值, group 1, MVC × the first high-end tier, the
upgrades into the first high-end tier). A tab whose data the snapshot lacks lists nothing. A row
of the list opens the client.
"""

import plotly.graph_objects as go
import streamlit as st

from analytics import clusters, migration, rfm, segments, snapshot, tiers
from analytics.settings import load_settings
from analytics.value import VALUE_TIERS, pareto_curve
from ui import charts, client_list, describe, formats, needs, shell
from ui.client_list import Column

viewer = shell.page("segmentation")
tr, lang = viewer.t, viewer.lang
st.title(tr("seg.title"))
st.caption(tr("seg.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang)))

frame = shell.cached(segments.client_segments, viewer)
if frame.empty:
    st.info(tr("overview.empty"))
    st.stop()
# what this snapshot can segment by (a roster-only import: AUM tiers and their migration)
has_value, has_rfm, has_clusters = (needs.has(viewer, p) for p in ("value", "rfm", "clusters"))
groups = shell.cached(clusters.behaviour_clusters, viewer) if has_clusters else None
months = snapshot.month_ends(shell.warehouse(viewer.snapshot_path))
TIERS = tiers.tier_names()[::-1]  # highest first
HIGH = load_settings()["tiers"]["high_end_from"]


def label(pick: str) -> str:
    """A pick in words: 价值分层 · MVC, 群组 2, 金卡 → 白金 ..."""
    dim, _, code = pick.partition(":")
    if dim == "value_tier":
        return tr(f"vt.{code}")
    if dim == "aum_tier":
        return tr(f"tier.{code}")
    if dim == "segment":
        return tr(f"rfm.{code}")
    if dim == "cluster":
        return tr("cluster.name", n=int(code) + 1)
    if dim == "cross":
        vt, tier = code.split("|")
        return f"{tr(f'vt.{vt}')} × {tr(f'tier.{tier}')}"
    src, dst = code.split("|")
    return tr("seg.migration_cell", src=tr(f"tier.{src}"), dst=tr(f"tier.{dst}"))


def on_chart(key: str, dim: str) -> None:
    code = charts.picked(st.session_state.get(key))
    if code is not None:
        st.session_state["seg_pick"] = f"{dim}:{code}"


def bars(df, code_col, label_of, value_col, text, key, dim, colours=None, height=300):
    fig = go.Figure(
        go.Bar(x=df[value_col], y=[label_of(c) for c in df[code_col]], orientation="h",
               customdata=df[code_col].astype(str), text=text, textposition="auto",
               marker_color=colours or "#3c78b4", hovertemplate="%{y}: %{text}<extra></extra>")
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(showticklabels=False)
    st.plotly_chart(
        charts.style(fig, height), key=key, on_select=lambda: on_chart(key, dim),
        selection_mode="points",
    )  # fmt: skip


def share_text(df, col):
    return [f"{formats.count(n, lang)} ({formats.pct(s)})" for n, s in zip(df[col], df[f"{col}_share"], strict=True)]  # fmt: skip


# the dimension each tab segments by, in tab order; the segments each can list on this snapshot
DIMS = ("value_tier", "aum_tier", "segment", "cluster", "cross", "migration")
labels = [tr(k) for k in ("seg.tab_value", "seg.tab_aum", "seg.tab_rfm", "seg.tab_cluster",
                          "seg.tab_cross", "seg.tab_migration")]  # fmt: skip
below = TIERS[min(TIERS.index(HIGH) + 1, len(TIERS) - 1)]  # the tier under the high-end line
choices = {
    "value_tier": [f"value_tier:{c}" for c in VALUE_TIERS] if has_value else [],
    "aum_tier": [f"aum_tier:{c}" for c in TIERS],
    "segment": [f"segment:{c}" for c in rfm.SEGMENTS] if has_rfm else [],
    "cluster": [f"cluster:{c}" for c in range(groups.k)] if has_clusters else [],
    "cross": [f"cross:{v}|{c}" for v in VALUE_TIERS for c in TIERS] if has_value else [],
    "migration": [f"migration:{a}|{b}" for a in TIERS for b in TIERS] if len(months) >= 2 else [],
}
defaults = {"aum_tier": f"aum_tier:{HIGH}", "cross": f"cross:MVC|{HIGH}",
            "migration": f"migration:{below}|{HIGH}"}  # fmt: skip
st.session_state.setdefault("seg_pick", "value_tier:MVC" if has_value else f"aum_tier:{HIGH}")
if st.session_state.get("seg_tab") not in labels:  # first visit (or the other language's names)
    dim_now = st.session_state["seg_pick"].partition(":")[0]
    st.session_state["seg_tab"] = labels[DIMS.index(dim_now) if dim_now in DIMS else 0]
tabs = st.tabs(labels, key="seg_tab", on_change="rerun")

with tabs[0]:  # value tiers + Pareto
    if needs.require(viewer, "value", what="seg.tab_value"):
        vt = segments.segment_counts(frame, "value_tier", VALUE_TIERS)
        st.caption(tr("seg.value_help"))
        left, right = st.columns(2)
        with left:
            st.markdown(f"**{tr('seg.shares')}**")
            fig = go.Figure()
            for col, key in (
                ("clients", "col.clients"),
                ("aum", "col.aum"),
                ("contribution", "col.contribution"),
            ):
                fig.add_bar(name=tr(key), y=[tr(f"vt.{c}") for c in vt["value_tier"]], x=vt[f"{col}_share"],
                            orientation="h", customdata=vt["value_tier"], text=[formats.pct(s) for s in vt[f"{col}_share"]],
                            textposition="auto", textfont_size=12,
                            hovertemplate="%{y} · " + tr(key) + ": %{text}<extra></extra>")  # fmt: skip
            fig.update_yaxes(autorange="reversed", type="category")
            fig.update_xaxes(tickformat=".0%")  # room for the BZ bar's negative share: charts.style
            fig.update_layout(bargap=0.15)  # three bars a row, each thick enough for its share
            st.plotly_chart(charts.style(fig, 110 + 64 * len(vt)), key="seg_value", selection_mode="points",
                            on_select=lambda: on_chart("seg_value", "value_tier"))  # fmt: skip
        with right:
            st.markdown(f"**{tr('seg.pareto')}**")
            curve = pareto_curve(frame["actual"])
            top = 0.2
            share = float(curve.loc[(curve["client_share"] - top).abs().idxmin(), "value_share"])
            fig = go.Figure(go.Scatter(x=curve["client_share"], y=curve["value_share"], mode="lines",
                                       line_color="#1f2d5a", fill="tozeroy", fillcolor="rgba(60,120,180,0.15)"))  # fmt: skip
            fig.add_scatter(
                x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#8c96a8")
            )
            fig.add_vline(x=top, line_dash="dash", line_color="#f2b134")
            fig.update_xaxes(tickformat=".0%", title_text=tr("seg.pareto_x"))
            fig.update_yaxes(tickformat=".0%", title_text=tr("seg.pareto_y"), range=[0, 1.02])
            fig.update_layout(showlegend=False)
            st.plotly_chart(charts.style(fig, 300), key="seg_pareto")
            st.caption(tr("seg.pareto_note", top=formats.pct(top, 0), share=formats.pct(share)))

with tabs[1]:  # AUM tiers
    at = segments.segment_counts(frame, "aum_tier", TIERS)
    colours = charts.tier_colours()[::-1]  # in the order of TIERS
    bars(at, "aum_tier", lambda c: tr(f"tier.{c}"), "clients", share_text(at, "clients"), "seg_aum",
         "aum_tier", colours)  # fmt: skip

with tabs[2]:  # RFM
    if needs.require(viewer, "rfm", what="seg.tab_rfm"):
        st.caption(tr("seg.rfm_help"))
        rs = segments.segment_counts(frame, "segment", rfm.SEGMENTS)
        bars(rs, "segment", lambda c: tr(f"rfm.{c}"), "clients", share_text(rs, "clients"), "seg_rfm",
             "segment", height=360)  # fmt: skip

with tabs[3]:  # behaviour clusters
    if needs.require(viewer, "clusters", what="seg.tab_cluster"):
        st.caption(tr("seg.cluster_help", k=groups.k))
        cs = segments.segment_counts(frame, "cluster", range(groups.k))
        bars(cs, "cluster", lambda c: tr("cluster.name", n=int(c) + 1), "clients", share_text(cs, "clients"),
             "seg_cluster", "cluster", height=60 + 45 * groups.k)  # fmt: skip
        prof = groups.profiles
        st.dataframe(
            {
                tr("col.segment"): [tr("cluster.name", n=int(c) + 1) for c in prof["cluster"]],
                tr("col.description"): [describe.cluster(groups.traits.get(int(c), []), lang) for c in prof["cluster"]],
                tr("col.clients"): prof["size"],
                tr("col.avg_age"): prof["age"].round(0),
                tr("col.avg_aum"): [formats.money(v, lang) for v in prof["aum"]],
                tr("col.deposit_share"): [formats.pct(v) for v in prof["deposit_share"]],
                tr("col.mobile_logins"): prof["mobile_logins"].round(0),
            },
            hide_index=True,
        )  # fmt: skip

with tabs[4]:  # value tier x AUM tier
    if needs.require(viewer, "value", what="seg.tab_cross"):
        st.caption(tr("seg.cross_help"))
        cross = segments.cross_table(frame)
        shown = cross.rename(index=lambda c: tr(f"vt.{c}"), columns=lambda c: tr(f"tier.{c}"))
        codes = {
            (tr(f"vt.{r}"), tr(f"tier.{c}")): f"{r}|{c}" for r in cross.index for c in cross.columns
        }
        st.plotly_chart(charts.grid(shown, tr("client.tier"), tr("client.value_tier"), codes, 330),
                        key="seg_cross", selection_mode="points",
                        on_select=lambda: on_chart("seg_cross", "cross"))  # fmt: skip

with tabs[5]:  # tier migration between two month-ends
    if needs.require_months(viewer, months, what="seg.tab_migration"):
        a, b, _ = st.columns([1, 1, 2])
        src = a.selectbox(
            tr("seg.from_month"), months[:-1], index=0, format_func=lambda m: formats.month(m, lang)
        )
        later = [m for m in months if m > src]
        dst = b.selectbox(tr("seg.to_month"), later, index=len(later) - 1,
                          format_func=lambda m: formats.month(m, lang))  # fmt: skip
        summary = shell.cached(migration.migration_summary, viewer, src, dst)
        cols = st.columns(5)
        for col, key, n in zip(cols, ("seg.upgrades", "seg.downgrades", "seg.stayers", "seg.new", "seg.gone"),
                               (summary.upgrades, summary.downgrades, summary.stayers, summary.new, summary.gone),
                               strict=True):  # fmt: skip
            col.metric(tr(key), formats.count(n, lang))
        matrix = shell.cached(migration.tier_migration, viewer, src, dst)
        pivot = matrix.pivot(index="from_tier", columns="to_tier", values="clients").reindex(
            index=TIERS, columns=TIERS
        )
        shown = pivot.rename(index=lambda c: tr(f"tier.{c}"), columns=lambda c: tr(f"tier.{c}"))
        codes = {(tr(f"tier.{r}"), tr(f"tier.{c}")): f"{r}|{c}" for r in TIERS for c in TIERS}
        st.plotly_chart(charts.grid(shown, tr("seg.matrix_x"), tr("seg.matrix_y"), codes, 360),
                        key="seg_migration", selection_mode="points",
                        on_select=lambda: on_chart("seg_migration", "migration"))  # fmt: skip

# --- the clients of the segment picked in the open tab
open_dim = next((d for d, tab in zip(DIMS, tabs, strict=True) if tab.open), DIMS[0])
options = choices[open_dim]
if not options:  # this tab's data is missing (the tab says which file): nothing to list
    st.stop()
last = st.session_state.setdefault("seg_last", {})
# a pick of another tab: this tab's own last pick, else its default
if st.session_state["seg_pick"] not in options:
    mine, first = last.get(open_dim), defaults.get(open_dim)
    st.session_state["seg_pick"] = next(p for p in (mine, first, options[0]) if p in options)
st.divider()
st.caption(tr("seg.click_hint"))
pick = st.selectbox(tr("seg.pick"), options, format_func=label, key="seg_pick")
last[open_dim] = pick
st.subheader(tr("seg.list_title", what=label(pick)))
dim, _, code = pick.partition(":")
extra = {}
if dim == "cross":
    vt_code, tier_code = code.split("|")
    members = segments.members(frame, value_tier=vt_code, aum_tier=tier_code)
elif dim == "migration":
    moved = shell.cached(migration.migrated_clients, viewer, src, dst)
    src_tier, dst_tier = code.split("|")
    members = segments.members(moved, from_tier=src_tier, to_tier=dst_tier)
else:
    members = segments.members(frame, **{dim: int(code) if dim == "cluster" else code})
    if dim == "segment":
        members = members.merge(frame[["client_id", "rfm_code"]], on="client_id")
        extra = {"rfm_code": Column("client.rfm")}
client_list.show(viewer, members, "seg_list", extra, export_name=f"segment-{dim}-{code}")
