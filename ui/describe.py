"""Turn the codes that analytics returns into sentences in the viewer's language."""

from __future__ import annotations

import math
import string

from analytics.client360 import ClientCard
from ui import formats
from ui.i18n import t


def code(prefix: str, value, lang: str) -> str:
    """A code in words (``t(f"{prefix}.{value}")``), or ``—`` when the bank's data does not give
    it (None / NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("common.none", lang)
    return t(f"{prefix}.{value}", lang)


def family(card: ClientCard, lang: str, children_known: bool = True) -> str:
    """``已婚，子女 2 人（8、12 岁）`` / ``Married, 2 children (aged 8, 12)``. What the bank's data
    does not give is left out: the marital status when NULL, the children when no family file was
    imported (``children_known=False``); ``—`` when nothing is known."""
    parts = [] if card.marital_status is None else [t(f"marital.{card.marital_status}", lang)]
    if card.children_ages:
        ages = t("common.list_sep", lang).join(str(a) for a in card.children_ages)
        parts.append(t("client.children", lang, n=len(card.children_ages), ages=ages))
    elif children_known:
        parts.append(t("client.no_children", lang))
    return ("，" if lang == "zh" else ", ").join(parts) or t("common.none", lang)


def cluster(traits: list[tuple[str, str]], lang: str) -> str:
    """A cluster in words from its traits: ``年龄偏大、存款占比高、手机银行使用少``."""
    if not traits:
        return t("cluster.average", lang)
    return t("common.list_sep", lang).join(t(f"feat.{f}.{d}", lang) for f, d in traits)


def talking_point(code: str, fields: dict, lang: str) -> str:
    """One talking point from ``analytics.client360.talking_points`` as a sentence."""
    f = dict(fields)
    if "product_zh" in f:
        f["product"] = f.pop("product_zh") if lang == "zh" else f.pop("product_en")
        f.pop("product_en", None)
    if "date" in f:
        f["date"] = formats.day(f["date"], lang)
    for key in ("amount", "gap"):
        if key in f:
            f[key] = formats.money(f[key], lang)
    if "pct" in f:
        f["pct"] = formats.pct(f["pct"])
    if "tier" in f:
        f["tier"] = t(f"tier.{f['tier']}", lang)
    return t(f"tp.{code}", lang, **f)


def finding(code: str, fields: dict, lang: str) -> str:
    """One three-balance finding (``analytics.allocation.Finding``) as a sentence."""
    f = {}
    for key, value in fields.items():
        if key in ("amount", "shortfall", "excess", "spend"):
            f[key] = formats.money(value, lang)
        elif key in ("share", "max_share"):
            f[key] = formats.pct(value, 0 if key == "max_share" else 1)
        elif key in ("months", "min_months", "comfortable_months"):
            f[key] = f"{value:.1f}".rstrip("0").rstrip(".")
        elif key in ("score", "line"):
            f[key] = f"{value:.2f}"
        elif key == "assessed_on":
            f[key] = formats.day(value, lang)
        elif key == "pocket":
            f[key] = t(f"al.pocket.{value}", lang)
        elif key == "target":
            f[key] = formats.pct(value, 0)
        elif key == "tolerance":  # share points
            f[key] = f"{value * 100:.0f}"
        elif key == "side":
            f[key] = t(f"al.pocket_side.{value}", lang)
        else:
            f[key] = value
    wanted = {name for _, name, _, _ in string.Formatter().parse(t(f"find.{code}", lang)) if name}
    return t(f"find.{code}", lang, **{k: v for k, v in f.items() if k in wanted})


def move(m, lang: str) -> str:
    """One proposed move or step (``analytics.allocation.Move``) as a sentence: a switch with
    the finding it fixes (and "withdrawn early", "after the re-assessment" where they apply), the
    re-assessment step with the level the moves assume, or the step for a household with no
    holdings."""
    if m.kind == "reassess":
        return t("al.step.reassess", lang, why=t(f"fname.{m.reason}", lang), level=m.level)
    if m.kind == "gather":
        return t("al.step.gather", lang)
    dst = m.to_name if lang == "zh" else (m.to_name_en or m.to_name)
    text = t("al.move", lang, src=m.from_name, amount=formats.money(m.amount, lang), dst=dst,
             category=t(f"cat.{m.to_category}", lang))  # fmt: skip
    if m.early:
        text += t("al.move_early", lang)
    text = t("al.move_for", lang, reason=t(f"fname.{m.reason}", lang), move=text)
    return t("al.move_after", lang, move=text) if m.after_reassessment else text
