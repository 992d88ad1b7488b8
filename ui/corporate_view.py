"""Streamlit-side helpers of the corporate view (pages/corporate.py): the company tables of each
tab, the value matrix and the lifetime-value notes (which models were used and why), the payment
network, reading an uploaded history file, training the scorecard once per file and choice
(cached), and the scorecard's results and messages in the viewer's language."""

from __future__ import annotations

import io
import math
import numbers

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import corporate, scorecard
from analytics.access import AccessDenied
from analytics.importer import readers
from analytics.rfm import SEGMENTS
from analytics.settings import load_settings
from ui import charts, describe, formats, needs, shell
from ui.shell import Viewer

UPLOAD_TYPES = ["csv", "xlsx"]
MAX_UPLOAD_ROWS = 200_000
LABELLED = 6  # partners named on the network figure (the largest flows that have room)
LABEL_GAP = 0.45  # least distance (layout units, ring radius 1) between two named dots
LABEL_WIDTH = 24  # longest name drawn, in Latin characters (a CJK character counts two)
NET_PAD_X, NET_PAD_Y = 0.7, 0.2  # network axis padding beyond the rings, for the names
# an uploaded history's likely target column, and the likely value of its bad cases
TARGET_NAMES = ("default_flag", "default", "bad", "target", "label", "违约", "是否违约")
BAD_VALUES = ("1", "true", "bad", "yes", "违约")
TARGET_VALUES_SHOWN = 20  # distinct target values offered as the bad label


def _name_col(viewer: Viewer) -> str:
    return "name_zh" if viewer.lang == "zh" else "name_en"


def company_table(viewer: Viewer, df: pd.DataFrame, extra: dict) -> pd.DataFrame:
    """Company id, name, industry and size, then the view's own columns (label -> values)."""
    tr, lang = viewer.t, viewer.lang
    return pd.DataFrame({
        tr("corp.id"): df["corp_id"], tr("corp.name"): df[_name_col(viewer)],
        tr("corp.industry"): [describe.code("industry", i, lang) for i in df["industry"]],
        tr("corp.size"): [describe.code("size", s, lang) for s in df["size"]],
        **extra,
    })  # fmt: skip


def company_labels(viewer: Viewer, df: pd.DataFrame) -> dict[str, str]:
    """corp_id -> the company's name in the viewer's language, in the frame's order."""
    return dict(zip(df["corp_id"], df[_name_col(viewer)], strict=True))


# ---------------------------------------------------------------------------- RFM


def segment_counts(rfm: pd.DataFrame) -> pd.Series:
    """Companies per RFM segment, every segment in ``SEGMENTS`` order (0 when none)."""
    return rfm["segment"].value_counts().reindex(SEGMENTS, fill_value=0)


def segment_figure(viewer: Viewer, counts: pd.Series) -> go.Figure:
    """Bars of companies per segment, labelled with the count."""
    seg = pd.DataFrame({
        "label": [viewer.t(f"rfm.{s}") for s in SEGMENTS], "n": counts.to_numpy(),
        "text": [formats.count(n, viewer.lang) for n in counts],
    })  # fmt: skip
    return charts.hbar(seg, "n", "label", "text", height=320)


def segment_label(viewer: Viewer, segment: str | None) -> str:
    """A segment's name for the picker; None is every segment."""
    return viewer.t("corp.all_segments") if segment is None else viewer.t(f"rfm.{segment}")


def segment_rows(rfm: pd.DataFrame, segment: str | None, top_n: int) -> tuple[pd.DataFrame, int]:
    """The top ``top_n`` companies of the segment (None: all) by monetary value, and how many the
    segment has."""
    rows = rfm if segment is None else rfm[rfm["segment"] == segment]
    rows = rows.sort_values(["monetary", "corp_id"], ascending=[False, True])
    return rows.head(top_n), len(rows)


def rfm_table(viewer: Viewer, rows: pd.DataFrame) -> pd.DataFrame:
    """The RFM list: the company, its recency, frequency, monetary value, code and segment."""
    tr, lang = viewer.t, viewer.lang
    return company_table(viewer, rows, {
        tr("corp.recency"): rows["recency_days"],
        tr("corp.frequency"): [f"{f:.1f}" for f in rows["frequency"]],
        tr("corp.monetary"): [formats.money(m, lang) for m in rows["monetary"]],
        "RFM": rows["rfm_code"], tr("corp.segment"): [tr(f"rfm.{s}") for s in rows["segment"]],
    })  # fmt: skip


