"""The glossary (术语表, issue 14 point 5): the terms of both curricula the app teaches, 网点客群经营分析
(client-group analysis) and 存量客户营销经营 (existing-client marketing), plus the corporate models.

An entry is a term shown in both scripts (``临界客户 · Threshold clients``: the zh and the en string
of its term key, whatever the viewer's language), a one- or two-sentence definition in the
viewer's language and the page that uses the term. Every number in a definition is read from the
settings in force when the page runs (tier lines through ``ui.formats.money``, shares as
percentages), never written into a string: change ``settings.toml`` and the glossary says the new
number. ``entries`` builds the list (no Streamlit: testable on its own), ``matching`` filters it
by the search box (case-insensitive, NFKC-folded, on the term or the definition), ``render`` draws
the page.

String keys: ``gloss.term.<key>`` and ``gloss.def.<key>``, except where the app already names the
term (a tier's name, a value tier ``vt.*``, a page title): those are reused so the glossary says
what the views say.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import streamlit as st

from analytics import cohorts, rfm, tiers
from analytics.settings import load_settings, tier_line, tier_lines
from ui import formats
from ui.i18n import TABLES, t
from ui.shell import PAGES_BY_ID, Viewer

GROUPS = ("analysis", "marketing", "corporate")

# (key, group, page id, term key): the fixed entries in the order shown. The term key defaults to
# ``gloss.term.<key>``; the definition is ``gloss.def.<key>``. The tier entries (one per tier of
# ``[tiers] order``) follow "tiers" and are built from the settings.
FIXED: tuple[tuple[str, str, str, str | None], ...] = (
    ("aum", "analysis", "overview", None),
    ("month_avg", "analysis", "overview", None),
    ("tiers", "analysis", "segmentation", None),
    ("high_end", "analysis", "high_end", None),
    ("seniors", "analysis", "seniors", None),
    ("contribution", "analysis", "segmentation", None),
    ("potential", "analysis", "segmentation", None),
    ("mvc", "analysis", "segmentation", "vt.MVC"),
    ("mgc", "analysis", "segmentation", "vt.MGC"),
    ("lvc", "analysis", "segmentation", "vt.LVC"),
    ("bz", "analysis", "segmentation", "vt.BZ"),
    ("value_score", "analysis", "client", None),
    ("threshold", "analysis", "threshold", "page.threshold"),
    ("relationship", "analysis", "threshold", "th.relationship"),
    ("rfm", "analysis", "segmentation", None),
    ("rfm_segments", "analysis", "segmentation", None),
    ("clusters", "analysis", "segmentation", None),
    ("dormant", "analysis", "seniors", None),
    ("three_balance", "analysis", "allocation", None),
    ("pockets", "analysis", "allocation", "al.pockets"),
    ("contact_rule", "marketing", "contact_plan", None),
    ("cadence", "marketing", "contact_plan", None),
    ("coverage", "marketing", "contact_plan", "plan.coverage"),
    ("invitations", "marketing", "invitations", "page.invitations"),
    ("adoption", "marketing", "high_end", None),
    ("clv", "corporate", "corporate", None),
    ("bgnbd", "corporate", "corporate", None),
    ("gamma_gamma", "corporate", "corporate", None),
    ("value_matrix", "corporate", "corporate", None),
    ("social", "corporate", "corporate", None),
    ("pagerank", "corporate", "corporate", None),
    ("scorecard", "corporate", "corporate", None),
    ("woe", "corporate", "corporate", None),
    ("iv", "corporate", "corporate", None),
    ("pd", "corporate", "corporate", None),
    ("grades", "corporate", "corporate", None),
)
TIER_PAGE = "segmentation"


@dataclass(frozen=True)
class Entry:
    """One glossary entry. ``keys``: the string-table keys it is built from (all in zh and en)."""

    key: str
    group: str
    page: str
    term: str
    definition: str
    keys: tuple[str, ...]


# ---------------------------------------------------------------------------- number formats


def _pct(x: float) -> str:
    """A share as a percentage with as few decimals as it needs: 0.2 -> 20%, 0.0025 -> 0.25%."""
    x = float(x)
    digits = next((d for d in range(4) if abs(round(x * 100, d) - x * 100) < 1e-9), 3)
    return formats.pct(x, digits)


def _num(x: float) -> str:
    """A score, weight or factor as written: 4.5, 50, 0.85."""
    return f"{float(x):g}"


def _tier(code: str, lang: str, settings: dict) -> str:
    """A tier's name: its ``[tiers.labels]`` entry, else the string table's, else the code."""
    return tiers.tier_label(code, lang, settings) or TABLES[lang].get(f"tier.{code}", code)


def _join(items: list[str], lang: str) -> str:
    return t("common.list_sep", lang).join(items)


# ---------------------------------------------------------------------------- the numbers


def _fields(s: dict, lang: str) -> dict[str, dict]:
    """The fields of every fixed definition, from the settings ``s``, formatted for ``lang``."""

    def money(x: float) -> str:
        return formats.money(float(x), lang)

    lines = tier_lines(s)
    order = [code for code, _ in lines]
    ladder = [_tier(order[0], lang, s)]
    ladder += [f"< {money(line)} ≤ {_tier(code, lang, s)}" for code, line in lines[1:]]
    high_from = s["tiers"]["high_end_from"]
    high_line = tier_line(high_from, s)
    th = s["threshold"]
    vt, c = s["value_tiers"], s["contribution"]
    cadence = s["contact_rule"].get("cadence_days", {})
    with_cadence = [code for code in reversed(order) if code in cadence]
    without = [_tier(code, lang, s) for code in reversed(order) if code not in cadence]
    cadence_list = [
        t("gloss.every_days", lang, tier=_tier(code, lang, s), days=int(cadence[code]))
        for code in with_cadence
    ]
    if without:
        cadence_list.append(t("gloss.no_cadence", lang, tiers=_join(without, lang)))
    example = high_from if high_from in cadence else (with_cadence or [high_from])[0]
    bands = s["allocation"]["bands"]
    level = sorted(bands)[0]
    limits = []
    for dim in ("safety", "return", "liquidity"):
        label = t(f"al.{dim}", lang)
        for end, sign in (("min", "≥"), ("max", "≤")):
            value = bands[level].get(f"{dim}_{end}")
            if value is not None:
                limits.append(f"{label} {sign} {_num(value)}")
    alloc = s["allocation"]
    pockets = []
    for code, share in alloc["pocket_targets"].items():
        pockets.append(f"{t(f'al.pocket.{code}', lang)} {_pct(share)}")
    segment_of = {segment: highs for highs, segment in rfm._SEGMENT_OF.items()}
    high, low = t("gloss.high", lang), t("gloss.low", lang)
    segments = [
        t(
            "gloss.rfm_segment",
            lang,
            name=t(f"rfm.{segment}", lang),
            pattern=t(
                "gloss.rfm_pattern",
                lang,
                **{d: high if h else low for d, h in zip("rfm", segment_of[segment], strict=True)},
            ),
        )
        for segment in rfm.SEGMENTS
    ]
    ad = s["adoption"]
    caps = [
        t(
            "gloss.capacity",
            lang,
            title=TABLES[lang].get(f"rulesview.v.title.{title}", title),
            n=formats.count(n, lang),
        )
        for title, n in ad.get("capacity_by_title", {}).items()
    ]
    inv, corp, sc = s["invitations"], s["corporate"], s["scorecard"]
    weights = corp["social"]["weights"]
    rule = s["contact_rule"]
    return {
        "tiers": {
            "n": len(order),
            "ladder": " ".join(ladder),
            "months": int(s["tiers"]["downgrade_after_months"]),
        },
        "high_end": {"tier": _tier(high_from, lang, s), "line": money(high_line)},
        "seniors": {
            "min_age": int(s["cohorts"]["senior_min_age"]),
            "bands": _join([label for label, _, _ in cohorts.senior_bands(s)], lang),
        },
        "contribution": {
            "months": int(c["lookback_months"]),
            "cd": _pct(c["current_deposit_spread"]),
            "td": _pct(c["time_deposit_spread"]),
            "cost": money(c["cost_to_serve_per_year"]),
            "txn": money(c["cost_per_counter_txn"]),
        },
        "potential": {
            "pctl": _num(float(vt["potential_percentile"]) * 100),
            "years": int(vt["age_band_years"]),
            "start": int(vt["age_band_start"]),
        },
        "mvc": {"share": _pct(vt["mvc_top_share"])},
        "mgc": {"share": _pct(vt["mgc_top_share"])},
        "bz": {"months": int(c["lookback_months"])},
        "value_score": {k: _num(v) for k, v in s["value_score"].items()},
        "threshold": {
            "up": _pct(th["upgrade_band"]),
            "down": _pct(th["downgrade_band"]),
            "tier": _tier(high_from, lang, s),
            "line": money(high_line),
            "from_": money((1 - float(th["upgrade_band"])) * high_line),
            "months": int(s["tiers"]["downgrade_after_months"]),
        },
        "relationship": {
            "months": int(th["mobile_active_months"]),
            "logins": int(th["mobile_min_logins"]),
        },
        "rfm": {"months": int(s["rfm"]["lookback_months"]), "q": int(s["rfm"]["quintiles"])},
        "rfm_segments": {"list": _join(segments, lang)},
        "clusters": {"k_min": int(s["clusters"]["k_min"]), "k_max": int(s["clusters"]["k_max"])},
        "dormant": {
            "months": int(s["rfm"]["lookback_months"]),
            "days": int(s["seniors"]["dormant_days"]),
            "label": t("sen.opp.dormant", lang),
        },
        "three_balance": {
            "example": t("gloss.band", lang, level=level, limits=_join(limits, lang)),
        },
        "pockets": {
            "split": _join(pockets, lang),
            "tol": _num(float(alloc["pocket_tolerance"]) * 100),
        },
        "contact_rule": {
            "deep": int(rule["deep"]),
            "calls": int(rule["calls"]),
            "light": int(rule["light"]),
            "interval": int(rule["min_interval_days"]),
        },
        "cadence": {"list": _join(cadence_list, lang)},
        "coverage": {
            "tier": _tier(example, lang, s),
            "days": int(cadence.get(example, 0)),
        },
        "invitations": {
            "tier": _tier(inv["upgrade_line_tier"], lang, s),
            "line": money(tier_line(inv["upgrade_line_tier"], s)),
            "band": _pct(inv["upgrade_band_below"]),
            "loss": _pct(s["funds"]["loss_line"]),
            "loss2": _pct(inv["fund_loss_second"]),
            "rate": _pct(inv["deposit_rate_3y"]),
            "days": int(inv["exclude_contacted_days"]),
        },
        "adoption": {
            "caps": _join(caps, lang),
            "default": formats.count(ad["default_capacity"], lang),
        },
        "value_matrix": {
            q: t(f"corp.q.{cell}", lang)
            for q, cell in (
                ("hh", "high_high"),
                ("hl", "high_low"),
                ("lh", "low_high"),
                ("ll", "low_low"),
            )
        },
        "clv": {
            "horizon": int(corp["horizon_months"]),
            "rate": _pct(corp["annual_discount_rate"]),
        },
        "bgnbd": {
            "months": int(corp["history_months"]),
            "min": formats.count(corp["min_clients_for_fit"], lang),
        },
        "social": {
            "d": _num(corp["social"]["damping"]),
            "w_pr": _pct(weights["pagerank"]),
            "w_cp": _pct(weights["counterparties"]),
            "w_pay": _pct(weights["payroll"]),
            "w_aum": _pct(weights["linked_aum"]),
        },
        "pagerank": {"d": _num(corp["social"]["damping"])},
        "scorecard": {
            "base": _num(sc["base_score"]),
            "odds": _num(sc["base_odds"]),
            "pdo": _num(sc["pdo"]),
            "holdout": _pct(sc["holdout_share"]),
        },
        "woe": {"smooth": _num(sc["woe_smoothing"])},
        "iv": {"min": _num(sc["min_iv"]), "max": _num(sc["max_iv"])},
        "grades": {
            "bands": _join([f"{g} ≤ {_pct(pd)}" for g, pd in sc["grade_pd"].items()], lang),
        },
    }


# ---------------------------------------------------------------------------- entries


def _term(key: str, fields: dict) -> str:
    """A term in both scripts: ``临界客户 · Threshold clients`` (once when both are the same). A
    term that carries numbers (the 5-20-30 rule) takes them from the definition's ``fields``."""
    zh, en = (TABLES[lang][key].format(**fields) for lang in ("zh", "en"))
    return zh if zh == en else f"{zh} · {en}"


