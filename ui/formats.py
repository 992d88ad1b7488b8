"""Number and date formats (DESIGN.md §6): money as 万/亿 in Chinese, ¥ with separators in English."""

from __future__ import annotations

import math
from datetime import date


def money(yuan: float | None, lang: str) -> str:
    """A yuan amount for display: zh ``1.23亿`` / ``456.7万`` / ``8,900元``; en ``¥1,234,567``.
    A whole 万 or 亿 reads without zeros after the point (``50万``, ``2亿``, ``1.5亿``), as a
    Chinese banker writes it."""
    if yuan is None or (isinstance(yuan, float) and math.isnan(yuan)):
        return "—"
    if lang == "zh":
        a = abs(yuan)
        if a >= 1e8:
            return f"{_no_zero_decimals(f'{yuan / 1e8:,.2f}')}亿"
        if a >= 1e4:
            return f"{_no_zero_decimals(f'{yuan / 1e4:,.1f}')}万"
        return f"{yuan:,.0f}元"
    return f"¥{yuan:,.0f}" if yuan >= 0 else f"-¥{-yuan:,.0f}"


def _no_zero_decimals(number: str) -> str:
    """``"50.0"`` -> ``"50"``, ``"1.50"`` -> ``"1.5"``, ``"1.23"`` stays: the zeros at the end of
    the decimals go, and the point with them when nothing is left after it."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def money_short(yuan: float | None, lang: str) -> str:
    """Compact money for chart labels: zh as ``money``; en ``¥1.2m`` / ``¥340k`` / ``¥900``."""
    if lang == "zh" or yuan is None:
        return money(yuan, lang)
    a = abs(yuan)
    sign = "-" if yuan < 0 else ""
    if a >= 1e9:
        return f"{sign}¥{a / 1e9:,.2f}bn"
    if a >= 1e6:
        return f"{sign}¥{a / 1e6:,.1f}m"
    if a >= 1e3:
        return f"{sign}¥{a / 1e3:,.0f}k"
    return f"{sign}¥{a:,.0f}"


def money_axis(lang: str) -> tuple[float, str]:
    """Divisor and unit suffix for a money chart axis: zh in 万元, en in ¥ millions."""
    return (1e4, "万元") if lang == "zh" else (1e6, "¥ m")


def count(n: int | None, lang: str) -> str:
    """A whole count with thousands separators."""
    return "—" if n is None else f"{int(n):,}"


def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> ``12.3%``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x * 100:.{digits}f}%"


def change(cur: float, prev: float | None) -> float | None:
    """Relative change cur/prev - 1, or None when there is no previous value."""
    if prev in (None, 0):
        return None
    return cur / prev - 1


def day(d: date | None, lang: str) -> str:
    """A date: zh ``2026年10月31日``, en ``31 Oct 2026``; ``—`` when unknown."""
    if d is None:
        return "—"
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.strftime("%-d %b %Y")


def month(d: date, lang: str) -> str:
    """A month: zh ``2026年10月``, en ``Oct 2026``."""
    return f"{d.year}年{d.month}月" if lang == "zh" else d.strftime("%b %Y")


def md(text: str | None) -> str:
    """Escape Markdown's emphasis characters so masked values (``138****5678``) show as typed;
    ``—`` for a value the bank's data does not give (None)."""
    if text is None:
        return "—"
    return str(text).replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
