"""Turn the codes that analytics returns into sentences in the viewer's language."""

from __future__ import annotations

from analytics.client360 import ClientCard
from ui import formats
from ui.i18n import t


def family(card: ClientCard, lang: str) -> str:
    """``已婚，子女 2 人（8、12 岁）`` / ``Married, 2 children (aged 8, 12)``."""
    parts = [t(f"marital.{card.marital_status}", lang)]
    if card.children_ages:
        ages = t("common.list_sep", lang).join(str(a) for a in card.children_ages)
        parts.append(t("client.children", lang, n=len(card.children_ages), ages=ages))
    else:
        parts.append(t("client.no_children", lang))
    return ("，" if lang == "zh" else ", ").join(parts)


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