def entries(lang: str, settings: dict | None = None) -> list[Entry]:
    """Every glossary entry, in display order, with the definitions in ``lang`` and the numbers
    of ``settings`` (default: the settings in force)."""
    s = settings or load_settings()
    fields = _fields(s, lang)
    out: list[Entry] = []
    for key, group, page, term_key in FIXED:
        term_key = term_key or f"gloss.term.{key}"
        def_key = f"gloss.def.{key}"
        out.append(
            Entry(
                key=key,
                group=group,
                page=page,
                term=_term(term_key, fields.get(key, {})),
                definition=t(def_key, lang, **fields.get(key, {})),
                keys=(term_key, def_key),
            )
        )
        if key == "tiers":
            out += _tier_entries(s, lang)
    return out


def _tier_entries(s: dict, lang: str) -> list[Entry]:
    """One entry per tier of ``[tiers] order``: its AUM range from ``[tiers.lines]``."""
    lines = tier_lines(s)
    out = []
    for i, (code, low) in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if i == 0:
            def_key = "gloss.def.tier_lowest"
            fields = {"high": formats.money(nxt[1], lang), "next": _tier(nxt[0], lang, s)}
        elif nxt is None:
            def_key, fields = "gloss.def.tier_top", {"low": formats.money(low, lang)}
        else:
            def_key = "gloss.def.tier_band"
            fields = {"low": formats.money(low, lang), "high": formats.money(nxt[1], lang)}
        zh, en = _tier(code, "zh", s), _tier(code, "en", s)
        own = tiers.tier_label(code, "zh", s) and tiers.tier_label(code, "en", s)
        out.append(
            Entry(
                key=f"tier.{code}",
                group="analysis",
                page=TIER_PAGE,
                term=zh if zh == en else f"{zh} · {en}",
                definition=t(def_key, lang, **fields),
                keys=(def_key,) if own else (def_key, f"tier.{code}"),
            )
        )
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold().strip()


