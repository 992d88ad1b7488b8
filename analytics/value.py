"""Client value: contribution, value tiers (Peppers & Rogers) and the client value score.

Definitions (DESIGN.md §3; every rate, share and weight from settings.toml):

- **Contribution** (actual value A, 贡献度): over the ``[contribution] lookback_months`` month-ends up
  to ``as_of``, each month's balance (``COALESCE(avg_balance, balance)``, i.e. 月日均 where
  measured) earns its product category's yearly rate / 12; fund purchases in the window earn the
  subscription fee; bank-insurance policies started in the window earn ``insurance_first_year`` of
  the annual premium; minus the cost to serve (a yearly fixed cost per client, not prorated, plus a
  cost per client-initiated counter transaction in the window). Components are rounded to the fen
  and ``contribution`` is their sum. Every client of the population has a row (0 where nothing
  happened, so a client with no business at all has A = − the fixed cost).
- **Value tiers**: potential P = the ``potential_percentile`` quantile (linear interpolation, as
  numpy's default) of A among look-alikes: same branch × age band (``age_band_years`` wide from
  ``age_band_start``; younger clients join the first band) × occupation × held AUM tier at
  ``as_of`` (with the downgrade rule of ``analytics.tiers``); clients whose age or occupation the
  bank's roster does not give (NULL) are look-alikes of each other. BZ if A < 0. The other clients of the
  branch are sorted by A (highest first, ties by client_id ascending) and the first
  ``ceil(mvc_top_share × their number)`` are MVC (so the MVC share is of the non-BZ clients). The
  rest are sorted by growth P − A the same way and the first ``ceil(mgc_top_share × their number)``
  with a positive growth are MGC (a client with nothing to grow into is not a growth client);
  everyone else is LVC.
- **Client value score** (0–100): the ``[value_score]`` weighted mean of percentile ranks of AUM at
  ``as_of``, contribution, product breadth (distinct product categories held at ``as_of``, counting
  bank-insurance policies started by then), activity (client-initiated transactions plus
  mobile-banking logins in the contribution window, each event counting once) and tenure (days
  from ``open_date`` to ``as_of``). A percentile rank is the share of the branch's clients with a
  different value that this client is above: 100 for the highest value (ties included), 0 for the
  lowest, equal values share a rank; a branch where everyone is equal gives everyone 100.

**Populations.** Ranks, percentiles and look-alike groups are taken within the client's own
branch, over all clients of the branches the viewer's scope touches (for an RM, their branch), so a
client's value tier and score do not depend on who is looking. Only the returned rows are filtered
to the scope, in SQL.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics import coverage
from analytics.access import Scope
from analytics.settings import fund_categories, load_settings
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names

MONTHS_PER_YEAR = 12  # calendar, not a business rule: yearly rates accrue by twelfths
VALUE_TIERS = ("MVC", "MGC", "LVC", "BZ")
# ``[funds] categories`` (read once, when the module is imported; the one definition of a fund).
FUND_CATEGORIES = fund_categories()

# Balance-based components: (output column, product categories, [contribution] rate key).
BALANCE_COMPONENTS = (
    ("current_deposit", ("current_deposit",), "current_deposit_spread"),
    ("time_deposit", ("time_deposit", "large_cd"), "time_deposit_spread"),
    ("savings_bond", ("savings_bond",), "savings_bond_fee"),
    ("wealth", ("wealth",), "wealth_fee"),
    ("fund_trailing", FUND_CATEGORIES, "fund_trailing_fee"),
    ("precious_metal", ("precious_metal",), "precious_metal_fee"),
    ("trust", ("trust",), "trust_fee"),
)
REVENUE_COLUMNS = (
    "current_deposit",
    "time_deposit",
    "savings_bond",
    "wealth",
    "fund_trailing",
    "fund_subscription",
    "insurance",
    "precious_metal",
    "trust",
)
CONTRIBUTION_COLUMNS = (*REVENUE_COLUMNS, "cost_to_serve", "contribution")
SCORE_COMPONENTS = ("aum", "contribution", "product_breadth", "activity", "tenure")


# ---------------------------------------------------------------------------- helpers


def latest_month(wh: Database) -> date | None:
    """The snapshot's latest month-end in ``client_aum_monthly`` (None when empty)."""
    value = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
    return None if value is None else pd.Timestamp(value).date()


