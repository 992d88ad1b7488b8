"""Client lists: the one way every view lists clients (issue 3, item 5).

A view computes *who* belongs on a list (a segment, a threshold band, a campaign) as a ``members``
frame with a ``client_id`` column and any columns of its own (a gap, a reason); ``client_list``
joins it to the clients table under the viewer's scope in SQL, adds the client's masked name, RM,
latest AUM, held tier and, when given, value score and value tier, sorts and cuts the top N in the
database, and masks personal data. Exports use the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics import privacy
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start

BASE_COLUMNS = ("client_id", "name_zh", "name_en", "rm_id", "rm_zh", "rm_en", "age", "aum", "tier")
SORTABLE = ("aum", "value_score", "age", "client_id")


@dataclass(frozen=True)
class ClientList:
    """One page of a list: the rows shown (masked) and how many clients the list has in all."""

    rows: pd.DataFrame
    total: int


def client_list(
    wh: Database,
    scope: Scope,
    members: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    sort_by: str = "aum",
    descending: bool = True,
    limit: int | None = None,
) -> ClientList:
    """The clients in ``members`` (or every client in scope when None) that the viewer may see.

    ``scores`` (client_id, value_score, value_tier) adds those columns. ``sort_by`` is one of
    ``SORTABLE`` or a numeric column of ``members``; ties break by client_id so pages are stable.
    ``limit`` defaults to ``[client_lists] top_n``.
    """
    limit = int(limit or load_settings()["client_lists"]["top_n"])
    member_cols = [] if members is None else [c for c in members.columns if c != "client_id"]
    if sort_by not in SORTABLE and sort_by not in member_cols:
        raise ValueError(f"cannot sort by {sort_by!r}")
    latest = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
    held, held_params = held_tiers_sql(scope, first=tier_window_start(latest), last=latest)
    where, params = scope.where("c")
    as_of = wh.scalar("SELECT value FROM meta WHERE key = 'as_of'")
    with wh.cursor() as cur:
        joins, select = [], []
        if members is not None:
            cur.register("list_members", members)
            joins.append("JOIN list_members m ON m.client_id = c.client_id")
            select += [f'm."{col}"' for col in member_cols]
        if scores is not None:
            cur.register("list_scores", scores[["client_id", "value_score", "value_tier"]])
            joins.append("LEFT JOIN list_scores s ON s.client_id = c.client_id")
            select += ["s.value_score", "s.value_tier"]
        elif sort_by == "value_score":
            raise ValueError("sorting by value_score needs scores")
        order = sort_by if sort_by in SORTABLE else f'"{sort_by}"'
        sql = f"""
            WITH latest AS (
                SELECT client_id, aum, tier FROM ({held})
                WHERE month_end = (SELECT MAX(month_end) FROM client_aum_monthly)
            ), listed AS (
                SELECT c.client_id, c.name_zh, c.name_en, c.rm_id, r.name_zh AS rm_zh,
                       r.name_en AS rm_en,
                       date_diff('year', c.birth_date, ?::DATE)
                         - CASE WHEN strftime(?::DATE, '%m%d') < strftime(c.birth_date, '%m%d')
                                THEN 1 ELSE 0 END AS age,
                       COALESCE(l.aum, 0)::DOUBLE AS aum, COALESCE(l.tier, 0) AS tier
                       {"".join(", " + s for s in select)}
                FROM clients c
                LEFT JOIN rms r ON r.rm_id = c.rm_id
                LEFT JOIN latest l ON l.client_id = c.client_id
                {" ".join(joins)}
                WHERE {where}
            )
            SELECT *, COUNT(*) OVER () AS list_total FROM listed
            ORDER BY {order} {"DESC" if descending else "ASC"} NULLS LAST, client_id
            LIMIT ?
        """
        rows = cur.execute(sql, [*held_params, as_of, as_of, *params, limit]).df()
    total = int(rows["list_total"].iloc[0]) if len(rows) else 0
    rows = rows.drop(columns="list_total")
    names = tier_names()
    rows["tier"] = [names[int(t)] for t in rows["tier"]]
    return ClientList(privacy.mask_frame(rows, ["name_zh", "name_en"]), total)
