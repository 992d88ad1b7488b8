"""Plotly figures shared by the views: one look (fonts, tier colours, margins) everywhere."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import tiers

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


def style(fig: go.Figure, height: int = 360) -> go.Figure:
    """The house layout: CJK-capable font, tight margins, legend on top."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=dict(family=FONT, size=13),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hoverlabel=dict(font_family=FONT),
        colorway=["#3c78b4", "#9ecae1", "#f2b134", "#1f2d5a", "#8c96a8", "#c6dbef"],
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


def tier_colours() -> list[str]:
    """Each AUM tier's colour, lowest tier first (index = tier rank): settings [tiers.colours]."""
    return tiers.tier_colours()


def tier_colour_map() -> dict[str, str]:
    """Tier code -> colour, for charts coloured by a tier column."""
    return dict(zip(tiers.tier_names(), tiers.tier_colours(), strict=True))


def grid(
    counts: pd.DataFrame, x_title: str, y_title: str, codes: dict | None = None, height: int = 360
) -> go.Figure:
    """A clickable cross-table: one square per cell, its size and colour by the count, the count
    written on it. ``counts`` is a pivot (index = rows, columns = cols) with display labels;
    ``codes`` maps (row label, col label) to what a click selects (``customdata``). Plotly heatmaps
    cannot be selected, so the grid is a scatter of squares."""
    xs, ys, ns, data = [], [], [], []
    for row in counts.index:
        for col in counts.columns:
            xs.append(col)
            ys.append(row)
            ns.append(int(counts.at[row, col]))
            data.append((codes or {}).get((row, col), f"{row}|{col}"))
    top = max(ns) or 1
    fig = go.Figure(
        go.Scatter(
            x=xs, y=ys, mode="markers+text", text=[f"{n:,}" if n else "" for n in ns],
            customdata=data, textfont=dict(color="#1f2d5a"),
            marker=dict(symbol="square", size=[14 + 40 * (n / top) ** 0.5 if n else 0 for n in ns],
                        color=[n ** 0.5 for n in ns], colorscale="Blues", cmin=0,
                        cmax=top ** 0.5 * 1.3, line=dict(width=0)),
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text=x_title, type="category", categoryorder="array",
                     categoryarray=list(counts.columns), side="top")  # fmt: skip
    fig.update_yaxes(title_text=y_title, type="category", categoryorder="array",
                     categoryarray=list(counts.index)[::-1])  # fmt: skip
    return style(fig, height)


def picked(event: dict | None) -> str | None:
    """The ``customdata`` of the first point a chart selection holds, or None."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    if not points:
        return None
    data = points[0].get("customdata")
    if isinstance(data, list | tuple):
        data = data[0] if data else None
    return None if data is None else str(data)
