"""Segmentation (客群分层): every client in scope with each of their segments, and the cuts the
Segmentation view draws from them.

One frame per scope holds, per client, the held AUM tier, the value tier (MVC/MGC/LVC/BZ) with
actual and potential value, the value score, the RFM segment and the behaviour cluster, so a
segment, bar or cell of any chart is a filter on one table, and its client list is that filter's
client ids (``analytics.client_lists`` then lists them under the scope in SQL).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics import clusters, coverage, rfm, value
from analytics.access import Scope
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start

DIMENSIONS = ("value_tier", "aum_tier", "segment", "cluster")


def client_segments(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """client_id, aum, aum_tier, value_tier, actual, potential, growth, value_score, segment
    (RFM code), rfm_code, cluster (0 = largest) for every client in scope.

    A segmentation whose data the snapshot was not given (``analytics.coverage``: value tiers and
    scores need holdings, RFM transactions, clusters holdings) is left unknown (None / NaN), not
    computed from empty tables; the AUM and the held AUM tier are always there."""
    if coverage.has(wh, "value"):
        tiers = value.value_tiers(wh, scope, as_of)[
            ["client_id", "aum", "aum_tier", "value_tier", "actual", "potential", "growth"]
        ]
        scores = value.value_scores(wh, scope, as_of)[["client_id", "value_score"]]
        out = tiers.merge(scores, on="client_id", how="left")
    else:
        out = aum_tiers(wh, scope, as_of).assign(
            value_tier=None, actual=np.nan, potential=np.nan, growth=np.nan, value_score=np.nan
        )
    if coverage.has(wh, "rfm"):
        segs = rfm.retail_rfm(wh, scope, as_of)[["client_id", "segment", "rfm_code"]]
        out = out.merge(segs, on="client_id", how="left")
    else:
        out = out.assign(segment=None, rfm_code=None)
    if coverage.has(wh, "clusters"):
        groups = clusters.behaviour_clusters(wh, scope, as_of).assignments
        out = out.merge(groups, on="client_id", how="left")
    else:
        out = out.assign(cluster=np.nan)
    return out.sort_values("client_id", ignore_index=True)


def aum_tiers(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """client_id, aum (yuan) and aum_tier (held tier code) of every client in scope at the
    month-end picked by ``as_of`` (the latest on or before it; default the latest): the same
    population and values as ``value.value_tiers`` (a client without an AUM row that month has
    AUM 0, tier mass), without the contribution."""
    month, _ = month_and_anchor(wh, as_of)
    names = tier_names()
    if month is None:
        return pd.DataFrame({"client_id": pd.Series(dtype=object), "aum": [], "aum_tier": []})
    held, held_params = held_tiers_sql(scope, first=tier_window_start(month), last=month)
    where, params = scope.where("c")
    df = wh.query(
        f"""
        WITH held AS (SELECT client_id, tier, aum FROM ({held}) WHERE month_end = ?)
        SELECT c.client_id, COALESCE(h.aum, 0)::DOUBLE AS aum, COALESCE(h.tier, 0) AS tier
        FROM clients c LEFT JOIN held h USING (client_id)
        WHERE {where}
        ORDER BY c.client_id
        """,
        [*held_params, month, *params],
    )
    df["aum_tier"] = [names[int(t)] for t in df["tier"]]
    return df[["client_id", "aum", "aum_tier"]]


def segment_counts(frame: pd.DataFrame, dimension: str, order: list | tuple) -> pd.DataFrame:
    """Clients, AUM and contribution per segment of one dimension, in ``order`` (every segment
    present, 0 where empty), with each as a share of the total."""
    g = frame.groupby(dimension).agg(
        clients=("client_id", "size"), aum=("aum", "sum"), contribution=("actual", "sum")
    )
    g = g.reindex(list(order), fill_value=0).rename_axis(dimension).reset_index()
    for col in ("clients", "aum", "contribution"):
        total = g[col].sum()
        g[f"{col}_share"] = g[col] / total if total else 0.0
    return g


def cross_table(frame: pd.DataFrame, rows: str = "value_tier", cols: str = "aum_tier"):
    """Client counts of value tier x AUM tier (every combination, highest AUM tier first)."""
    row_order = list(value.VALUE_TIERS) if rows == "value_tier" else sorted(frame[rows].unique())
    col_order = tier_names()[::-1] if cols == "aum_tier" else sorted(frame[cols].unique())
    return (
        pd.crosstab(frame[rows], frame[cols])
        .reindex(index=row_order, columns=col_order, fill_value=0)
        .astype("int64")
    )


def members(frame: pd.DataFrame, **filters) -> pd.DataFrame:
    """The client ids of one segment or cell: ``members(frame, value_tier="MVC")``."""
    mask = pd.Series(True, index=frame.index)
    for column, wanted in filters.items():
        mask &= frame[column] == wanted
    return frame.loc[mask, ["client_id"]].reset_index(drop=True)