def picked_row(rows: pd.DataFrame, event) -> pd.Series | None:
    """The company of the row selected in the RFM list (``st.dataframe``'s selection event over
    ``rfm_table(rows)``), or None when no row is selected (or the selection is of a longer list
    shown before)."""
    picked = event.selection.rows if event is not None else []
    if not picked or picked[0] >= len(rows):
        return None
    return rows.iloc[picked[0]]


def show_company(viewer: Viewer, row: pd.Series) -> None:
    """One company opened from the RFM list (a ``corporate_rfm`` row): its name and number, its
    industry, size and RFM, its lifetime and social value where the snapshot has them, and its
    payment network. The view is audited before anything is shown."""
    tr, lang = viewer.t, viewer.lang
    corp_id, name = row["corp_id"], row[_name_col(viewer)]
    wh = shell.warehouse(viewer.snapshot_path)
    try:
        nodes, edges = corporate.neighbourhood(wh, viewer.scope, corp_id)
    except AccessDenied:
        shell.audit(viewer, "view", [corp_id], "corp_open", once=True, outcome="refused")
        st.error(tr("client.refused"))
        return
    shell.audit(viewer, "view", [corp_id], "corp_open", once=True)
    with st.container(border=True, key="corp_open"):
        st.subheader(tr("corp.open_title", name=name, id=corp_id))
        facts = [
            (tr("corp.industry"), describe.code("industry", row["industry"], lang)),
            (tr("corp.size"), describe.code("size", row["size"], lang)),
            (tr("corp.segment"), tr("rfm." + row["segment"]) + f" · {row['rfm_code']}"),
            (tr("corp.recency"), formats.count(row["recency_days"], lang)),
            (tr("corp.frequency"), f"{row['frequency']:.1f}"),
            (tr("corp.monetary"), formats.money(row["monetary"], lang)),
            *_value_facts(viewer, corp_id),
        ]
        for start in range(0, len(facts), 3):
            for col, (label, value) in zip(st.columns(3), facts[start : start + 3], strict=False):
                col.metric(label, value, border=True)
        show_network(viewer, name, nodes, edges, key="corp_open_network")


def _value_facts(viewer: Viewer, corp_id: str) -> list[tuple[str, str]]:
    """The opened company's lifetime value and quadrant, and its influence score, from the
    (cached) results of the other tabs; none of them where the snapshot lacks the data or the
    lifetime-value models could not be fitted."""
    tr, lang, out = viewer.t, viewer.lang, []
    clv = None
    if needs.has(viewer, "corp_clv"):
        try:
            clv = shell.cached(corporate.corporate_clv, viewer)
        except corporate.ClvFitError:
            clv = None
    mine = clv[clv["corp_id"] == corp_id] if clv is not None else pd.DataFrame()
    if not mine.empty:
        r = mine.iloc[0]
        out += [(tr("corp.clv"), formats.money(r["clv"], lang)),
                (tr("corp.quadrant"), tr(f"corp.q.{r['quadrant']}"))]  # fmt: skip
    social = (
        shell.cached(corporate.social_value, viewer) if needs.has(viewer, "corp_social") else None
    )
    mine = social[social["corp_id"] == corp_id] if social is not None else pd.DataFrame()
    if not mine.empty:
        out.append((tr("corp.influence"), f"{float(mine.iloc[0]['influence']):.0f}"))
    return out


# ---------------------------------------------------------------------------- lifetime value


def show_value_matrix(viewer: Viewer, matrix: pd.DataFrame) -> None:
    """The current × future value matrix (``corporate.value_matrix``) as a 2×2 grid of boxes:
    clients, money and the strategy of each quadrant."""
    tr, lang = viewer.t, viewer.lang
    matrix = matrix.set_index("quadrant")
    st.markdown(f"**{tr('corp.matrix')}**")
    for current in ("high", "low"):
        for col, future in zip(st.columns(2), ("high", "low"), strict=True):
            q = f"{current}_{future}"
            row = matrix.loc[q]
            with col.container(border=True):
                n = tr("corp.n_clients", n=formats.count(row["clients"], lang))
                st.markdown(f"**{tr(f'corp.q.{q}')}** · {n}")
                st.caption(tr("corp.q_money", now=formats.money(row["profit_12m"], lang),
                              future=formats.money(row["future_profit_discounted"], lang)))  # fmt: skip
                st.markdown(tr(f"corp.strategy.{q}"))


