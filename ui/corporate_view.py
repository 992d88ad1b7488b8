"""Streamlit-side helpers of the corporate view: reading an uploaded history file, training the
scorecard once per file and choice (cached), the scorecard's messages in the viewer's language, and
the payment-network figure."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import scorecard
from analytics.importer import readers
from analytics.settings import load_settings
from ui import charts, formats
from ui.shell import Viewer

UPLOAD_TYPES = ["csv", "xlsx"]
MAX_UPLOAD_ROWS = 200_000
LABELLED = 8  # names drawn on the network figure (the largest flows)


class UploadError(ValueError):
    """A file that cannot be read as a table; ``code`` names why for the message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def read_upload(name: str, data: bytes) -> pd.DataFrame:
    """The uploaded CSV (UTF-8, with or without BOM, or GB18030 as saved by Chinese Excel) or
    XLSX (first sheet) as a frame. Raises ``UploadError`` for an unreadable or empty file."""
    try:
        if name.lower().endswith(".xlsx"):
            # size, zip bomb and cell grid first: a small file must not cost minutes to parse
            readers.check_xlsx(data)
            df = pd.read_excel(io.BytesIO(data), engine="calamine", nrows=MAX_UPLOAD_ROWS + 1)
        else:
            try:
                df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
            except UnicodeDecodeError:
                df = pd.read_csv(io.BytesIO(data), encoding="gb18030")
    except readers.ImportRefused as e:
        code = "too_large" if e.code in ("too_large", "zip_bomb", "xlsx_grid") else "unreadable"
        raise UploadError(code) from e
    except Exception as e:  # any parser failure is the same message to the user
        raise UploadError("unreadable") from e
    if df.empty or df.shape[1] < 2:
        raise UploadError("empty")
    if len(df) > MAX_UPLOAD_ROWS:
        raise UploadError("too_large")
    df.columns = [str(c).strip() for c in df.columns]
    return df


@st.cache_data(max_entries=8, show_spinner=False)
def train(df: pd.DataFrame, target: str, bad_label) -> scorecard.Scorecard:
    """``scorecard.train_scorecard`` with the settings' seed, cached per table and choice."""
    return scorecard.train_scorecard(df, target, bad_label=bad_label)


def error_message(viewer: Viewer, err: scorecard.ScorecardInputError) -> str:
    """The scorecard's input error in the viewer's language, with its numbers."""
    f = dict(err.fields)
    if "values" in f:
        f["values"] = ", ".join(str(v) for v in list(f["values"])[:8])
    if "dropped" in f:
        f["dropped"] = dropped_text(viewer, f["dropped"])
    return viewer.t(f"credit.error.{err.code}", **f)


def dropped_text(viewer: Viewer, dropped: dict) -> str:
    """'column (reason); ...' for the columns the scorecard left out."""
    return "; ".join(f"{col} ({viewer.t(f'credit.drop.{why}')})" for col, why in dropped.items())


def population_note(viewer: Viewer, card: scorecard.Scorecard) -> str:
    """Which rows the card trained on and how many were left out, by its population rule."""
    p, n = card.population, formats.count
    return viewer.t(
        f"credit.population.{p['rule']}",
        rows=n(p["rows"], viewer.lang),
        excluded=n(p["excluded"], viewer.lang),
        bad=n(p["excluded_bad"], viewer.lang),
        used=n(p["rows"] - p["excluded"], viewer.lang),
        columns=", ".join(load_settings()["scorecard"]["borrower_columns"]),
    )


def column_notes(viewer: Viewer, card: scorecard.Scorecard) -> list[tuple[str, str]]:
    """(kind, text) messages on the columns the card did not use: row identifiers as a caption,
    unusable columns as an info box; none when there is nothing to say."""
    out = []
    if card.identifiers:
        out.append(("caption", viewer.t("credit.identifiers", cols=", ".join(card.identifiers))))
    if card.unusable:
        out.append(("info", viewer.t("credit.unusable", cols=dropped_text(viewer, card.unusable))))
    return out


def show_training_notes(viewer: Viewer, card: scorecard.Scorecard) -> None:
    """Under the card's source: its training population, its row identifiers and the columns it
    could not use."""
    st.caption(population_note(viewer, card))
    for kind, text in column_notes(viewer, card):
        (st.info if kind == "info" else st.caption)(text)


