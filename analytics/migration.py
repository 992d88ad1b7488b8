"""Tier migration (客户层级迁移): how clients moved between AUM tiers from one month-end to another.

Tiers are the *held* tiers of ``analytics.tiers`` (the downgrade rule applies: a client below a
line keeps the tier for ``[tiers] downgrade_after_months`` - 1 months), so a migration matrix shows
the tiers the bank actually reports, not raw monthly AUM bands.

The matrix counts only clients present in both months (a row in ``client_aum_monthly`` in each),
so its counts add up to exactly those clients. New clients (only in the later month) and gone
clients (only in the earlier month) are not tiers-to-tiers moves; ``migration_summary`` reports
them separately. The scope filter applies to each month's row: a client whose RM or branch changed
between the two months counts as gone for the old book and new for the new one.

Held tiers are read through ``held_tiers_between``: ``tiers.held_tiers_sql`` over only the month-ends
the answer needs (the downgrade window before the earlier month up to the later one), which keeps a
head-office query over 1M clients to a few seconds. ``analytics.threshold`` uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.access import Scope
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start


def held_tiers_between(scope: Scope, first: date, last: date) -> tuple[str, list]:
    """``tiers.held_tiers_sql`` restricted to the month-ends in ``[first, last]``.

    Reading a few months instead of the whole history keeps a head-office query over 1M clients
    fast. A held tier needs ``downgrade_after_months`` - 1 months of history, so callers start the
    range at ``tier_window_start(month)`` for the earliest month whose tier they read. Within that,
    the tiers equal ``held_tiers_sql(scope)``'s for every client with a row at each month-end (a
    client with a month-end missing is judged on the month-ends in the range).
    """
    return held_tiers_sql(scope, first=first, last=last)


COLUMNS = [
    "from_tier",
    "to_tier",
    "from_rank",
    "to_rank",
    "movement",
    "clients",
    "aum_from",
    "aum_to",
]


def _movement(from_rank: int, to_rank: int) -> str:
    if to_rank > from_rank:
        return "up"
    if to_rank < from_rank:
        return "down"
    return "stay"


def tier_migration(wh: Database, scope: Scope, from_month: date, to_month: date) -> pd.DataFrame:
    """Clients moving from each held tier in ``from_month`` to each held tier in ``to_month``.

    Long form, one row per (from_tier, to_tier) pair, every pair present (0 where empty) so a
    heatmap keeps its axes: from_tier, to_tier (tier codes), from_rank, to_rank (0 = mass),
    movement ('up' | 'down' | 'stay'), clients, aum_from and aum_to (yuan, the same clients' AUM
    in each month). Only clients present in both months are counted (see the module docstring).
    """
    held, params = held_tiers_between(
        scope, tier_window_start(min(from_month, to_month)), max(from_month, to_month)
    )
    df = wh.query(
        f"""
        WITH held AS ({held})
        SELECT f.tier AS from_rank, t.tier AS to_rank, COUNT(*) AS clients,
               SUM(f.aum)::DOUBLE AS aum_from, SUM(t.aum)::DOUBLE AS aum_to
        FROM held f JOIN held t ON t.client_id = f.client_id
        WHERE f.month_end = ? AND t.month_end = ?
        GROUP BY ALL
        """,
        [*params, from_month, to_month],
    )
    names = tier_names()
    grid = pd.MultiIndex.from_product(
        [range(len(names)), range(len(names))], names=["from_rank", "to_rank"]
    )
    df = df.set_index(["from_rank", "to_rank"]).reindex(grid, fill_value=0).reset_index()
    df["from_tier"] = [names[r] for r in df["from_rank"]]
    df["to_tier"] = [names[r] for r in df["to_rank"]]
    df["movement"] = [_movement(a, b) for a, b in zip(df["from_rank"], df["to_rank"], strict=True)]
    return df[COLUMNS].astype(
        {
            "from_rank": "int64",
            "to_rank": "int64",
            "clients": "int64",
            "aum_from": "float64",
            "aum_to": "float64",
        }
    )


@dataclass(frozen=True)
class MigrationSummary:
    """Counts of one migration. ``upgrades + downgrades + stayers`` = clients in both months."""

    from_month: date
    to_month: date
    upgrades: int
    downgrades: int
    stayers: int
    new: int  # only in to_month (opened, moved into the scope, or back after a month without AUM)
    gone: int  # only in from_month (closed, moved out of the scope, or no AUM row in to_month)
    new_aum: float  # yuan, in to_month
    gone_aum: float  # yuan, in from_month

    @property
    def both(self) -> int:
        return self.upgrades + self.downgrades + self.stayers


def migration_summary(
    wh: Database, scope: Scope, from_month: date, to_month: date
) -> MigrationSummary:
    """Upgrades, downgrades and stayers (held tiers, clients in both months), and the new and gone
    clients with their AUM."""
    held, params = held_tiers_between(
        scope, tier_window_start(min(from_month, to_month)), max(from_month, to_month)
    )
    row = wh.query(
        f"""
        WITH held AS ({held}),
        f AS (SELECT client_id, tier, aum FROM held WHERE month_end = ?),
        t AS (SELECT client_id, tier, aum FROM held WHERE month_end = ?)
        SELECT
            COUNT(*) FILTER (WHERE f.client_id IS NOT NULL AND t.client_id IS NOT NULL
                             AND t.tier > f.tier) AS upgrades,
            COUNT(*) FILTER (WHERE f.client_id IS NOT NULL AND t.client_id IS NOT NULL
                             AND t.tier < f.tier) AS downgrades,
            COUNT(*) FILTER (WHERE f.client_id IS NOT NULL AND t.client_id IS NOT NULL
                             AND t.tier = f.tier) AS stayers,
            COUNT(*) FILTER (WHERE f.client_id IS NULL) AS new,
            COUNT(*) FILTER (WHERE t.client_id IS NULL) AS gone,
            COALESCE(SUM(t.aum) FILTER (WHERE f.client_id IS NULL), 0)::DOUBLE AS new_aum,
            COALESCE(SUM(f.aum) FILTER (WHERE t.client_id IS NULL), 0)::DOUBLE AS gone_aum
        FROM f FULL OUTER JOIN t ON t.client_id = f.client_id
        """,
        [*params, from_month, to_month],
    ).iloc[0]
    return MigrationSummary(
        from_month=from_month,
        to_month=to_month,
        upgrades=int(row["upgrades"]),
        downgrades=int(row["downgrades"]),
        stayers=int(row["stayers"]),
        new=int(row["new"]),
        gone=int(row["gone"]),
        new_aum=float(row["new_aum"]),
        gone_aum=float(row["gone_aum"]),
    )


def migrated_clients(wh: Database, scope: Scope, from_month: date, to_month: date) -> pd.DataFrame:
    """The clients behind ``tier_migration``'s cells: client_id, from_tier, to_tier, movement,
    for clients present in both months."""
    held, params = held_tiers_between(
        scope, tier_window_start(min(from_month, to_month)), max(from_month, to_month)
    )
    df = wh.query(
        f"""
        WITH held AS ({held})
        SELECT f.client_id, f.tier AS from_rank, t.tier AS to_rank
        FROM held f JOIN held t ON t.client_id = f.client_id
        WHERE f.month_end = ? AND t.month_end = ?
        ORDER BY f.client_id
        """,
        [*params, from_month, to_month],
    )
    names = tier_names()
    df["from_tier"] = [names[r] for r in df["from_rank"]]
    df["to_tier"] = [names[r] for r in df["to_rank"]]
    df["movement"] = [_movement(a, b) for a, b in zip(df["from_rank"], df["to_rank"], strict=True)]
    return df[["client_id", "from_tier", "to_tier", "movement"]]