def branch_names(viewer: Viewer) -> dict[str, str]:
    """branch_id -> the branch's name in the viewer's language (the snapshot's branches)."""
    _, branches, _ = shell.snapshot_facts(viewer.snapshot_path)
    return dict(zip(branches["branch_id"], branches[_name_col(viewer)], strict=True))


def model_notes(
    viewer: Viewer, clv: pd.DataFrame, names: dict[str, str] | None = None
) -> list[str]:
    """One sentence per branch of a ``corporate_clv`` result with companies with settlement history
    (branch by its name from ``names``, else its id): how BG/NBD's p_alive spreads over those
    companies (the share below ``[corporate] p_alive_note_cut`` and the median), and which value model was used
    and why (``clv.attrs['models']``: Gamma-Gamma when its q > 1, else the observed values)."""
    models = clv.attrs.get("models", {})
    cut_at = float(load_settings()["corporate"]["p_alive_note_cut"])
    names = names or {}
    lang = viewer.lang
    out = []
    seen = clv[clv["p_alive"].notna()]
    for branch, g in seen.groupby("branch_id", sort=True):
        model = models.get(str(branch))
        if model is None:
            continue
        p = g["p_alive"].astype(float)
        value = viewer.t(f"corp.value_model.{model['value_model']}",
                         q=f"{float(model['gamma_gamma']['q']):.2f}")  # fmt: skip
        out.append(viewer.t(
            "corp.model_note", branch=names.get(str(branch)) or str(branch),
            n=formats.count(len(p), lang), below=formats.pct(float((p < cut_at).mean())),
            cut=formats.pct(cut_at, 0), median=formats.pct(float(p.median())), value=value,
        ))  # fmt: skip
    return out


def show_clv_notes(viewer: Viewer, clv: pd.DataFrame) -> None:
    """Under the value matrix: the companies valued by rule for want of settlements, then the
    models used in each branch."""
    st.caption(no_settlement_note(viewer, clv) or "")
    for text in model_notes(viewer, clv, branch_names(viewer)):
        st.caption(text)


