"""AUM tiers (by default 大众/潜力/金卡/白金/钻石/私行) and the tier each client holds each month.

The tiers, their lines, colours, optional labels and the downgrade rule come from ``[tiers]`` in
settings.toml, the one list of tiers (a bank may add or rename one there). DESIGN.md §3: a client
enters a tier when the month's AUM reaches its line, and keeps it until the AUM has been below the
line for ``downgrade_after_months`` consecutive month-ends. That rule has a closed form: the tier held at
month m is the highest raw tier reached in months m-(n-1)..m. At the start of the snapshot's history
the window is shorter (what came before is not in the snapshot).
"""

from __future__ import annotations

from datetime import date

from analytics.access import Scope
from analytics.settings import load_settings, tier_lines


def tier_names(settings: dict | None = None) -> list[str]:
    """Tier codes, lowest first (index = tier rank)."""
    return [name for name, _ in tier_lines(settings)]


def tier_of(aum: float, settings: dict | None = None) -> str:
    """The raw tier of one month's AUM (yuan): the highest tier whose line it reaches (the lowest
    tier below every line)."""
    lines = tier_lines(settings)
    name = lines[0][0]
    for tier, line in lines:
        if aum >= line:
            name = tier
    return name


# Drawn for a tier that has no [tiers.colours] entry (neutral, so it does not pass for another).
NO_COLOUR = "#b0b0b0"


def tier_colours(settings: dict | None = None) -> list[str]:
    """Chart colour of each tier, lowest first (index = tier rank): ``[tiers.colours]``."""
    s = (settings or load_settings())["tiers"]
    colours = s.get("colours", {})
    return [str(colours.get(name, NO_COLOUR)) for name in tier_names(settings)]


def tier_label(tier: str, lang: str, settings: dict | None = None) -> str | None:
    """A tier's name from ``[tiers.labels.<tier>]`` (``zh`` / ``en``), or None when settings name
    it not in ``lang`` (the app's own translation then applies: ``ui.i18n.t("tier.<code>")``)."""
    labels = (settings or load_settings())["tiers"].get("labels", {})
    label = (labels.get(tier) or {}).get(lang)
    return str(label) if label else None


def raw_tier_sql(column: str, settings: dict | None = None) -> tuple[str, list]:
    """A SQL CASE giving the raw tier rank (0 = mass) of an AUM ``column``, with its parameters."""
    lines = tier_lines(settings)[1:]
    whens = []
    params: list = []
    for rank in range(len(lines), 0, -1):
        whens.append(f"WHEN {column} >= ? THEN {rank}")
        params.append(lines[rank - 1][1])
    return "CASE " + " ".join(whens) + " ELSE 0 END", params


def held_tiers_sql(
    scope: Scope,
    settings: dict | None = None,
    first: date | None = None,
    last: date | None = None,
) -> tuple[str, list]:
    """SQL of a relation (month_end, client_id, branch_id, rm_id, aum, raw_tier, tier) for the
    clients in ``scope``; ``tier`` applies the downgrade rule. With ``first``/``last`` only the
    month-ends in that range are read (much faster at scale); a held tier needs
    ``downgrade_after_months - 1`` earlier months, so start the range that far before the first
    month whose tier you use (``analytics.migration.tier_window_start``)."""
    settings = settings or load_settings()
    n = int(settings["tiers"]["downgrade_after_months"])
    case, case_params = raw_tier_sql("a.aum", settings)
    where, where_params = scope.where("a")
    if first is not None or last is not None:
        where += " AND a.month_end BETWEEN COALESCE(?, a.month_end) AND COALESCE(?, a.month_end)"
        where_params = [*where_params, first, last]
    sql = f"""
        SELECT month_end, client_id, branch_id, rm_id, aum, raw_tier,
               MAX(raw_tier) OVER (PARTITION BY client_id ORDER BY month_end
                                   ROWS BETWEEN {n - 1} PRECEDING AND CURRENT ROW) AS tier
        FROM (SELECT a.month_end, a.client_id, a.branch_id, a.rm_id, a.aum, {case} AS raw_tier
              FROM client_aum_monthly a WHERE {where})
    """
    return sql, case_params + where_params


def month_start(month: date, months_back: int = 0) -> date:
    """The first day of the month ``months_back`` months before ``month``'s month."""
    index = month.year * 12 + month.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def tier_window_start(month: date, extra_months: int = 0) -> date:
    """The first day of the earliest month whose AUM decides the held tier at ``month``
    (``[tiers] downgrade_after_months`` - 1 months back), ``extra_months`` earlier still."""
    n = int(load_settings()["tiers"]["downgrade_after_months"])
    return month_start(month, max(n - 1, 0) + extra_months)
