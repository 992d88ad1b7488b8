"""Plotly figures shared by the views: one look (fonts, tier colours, margins) everywhere.

Readable on a projector at 1280×720 (issue 14): no text under ``MIN_FONT`` px in any figure
``style`` finishes (labels that cannot be drawn that large inside a bar are hidden, their value
stays on hover), axes make room for their labels, and bar labels drawn outside a bar get room
beyond the longest bar instead of being clipped. Time axes go through ``month_axis``: a month-end is
plotted as its month, one category per month."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from analytics import tiers
from ui import formats

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
BASE_FONT = 13  # px, the figure's own text (ticks, legend, bar labels before any fitting)
MIN_FONT = 10  # px, the smallest text any chart may draw
# Share of a bar chart's value range left free beyond its longest bar, so a label drawn outside
# the bar fits on the plot: horizontal bars carry longer labels than vertical ones.
ROOM_H, ROOM_V = 0.3, 0.15


def style(fig: go.Figure, height: int = 360) -> go.Figure:
    """The house layout: CJK-capable font, tight margins that grow with the axis labels, legend on
    top, no text under ``MIN_FONT`` px, bar labels that fit or hide (``uniformtext``)."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=20, t=36, b=10),
        font=dict(family=FONT, size=BASE_FONT),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hoverlabel=dict(font=dict(family=FONT, size=BASE_FONT)),
        uniformtext=dict(minsize=MIN_FONT, mode="hide"),
        colorway=["#3c78b4", "#9ecae1", "#f2b134", "#1f2d5a", "#8c96a8", "#c6dbef"],
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    _room_for_bar_text(fig)
    _floor_fonts(fig)
    return fig


def _axis_key(ref: str | None, letter: str) -> str:
    """A trace's axis reference ('x', 'x2') as its layout key ('xaxis', 'xaxis2')."""
    ref = ref or letter
    return f"{letter}axis{ref[1:]}"


def _room_for_bar_text(fig: go.Figure) -> None:
    """Bars with a label that may sit outside them (textposition auto/outside) draw it unclipped,
    and their value axis, where the figure did not set its range, reaches ``ROOM_H``/``ROOM_V``
    of the value range beyond the longest bar on each side the bars go (the BZ bar's negative
    share, the top grade's count)."""
    if fig.layout.barmode in ("stack", "relative"):
        return  # stacked labels sit inside the stack
    extent: dict[str, tuple[float, float, float]] = {}
    for trace in fig.data:
        if trace.type != "bar" or trace.text is None:
            continue
        if trace.textposition not in (None, "auto", "outside"):
            continue
        trace.cliponaxis = False
        horizontal = trace.orientation == "h"
        values = pd.to_numeric(pd.Series(list(trace.x if horizontal else trace.y)), errors="coerce")
        if values.notna().sum() == 0:
            continue
        key = _axis_key(trace.xaxis if horizontal else trace.yaxis, "x" if horizontal else "y")
        lo, hi, _ = extent.get(key, (0.0, 0.0, 0.0))
        extent[key] = (
            min(lo, values.min()),
            max(hi, values.max()),
            ROOM_H if horizontal else ROOM_V,
        )
    for key, (lo, hi, room) in extent.items():
        axis = fig.layout[key]
        if axis.range is not None or axis.type in ("category", "date", "log") or hi - lo <= 0:
            continue
        span = hi - lo
        axis.range = [lo - room * span if lo < 0 else 0, hi + room * span if hi > 0 else 0]


def _floor(font) -> None:
    """Raise a font object's size (a number or one per point) to ``MIN_FONT``."""
    if font is None or font.size is None:
        return
    if isinstance(font.size, int | float):
        if font.size < MIN_FONT:
            font.size = MIN_FONT
    else:
        font.size = [s if s is None or s >= MIN_FONT else MIN_FONT for s in font.size]


def _floor_fonts(fig: go.Figure) -> None:
    """No text under ``MIN_FONT`` px: trace labels, annotations (subplot and facet titles, line
    notes), axis ticks and titles, legend."""
    for trace in fig.data:
        for attr in ("textfont", "insidetextfont", "outsidetextfont"):
            if attr in trace:
                _floor(trace[attr])
    for note in fig.layout.annotations:
        _floor(note.font)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        _floor(axis.tickfont)
        _floor(axis.title.font)
    _floor(fig.layout.legend.font)
    _floor(fig.layout.hoverlabel.font)


def font_sizes(fig: go.Figure) -> list[float]:
    """Every font size a figure sets (layout and traces), for checks: all must be >= MIN_FONT."""
    sizes: list[float] = []

    def walk(node, in_font: bool) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                fontish = k == "font" or k.endswith("font")
                if in_font and k == "size":
                    sizes.extend(v if isinstance(v, list | tuple) else [v])
                else:
                    walk(v, fontish)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v, in_font)

    walk(fig.to_plotly_json(), False)
    return [s for s in sizes if isinstance(s, int | float)]


