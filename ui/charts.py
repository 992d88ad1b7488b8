"""Plotly figures shared by the views: one look (fonts, tier colours, margins) everywhere."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

# From mass (light) to private banking (dark): the order of the tiers reads as a scale.
TIER_COLOURS = ["#c6dbef", "#9ecae1", "#f2b134", "#8c96a8", "#3c78b4", "#1f2d5a"]
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


def style(fig: go.Figure, height: int = 360) -> go.Figure:
    """The house layout: CJK-capable font, tight margins, legend on top."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=dict(family=FONT, size=13),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hoverlabel=dict(font_family=FONT),
    )
    return fig


def hbar(df: pd.DataFrame, x: str, y: str, text: str, colours=None, height: int = 360) -> go.Figure:
    """A horizontal bar chart with a label on each bar; rows are drawn top to bottom as given."""
    fig = go.Figure(
        go.Bar(
            x=df[x], y=df[y], orientation="h", text=df[text], textposition="auto",
            marker_color=colours, hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(showticklabels=False)  # every bar carries its own label
    return style(fig, height)
