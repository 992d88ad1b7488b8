"""RFM scores and the eight classic segments (DESIGN.md §3).

``rfm_scores`` is generic (retail here, corporate elsewhere with other columns):

- **Scores by quintile of rank.** Each dimension is ordered from worst to best — R by days
  descending (the most recent is best), F and M ascending — with ties broken by ``key``
  ascending, so the order is total and the result deterministic. Equal values may therefore land
  in different quintiles, and only by key order (the lower key gets the lower score). Row ``i``
  (0-based) of ``n`` gets score ``floor((2i + 1) × q / 2n) + 1``: its centre position's quantile.
  With n ≥ q the q scores hold ⌊n/q⌋ or ⌈n/q⌉ rows each; with fewer rows than quintiles the rows
  still spread symmetrically over 1..q (one row scores the middle, e.g. 3; two score 2 and 4).
  A missing value (NaN) counts as the worst.
- **Segments.** A score is *high* when it is strictly above the mean of that dimension's scores
  over the same rows (a score equal to the mean is low; with complete quintiles the mean is 3, so
  4–5 is high and 1–3 low). The eight segments by (R, F, M) high/low are ``SEGMENTS``:
  important_value 重要价值 (HHH), important_develop 重要发展 (HLH), important_keep 重要保持 (LHH),
  important_retain 重要挽留 (LLH), general_value 一般价值 (HHL), general_develop 一般发展 (HLL),
  general_keep 一般保持 (LHL), general_retain 一般挽留 (LLL).

``retail_rfm`` scores every client of the branches the viewer's scope touches within their own
branch (as ``analytics.value`` does), so a client's segment does not depend on who is viewing;
only the returned rows are filtered to the scope, in SQL.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database
from analytics.value import latest_month, population_scope, window_start

SEGMENTS = (
    "important_value",
    "important_develop",
    "important_keep",
    "important_retain",
    "general_value",
    "general_develop",
    "general_keep",
    "general_retain",
)
# (R high, F high, M high) -> segment
_SEGMENT_OF = {
    (True, True, True): "important_value",
    (True, False, True): "important_develop",
    (False, True, True): "important_keep",
    (False, False, True): "important_retain",
    (True, True, False): "general_value",
    (True, False, False): "general_develop",
    (False, True, False): "general_keep",
    (False, False, False): "general_retain",
}
SCORE_COLUMNS = ("r_score", "f_score", "m_score", "rfm_code", "segment")


def _quintile_scores(values: pd.Series, keys: pd.Series, best_high: bool, q: int) -> np.ndarray:
    """Scores 1..q of ``values`` (module docstring), aligned with the input rows."""
    n = len(values)
    order = pd.DataFrame({"v": values.to_numpy(), "k": keys.to_numpy()})
    # worst first: ascending when higher is better, descending when lower is better; NaN worst
    order = order.sort_values(
        ["v", "k"], ascending=[best_high, True], na_position="first", kind="mergesort"
    )
    pos = np.empty(n, dtype=np.int64)
    pos[order.index.to_numpy()] = np.arange(n)
    return (2 * pos + 1) * q // (2 * n) + 1


def rfm_scores(
    df: pd.DataFrame,
    recency: str,
    frequency: str,
    monetary: str,
    key: str = "client_id",
    quintiles: int | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with r_score, f_score, m_score (1..quintiles), rfm_code (e.g. '545') and
    segment (one of ``SEGMENTS``). ``recency`` is in days (fewer is better); ``frequency`` and
    ``monetary``: more is better. ``quintiles`` defaults to ``[rfm] quintiles``. With ``by``, scores
    and means are computed within each group of that column (e.g. per branch)."""
    q = int(quintiles if quintiles is not None else load_settings()["rfm"]["quintiles"])
    out = df.copy()
    if out.empty:
        for col in SCORE_COLUMNS:
            out[col] = pd.Series(dtype="int64" if col.endswith("_score") else "object")
        return out
    groups = [out] if by is None else [g for _, g in out.groupby(by, sort=True, dropna=False)]
    parts = []
    for g in groups:
        g = g.reset_index(names="_row")
        r = _quintile_scores(g[recency], g[key], best_high=False, q=q)
        f = _quintile_scores(g[frequency], g[key], best_high=True, q=q)
        m = _quintile_scores(g[monetary], g[key], best_high=True, q=q)
        high = zip(r > r.mean(), f > f.mean(), m > m.mean(), strict=True)
        parts.append(
            pd.DataFrame(
                {
                    "_row": g["_row"],
                    "r_score": r,
                    "f_score": f,
                    "m_score": m,
                    "segment": [_SEGMENT_OF[(bool(a), bool(b), bool(c))] for a, b, c in high],
                }
            )
        )
    scores = pd.concat(parts).set_index("_row").reindex(out.index)
    for col in ("r_score", "f_score", "m_score"):
        out[col] = scores[col].astype("int64")
    out["rfm_code"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    out["segment"] = scores["segment"].astype(object)
    return out


def retail_rfm(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Retail RFM of every client in scope over the ``[rfm] lookback_months`` up to ``as_of``
    (default: the latest month-end), client-initiated transactions only.

    Columns: client_id, branch_id, rm_id, recency_days (days from the last such transaction to
    as_of; the window's length in days + 1 when there is none), frequency (count), monetary (yuan),
    r_score, f_score, m_score, rfm_code, segment. Scored within each branch (module docstring).
    """
    settings = load_settings()
    cols = ["client_id", "branch_id", "rm_id", "recency_days", "frequency", "monetary"]
    as_of = latest_month(wh) if as_of is None else pd.Timestamp(as_of).date()
    if as_of is None:
        return rfm_scores(pd.DataFrame(columns=cols), "recency_days", "frequency", "monetary")
    start = window_start(as_of, int(settings["rfm"]["lookback_months"]))
    never = (as_of - start).days + 1
    pop = population_scope(wh, scope)
    pop_where, pop_params = pop.where("c")
    out_where, out_params = scope.where("c")
    df = wh.query(
        f"""
        WITH t AS (
            SELECT client_id, MAX(txn_date) AS last_date, COUNT(*) AS frequency,
                   SUM(amount)::DOUBLE AS monetary
            FROM transactions
            WHERE client_initiated AND txn_date > ? AND txn_date <= ?
            GROUP BY client_id
        )
        SELECT c.client_id, c.branch_id, c.rm_id,
               COALESCE(date_diff('day', t.last_date, ?::DATE), ?)::BIGINT AS recency_days,
               COALESCE(t.frequency, 0)::BIGINT AS frequency,
               COALESCE(t.monetary, 0)::DOUBLE AS monetary,
               COALESCE(({out_where}), FALSE) AS in_scope
        FROM clients c LEFT JOIN t USING (client_id)
        WHERE {pop_where}
        ORDER BY c.client_id
        """,
        [start, as_of, as_of, never, *out_params, *pop_params],
    )
    scored = rfm_scores(df, "recency_days", "frequency", "monetary", by="branch_id")
    scored = scored[scored["in_scope"]].drop(columns="in_scope").reset_index(drop=True)
    return scored[[*cols, *SCORE_COLUMNS]]
