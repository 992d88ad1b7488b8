"""The Rules view's tables (规则设置, issue 14 point 3): settings.toml as one readable table per
top-level section, in the viewer's language, with the raw file behind an expander.

A row is one value of the file (``analytics.rules_doc``): its name, its value formatted for the
language (money in 万/元 or ¥, shares as percentages, lists joined, codes by their labels: a tier
by its tier name) and a one-line explanation. Names and explanations come from the string table
(``rulename.<doc key>``, ``rules.<doc key>``), never from the file's comments. A value the table
does not name (a bank's own key) shows its key and no explanation; ``missing_explanations`` lists
them (tests/test_rules_view.py pins the list).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

import analytics.settings
from analytics.rules_doc import Setting, settings_doc
from ui import formats
from ui.i18n import TABLES, t, tier_label
from ui.shell import Viewer

# Where a code kind's labels live in the string table (``<prefix>.<code>``). A kind not listed
# has its labels under ``rulesview.v.<kind>``; "raw" codes (C1, R3, AAA) show as written.
LABEL_PREFIX = {
    "category": "cat",
    "trigger": "reason",
    "finding": "fname",
    "severity": "sev",
    "pocket": "al.pocket",
    "tag": "tag",
    "gender": "gender",
    "marital": "marital",
    "occupation": "occupation",
    "txn": "txn",
    "channel": "channel",
    "topic": "topic",
    "outcome": "outcome",
    "industry": "industry",
    "size": "size",
    "credit_reason": "credit.reason",
}

# Value kinds shown as a number with a unit (``rulesview.unit.<kind>``; ``unit1`` for one).
UNITS = (
    "days",
    "months",
    "years",
    "age",
    "minutes",
    "hours",
    "mb",
    "kib",
    "chars",
    "times",
    "ratio",
)

COLUMNS = ("rulesview.col_name", "rulesview.col_value", "rulesview.col_about", "rulesview.col_key")


@dataclass(frozen=True)
class Block:
    """One top-level section: its code, its title and its table (columns ``COLUMNS``)."""

    section: str
    title: str
    table: pd.DataFrame


def section_title(section: str, lang: str) -> str:
    """The section's title (``rulesection.<section>``), else its code."""
    return TABLES[lang].get(f"rulesection.{section}", section)


def code_label(kind: str, code: str, lang: str) -> str:
    """A code's name for the viewer: a tier by its tier label, a category by its name, ...;
    the code itself when it has none (a bank's own code, or a raw one such as C1)."""
    if kind == "tier":
        return tier_label(code, lang)
    if kind == "raw":
        return code
    prefix = LABEL_PREFIX.get(kind, f"rulesview.v.{kind}")
    return TABLES[lang].get(f"{prefix}.{code}", code)


def explanation(row: Setting, lang: str) -> str:
    """The row's one-line explanation (``rules.<doc key>``), or "" when the table has none."""
    return TABLES[lang].get(f"rules.{row.doc_key}", "")


def setting_name(row: Setting, lang: str) -> str:
    """The row's name: its fixed parts' names and its codes' labels, e.g. "分层线 · 白金". The raw
    key (``lines.platinum``) when the table does not name the setting."""
    table = TABLES[lang]
    parts = row.name_parts()
    last = max((i for i, (kind, _) in enumerate(parts) if kind == "name"), default=None)
    if last is None or f"rulename.{parts[last][1]}" not in table:
        return row.key or row.section
    out = []
    for kind, value in parts:
        if kind != "name":
            out.append(code_label(kind, value, lang))
        elif f"rulename.{value}" in table:
            out.append(table[f"rulename.{value}"])
    return " · ".join(out)