def grade_rule_text(viewer: Viewer, card: scorecard.Scorecard) -> str:
    """The PD band of each grade, e.g. 'AAA ≤ 0.25%, AA ≤ 0.50%, …'."""
    bands = ", ".join(f"{g} ≤ {formats.pct(v, 2)}" for g, v in card.grade_pd.items())
    return viewer.t("credit.grade_rule", bands=bands)


def no_settlement_note(viewer: Viewer, clv: pd.DataFrame) -> str | None:
    """How many companies got a future value of 0 for want of settlement history, and the rule;
    None when there are none."""
    n = int((clv["future_value_code"] == "no_settlement").sum())
    if not n:
        return None
    months = int(load_settings()["corporate"]["history_months"])
    return viewer.t("corp.no_settlement_note", n=formats.count(n, viewer.lang), months=months)


def future_value_cells(viewer: Viewer, clv: pd.DataFrame) -> list[str]:
    """The future value column of a CLV table: the amount, or the translated code where the value
    is set by rule (no settlement history) rather than modelled."""
    return [
        formats.money(v, viewer.lang)
        if code == "modelled"
        else viewer.t(f"corp.future_code.{code}")
        for v, code in zip(clv["future_profit_discounted"], clv["future_value_code"], strict=True)
    ]


def grade_figure(viewer: Viewer, dist: pd.DataFrame) -> go.Figure:
    """Clients per grade (bars) and, when the table had a target, the observed bad rate (line)."""
    fig = go.Figure(
        go.Bar(
            x=dist["grade"], y=dist["clients"], name=viewer.t("credit.clients"),
            marker_color="#3b7dd8", text=dist["clients"], textposition="outside",
        )
    )  # fmt: skip
    if "bad_rate" in dist:
        fig.add_trace(
            go.Scatter(
                x=dist["grade"], y=dist["bad_rate"], name=viewer.t("credit.bad_rate"),
                yaxis="y2", mode="lines+markers", line_color="#d1495b",
            )
        )  # fmt: skip
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", tickformat=".0%",
                                      rangemode="tozero", showgrid=False))  # fmt: skip
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=1.12))
    return charts.style(fig, 320)


def network_figure(viewer: Viewer, nodes: pd.DataFrame, edges: pd.DataFrame) -> go.Figure:
    """One client's payment neighbourhood: lines for flows, dots sized by amount; counterparties
    outside the viewer's scope are shown by industry only."""
    name = "name_zh" if viewer.lang == "zh" else "name_en"
    pos = nodes.set_index("corp_id")[["x", "y"]]
    centre = nodes.loc[nodes["is_center"], "corp_id"].iloc[0]
    fig = go.Figure()
    # flows with the chosen company drawn firmly, flows among its partners faintly behind them
    for own, colour, width in ((False, "#e6e9ee", 0.6), (True, "#8a94a6", 1.4)):
        xs, ys = [], []
        for payer, payee in zip(edges["payer_id"], edges["payee_id"], strict=True):
            if (centre in (payer, payee)) == own and payer in pos.index and payee in pos.index:
                xs += [pos.at[payer, "x"], pos.at[payee, "x"], None]
                ys += [pos.at[payer, "y"], pos.at[payee, "y"], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                                 line=dict(color=colour, width=width)))  # fmt: skip
    label = [
        n if isinstance(n, str) and n else viewer.t("corp.outside", industry=viewer.t(f"industry.{i}"))
        for n, i in zip(nodes[name], nodes["industry"], strict=True)
    ]  # fmt: skip
    amount = nodes["amount"].fillna(0).to_numpy(dtype=float)
    size = 8 + 30 * np.sqrt(amount / amount.max()) if amount.max() > 0 else np.full(len(nodes), 10)
    colour = np.where(
        nodes["is_center"], "#d1495b", np.where(nodes["in_scope"], "#3b7dd8", "#9aa3ad")
    )
    # names on the chosen company and its largest partners only; every dot names itself on hover
    shown = set(np.argsort(-amount)[:LABELLED]) | set(np.flatnonzero(nodes["is_center"].to_numpy()))
    fig.add_trace(
        go.Scatter(
            x=nodes["x"], y=nodes["y"], mode="markers+text",
            text=[lab if i in shown else "" for i, lab in enumerate(label)],
            textposition="top center", textfont=dict(size=11), marker=dict(size=size, color=colour),
            customdata=np.column_stack([label, [formats.money(a, viewer.lang) for a in amount]]),
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(showlegend=False)
    return charts.style(fig, 560)
