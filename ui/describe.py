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
        else:
            f[key] = value
    wanted = {name for _, name, _, _ in string.Formatter().parse(t(f"find.{code}", lang)) if name}
    return t(f"find.{code}", lang, **{k: v for k, v in f.items() if k in wanted})
