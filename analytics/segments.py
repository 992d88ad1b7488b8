"""Segmentation (客群分层): every client in scope with each of their segments, and the cuts the
Segmentation view draws from them.

One frame per scope holds, per client, the held AUM tier, the value tier (MVC/MGC/LVC/BZ) with
actual and potential value, the value score, the RFM segment and the behaviour cluster, so a
segment, bar or cell of any chart is a filter on one table, and its client list is that filter's
client ids (``analytics.client_lists`` then lists them under the scope in SQL).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics import clusters, rfm, value
from analytics.access import Scope
from analytics.store import Database
from analytics.tiers import tier_names

DIMENSIONS = ("value_tier", "aum_tier", "segment", "cluster")


def client_segments(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """client_id, aum, aum_tier, value_tier, actual, potential, growth, value_score, segment
    (RFM code), rfm_code, cluster (0 = largest) for every client in scope."""
    tiers = value.value_tiers(wh, scope, as_of)[
        ["client_id", "aum", "aum_tier", "value_tier", "actual", "potential", "growth"]
    ]
    scores = value.value_scores(wh, scope, as_of)[["client_id", "value_score"]]
    segs = rfm.retail_rfm(wh, scope, as_of)[["client_id", "segment", "rfm_code"]]
    groups = clusters.behaviour_clusters(wh, scope, as_of).assignments
    out = tiers.merge(scores, on="client_id", how="left")
    out = out.merge(segs, on="client_id", how="left")
    out = out.merge(groups, on="client_id", how="left")
    return out.sort_values("client_id", ignore_index=True)


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
