"""Behaviour clusters (行为聚类): k-means groups of the clients a viewer is looking at.

The population is the scope's clients with an AUM row at the chosen month-end (``as_of``, default
the snapshot's last month-end; otherwise the latest month-end on or before it), so the clusters
describe the viewer's own book or branch. Features per client (codes in ``FEATURES``):

- ``age``: full years at the month-end, from ``clients.birth_date``.
- ``aum``: that month's AUM (``client_aum_monthly.aum``, yuan); modelled as log1p.
- ``deposit_share``: share of the month's balances (average daily where measured, else month-end)
  in ``[clusters] deposit_categories`` (current and time deposits, large CDs); 0 without holdings.
- ``investment_share``: share in ``[clusters] investment_categories`` (wealth products, funds,
  trusts).
- ``breadth``: number of distinct product categories with a positive month-end balance.
- ``transactions``: client-initiated transactions in the ``[clusters] lookback_months`` months up
  to the month-end; modelled as log1p.
- ``mobile_logins``: mobile-banking logins over the same months' month-ends; modelled as log1p.
- ``tenure``: years since ``clients.open_date``.

An age or tenure the bank's roster does not give (NULL birth or opening date) is NaN in
``client_features`` and the population's mean in the model (it pulls no cluster either way); the
profiles' means are over the clients whose value is known.

Method: the model features are standardised (``StandardScaler`` over the whole population), k-means
(``KMeans`` with a fixed ``random_state`` and ``n_init``) is fitted for every k in
``[k_min, k_max]`` on a deterministic sample of at most ``fit_sample`` clients, k is the one with
the best silhouette score (computed on ``silhouette_sample`` clients; ties go to the smaller k),
and every client is then assigned to its nearest centre. Clusters are numbered 0.. by size, largest
first. The same data and seed give the same result.

A cluster's traits are the features where its mean differs most from the whole population's, as a
standardised mean difference d = (cluster mean - population mean) / population standard deviation
on the model scale; at most ``max_traits`` features with |d| >= ``trait_min_d``, strongest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

FEATURES = (
    "age",
    "aum",
    "deposit_share",
    "investment_share",
    "breadth",
    "transactions",
    "mobile_logins",
    "tenure",
)
# Features modelled on a log1p scale (heavy right tails).
LOG_FEATURES = ("aum", "transactions", "mobile_logins")


@dataclass
class ClusterResult:
    """The clusters of one population.

    - ``assignments``: client_id, cluster (0 = the largest cluster).
    - ``profiles``: cluster, size, share, and the mean of each feature in natural units (aum in
      yuan, transactions and mobile_logins as counts over the lookback, tenure in years).
    - ``traits``: cluster -> [(feature, 'high' | 'low'), ...], strongest difference first.
    - ``effects``: cluster x feature standardised mean differences d (index cluster).
    - ``k``: the number of clusters chosen (0 for an empty population, 1 when too few clients).
    - ``silhouette``: k -> silhouette score for every k tried.
    - ``month_end``: the month-end the features describe.
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    traits: dict[int, list[tuple[str, str]]]
    effects: pd.DataFrame
    k: int
    silhouette: dict[int, float] = field(default_factory=dict)
    month_end: date | None = None


def _months_back(month: date, months: int) -> date:
    return (pd.Timestamp(month) - pd.DateOffset(months=months)).date()