def matching(found: list[Entry], query: str | None) -> list[Entry]:
    """The entries whose term or definition contains ``query`` (case-insensitive; full-width
    letters typed through an IME match their ASCII); all of them for an empty query."""
    q = _fold(query or "")
    if not q:
        return list(found)
    return [e for e in found if q in _fold(e.term) or q in _fold(e.definition)]


# ---------------------------------------------------------------------------- the page


def render(viewer: Viewer) -> None:
    """The glossary page: title, search box, the matching entries by group, each with a link to
    the page that uses the term (when the viewer's role may open it)."""
    tr = viewer.t
    st.title(tr("gloss.title"))
    st.caption(tr("gloss.intro"))
    query = st.text_input(tr("gloss.search"), key="gloss_q", placeholder=tr("gloss.search_hint"))
    every = entries(viewer.lang)
    shown = matching(every, query)
    st.caption(tr("gloss.count", n=len(shown), total=len(every)))
    if not shown:
        st.info(tr("gloss.none", q=formats.md(query.strip())))
        return
    for group in GROUPS:
        rows = [e for e in shown if e.group == group]
        if not rows:
            continue
        st.subheader(tr(f"gloss.group.{group}"))
        for entry in rows:
            with st.container(border=True):
                st.markdown(f"**{formats.md(entry.term)}**")
                st.markdown(entry.definition)
                spec = PAGES_BY_ID.get(entry.page)
                if spec is not None and viewer.scope.role in spec.roles:
                    st.page_link(
                        spec.path, label=tr("gloss.see", page=tr(spec.title_key)), icon=spec.icon
                    )