# ------------------------------------------------------------------------------ time axes


def month_of(value) -> date:
    """The first of the month a date (a month-end, any day, a Timestamp or ISO text) falls in."""
    ts = pd.Timestamp(value)
    return date(ts.year, ts.month, 1)


def month_label(value, lang: str) -> str:
    """The axis label of the month a date falls in: ``formats.month`` (zh ``2026年10月``, en
    ``Oct 2026``); 2026-10-31 is labelled as October."""
    return formats.month(month_of(value), lang)


def month_labels(first, last, lang: str) -> list[str]:
    """One label per month from the month of ``first`` to the month of ``last``, each once."""
    start, end = month_of(first), month_of(last)
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(formats.month(date(y, m, 1), lang))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


_HOVER_X = re.compile(r"%\{x\|[^}]*\}")


def month_axis(fig: go.Figure, lang: str) -> go.Figure:
    """Make a time chart's x axis show months as months, for one month or many: every trace's x
    (month-end dates) becomes its month's label (``month_label``), and every x axis of the figure
    (facets too) is a category axis holding each month from the first to the last exactly once,
    in order (a month with no data keeps its place), so the point of month-end 2026-10-31 sits on
    the label of October 2026 and a one-month series is one dot over one label. Call it once, after
    the traces are added; hover templates read the label as ``%{x}``."""
    seen = [
        v for t in fig.data if t.x is not None for v in t.x if v is not None and not pd.isna(v)
    ]  # fmt: skip
    if not seen:
        return fig
    stamps = [pd.Timestamp(v) for v in seen]
    labels = month_labels(min(stamps), max(stamps), lang)
    for trace in fig.data:
        if trace.x is None:
            continue
        trace.x = [None if v is None or pd.isna(v) else month_label(v, lang) for v in trace.x]
        if trace.hovertemplate and isinstance(trace.hovertemplate, str):
            trace.hovertemplate = _HOVER_X.sub("%{x}", trace.hovertemplate)
    fig.update_xaxes(
        type="category", categoryorder="array", categoryarray=labels,
        range=[-0.5, len(labels) - 0.5], autorange=False,
    )  # fmt: skip
    return fig


def tier_trend(trend: pd.DataFrame, lang: str, clients_title: str) -> go.Figure:
    """Clients per held tier over the months, one small panel per tier (three a row, each on its
    own scale, lowest tier first), months on ``month_axis``. ``trend``: month_end, tier (code),
    rank, label (the tier's display name), clients."""
    order = list(trend.sort_values("rank").drop_duplicates("tier")["label"])
    fig = px.line(
        trend, x="month_end", y="clients", facet_col="label", facet_col_wrap=3, markers=True,
        color="tier", color_discrete_map=tier_colour_map(), category_orders={"label": order},
        labels={"month_end": "", "clients": clients_title, "label": ""},
    )  # fmt: skip
    for trace in fig.data:
        trace.hovertemplate = "%{x}: %{y:,}<extra></extra>"
    fig.update_yaxes(matches=None, showticklabels=True, rangemode="tozero")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_layout(showlegend=False)
    month_axis(fig, lang)
    fig.update_xaxes(title_text="")
    rows = -(-len(order) // 3)
    return style(fig, 210 * max(rows, 1))


def aum_trend(
    trend: pd.DataFrame, lines: list[tuple[str, float, str]], lang: str, height: int = 320
) -> go.Figure:
    """One client's AUM per month-end (``trend``: month_end, aum in yuan) on ``month_axis``, with the
    tier lines near it dashed (``lines``: label, yuan, colour; only those within half to 1.25 times
    the client's range are drawn) and a y range from 0 that holds the points and the lines."""
    unit, unit_label = formats.money_axis(lang)
    values = trend["aum"] / unit
    fig = go.Figure(
        go.Scatter(x=trend["month_end"], y=values, mode="lines+markers", line_color="#3c78b4",
                   customdata=[formats.money(v, lang) for v in trend["aum"]],
                   hovertemplate="%{x}: %{customdata}<extra></extra>")
    )  # fmt: skip
    top = float(values.max()) if len(values) else 0.0
    if len(trend):
        low, high = trend["aum"].min() * 0.5, trend["aum"].max() * 1.25
        for label, line, colour in lines:
            if low <= line <= high and line > 0:  # only the lines near the client's AUM
                fig.add_hline(y=line / unit, line_dash="dash", line_color=colour,
                              annotation_text=label, annotation_position="top left")  # fmt: skip
                top = max(top, line / unit)
    month_axis(fig, lang)
    # ticks in significant digits: a ¥3,000 client on a ¥ m axis reads 0.001, 0.002, not 0, 0
    fig.update_yaxes(range=[0, top * 1.15 if top > 0 else 1], title_text=unit_label,
                     tickformat=",~r")  # fmt: skip
    fig.update_layout(showlegend=False)
    return style(fig, height)


# ------------------------------------------------------------------------------ other charts


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