def clv_table(viewer: Viewer, clv: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """The ``top_n`` companies by lifetime value: current profit, expected settlements, future
    value, CLV and quadrant."""
    tr, lang = viewer.t, viewer.lang
    top = clv.sort_values(["clv", "corp_id"], ascending=[False, True]).head(top_n)
    return company_table(viewer, top, {
        tr("corp.profit_12m"): [formats.money(v, lang) for v in top["profit_12m"]],
        tr("corp.expected_settlements"): [f"{v:.1f}" for v in top["expected_settlements"]],
        tr("corp.future_profit"): future_value_cells(viewer, top),
        tr("corp.clv"): [formats.money(v, lang) for v in top["clv"]],
        tr("corp.quadrant"): [tr(f"corp.q.{q}") for q in top["quadrant"]],
    })  # fmt: skip


# ---------------------------------------------------------------------------- social value


def social_caption(viewer: Viewer) -> str:
    """The social value's help with the settings' weights."""
    weights = load_settings()["corporate"]["social"]["weights"]
    return viewer.t("corp.social_help", **{k: formats.pct(v, 0) for k, v in weights.items()})


def social_table(viewer: Viewer, top: pd.DataFrame) -> pd.DataFrame:
    """The social value list: influence, counterparties, payroll and linked retail AUM."""
    tr = viewer.t
    return company_table(viewer, top, {
        tr("corp.influence"): [round(float(v)) for v in top["influence"]],
        tr("corp.counterparties"): top["counterparties"],
        tr("corp.payroll"): top["payroll_headcount"],
        tr("corp.linked_aum"): [formats.money(v, viewer.lang) for v in top["linked_retail_aum"]],
    })  # fmt: skip


def show_network(
    viewer: Viewer,
    name: str,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    key: str = "corp_network_fig",
) -> None:
    """One company's payment neighbourhood under its name, with the figure's legend."""
    st.markdown(f"**{viewer.t('corp.network', name=name)}**")
    st.plotly_chart(network_figure(viewer, nodes, edges), key=key)
    st.caption(viewer.t("corp.network_help"))


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


def upload_table(viewer: Viewer, upload) -> pd.DataFrame | None:
    """The uploaded file (``st.file_uploader``'s value) as a table; None when there is none, or
    with the reason shown when it cannot be read."""
    if upload is None:
        return None
    try:
        return read_upload(upload.name, upload.getvalue())
    except UploadError as e:
        st.error(viewer.t(f"credit.upload_error.{e.code}",
                          max=formats.count(MAX_UPLOAD_ROWS, viewer.lang)))  # fmt: skip
        return None


def guess_target(columns: list[str]) -> str | None:
    """The column that looks like the default flag by its name, else None."""
    return next((c for c in columns if c.lower() in TARGET_NAMES), None)


def target_values(table: pd.DataFrame, target: str) -> list:
    """The target column's values offered as the bad label (the first few distinct ones)."""
    return table[target].dropna().unique().tolist()[:TARGET_VALUES_SHOWN]


def guess_bad(values: list) -> int:
    """Position of the value that looks like a bad case ('1', 'bad', '违约', …), else 0."""
    return next((i for i, v in enumerate(values) if str(v).lower() in BAD_VALUES), 0)


def show_target_hint(viewer: Viewer, table: pd.DataFrame) -> None:
    """Before a target is chosen: the two-valued columns that could be one, or that none is."""
    two = [c for c in table.columns if table[c].dropna().nunique() == 2]
    if two:
        st.info(viewer.t("credit.choose_target", cols=", ".join(two[:8])))
    else:
        st.error(viewer.t("credit.error.no_target_column"))


def train_card(
    viewer: Viewer, table: pd.DataFrame, target: str, bad_label
) -> scorecard.Scorecard | None:
    """The trained card (``train``), or None with the input error shown in words."""
    try:
        return train(table, target, bad_label)
    except scorecard.ScorecardInputError as e:
        st.error(error_message(viewer, e))
        return None


# The demo's credit columns (``scorecard.corporate_credit_table``): each has its name in the
# string table (``credit.col.<column>``) and is shown by kind; an uploaded file's columns keep the
# names typed in the file and their values are shown by type (``value_text``).
CREDIT_COLUMNS = (
    "industry", "size", "years_in_business", "registered_capital", "employees",
    "payroll_headcount", "annual_revenue", "debt_ratio", "overdue_tax", "has_guarantor",
    "avg_daily_deposit", "loan_balance", "loan_interest_12m", "fee_income_12m",
    "max_overdue_days", "deposit_to_loan", "default_flag",
)  # fmt: skip
CREDIT_CODES = {"industry": "industry", "size": "size"}  # column -> code prefix of its labels
CREDIT_MONEY = frozenset(
    {"registered_capital", "annual_revenue", "avg_daily_deposit", "loan_balance",
     "loan_interest_12m", "fee_income_12m"}
)  # fmt: skip
CREDIT_COUNTS = frozenset({"employees", "payroll_headcount", "max_overdue_days"})
CREDIT_FLAGS = frozenset({"overdue_tax", "has_guarantor", "default_flag"})


def feature_label(viewer: Viewer, feature: str, named: bool) -> str:
    """A scorecard variable's name for the viewer: the demo's credit columns (``named``) from the
    string table, an uploaded file's columns as typed in the file; the base row in words."""
    if feature == scorecard.BASE_ROW:
        return viewer.t("credit.base")
    if named and feature in CREDIT_COLUMNS:
        return viewer.t(f"credit.col.{feature}")
    return str(feature)


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool | np.bool_)
        and math.isnan(value)
    )


def number_text(value: float) -> str:
    """A number as read in a table: whole numbers with separators (2,410,000), others with 2 to 4
    decimals (0.48, 0.0407, 7.78)."""
    v = float(value)
    if v.is_integer():
        return f"{int(v):,}"
    text = f"{v:,.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.rsplit(".", 1)[1]))


