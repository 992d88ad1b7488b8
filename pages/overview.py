"""网点总览 Branch overview: clients and AUM, tiers over time, product mix and RM books."""

import streamlit as st
from plotly.subplots import make_subplots

from analytics import overview
from analytics.settings import load_settings
from ui import charts, formats, needs, shell

viewer = shell.page("overview")
tr, lang = viewer.t, viewer.lang
rules = load_settings()["tiers"]

summary = shell.cached(overview.tier_summary, viewer)
st.title(tr("overview.title"))
months = sorted(summary["month_end"].unique())
head = overview.headline(summary)
if head is None:
    st.caption(tr("overview.caption", scope=shell.scope_label(viewer), date=viewer.as_of))
    st.info(tr("overview.empty"))
    st.stop()

month = st.columns([1, 3])[0].selectbox(
    tr("overview.month"), months[::-1], format_func=lambda m: formats.month(m, lang), key="ov_month"
)
head = overview.headline(summary, month)
st.caption(tr("overview.caption", scope=shell.scope_label(viewer), date=formats.day(month, lang)))

# --- headline figures with month-over-month change
c1, c2, c3 = st.columns(3)
for col, label, cur, prev, fmt in (
    (c1, tr("overview.clients"), head.clients, head.prev_clients, lambda v: formats.count(v, lang)),
    (c2, tr("overview.aum"), head.aum, head.prev_aum, lambda v: formats.money(v, lang)),
    (
        c3, tr("overview.high_end", tier=tr(f"tier.{rules['high_end_from']}")),
        head.high_end_clients, head.prev_high_end_clients, lambda v: formats.count(v, lang),
    ),
):  # fmt: skip
    delta = formats.change(cur, prev)
    col.metric(
        label,
        fmt(cur),
        None if delta is None else f"{delta:+.1%} {tr('overview.vs_prev')}",
        border=True,
    )

# --- clients and AUM by tier (the pyramid: private banking on top)
tiers = summary[summary["month_end"] == month].sort_values("rank", ascending=False).copy()
tiers["label"] = [tr(f"tier.{x}") for x in tiers["tier"]]
tiers["client_share"] = tiers["clients"] / tiers["clients"].sum()
tiers["aum_share"] = tiers["aum"] / tiers["aum"].sum()
colours = [charts.tier_colours()[r] for r in tiers["rank"]]
n_down = rules["downgrade_after_months"]
st.subheader(tr("overview.by_tier"), help=tr("overview.by_tier_help", n=n_down))
fig = make_subplots(
    rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
    subplot_titles=(tr("col.clients"), tr("col.aum")),
)  # fmt: skip
fig.add_bar(
    x=tiers["clients"], y=tiers["label"], orientation="h", marker_color=colours,
    text=[f"{formats.count(n, lang)} ({formats.pct(s)})" for n, s in zip(tiers["clients"], tiers["client_share"], strict=True)],
    textposition="auto", hoverinfo="text", row=1, col=1,
)  # fmt: skip
fig.add_bar(
    x=tiers["aum"], y=tiers["label"], orientation="h", marker_color=colours,
    text=[f"{formats.money_short(a, lang)} ({formats.pct(s)})" for a, s in zip(tiers["aum"], tiers["aum_share"], strict=True)],
    textposition="auto", hoverinfo="text", row=1, col=2,
)  # fmt: skip
fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(tiers["label"][::-1]))
fig.update_xaxes(showticklabels=False)
fig.update_layout(showlegend=False)
st.plotly_chart(charts.style(fig, 55 * len(tiers)), key="ov_tiers")

# --- clients per tier over the months: one small panel per tier, each on its own scale
trend = summary.copy()
trend["label"] = [tr(f"tier.{x}") for x in trend["tier"]]
st.subheader(tr("overview.tier_trend", n=len(months)))
fig = charts.tier_trend(trend, lang, tr("col.clients"))
st.plotly_chart(fig, key="ov_trend")

left, right = st.columns([5, 6])
# --- AUM by product category
with left:
    st.subheader(tr("overview.by_category"))
    if needs.require(viewer, "holdings", what="overview.by_category"):
        cats = shell.cached(overview.aum_by_category, viewer, month)
        cats["label"] = [tr(f"cat.{c}") for c in cats["category"]]
        cats["text"] = [
            f"{formats.money_short(a, lang)} ({formats.pct(s)})"
            for a, s in zip(cats["aum"], cats["share"], strict=True)
        ]
        st.plotly_chart(
            charts.hbar(cats, "aum", "label", "text", colours="#3c78b4", height=420),
            key="ov_cats",
        )

# --- RM books
with right:
    st.subheader(tr("overview.rm_books"))
    books = shell.cached(overview.rm_books, viewer, month)
    # the clients without an RM are one book among the RMs', at its rank by AUM (not last)
    books = books.sort_values("aum", ascending=False, kind="stable", ignore_index=True)
    name_col = "name_zh" if lang == "zh" else "name_en"
    books["rm"] = books[name_col].fillna(tr("overview.unassigned"))
    table = books.assign(
        aum_text=[formats.money(a, lang) for a in books["aum"]],
        avg_text=[formats.money(a / n, lang) for a, n in zip(books["aum"], books["clients"], strict=True)],
    )[["rm", "clients", "high_end", "aum_text", "avg_text"]]  # fmt: skip
    st.dataframe(
        table,
        hide_index=True,
        height=min(420, 35 * (len(table) + 1) + 3),
        column_config={
            "rm": st.column_config.TextColumn(tr("col.rm"), width="medium"),
            "clients": st.column_config.NumberColumn(tr("col.clients"), format="localized"),
            "high_end": st.column_config.NumberColumn(tr("col.high_end"), format="localized"),
            "aum_text": tr("col.aum"),
            "avg_text": tr("col.avg_aum"),
        },
    )
    pool = books.index[books["rm_id"].isna()]
    if len(pool):  # the pool named under the table too: how big it is and where it ranks
        p = books.loc[pool[0]]
        st.caption(tr("overview.unassigned_note", clients=formats.count(p["clients"], lang),
                      aum=formats.money(p["aum"], lang), rank=int(pool[0]) + 1, n=len(books)))  # fmt: skip