def window_start(as_of: date, months: int) -> date:
    """The exclusive start of the ``months``-month window ending at ``as_of`` (inclusive)."""
    return (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()


def population_scope(wh: Database, scope: Scope) -> Scope:
    """The scope whose clients form the ranking population: every client of the branches that
    ``scope`` touches (an RM's scope widens to their clients' branches)."""
    if scope.role != "rm":
        return scope
    where, params = scope.where("c")
    df = wh.query(f"SELECT DISTINCT c.branch_id FROM clients c WHERE {where} ORDER BY 1", params)
    branches = tuple(df["branch_id"])
    if not branches:
        return scope  # an RM without clients: the population is (their) nobody
    return Scope("manager", branches, viewer_id=scope.viewer_id)


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _contribution_sql(pop: Scope, as_of: date, settings: dict) -> tuple[str, list]:
    """SQL of a relation (client_id, branch_id, rm_id, *CONTRIBUTION_COLUMNS) for the clients in
    ``pop``, with its parameters in order."""
    c = settings["contribution"]
    start = window_start(as_of, int(c["lookback_months"]))
    where, params = pop.where("c")
    bal_cols = []
    for name, cats, key in BALANCE_COMPONENTS:
        bal_cols.append(
            f"ROUND(COALESCE(SUM(COALESCE(h.avg_balance, h.balance))"
            f" FILTER (WHERE p.category IN ({_marks(cats)})), 0)::DOUBLE"
            f" * ? / {MONTHS_PER_YEAR}, 2) AS {name}"
        )
        params += [*cats, float(c[key])]
    params += [start, as_of]
    params += [*FUND_CATEGORIES, float(c["fund_subscription_fee"]), start, as_of]
    params += [float(c["insurance_first_year"]), start, as_of]
    params += [float(c["cost_to_serve_per_year"]), float(c["cost_per_counter_txn"])]
    outer = ", ".join(f"COALESCE({name}, 0)::DOUBLE AS {name}" for name in REVENUE_COLUMNS)
    total = " + ".join(REVENUE_COLUMNS)
    sql = f"""
        WITH pop AS (SELECT c.client_id, c.branch_id, c.rm_id FROM clients c WHERE {where}),
        bal AS (
            SELECT h.client_id, {", ".join(bal_cols)}
            FROM holdings_monthly h JOIN pop USING (client_id) JOIN products p USING (product_id)
            WHERE h.month_end > ? AND h.month_end <= ?
            GROUP BY h.client_id
        ),
        txn AS (
            SELECT t.client_id,
                   ROUND(COALESCE(SUM(t.amount) FILTER (
                       WHERE t.txn_type = 'purchase' AND p.category IN ({_marks(FUND_CATEGORIES)})
                   ), 0)::DOUBLE * ?, 2) AS fund_subscription,
                   COUNT(*) FILTER (WHERE t.channel = 'counter' AND t.client_initiated)
                       AS counter_txns
            FROM transactions t JOIN pop USING (client_id)
            LEFT JOIN products p ON p.product_id = t.product_id
            WHERE t.txn_date > ? AND t.txn_date <= ?
            GROUP BY t.client_id
        ),
        ins AS (
            SELECT i.client_id, ROUND(SUM(i.annual_premium)::DOUBLE * ?, 2) AS insurance
            FROM insurance_policies i JOIN pop USING (client_id)
            WHERE i.start_date > ? AND i.start_date <= ?
            GROUP BY i.client_id
        ),
        parts AS (
            SELECT pop.client_id, pop.branch_id, pop.rm_id, {outer},
                   ROUND(? + ? * COALESCE(txn.counter_txns, 0), 2)::DOUBLE AS cost_to_serve
            FROM pop LEFT JOIN bal USING (client_id) LEFT JOIN txn USING (client_id)
            LEFT JOIN ins USING (client_id)
        )
        SELECT *, ROUND({total} - cost_to_serve, 2) AS contribution FROM parts
    """
    return sql, params


def _resolve_as_of(wh: Database, as_of: date | None) -> date | None:
    return latest_month(wh) if as_of is None else pd.Timestamp(as_of).date()


# ---------------------------------------------------------------------------- contribution


def contribution(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Each client's contribution over the window ending at ``as_of`` (default: the latest
    month-end): client_id, branch_id, rm_id, current_deposit, time_deposit, savings_bond, wealth,
    fund_trailing, fund_subscription, insurance, precious_metal, trust, cost_to_serve (positive)
    and contribution (yuan, = revenues − cost_to_serve). One row per client in scope."""
    settings = load_settings()
    as_of = _resolve_as_of(wh, as_of)
    cols = ["client_id", "branch_id", "rm_id", *CONTRIBUTION_COLUMNS]
    if as_of is None:
        return pd.DataFrame(columns=cols)
    sql, params = _contribution_sql(scope, as_of, settings)
    return wh.query(f"SELECT * FROM ({sql}) ORDER BY client_id", params)[cols]


# ---------------------------------------------------------------------------- value tiers


def value_tiers(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Peppers & Rogers value tier of each client in scope at ``as_of`` (default: latest month).

    Columns: client_id, branch_id, rm_id, aum (yuan at as_of), aum_tier (held tier code),
    age_band (lower age of the band), occupation, peers (look-alike group size incl. the client),
    actual (A, yuan), potential (P), growth (P − A) and value_tier ('MVC', 'MGC', 'LVC', 'BZ').
    The tier is computed within the client's branch (module docstring), whoever is viewing.
    """
    settings = load_settings()
    as_of = _resolve_as_of(wh, as_of)
    cols = [
        "client_id",
        "branch_id",
        "rm_id",
        "aum",
        "aum_tier",
        "age_band",
        "occupation",
        "peers",
        "actual",
        "potential",
        "growth",
        "value_tier",
    ]
    if as_of is None:
        return pd.DataFrame(columns=cols)
    vt = settings["value_tiers"]
    pop = population_scope(wh, scope)
    contrib_sql, contrib_params = _contribution_sql(pop, as_of, settings)
    held_sql, held_params = held_tiers_sql(pop, settings)
    out_where, out_params = scope.where("c")
    sql = f"""
        WITH contrib AS ({contrib_sql}),
        held AS (SELECT client_id, tier, aum FROM ({held_sql}) WHERE month_end = ?),
        base AS (
            SELECT k.client_id, k.branch_id, k.rm_id, k.contribution AS actual,
                   COALESCE(h.aum, 0)::DOUBLE AS aum, COALESCE(h.tier, 0) AS aum_tier,
                   GREATEST(0, (date_sub('year', cl.birth_date, ?::DATE) - ?) // ?) AS band,
                   cl.occupation
            FROM contrib k JOIN clients cl USING (client_id) LEFT JOIN held h USING (client_id)
        ),
        peers AS (
            SELECT branch_id, band, occupation, aum_tier, COUNT(*) AS peers,
                   ROUND(quantile_cont(actual, ?), 2) AS potential
            FROM base GROUP BY ALL
        ),
        scored AS (
            SELECT b.*, p.peers, p.potential, ROUND(p.potential - b.actual, 2) AS growth,
                   ROW_NUMBER() OVER (PARTITION BY b.branch_id, b.actual < 0
                                      ORDER BY b.actual DESC, b.client_id) AS a_pos,
                   COUNT(*) OVER (PARTITION BY b.branch_id, b.actual < 0) AS a_n
            FROM base b JOIN peers p
              ON p.branch_id = b.branch_id AND p.aum_tier = b.aum_tier
             AND p.band IS NOT DISTINCT FROM b.band  -- an unknown age or occupation (NULL in
             AND p.occupation IS NOT DISTINCT FROM b.occupation  -- an import) is a group too
        ),
        top AS (
            SELECT *, CASE WHEN actual < 0 THEN 'BZ'
                           WHEN a_pos <= CEIL(ROUND(? * a_n, 9)) THEN 'MVC' END AS first_cut
            FROM scored
        ),
        rest AS (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY branch_id, first_cut IS NULL
                                         ORDER BY growth DESC, client_id) AS g_pos,
                      COUNT(*) OVER (PARTITION BY branch_id, first_cut IS NULL) AS g_n
            FROM top
        )
        SELECT r.client_id, r.branch_id, r.rm_id, r.aum, r.aum_tier,
               ? + r.band * ? AS age_band, r.occupation, r.peers,
               r.actual, r.potential, r.growth,
               COALESCE(r.first_cut, CASE WHEN r.g_pos <= CEIL(ROUND(? * r.g_n, 9))
                                           AND r.growth > 0 THEN 'MGC' ELSE 'LVC' END)
                   AS value_tier
        FROM rest r JOIN clients c USING (client_id)
        WHERE {out_where}
        ORDER BY r.client_id
    """
    start, width = int(vt["age_band_start"]), int(vt["age_band_years"])
    params = [
        *contrib_params,
        *held_params,
        as_of,
        as_of,
        start,
        width,
        float(vt["potential_percentile"]),
        float(vt["mvc_top_share"]),
        start,
        width,
        float(vt["mgc_top_share"]),
        *out_params,
    ]
    df = wh.query(sql, params)
    names = tier_names(settings)
    df["aum_tier"] = [names[int(t)] for t in df["aum_tier"]]
    return df[cols]


def value_tier_summary(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Per value tier (always all four, in VALUE_TIERS order): value_tier, clients, aum (yuan at
    as_of), contribution (yuan), and client_share, aum_share, contribution_share of the scope's
    totals (the contribution share is of the net total, so BZ's share is negative)."""
    df = value_tiers(wh, scope, as_of)
    g = (
        df.groupby("value_tier")
        .agg(clients=("client_id", "size"), aum=("aum", "sum"), contribution=("actual", "sum"))
        .reindex(list(VALUE_TIERS), fill_value=0)
        .rename_axis("value_tier")
        .reset_index()
        .astype({"clients": "int64", "aum": "float64", "contribution": "float64"})
    )
    for col, share in (
        ("clients", "client_share"),
        ("aum", "aum_share"),
        ("contribution", "contribution_share"),
    ):
        total = g[col].sum()
        g[share] = g[col] / total if total else 0.0
    return g


# ---------------------------------------------------------------------------- value score


def _pct_rank_sql(col: str) -> str:
    """Percentile rank 0–100 of ``col`` within branch (module docstring)."""
    below = f"(RANK() OVER (PARTITION BY branch_id ORDER BY {col}) - 1)"
    above = f"(RANK() OVER (PARTITION BY branch_id ORDER BY {col} DESC) - 1)"
    return f"100.0 * COALESCE({below}::DOUBLE / NULLIF({below} + {above}, 0), 1.0)"


def value_scores(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Client value score (客户价值评估) of each client in scope at ``as_of`` (default: latest).

    Columns: client_id, branch_id, rm_id, the raw components aum (yuan), contribution (yuan),
    product_breadth (categories), activity (events), tenure_days, their percentile ranks within
    the branch on 0–100 (aum_rank, contribution_rank, product_breadth_rank, activity_rank,
    tenure_rank) and value_score (0–100) = Σ weight × rank / Σ weight with ``[value_score]``.
    """
    settings = load_settings()
    as_of = _resolve_as_of(wh, as_of)
    raw = ["aum", "contribution", "product_breadth", "activity", "tenure_days"]
    ranks = [f"{name}_rank" for name in SCORE_COMPONENTS]
    cols = ["client_id", "branch_id", "rm_id", *raw, *ranks, "value_score"]
    if as_of is None:
        return pd.DataFrame(columns=cols)
    weights = {name: float(settings["value_score"][name]) for name in SCORE_COMPONENTS}
    start = window_start(as_of, int(settings["contribution"]["lookback_months"]))
    pop = population_scope(wh, scope)
    contrib_sql, contrib_params = _contribution_sql(pop, as_of, settings)
    out_where, out_params = scope.where("c")
    rank_cols = ", ".join(
        f"{_pct_rank_sql(src)} AS {name}_rank"
        for name, src in zip(SCORE_COMPONENTS, raw, strict=True)
    )
    score = " + ".join(f"? * {name}_rank" for name in SCORE_COMPONENTS)
    sql = f"""
        WITH contrib AS ({contrib_sql}),
        aum AS (
            SELECT client_id, aum FROM client_aum_monthly
            WHERE month_end = ? AND client_id IN (SELECT client_id FROM contrib)
        ),
        breadth AS (
            SELECT client_id, COUNT(DISTINCT category) AS product_breadth FROM (
                SELECT h.client_id, p.category
                FROM holdings_monthly h JOIN products p USING (product_id)
                WHERE h.month_end = ?
                UNION ALL
                SELECT i.client_id, p.category
                FROM insurance_policies i JOIN products p USING (product_id)
                WHERE i.start_date <= ?
            ) WHERE client_id IN (SELECT client_id FROM contrib)
            GROUP BY client_id
        ),
        activity AS (
            SELECT client_id, SUM(n) AS activity FROM (
                SELECT client_id, COUNT(*) AS n FROM transactions
                WHERE client_initiated AND txn_date > ? AND txn_date <= ?
                GROUP BY client_id
                UNION ALL
                SELECT client_id, SUM(mobile_logins) AS n FROM digital_activity
                WHERE month_end > ? AND month_end <= ?
                GROUP BY client_id
            ) WHERE client_id IN (SELECT client_id FROM contrib)
            GROUP BY client_id
        ),
        base AS (
            SELECT k.client_id, k.branch_id, k.rm_id,
                   COALESCE(a.aum, 0)::DOUBLE AS aum, k.contribution,
                   COALESCE(b.product_breadth, 0)::BIGINT AS product_breadth,
                   COALESCE(v.activity, 0)::BIGINT AS activity,
                   GREATEST(0, date_diff('day', cl.open_date, ?::DATE))::BIGINT AS tenure_days
            FROM contrib k JOIN clients cl USING (client_id)
            LEFT JOIN aum a USING (client_id) LEFT JOIN breadth b USING (client_id)
            LEFT JOIN activity v USING (client_id)
        ),
        ranked AS (SELECT *, {rank_cols} FROM base)
        SELECT r.*, ROUND(({score}) / ?, 2) AS value_score
        FROM ranked r JOIN clients c USING (client_id)
        WHERE {out_where}
        ORDER BY r.client_id
    """
    params = [
        *contrib_params,
        as_of,
        as_of,
        as_of,
        start,
        as_of,
        start,
        as_of,
        as_of,
        *weights.values(),
        sum(weights.values()),
        *out_params,
    ]
    return wh.query(sql, params)[cols]


def client_scores(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Per client in scope: value_score (0-100) and value_tier (MVC/MGC/LVC/BZ), the two
    columns every client list shows. Empty when the snapshot has no holdings to value
    (``analytics.coverage``: a roster-only import), so lists show no score rather than a made-up
    one."""
    if not coverage.has(wh, "value"):
        return pd.DataFrame(
            {"client_id": pd.Series(dtype=object), "value_score": pd.Series(dtype="float64"),
             "value_tier": pd.Series(dtype=object)}
        )  # fmt: skip
    scores = value_scores(wh, scope, as_of)[["client_id", "value_score"]]
    tiers = value_tiers(wh, scope, as_of)[["client_id", "value_tier"]]
    return scores.merge(tiers, on="client_id", how="outer")


def pareto_curve(actual: pd.Series, points: int = 101) -> pd.DataFrame:
    """The concentration curve of contribution: for the top x share of clients (ranked by actual
    value, largest first), the share y of the total positive contribution they bring. ``points``
    evenly spaced client shares from 0 to 1 (a plot needs no more)."""
    values = np.sort(np.clip(actual.to_numpy(dtype=float), 0, None))[::-1]
    if len(values) == 0 or values.sum() == 0:
        return pd.DataFrame({"client_share": [0.0, 1.0], "value_share": [0.0, 1.0]})
    cum = np.concatenate([[0.0], np.cumsum(values) / values.sum()])
    x = np.linspace(0, 1, points)
    y = np.interp(x * len(values), np.arange(len(values) + 1), cum)
    return pd.DataFrame({"client_share": x, "value_share": y})