def value_text(viewer: Viewer, feature: str, value, named: bool) -> str:
    """One value of a scorecard variable for the viewer: missing as —, true/false as 是/否
    (Yes/No); for the demo's credit columns (``named``) industry and size in words, money as
    万/¥, counts whole; any other number by ``number_text``; text as typed."""
    lang = viewer.lang
    if _missing(value):
        return viewer.t("common.none")
    if isinstance(value, bool | np.bool_):
        return viewer.t("common.yes") if value else viewer.t("common.no")
    if named and feature in CREDIT_CODES:
        return describe.code(CREDIT_CODES[feature], value, lang)
    if named and feature in CREDIT_MONEY:
        return formats.money(float(value), lang)
    if named and feature in CREDIT_COUNTS:
        return formats.count(value, lang)
    if isinstance(value, numbers.Real):
        return number_text(value)
    return str(value)


def bin_text(viewer: Viewer, feature: str, label: str, named: bool, lower=None, upper=None) -> str:
    """A scorecard bin's label for the viewer: a numeric bin (its ``lower``, ``upper`` bounds,
    lower excluded) as ≤ b, (a, b] or > a with the bounds as values of the variable
    (``value_text``: money as 万/¥ for the demo's money columns); the missing and pooled bins in
    words; for the demo's credit columns (``named``) a category bin in words (制造业, 是)."""
    if label == scorecard.MISSING_BIN:
        return viewer.t("credit.bin_missing")
    if label == scorecard.OTHER_BIN:
        return viewer.t("credit.bin_other")
    if not _missing(lower) and not _missing(upper) and lower is not None:
        lo, hi = float(lower), float(upper)
        if math.isinf(lo) and math.isinf(hi):  # one bin for every value (not kept in a card)
            return "(−∞, ∞)"
        if math.isinf(lo):
            return f"≤ {value_text(viewer, feature, hi, named)}"
        if math.isinf(hi):
            return f"> {value_text(viewer, feature, lo, named)}"
        return (
            f"({value_text(viewer, feature, lo, named)}, {value_text(viewer, feature, hi, named)}]"
        )
    if named and feature in CREDIT_FLAGS and label in ("True", "False"):
        return viewer.t("common.yes") if label == "True" else viewer.t("common.no")
    if named and feature in CREDIT_CODES and label:
        return describe.code(CREDIT_CODES[feature], label, viewer.lang)
    return label


def show_card(viewer: Viewer, card: scorecard.Scorecard, named: bool = False) -> None:
    """The card: its training notes, holdout metrics, information values and points table
    (variables and bins in words for the demo's credit columns: ``named``)."""
    tr, lang = viewer.t, viewer.lang
    show_training_notes(viewer, card)
    metrics = [(tr("credit.auc"), card.auc), ("KS", card.ks), ("Gini", card.gini),
               ("PSI", card.psi), (tr("credit.train_auc"), card.train_auc)]  # fmt: skip
    for col, (label, value) in zip(st.columns(len(metrics)), metrics, strict=True):
        col.metric(label, f"{value:.3f}", border=True)
    st.caption(tr("credit.metrics_help", bad=formats.pct(card.bad_rate, 1), seed=card.seed,
                  train=formats.count(card.n_train, lang), holdout=formats.count(card.n_holdout, lang)))  # fmt: skip
    iv = card.iv
    st.markdown(f"**{tr('credit.iv')}**")
    st.dataframe(pd.DataFrame({
        tr("credit.feature"): [feature_label(viewer, f, named) for f in iv["feature"]],
        "IV": iv["iv"].round(3),
        tr("credit.kept"): [tr("common.yes") if k else tr("common.no") for k in iv["kept"]],
        tr("col.reason"): [tr(f"credit.drop.{r}") if isinstance(r, str) and r else "" for r in iv["reason"]],
    }), hide_index=True, key="credit_iv")  # fmt: skip
    with st.expander(tr("credit.table"), icon=":material/table:"):
        t = card.table
        st.dataframe(pd.DataFrame({
            tr("credit.feature"): [feature_label(viewer, f, named) for f in t["feature"]],
            tr("credit.bin"): [bin_text(viewer, f, b, named, lo, hi) for f, b, lo, hi
                               in zip(t["feature"], t["bin"], t["lower"], t["upper"], strict=True)],
            tr("credit.clients"): t["count"], tr("credit.bad_rate"): [formats.pct(v) if pd.notna(v) else "" for v in t["bad_rate"]],
            "WOE": t["woe"].round(3), tr("credit.points"): t["points"].round(1),
        }), hide_index=True, key="credit_table")  # fmt: skip


