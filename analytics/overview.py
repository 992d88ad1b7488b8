"""Branch overview (网点总览): clients and AUM, their tiers over time, product mix and RM books.

Every function takes the viewer's ``Scope`` and filters in SQL. AUM is the month's average daily
balance where measured, else month-end (``client_aum_monthly``, DESIGN.md §3); tiers follow
``analytics.tiers`` (with the downgrade rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start


def tier_summary(wh: Database, scope: Scope) -> pd.DataFrame:
    """Clients and AUM per month-end and held tier: month_end, tier, clients, aum (yuan).

    Every tier appears in every month (0 where empty), so charts keep their axes.
    """
    held, params = held_tiers_sql(scope)
    df = wh.query(
        f"""
        SELECT month_end, tier AS rank, COUNT(*) AS clients, SUM(aum)::DOUBLE AS aum
        FROM ({held}) GROUP BY ALL
        """,
        params,
    )
    names = tier_names()
    months = sorted(df["month_end"].unique())
    grid = pd.MultiIndex.from_product([months, range(len(names))], names=["month_end", "rank"])
    df = df.set_index(["month_end", "rank"]).reindex(grid, fill_value=0).reset_index()
    df["tier"] = [names[r] for r in df["rank"]]
    df["month_end"] = pd.to_datetime(df["month_end"]).dt.date
    return df[["month_end", "tier", "rank", "clients", "aum"]].astype(
        {"clients": "int64", "aum": "float64"}
    )


@dataclass(frozen=True)
class Headline:
    """The overview's key figures for one month and the month before."""

    month_end: date
    clients: int
    aum: float
    high_end_clients: int
    prev_month_end: date | None
    prev_clients: int | None
    prev_aum: float | None
    prev_high_end_clients: int | None


def headline(summary: pd.DataFrame, month_end: date | None = None) -> Headline | None:
    """Clients, AUM and high-end clients (``[tiers] high_end_from`` and above) in ``month_end``
    (default: the latest) and the previous month, from ``tier_summary``; None when empty."""
    if summary.empty or summary["clients"].sum() == 0:
        return None
    months = sorted(summary["month_end"].unique())
    month_end = month_end or months[-1]
    first_high = tier_names().index(load_settings()["tiers"]["high_end_from"])

    def figures(m):
        rows = summary[summary["month_end"] == m]
        return (
            int(rows["clients"].sum()),
            float(rows["aum"].sum()),
            int(rows.loc[rows["rank"] >= first_high, "clients"].sum()),
        )

    i = months.index(month_end)
    cur = figures(month_end)
    prev_m = months[i - 1] if i > 0 else None
    prev = figures(prev_m) if prev_m is not None else (None, None, None)
    return Headline(month_end, *cur, prev_m, *prev)


def aum_by_category(wh: Database, scope: Scope, month_end: date) -> pd.DataFrame:
    """AUM (yuan) and holders per product category in one month: category, aum, clients, share."""
    where, params = scope.where("c")
    df = wh.query(
        f"""
        SELECT p.category, SUM(COALESCE(h.avg_balance, h.balance))::DOUBLE AS aum,
               COUNT(DISTINCT h.client_id) AS clients
        FROM holdings_monthly h
        JOIN clients c USING (client_id)
        JOIN products p USING (product_id)
        WHERE h.month_end = ? AND {where}
        GROUP BY p.category ORDER BY aum DESC
        """,
        [month_end, *params],
    )
    total = df["aum"].sum()
    df["share"] = df["aum"] / total if total else 0.0
    return df


def rm_books(wh: Database, scope: Scope, month_end: date) -> pd.DataFrame:
    """Each RM's book in one month: rm_id, name_zh, name_en, clients, aum (yuan), high_end.

    Clients without an RM form one row with rm_id NULL (listed last), so nothing in scope goes
    uncounted. Largest book first.
    """
    held, params = held_tiers_sql(scope, first=tier_window_start(month_end), last=month_end)
    first_high = tier_names().index(load_settings()["tiers"]["high_end_from"])
    return wh.query(
        f"""
        SELECT t.rm_id, r.name_zh, r.name_en, COUNT(*) AS clients, SUM(t.aum)::DOUBLE AS aum,
               COUNT(*) FILTER (WHERE t.tier >= ?) AS high_end
        FROM ({held}) t LEFT JOIN rms r USING (rm_id)
        WHERE t.month_end = ?
        GROUP BY t.rm_id, r.name_zh, r.name_en
        ORDER BY t.rm_id IS NULL, aum DESC  -- the no-RM row last
        """,
        [first_high, *params, month_end],  # in the order the ? appear
    )
