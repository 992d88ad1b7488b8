"""Charts readable on a projector (issue 14 point 2): time axes show months as months, one label
per month for one to many months, and no chart draws text under 10 px."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import corporate, tiers
from analytics.access import Scope
from ui import charts, cohort_view, corporate_view
from ui.shell import Viewer

ZH_13 = [
    "2025年10月", "2025年11月", "2025年12月", "2026年1月", "2026年2月", "2026年3月", "2026年4月",
    "2026年5月", "2026年6月", "2026年7月", "2026年8月", "2026年9月", "2026年10月",
]  # fmt: skip
EN_13 = [
    "Oct 2025", "Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026",
    "May 2026", "Jun 2026", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026",
]  # fmt: skip
EXPECTED = {"zh": ZH_13, "en": EN_13}
OCT_2026 = {"zh": "2026年10月", "en": "Oct 2026"}


def month_ends(n: int) -> list[pd.Timestamp]:
    """The last ``n`` month-ends up to 2026-10-31, as the warehouse returns them (datetime64)."""
    return list(pd.date_range(end="2026-10-31", periods=n, freq="ME"))


def viewer(lang: str) -> Viewer:
    day = date(2026, 10, 31)
    return Viewer(Scope("head_office"), lang, True, "", day, "demo", day)


def client_figure(ends, lang):
    trend = pd.DataFrame(
        {"month_end": ends, "aum": [180_000.0 + 10_000 * i for i in range(len(ends))]}
    )
    lines = [("Gold", 200_000.0, "#f2b134")]
    return charts.aum_trend(trend, lines, lang)


def cohort_figure(ends, lang):
    df = pd.DataFrame({"month_end": ends, "cohort": [1e6] * len(ends), "rest": [2e6] * len(ends)})
    return cohort_view.trend_figure(viewer(lang), df)


def overview_figure(ends, lang):
    rows = [
        {"month_end": m, "tier": code, "rank": rank, "label": code, "clients": 10 + rank}
        for m in ends
        for rank, code in enumerate(tiers.tier_names())
    ]
    return charts.tier_trend(pd.DataFrame(rows), lang, "clients")


BUILDERS = {"client": client_figure, "cohort": cohort_figure, "overview": overview_figure}


def x_axes(fig: go.Figure) -> list:
    return list(fig.select_xaxes())


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("n", [1, 2, 13])
@pytest.mark.parametrize("view", list(BUILDERS))
def test_time_axes_show_each_month_once_and_a_month_end_at_its_month(view, n, lang):
    fig = BUILDERS[view](month_ends(n), lang)
    expected = EXPECTED[lang][-n:]
    assert len(set(expected)) == n  # the known answer itself names each month once
    for axis in x_axes(fig):  # every panel of the overview's facets too
        assert axis.type == "category"
        assert list(axis.categoryarray) == expected  # the tick labels, in order, each once
        assert list(axis.range) == [-0.5, n - 0.5]  # one month is one label, not four
    for trace in fig.data:  # every point sits on its month's label, the last on October 2026
        assert list(trace.x) == expected
        assert trace.x[-1] == OCT_2026[lang]
        assert list(x_axes(fig)[0].categoryarray).index(trace.x[-1]) == n - 1
        assert "%{x|" not in (trace.hovertemplate or "")  # hover shows the label as it is


def test_month_axis_one_label_per_month_from_first_to_last():
    """A month-end, any day of the month or text is plotted as its month; a month without data
    keeps its place on the axis."""
    fig = go.Figure(go.Scatter(x=[date(2026, 8, 31), "2026-10-31", pd.Timestamp("2026-11-15")],
                               y=[1, 2, 3]))  # fmt: skip
    charts.month_axis(fig, "zh")
    assert list(fig.data[0].x) == ["2026年8月", "2026年10月", "2026年11月"]
    assert list(fig.layout.xaxis.categoryarray) == [
        "2026年8月",
        "2026年9月",
        "2026年10月",
        "2026年11月",
    ]
    assert charts.month_label(date(2026, 10, 31), "en") == "Oct 2026"
    assert charts.month_label(date(2026, 10, 1), "en") == "Oct 2026"
    assert charts.month_labels(date(2025, 12, 31), date(2026, 1, 31), "en") == [
        "Dec 2025",
        "Jan 2026",
    ]


def test_client_trend_keeps_a_single_month_inside_the_plot():
    fig = client_figure(month_ends(1), "zh")  # 18万, the gold line at 20万 is drawn too
    low, high = fig.layout.yaxis.range
    assert low == 0 and high == pytest.approx(20 * 1.15)
    assert [s.y0 for s in fig.layout.shapes] == [20.0]


# ------------------------------------------------------------------------ fonts and bar labels


def cohort_compare(lang):
    df = pd.DataFrame({"band": ["50-59", "60-69", "70+"], "cohort": [0.5, 0.3, 0.2],
                       "rest": [0.02, 0.01, 0.005]})  # fmt: skip
    return cohort_view.compare_figure(viewer(lang), df, "band", str)


def value_shares(lang):
    """The segmentation's value-tier shares: the BZ tier's contribution share is negative."""
    fig = go.Figure()
    for name, shares in (
        ("clients", [0.2, 0.3, 0.4, 0.1]),
        ("contribution", [0.7, 0.25, 0.1, -0.05]),
    ):
        fig.add_bar(name=name, y=["MVC", "MGC", "LVC", "BZ"], x=shares, orientation="h",
                    text=[f"{s:.0%}" for s in shares], textposition="auto")  # fmt: skip
    return charts.style(fig, 330)


def grades(lang):
    dist = pd.DataFrame({"grade": ["AAA", "AA", "A", "BBB"], "clients": [40, 120, 300, 80],
                         "bad_rate": [0.0, 0.01, 0.03, 0.08]})  # fmt: skip
    return corporate_view.grade_figure(viewer(lang), dist)


def network(lang, n=30):
    ids = ["E0"] + [f"E{i}" for i in range(1, n + 1)]
    pos = corporate._layout(ids)
    return pd.DataFrame({
        "corp_id": ids,
        "name_zh": ["中心企业"] + [f"合作企业{i}号精密机械制造有限公司" for i in range(1, n + 1)],
        "name_en": ["Centre Co."] + [f"Partner {i} Precision Machinery Co., Ltd." for i in range(1, n + 1)],
        "industry": ["manufacturing"] * (n + 1),
        "in_scope": [True] * (n + 1),
        "is_center": [True] + [False] * n,
        "amount": [float(n * 100)] + [float(100 - i) for i in range(1, n + 1)],
        "x": [float(pos[i][0]) for i in ids],
        "y": [float(pos[i][1]) for i in ids],
    })  # fmt: skip


def network_figure(lang):
    return corporate_view.network_figure(viewer(lang), network(lang), pd.DataFrame(
        {"payer_id": ["E1"], "payee_id": ["E0"], "amount": [1.0], "count": [1]}))  # fmt: skip


FIGURES = {
    "cohort_compare": cohort_compare,
    "value_shares": value_shares,
    "grades": grades,
    "network": network_figure,
    "hbar": lambda lang: charts.hbar(
        pd.DataFrame({"v": [5, 1], "k": ["a", "b"], "t": ["5 (83%)", "1 (17%)"]}), "v", "k", "t"
    ),
    **{f"trend_{k}": (lambda lang, b=b: b(month_ends(13), lang)) for k, b in BUILDERS.items()},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(FIGURES))
def test_no_text_under_10px(name, lang):
    fig = FIGURES[name](lang)
    sizes = charts.font_sizes(fig)
    assert sizes and min(sizes) >= 10, sizes
    assert fig.layout.font.size >= 10
    labelled = [t for t in fig.data if t.type == "bar" and t.text is not None]
    if labelled:  # a bar label that does not fit at 10 px is hidden, never shrunk below it
        assert fig.layout.uniformtext.minsize >= 10
        assert fig.layout.uniformtext.mode == "hide"


def test_style_raises_small_fonts_to_the_floor():
    fig = go.Figure(go.Scatter(x=[1], y=[1], mode="text", text=["a"], textfont=dict(size=6)))
    fig.add_annotation(text="note", font=dict(size=8), x=1, y=1)
    fig.update_xaxes(tickfont=dict(size=7))
    charts.style(fig)
    assert fig.data[0].textfont.size == 10
    assert fig.layout.annotations[0].font.size == 10
    assert fig.layout.xaxis.tickfont.size == 10


def test_grouped_bar_rows_are_tall_enough_for_their_labels():
    fig = cohort_compare("en")
    assert fig.layout.height >= 90 + cohort_view.ROW_PX * 3
    assert all(t.textfont.size == cohort_view.BAR_FONT for t in fig.data)
    assert all(t.textposition == "outside" and t.cliponaxis is False for t in fig.data)
    assert list(fig.layout.xaxis.range) == [0, pytest.approx(0.5 * 1.3)]  # room after 50%


def test_bar_labels_outside_the_bars_have_room_and_are_not_clipped():
    shares = value_shares("zh")  # the BZ bar goes left of 0: the axis reaches past it
    low, high = shares.layout.xaxis.range
    assert low == pytest.approx(-0.05 - 0.3 * 0.75) and high == pytest.approx(0.7 + 0.3 * 0.75)
    assert all(t.cliponaxis is False for t in shares.data)
    g = grades("zh")  # the top grade's count above its bar fits under the plot's top
    assert list(g.layout.yaxis.range) == [0, pytest.approx(300 * 1.15)]
    assert g.data[0].cliponaxis is False


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_network_names_few_spread_and_placed_away_from_the_centre(lang):
    """30 partners, largest first clockwise from the top on rings 1 and 0.72, 12° apart: the
    largest is named, then every third (the two between lie within 0.45 of a named one), six in
    all; the centre is named in the heading, not among its lines."""
    nodes = network(lang)
    dots = network_figure(lang).data[-1]
    named = [i for i, t in enumerate(dots.text) if t]
    assert named == [1, 4, 7, 10, 13, 16] and len(named) == corporate_view.LABELLED
    for a in named:  # no two named partners side by side
        for b in named:
            if a < b:
                d = ((nodes.x[a] - nodes.x[b]) ** 2 + (nodes.y[a] - nodes.y[b]) ** 2) ** 0.5
                assert d >= corporate_view.LABEL_GAP
    # the top and bottom partners named above and under their dot, those on the right beside it
    assert [dots.textposition[i] for i in named] == (
        ["top center"] + ["middle right"] * 4 + ["bottom center"]
    )
    assert corporate_view._outward(-0.9, 0.3) == "middle left"
    assert all(t.endswith("…") or len(t) <= corporate_view.LABEL_WIDTH for t in dots.text)
    assert (
        dots.text[1] == {"zh": "合作企业1号精密机械制造…", "en": "Partner 1 Precision Mach…"}[lang]
    )
    fig = network_figure(lang)  # room beyond the rings for the names
    assert list(fig.layout.xaxis.range) == [-1.7, 1.7] and list(fig.layout.yaxis.range) == [
        -1.2,
        1.2,
    ]