def show_grades(viewer: Viewer, card: scorecard.Scorecard, dist: pd.DataFrame) -> None:
    """Clients per final grade (``card.grade_distribution``) and the PD band of each grade."""
    st.markdown(f"**{viewer.t('credit.grades')}**")
    st.plotly_chart(grade_figure(viewer, dist), key="credit_grades")
    st.caption(grade_rule_text(viewer, card))


def client_options(viewer: Viewer, scored: pd.DataFrame, names: dict | None) -> list[str]:
    """The one-client picker's labels: 'name · id' for the bank's companies (``names``: corp_id
    -> name), 'row n' for an uploaded file's rows (``names`` None)."""
    if names is None:
        return [viewer.t("credit.row", n=i + 1) for i in range(len(scored))]
    return [f"{names.get(c, '')} · {c}" for c in scored["corp_id"]]


def show_one(
    viewer: Viewer, card: scorecard.Scorecard, one: pd.DataFrame, named: bool = False
) -> None:
    """One scored row: score, model and final grade (with the adjustment's reason), and the
    points each variable gave, with the row's value of it (``one_table``)."""
    tr, r = viewer.t, one.iloc[0]
    a, b, c = st.columns(3)
    a.metric(tr("credit.score"), f"{r['score']:.0f}", border=True)
    b.metric(tr("credit.model_grade"), r["model_grade"], border=True)
    c.metric(tr("credit.final_grade"), r["final_grade"],
             tr(f"credit.reason.{r['override_reason_code']}") if r["override"] else None,
             delta_color="off", delta_arrow="off", border=True)  # fmt: skip
    st.dataframe(one_table(viewer, card, one, named), hide_index=True, key="credit_one")


def one_table(
    viewer: Viewer, card: scorecard.Scorecard, one: pd.DataFrame, named: bool = False
) -> pd.DataFrame:
    """The points table of one scored row: the base points, then each variable of the card (in
    words for the demo's credit columns: ``named``) with the row's value (``value_text``) and
    the points it gave."""
    tr, r = viewer.t, one.iloc[0]
    pts = card.points_frame(one).iloc[0]
    return pd.DataFrame({
        tr("credit.feature"): [tr("credit.base"), *[feature_label(viewer, f, named) for f in card.features]],
        tr("credit.value"): ["", *[value_text(viewer, f, r[f] if f in one else None, named) for f in card.features]],
        tr("credit.points"): [round(card.base_points, 1), *[round(float(pts[f]), 1) for f in card.features]],
    })  # fmt: skip


def show_overrides(
    viewer: Viewer, rules: list[dict], scored: pd.DataFrame, named: bool = False
) -> pd.DataFrame:
    """The grade adjustments after the model (``scorecard.override_rules``; a rule whose column
    the table lacks says so; the column in words for the demo's credit columns: ``named``), how
    many rows they changed and which; returns those rows."""
    tr = viewer.t
    st.markdown(f"**{tr('credit.overrides')}**")
    for rule in rules:
        absent = "" if rule["column"] in scored.columns else f" ({tr('credit.rule_absent')})"
        column = feature_label(viewer, rule["column"], named)
        st.markdown("- " + tr(f"credit.rule_{rule['action']}", column=column,
                              grade=rule.get("grade", ""), notches=rule.get("notches", 1),
                              worst=rule.get("from_grade", "C")) + absent)  # fmt: skip
    changed = scored[scored["override"].notna()]
    st.caption(tr("credit.overrides_count", n=formats.count(len(changed), viewer.lang)))
    if not changed.empty:
        st.dataframe(pd.DataFrame({
            tr("corp.id"): changed["corp_id"] if "corp_id" in changed else changed.index + 1,
            tr("credit.score"): changed["score"].round(0),
            tr("credit.model_grade"): changed["model_grade"],
            tr("credit.final_grade"): changed["final_grade"],
            tr("col.reason"): [tr(f"credit.reason.{x}") for x in changed["override_reason_code"]],
        }), hide_index=True, key="credit_changed")  # fmt: skip
    return changed


