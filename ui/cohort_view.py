"""Render a cohort profile (``analytics.cohorts.CohortProfile``) against the rest of the viewer's
clients, on the same axes, so a trainer can point at the difference. Used by the senior and the
high-end views."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.cohorts import UNKNOWN, CohortProfile
from ui import charts, formats, needs
from ui.shell import Viewer

COHORT, REST = "#1f2d5a", "#9ecae1"
ROW_PX = 36  # px per compared row: two bars thick enough for a BAR_FONT label each
BAR_FONT = 12


def compare_figure(viewer: Viewer, df: pd.DataFrame, key_col: str, label, height=None) -> go.Figure:
    """Grouped horizontal bars, cohort against rest, shares on one axis, each share written after
    its bar at ``BAR_FONT`` px: each row is tall enough (``ROW_PX``) for its two labels, and the axis
    leaves room for the longest bar's (``charts.style``)."""
    fig = go.Figure()
    for col, colour in (("rest", REST), ("cohort", COHORT)):
        fig.add_bar(
            y=[label(v) for v in df[key_col]], x=df[col], orientation="h", marker_color=colour,
            name=viewer.t(f"cohort.{col}"), text=[formats.pct(v) for v in df[col]],
            textposition="outside", textfont_size=BAR_FONT,  # a thin bar cannot hold it inside
            hovertemplate="%{y}: %{text}<extra></extra>",
        )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(tickformat=".0%")
    fig.update_layout(barmode="group", legend_traceorder="reversed", bargap=0.15)
    return charts.style(fig, max(height or 0, 90 + ROW_PX * len(df)))


def compare(viewer: Viewer, df: pd.DataFrame, key_col: str, label, key: str, height=300) -> None:
    """``compare_figure`` on the page."""
    st.plotly_chart(compare_figure(viewer, df, key_col, label, height), key=key)


def profile(viewer: Viewer, p: CohortProfile, key: str) -> None:
    """The whole profile: size and shares, then the comparisons in a two-column grid."""
    tr, lang = viewer.t, viewer.lang
    if p.clients == 0:
        st.info(tr("cohort.empty"))
        return
    a, b, c = st.columns(3)
    a.metric(tr("cohort.size"), formats.count(p.clients, lang), border=True)
    b.metric(tr("cohort.client_share"), formats.pct(p.client_share), border=True)
    c.metric(tr("cohort.aum_share"), formats.pct(p.aum_share), border=True)
    known = lambda v: tr("common.unknown") if v == UNKNOWN else str(v)  # noqa: E731
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{tr('cohort.product_mix')}**")
        if needs.require(viewer, "holdings", what="cohort.product_mix"):
            compare(viewer, p.product_mix, "category", lambda c: tr(f"cat.{c}"), f"{key}_mix", 420)
        st.markdown(f"**{tr('cohort.age_bands')}**")
        if needs.require_column(viewer, "age", what="cohort.age_bands"):
            compare(viewer, p.age_bands, "band", known, f"{key}_age")
        st.markdown(f"**{tr('cohort.risk_levels')}**")
        if needs.require_column(viewer, "risk_level", what="cohort.risk_levels"):
            compare(viewer, p.risk_levels, "risk_level", known, f"{key}_risk", 260)
    with right:
        st.markdown(f"**{tr('cohort.penetration')}**")
        if needs.require(viewer, "holdings", what="cohort.penetration"):
            compare(viewer, p.penetration, "category", lambda c: tr(f"cat.{c}"), f"{key}_pen", 420)
        st.markdown(f"**{tr('cohort.tiers')}**")
        compare(viewer, p.tiers, "tier", lambda c: tr(f"tier.{c}"), f"{key}_tiers")
        st.markdown(f"**{tr('cohort.indicators')}**")
        ind = p.indicators

        def show(v, unit):
            if pd.isna(v):  # not in the bank's data (e.g. no mobile-banking activity imported)
                return tr("common.none")
            if unit == "share":
                return formats.pct(v)
            if unit == "yuan":
                return formats.money(v, lang)
            return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"

        st.dataframe(
            pd.DataFrame({
                tr("col.measure"): [tr(f"ind.{m}") for m in ind["measure"]],
                tr("cohort.cohort"): [show(v, u) for v, u in zip(ind["cohort"], ind["unit"], strict=True)],
                tr("cohort.rest"): [show(v, u) for v, u in zip(ind["rest"], ind["unit"], strict=True)],
            }),
            hide_index=True,
        )  # fmt: skip
    st.markdown(f"**{tr('cohort.trend')}**")
    trend(viewer, p.trend, f"{key}_trend")
    if len(p.tags):  # the tags the snapshot has the data for
        st.markdown(f"**{tr('cohort.tags')}**")
        compare(viewer, p.tags, "tag", lambda c: tr(f"tag.{c}"), f"{key}_tags", 520)


def trend_figure(viewer: Viewer, df: pd.DataFrame) -> go.Figure:
    """AUM of the cohort and of the rest per month-end, each as an index (first month = 100), so
    their growth compares on one axis whatever their size; months on ``charts.month_axis``."""
    fig = go.Figure()
    for col, colour in (("rest", REST), ("cohort", COHORT)):
        base = df[col].iloc[0] if len(df) and df[col].iloc[0] else None
        values = [v / base * 100 if base else None for v in df[col]]
        fig.add_scatter(
            x=df["month_end"], y=values, mode="lines+markers", line_color=colour,
            name=viewer.t(f"cohort.{col}"),
            customdata=[formats.money(v, viewer.lang) for v in df[col]],
            hovertemplate="%{x}: %{y:.1f} (%{customdata})<extra></extra>",
        )  # fmt: skip
    charts.month_axis(fig, viewer.lang)
    fig.update_yaxes(title_text=viewer.t("cohort.trend_index"))
    return charts.style(fig, 300)


def trend(viewer: Viewer, df: pd.DataFrame, key: str) -> None:
    """``trend_figure`` on the page."""
    st.plotly_chart(trend_figure(viewer, df), key=key)