def client_features(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """The features of every client in scope at the month-end picked by ``as_of``: client_id and
    one column per ``FEATURES`` code, natural units, sorted by client_id."""
    cfg = load_settings()["clusters"]
    if as_of is None:
        month = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
    else:
        month = wh.scalar(
            "SELECT MAX(month_end) FROM client_aum_monthly WHERE month_end <= ?", [as_of]
        )
    if month is None:
        return pd.DataFrame(columns=["client_id", *FEATURES])
    lookback = int(cfg["lookback_months"])
    first_month = (pd.Timestamp(_months_back(month, lookback - 1)).replace(day=1)).date()
    where, where_params = scope.where("a")
    df = wh.query(
        f"""
        WITH pop AS (
            SELECT a.client_id, a.aum FROM client_aum_monthly a WHERE a.month_end = ? AND {where}
        ),
        hold AS (
            SELECT m.client_id,
                   SUM(COALESCE(m.avg_balance, m.balance)) AS total,
                   SUM(COALESCE(m.avg_balance, m.balance))
                       FILTER (WHERE list_contains(?::VARCHAR[], p.category)) AS deposits,
                   SUM(COALESCE(m.avg_balance, m.balance))
                       FILTER (WHERE list_contains(?::VARCHAR[], p.category)) AS investments,
                   COUNT(DISTINCT p.category) FILTER (WHERE m.balance > 0) AS breadth
            FROM holdings_monthly m JOIN products p USING (product_id) SEMI JOIN pop USING (client_id)
            WHERE m.month_end = ?
            GROUP BY m.client_id
        ),
        txn AS (
            SELECT x.client_id, COUNT(*) AS n
            FROM transactions x SEMI JOIN pop USING (client_id)
            WHERE x.client_initiated AND x.txn_date > ? AND x.txn_date <= ?
            GROUP BY x.client_id
        ),
        dig AS (
            SELECT d.client_id, SUM(d.mobile_logins) AS n
            FROM digital_activity d SEMI JOIN pop USING (client_id)
            WHERE d.month_end >= ? AND d.month_end <= ?
            GROUP BY d.client_id
        )
        SELECT u.client_id,
               date_sub('year', c.birth_date, ?::DATE)::DOUBLE AS age,
               u.aum::DOUBLE AS aum,
               COALESCE(h.deposits / NULLIF(h.total, 0), 0)::DOUBLE AS deposit_share,
               COALESCE(h.investments / NULLIF(h.total, 0), 0)::DOUBLE AS investment_share,
               COALESCE(h.breadth, 0)::DOUBLE AS breadth,
               COALESCE(t.n, 0)::DOUBLE AS transactions,
               COALESCE(g.n, 0)::DOUBLE AS mobile_logins,
               (date_diff('day', c.open_date, ?::DATE) / 365.25)::DOUBLE AS tenure
        FROM pop u JOIN clients c USING (client_id)
        LEFT JOIN hold h USING (client_id)
        LEFT JOIN txn t USING (client_id)
        LEFT JOIN dig g USING (client_id)
        ORDER BY u.client_id
        """,
        [
            month,
            *where_params,
            list(cfg["deposit_categories"]),
            list(cfg["investment_categories"]),
            month,
            _months_back(month, lookback),
            month,
            first_month,
            month,
            month,
            month,
        ],
    )
    df.attrs["month_end"] = month
    return df


def _model_matrix(features: pd.DataFrame) -> np.ndarray:
    x = features[list(FEATURES)].astype("float64").copy()
    for col in LOG_FEATURES:
        x[col] = np.log1p(x[col].clip(lower=0))
    # An unknown age or tenure (no birth or opening date in the bank's roster) takes the
    # population's mean, so it pulls a client towards no cluster; a feature nobody has is 0.
    x = x.fillna(x.mean()).fillna(0.0)
    # Rounded so that float noise (a share of 0.49999997 for 0.5) is not blown up to a whole
    # standard deviation by the scaler when a feature barely varies.
    return x.to_numpy().round(6)


def behaviour_clusters(
    wh: Database, scope: Scope, as_of: date | None = None, seed: int | None = None
) -> ClusterResult:
    """Cluster the scope's clients by behaviour (see the module docstring for the method)."""
    cfg = load_settings()["clusters"]
    seed = int(cfg["random_state"] if seed is None else seed)
    features = client_features(wh, scope, as_of)
    month = features.attrs.get("month_end")
    n = len(features)
    if n == 0:
        return ClusterResult(
            assignments=pd.DataFrame(
                {"client_id": pd.Series(dtype="str"), "cluster": pd.Series(dtype="int64")}
            ),
            profiles=pd.DataFrame(columns=["cluster", "size", "share", *FEATURES]),
            traits={},
            effects=pd.DataFrame(columns=list(FEATURES)),
            k=0,
            month_end=month,
        )

    z = StandardScaler().fit_transform(_model_matrix(features))
    fit_sample = int(cfg["fit_sample"])
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, fit_sample, replace=False)) if n > fit_sample else np.arange(n)
    zs = z[idx]
    distinct = len(np.unique(zs, axis=0))
    scores: dict[int, float] = {}
    best: KMeans | None = None
    for k in range(int(cfg["k_min"]), int(cfg["k_max"]) + 1):
        if k >= distinct:  # silhouette needs 2 <= k <= samples - 1 and k distinct points
            break
        model = KMeans(n_clusters=k, random_state=seed, n_init=int(cfg["n_init"])).fit(zs)
        if len(np.unique(model.labels_)) < 2:
            continue
        try:
            score = silhouette_score(
                zs,
                model.labels_,
                sample_size=min(len(zs), int(cfg["silhouette_sample"])),
                random_state=seed,
            )
        except ValueError:  # the silhouette sample drew a single cluster
            continue
        scores[k] = float(score)
        if best is None or score > scores[best.n_clusters]:
            best = model

    labels = best.predict(z) if best is not None else np.zeros(n, dtype=int)
    # Number clusters by size, largest first (ties: the model's order), so names are stable.
    sizes = np.bincount(labels)
    order = sorted(np.unique(labels), key=lambda c: (-sizes[c], c))
    relabel = np.zeros(len(sizes), dtype="int64")
    relabel[order] = np.arange(len(order))
    labels = relabel[labels]
    k = len(order)

    assignments = pd.DataFrame({"client_id": features["client_id"], "cluster": labels})
    natural = features[list(FEATURES)].astype("float64").assign(cluster=labels)
    profiles = natural.groupby("cluster").mean()
    profiles.insert(0, "size", np.bincount(labels))
    profiles.insert(1, "share", profiles["size"] / n)
    profiles = profiles.reset_index()

    effects = (
        pd.DataFrame(z, columns=list(FEATURES)).assign(cluster=labels).groupby("cluster").mean()
    )
    min_d, top = float(cfg["trait_min_d"]), int(cfg["max_traits"])
    traits: dict[int, list[tuple[str, str]]] = {}
    for cluster, row in effects.iterrows():
        ranked = sorted(
            ((f, float(row[f])) for f in FEATURES if abs(row[f]) >= min_d),
            key=lambda fd: (-abs(fd[1]), FEATURES.index(fd[0])),
        )
        traits[int(cluster)] = [(f, "high" if d > 0 else "low") for f, d in ranked[:top]]
    return ClusterResult(
        assignments=assignments,
        profiles=profiles,
        traits=traits,
        effects=effects,
        k=k,
        silhouette=scores,
        month_end=month,
    )