def show_grade_log(viewer: Viewer, log: pd.DataFrame) -> None:
    """The recorded grade decisions (``scorecard.recorded_grades``); nothing when there are none."""
    if log.empty:
        return
    tr = viewer.t
    st.markdown(f"**{tr('credit.log')}**")
    st.dataframe(pd.DataFrame({
        tr("corp.id"): log["corp_id"], tr("credit.model_grade"): log["model_grade"],
        tr("credit.final_grade"): log["final_grade"],
        tr("col.reason"): [tr(f"credit.reason.{x}") if rule != "manual" else x
                           for x, rule in zip(log["reason"], log["rule"], strict=True)],
        tr("credit.decided_by"): log["decided_by"],
        tr("col.date"): [str(d)[:16] for d in log["decided_at"]],
    }), hide_index=True, key="credit_log")  # fmt: skip


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
            cliponaxis=False,  # the top grade's count sits above its bar; style leaves it room
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
    # names on the chosen company and its largest partners that have room; every dot names
    # itself on hover
    shown = _labelled(nodes, amount)
    fig.add_trace(
        go.Scatter(
            x=nodes["x"], y=nodes["y"], mode="markers+text",
            text=[_short(lab) if i in shown else "" for i, lab in enumerate(label)],
            textposition=[_outward(x, y) for x, y in zip(nodes["x"], nodes["y"], strict=True)],
            textfont=dict(size=12), marker=dict(size=size, color=colour),
            customdata=np.column_stack([label, [formats.money(a, viewer.lang) for a in amount]]),
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            cliponaxis=False,
        )
    )  # fmt: skip
    # the radial layout spans -1..1; the padding holds a label drawn beside an outer dot
    fig.update_xaxes(visible=False, range=[-1 - NET_PAD_X, 1 + NET_PAD_X])
    fig.update_yaxes(visible=False, range=[-1 - NET_PAD_Y, 1 + NET_PAD_Y])
    fig.update_layout(showlegend=False)
    return charts.style(fig, 560)


def _labelled(nodes: pd.DataFrame, amount: np.ndarray) -> set[int]:
    """Rows of the network figure that carry their name: the largest partners in turn, each only
    when it lies ``LABEL_GAP`` or more from every partner already named (the largest partners sit
    side by side on the layout, their names would overlap), ``LABELLED`` in all. The centre is
    named in the heading over the figure (``show_network``), not on its dot among the lines."""
    centre = set(np.flatnonzero(nodes["is_center"].to_numpy()))
    xy = nodes[["x", "y"]].to_numpy(dtype=float)
    named: list[int] = []
    for i in np.argsort(-amount, kind="stable"):
        if len(named) >= LABELLED:
            break
        if i in centre:
            continue
        if all(np.hypot(*(xy[i] - xy[j])) >= LABEL_GAP for j in named):
            named.append(int(i))
    return set(named)


def _outward(x: float, y: float) -> str:
    """Where a dot's name goes, away from the centre: beside a dot on the left or right side,
    above or under one near the vertical through the centre."""
    if x > 0.35:
        return "middle right"
    if x < -0.35:
        return "middle left"
    return "top center" if y >= 0 else "bottom center"


def _short(text: str) -> str:
    """A name cut to ``LABEL_WIDTH`` (a CJK character counts two) with an ellipsis, so that it
    stays on the figure; the hover shows it whole."""
    out, width = "", 0
    for ch in text:
        width += 2 if ord(ch) > 0x2E7F else 1
        if width > LABEL_WIDTH:
            return out.rstrip() + "…"
        out += ch
    return out


# [scorecard] trained_on -> the caption saying whose companies the built-in scorecard learns from
_TRAINED_ON_NOTE = {"bank": "credit.demo_note.bank", "branches": "credit.demo_note.branches"}


def training_note(viewer: Viewer, table: pd.DataFrame) -> str:
    """The caption over the built-in scorecard: how many companies it learns from and whose
    ([scorecard] trained_on, analytics.scorecard.credit_training_table)."""
    rule = str(load_settings()["scorecard"].get("trained_on", "bank"))
    return viewer.t(_TRAINED_ON_NOTE[rule], n=formats.count(len(table), viewer.lang))