def _number(v: float) -> str:
    """A plain number: whole numbers with separators (1,000), others as short as exact (0.85)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def _pct(v: float) -> str:
    """A share as a percentage with as few decimals as show it exactly: 0.1 -> 10%, 0.0125 -> 1.25%."""
    for digits in range(5):
        if math.isclose(round(v * 100, digits), v * 100, abs_tol=1e-9):
            return formats.pct(v, digits)
    return formats.pct(v, 4)


def _join(items: list[str], lang: str) -> str:
    return TABLES[lang]["common.list_sep"].join(items) if items else t("rulesview.empty", lang)


def _day(v, lang: str) -> str:
    return formats.day(v if isinstance(v, date) else date.fromisoformat(str(v)), lang)


def _band(band: list, lang: str) -> str:
    lo, hi = band
    if hi >= 200:  # settings.toml: an upper bound of 200 means "and older"
        return t("rulesview.band_open", lang, lo=lo)
    return t("rulesview.band", lang, lo=lo, hi=hi)


def _plain(v: object, lang: str) -> str:
    """Any value without a known kind: yes/no, a number, a list joined, a string as written."""
    if isinstance(v, bool):
        return t("common.yes" if v else "common.no", lang)
    if isinstance(v, int | float):
        return _number(v)
    if isinstance(v, list):
        return _join([_plain(x, lang) for x in v], lang)
    if isinstance(v, dict):
        return t("rulesview.empty", lang) if not v else str(v)
    return str(v)


def value_text(row: Setting, lang: str) -> str:
    """The row's value for the viewer, by its kind; a value that does not fit its kind (a typo
    in the file) is shown as written rather than stopping the page."""
    try:
        return _value_text(row.kind, row.value, lang)
    except (TypeError, ValueError, AttributeError):
        return _plain(row.value, lang)


def _value_text(kind: str, v: object, lang: str) -> str:
    if kind.startswith("code:"):
        return code_label(kind[5:], str(v), lang)
    if kind.startswith("codes:"):
        return _join([code_label(kind[6:], str(c), lang) for c in v], lang)
    if kind == "money":
        return formats.money(float(v), lang)
    if kind == "share":
        return _pct(float(v))
    if kind == "count":
        return formats.count(v, lang)
    if kind in UNITS:
        unit = "unit1" if v == 1 else "unit"
        return t(f"rulesview.{unit}.{kind}", lang, n=_number(v))
    if kind == "date":
        return _day(v, lang)
    if kind == "dates":
        return _join([_day(d, lang) for d in v], lang)
    if kind == "age_bands":
        return _join([_band(b, lang) for b in v], lang)
    if kind in ("id", "text", "colour"):
        return str(v)
    return _plain(v, lang)


def section_table(rows: list[Setting], lang: str) -> pd.DataFrame:
    """One section's table: name, value, explanation and the key as written in the file, inside
    its section (``lines.platinum`` of ``[tiers]``: the heading names the section)."""
    data = [
        (
            setting_name(r, lang),
            value_text(r, lang),
            explanation(r, lang),
            r.key or r.section,
        )
        for r in rows
    ]
    return pd.DataFrame(data, columns=[t(c, lang) for c in COLUMNS])


def blocks(settings: dict, lang: str) -> list[Block]:
    """Every top-level section of the settings, in the file's order, as a titled table."""
    return [
        Block(section, section_title(section, lang), section_table(rows, lang))
        for section, rows in settings_doc(settings)
    ]


def heading(block: Block) -> str:
    """A block's heading: its title and, as code, the section's name in the file, so that a key
    in its table can be found there ("AUM 分层 `tiers`")."""
    if block.title == block.section:
        return f"`{block.section}`"
    return f"{block.title} `{block.section}`"


def missing_explanations(settings: dict, lang: str) -> list[str]:
    """The doc keys of the settings that have no explanation in ``lang`` (shown with their raw
    key and an empty explanation)."""
    out: dict[str, None] = {}
    for _, rows in settings_doc(settings):
        for r in rows:
            if not explanation(r, lang):
                out.setdefault(r.doc_key, None)
    return list(out)


# ---------------------------------------------------------------------------- rendering


def tier_lines_table(viewer: Viewer, settings: dict) -> None:
    """The AUM tier lines first (the rule asked about most), with the downgrade rule."""
    tr, lang = viewer.t, viewer.lang
    st.subheader(tr("settings.tier_lines"))
    lines = pd.DataFrame(
        # analytics.settings.tier_lines is looked up at each call: tests replace it
        [
            (tr(f"tier.{name}"), formats.money(line, lang))
            for name, line in analytics.settings.tier_lines(settings)
        ],
        columns=[tr("col.tier"), tr("settings.line")],
    )
    st.dataframe(lines, hide_index=True)
    st.caption(
        tr(
            "settings.downgrade",
            n=settings["tiers"]["downgrade_after_months"],
            tier=tr(f"tier.{settings['tiers']['high_end_from']}"),
        )
    )


def sections(viewer: Viewer, settings: dict) -> None:
    """One titled table per top-level section."""
    tr = viewer.t
    st.caption(tr("rulesview.sections"))
    for block in blocks(settings, viewer.lang):
        st.subheader(heading(block))
        # a static table: long explanations wrap, and the browser's find searches every row
        st.table(block.table, hide_index=True)


def raw_file(viewer: Viewer, text: str) -> None:
    """The file as written, comments and all, collapsed."""
    with st.expander(viewer.t("rulesview.raw"), expanded=False):
        st.code(text, language="toml")
