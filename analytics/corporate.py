"""Corporate client value (对公客户价值, DESIGN.md §2–§3 "Corporate"): RFM, lifetime value and
social value of the clients in ``corp_clients``, from ``corp_transactions`` (settlements between
corporate clients) and ``corp_accounts`` (12 months of deposits, loans and fees).

Every business number comes from ``settings.toml`` (``[rfm]``, ``[corporate]``,
``[corporate.social]``). Dates: ``as_of`` defaults to the snapshot's ``meta.as_of`` (the last
month-end); a window of N months is ``(as_of − N months, as_of]``. ``corp_accounts`` holds one
12-month row per client as of the snapshot, so an earlier ``as_of`` moves the settlement windows
only, not the deposit, loan and fee figures.

- **RFM** (``corporate_rfm``): R = days from the last settlement (as payer or payee) to as_of,
  F = settlements per month, M = average daily deposit + 12-month loan interest + 12-month fees.
  Scored and segmented by ``analytics.rfm.rfm_scores`` within each branch.
- **Lifetime value** (``corporate_clv``): the current 12-month profit plus the expected profit of
  the next ``horizon_months`` from two probabilistic models fitted on the settlement history —
  BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") for the number of
  future settlement days and Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary
  Value") for the value per settlement. The fitting and prediction functions (``fit_bgnbd``,
  ``fit_gamma_gamma``, ``expected_transactions``, ``probability_alive``,
  ``expected_average_value``) are pure numpy/scipy and reproduce the published CDNOW estimates
  (tests/test_corporate.py).
- **Social value** (``social_value``, ``payment_network``, ``neighbourhood``): PageRank on the
  bank-wide payment network (``pagerank``: networkx's algorithm on scipy.sparse), number of
  counterparties, payroll headcount and the AUM of retail clients employed by the company,
  combined into an influence score; the neighbourhood view's layout is radial.

**Populations.** Like ``analytics.rfm.retail_rfm`` and ``analytics.value``, scores, model fits,
medians and percentile ranks are computed over every corporate client of the branches the viewer's
scope touches (an RM's scope widens to their corporate clients' branches), within each branch, so
a client's numbers do not depend on who is viewing. Only the returned rows are restricted to the
scope, in SQL. The payment network is bank-wide (PageRank needs the whole graph).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, sparse, special

from analytics.access import AccessDenied, Scope
from analytics.rfm import SCORE_COLUMNS, rfm_scores
from analytics.settings import load_settings
from analytics.snapshot import meta
from analytics.store import Database
from analytics.value import window_start

# Calendar constants, not business rules: the models count time in weeks.
DAYS_PER_WEEK = 7.0
WEEKS_PER_MONTH = 365.25 / 12 / DAYS_PER_WEEK
MONTHS_PER_YEAR = 12

CLIENT_COLUMNS = ["corp_id", "branch_id", "rm_id", "name_zh", "name_en", "industry", "size"]
RFM_COLUMNS = [*CLIENT_COLUMNS, "recency_days", "frequency", "monetary", *SCORE_COLUMNS]
CLV_COLUMNS = [
    *CLIENT_COLUMNS,
    "gross_profit_12m",
    "cost_to_serve_12m",
    "profit_12m",
    "settlement_days",
    "frequency",
    "recency_weeks",
    "T_weeks",
    "p_alive",
    "expected_settlements",
    "value_per_settlement",
    "expected_value_per_settlement",
    "value_model",
    "future_profit",
    "future_profit_discounted",
    "future_cost_discounted",
    "clv",
    "current",
    "future",
    "quadrant",
    "future_value_code",
]
# ``future_value_code`` of corporate_clv: how the future value was reached (the view translates).
FUTURE_VALUE_CODES = ("modelled", "no_settlement")
QUADRANTS = ("high_high", "high_low", "low_high", "low_low")
MATRIX_COLUMNS = [
    "quadrant",
    "current",
    "future",
    "clients",
    "profit_12m",
    "future_profit_discounted",
    "clv",
]
SOCIAL_FACTORS = ("pagerank", "counterparties", "payroll", "linked_aum")
SOCIAL_COLUMNS = [
    *CLIENT_COLUMNS,
    "pagerank",
    "counterparties",
    "payroll_headcount",
    "linked_retail_clients",
    "linked_retail_aum",
    *(f"{name}_pct" for name in SOCIAL_FACTORS),
    "influence",
]
NETWORK_COLUMNS = ["payer_id", "payee_id", "amount", "count", "payer_in_scope", "payee_in_scope"]
NODE_COLUMNS = [
    "corp_id",
    "name_zh",
    "name_en",
    "industry",
    "branch_id",
    "in_scope",
    "is_center",
    "amount",
    "amount_in",
    "amount_out",
    "direction",
    "x",
    "y",
]
EDGE_COLUMNS = ["payer_id", "payee_id", "amount", "count"]

# Log-parameter bounds of the likelihood fits (1e-6 .. 1e6): wide enough for any sensible data,
# tight enough that a degenerate sample cannot send the optimiser to overflow.
_LOG_BOUND = math.log(1e6)


# ---------------------------------------------------------------------------- helpers


def _as_of(wh: Database, as_of: date | str | None) -> date | None:
    """``as_of`` as a date; default the snapshot's ``meta.as_of``, else the latest settlement date
    (None for a snapshot without either)."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    value = meta(wh).get("as_of")
    if value is None:
        value = wh.scalar("SELECT MAX(txn_date) FROM corp_transactions")
    return None if value is None else pd.Timestamp(value).date()


def _population(wh: Database, scope: Scope) -> Scope:
    """The scope whose corporate clients form the population: every corporate client of the
    branches ``scope`` touches (an RM's scope widens to their corporate clients' branches)."""
    if scope.role != "rm":
        return scope
    where, params = scope.where("c")
    df = wh.query(
        f"SELECT DISTINCT c.branch_id FROM corp_clients c WHERE {where} ORDER BY 1", params
    )
    branches = tuple(df["branch_id"])
    if not branches:
        return scope  # an RM without corporate clients: the population is nobody
    return Scope("manager", branches, viewer_id=scope.viewer_id)


def _pop_cte(wh: Database, scope: Scope) -> tuple[str, list]:
    """SQL of the CTE ``pop``: every corporate client of the population (``_population``) with an
    ``in_scope`` flag for the viewer's own, and its parameters."""
    pop_where, pop_params = _population(wh, scope).where("c")
    out_where, out_params = scope.where("c")
    sql = f"""pop AS (
            SELECT c.*, COALESCE(({out_where}), FALSE) AS in_scope FROM corp_clients c
            WHERE {pop_where}
        )"""
    return sql, [*out_params, *pop_params]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})


def _pct_rank(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Percentile rank 0..1 within each group, as ``analytics.value``'s value score: the share of
    the group's other-valued rows this row is above (1 for the highest value, ties included; 0 for
    the lowest; equal values share a rank; a group where everyone is equal gives everyone 1)."""
    g = values.groupby(groups)
    below = g.rank(method="min") - 1
    above = g.transform("size") - g.rank(method="max")
    total = below + above
    return (below / total.where(total > 0)).fillna(1.0).astype(float)


def _arrays(*columns) -> list[np.ndarray]:
    out = [np.asarray(c, dtype=float) for c in columns]
    n = {a.shape for a in out}
    if len(n) != 1 or out[0].ndim != 1:
        raise ValueError("inputs must be one-dimensional arrays of the same length")
    return out


def _minimize(objective, x0: np.ndarray, args: tuple) -> np.ndarray:
    """Minimise ``objective`` (returning the value and its gradient) over bounded
    log-parameters: L-BFGS-B, then gradient-free Nelder-Mead if that fails. Raises ValueError
    when neither converges to a finite optimum."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    with np.errstate(all="ignore"):
        res = optimize.minimize(
            objective, x0, args=args, method="L-BFGS-B", jac=True, bounds=bounds
        )
        if not (res.success and np.isfinite(res.fun)):
            res = optimize.minimize(
                lambda params, *a: objective(params, *a)[0],
                x0,
                args=args,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 20_000, "xatol": 1e-8, "fatol": 1e-12},
            )
    if not (res.success and np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
        raise ValueError(f"the model fit did not converge: {res.message}")
    return res.x


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the stacked columns and how often each occurs (the likelihood only
    depends on them, so identical customers are evaluated once)."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(float)


# ---------------------------------------------------------------------------- BG/NBD


def _bgnbd_nll(log_params, x, t_x, T, w) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of BG/NBD (Fader, Hardie & Lee 2005, eq. 6), weighted by w,
    and its gradient with respect to the log-parameters (log r, log α, log a, log b).

    Per customer, ll = A1 + A2 + log(e^A3 + [x > 0] e^A4) with
    A1 = ln Γ(r+x) − ln Γ(r) + r ln α, A2 = ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x),
    A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x)."""
    r, alpha, a, b = np.exp(log_params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x), -np.inf)
    mix = np.logaddexp(a3, a4)
    ll = a1 + a2 + mix
    s3, s4 = np.exp(a3 - mix), np.exp(a4 - mix)  # shares of the two terms (sum to 1)
    dig = special.digamma
    d_r = dig(r + x) - dig(r) + np.log(alpha) - s3 * np.log(alpha + T) - s4 * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (s3 / (alpha + T) + s4 / (alpha + t_x))
    d_a = dig(a + b) - dig(a + b + x) + s4 / a
    d_b = dig(a + b) + dig(b + x) - dig(b) - dig(a + b + x) - s4 / b_x1
    total = np.sum(w)
    grad = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)]) * np.array([r, alpha, a, b])
    return float(-np.sum(w * ll) / total), -grad / total


def fit_bgnbd(frequency, recency, T, weights=None) -> dict[str, float]:
    """Maximum-likelihood BG/NBD parameters ``{'r', 'alpha', 'a', 'b'}`` (Fader, Hardie & Lee
    2005) from each customer's repeat-transaction count ``frequency`` (x), time of the last
    transaction since the first ``recency`` (t_x) and age since the first transaction ``T``, all
    in the same time unit (weeks here). ``weights``: optional number of customers per row.

    Transactions follow a Poisson process with rate λ ~ Gamma(r, α) while the customer is alive;
    after each transaction the customer drops out with probability p ~ Beta(a, b). The likelihood
    is maximised with scipy's L-BFGS-B and its analytic gradient over the log-parameters (bounded
    to 1e-6..1e6; Nelder-Mead as a fallback), in a log-sum-exp form, vectorised over distinct
    customers. Raises ValueError on invalid input or when the optimiser fails.
    """
    x, t_x, big_t = _arrays(frequency, recency, T)
    w = np.ones_like(x) if weights is None else _arrays(weights, x)[0]
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and np.sum(w) > 0):
        raise ValueError("weights must be finite, non-negative and not all zero")
    if not (np.all(np.isfinite([x, t_x, big_t])) and np.all(x >= 0) and np.all(t_x >= 0)):
        raise ValueError("frequency and recency must be finite and non-negative")
    if np.any(t_x > big_t + 1e-9) or np.any(big_t <= 0):
        raise ValueError("need 0 <= recency <= T and T > 0 for every customer")
    (x, t_x, big_t), counts = _compress(x, t_x, big_t) if weights is None else ((x, t_x, big_t), w)
    x0 = np.log([1.0, max(float(np.mean(big_t)), 1e-3), 1.0, 1.0])
    fitted = np.exp(_minimize(_bgnbd_nll, x0, (x, t_x, big_t, counts)))
    return dict(zip(("r", "alpha", "a", "b"), map(float, fitted), strict=True))


def _bgnbd_params(params: dict) -> tuple[float, float, float, float]:
    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    if abs(a - 1) < 1e-9:  # eq. 10 divides by a − 1; its limit at a = 1 is continuous
        a = 1 + 1e-9
    return r, alpha, a, b


def _log_odds_dead(r, alpha, a, b, x, t_x, T):
    """log of a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) for x > 0 and −inf for x = 0."""
    repeat = x > 0
    safe = np.where(repeat, b + x - 1, 1.0)
    return np.where(
        repeat,
        np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )


def probability_alive(params: dict, frequency, recency, T) -> np.ndarray:
    """P(the customer is still alive at T | x, t_x, T) under BG/NBD (Fader, Hardie & Lee 2005,
    eq. 12): 1 / (1 + [x > 0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). A customer without repeat
    transactions (x = 0) cannot have dropped out yet in this model, so P(alive) = 1."""
    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, big_t = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (frequency, recency, T))
    )
    with np.errstate(over="ignore"):
        return special.expit(-_log_odds_dead(r, alpha, a, b, x, t_x, big_t))


def expected_transactions(params: dict, t, frequency, recency, T) -> np.ndarray:
    """Expected number of transactions in the next ``t`` periods of a customer with history
    (x, t_x, T) under BG/NBD (Fader, Hardie & Lee 2005, eq. 10)::

        (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive)

    with z = t/(α+T+t). The hypergeometric term is evaluated after Euler's transformation,
    ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z) = (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z),
    which stays finite for frequent customers (large x) where the textbook form overflows.
    ``t`` may be a scalar or an array broadcast against the customers.
    """
    r, alpha, a, b = _bgnbd_params(params)
    t, x, t_x, big_t = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (t, frequency, recency, T))
    )
    z = t / (alpha + big_t + t)
    term = (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1) * (1 - term)
    return head * probability_alive(params, x, t_x, big_t)


# ---------------------------------------------------------------------------- Gamma-Gamma


def _gg_nll(log_params, x, m, w) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of the Gamma-Gamma spend model (Fader & Hardie 2013, eq. 3),
    weighted by w, and its gradient with respect to (log p, log q, log v)."""
    p, q, v = np.exp(log_params)
    px = p * x
    log_vmx = np.log(v + m * x)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vmx
    )
    dig = special.digamma
    d_p = x * (dig(px + q) - dig(px) + np.log(m) + np.log(x) - log_vmx)
    d_q = dig(px + q) - dig(q) + np.log(v) - log_vmx
    d_v = q / v - (px + q) / (v + m * x)
    total = np.sum(w)
    grad = np.array([np.sum(w * d) for d in (d_p, d_q, d_v)]) * np.array([p, q, v])
    return float(-np.sum(w * ll) / total), -grad / total


def fit_gamma_gamma(frequency, monetary_value, weights=None) -> dict[str, float]:
    """Maximum-likelihood Gamma-Gamma parameters ``{'p', 'q', 'v'}`` (Fader & Hardie 2013) from
    each customer's number of transactions ``frequency`` and their average value
    ``monetary_value``. Only customers with frequency > 0 enter the fit (as in the paper).

    Each transaction's value is Gamma(p, ν) with ν ~ Gamma(q, v) across customers; the
    likelihood of an average z̄ over x transactions (the paper's eq. 3) is maximised over the
    log-parameters (scipy L-BFGS-B with the analytic gradient, bounded to 1e-6..1e6; Nelder-Mead
    as a fallback). Raises ValueError on invalid input, when no customer has frequency > 0 or
    when the optimiser fails.
    A fit with q ≤ 1 is returned as it is (a valid optimum: the customers' mean values are so
    spread out that their population mean p·v/(q−1) does not exist); ``expected_average_value``
    then gives NaN where the conditional mean is undefined.
    """
    x, m = _arrays(frequency, monetary_value)
    w = np.ones_like(x) if weights is None else _arrays(weights, x)[0]
    keep = x > 0
    x, m, w = x[keep], m[keep], w[keep]
    if len(x) == 0:
        raise ValueError("no customers with frequency > 0 to fit")
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise ValueError("monetary_value must be positive for customers with frequency > 0")
    if weights is None:
        (x, m), w = _compress(x, m)
    x0 = np.log([1.0, 2.0, max(float(np.mean(m)), 1e-3)])
    p, q, v = map(float, np.exp(_minimize(_gg_nll, x0, (x, m, w))))
    return {"p": p, "q": q, "v": v}


def expected_average_value(params_gg: dict, frequency, monetary_value) -> np.ndarray:
    """Conditional expected value per transaction (Fader & Hardie 2013, eq. 5):
    p(v + x·z̄) / (p·x + q − 1), a weighted mean of the population mean p·v/(q−1) and the
    customer's observed mean z̄ whose weight on z̄ grows with x. For frequency 0 it is the
    population mean (z̄ is ignored, may be NaN). NaN where the mean is undefined: p·x + q − 1 ≤ 0
    (only possible when q ≤ 1, e.g. frequency 0 with q ≤ 1)."""
    p, q, v = (float(params_gg[k]) for k in ("p", "q", "v"))
    x, m = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (frequency, monetary_value)))
    m = np.where(x > 0, m, 0.0)
    denominator = p * x + q - 1
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, p * (v + x * m) / safe, np.nan)


# ---------------------------------------------------------------------------- RFM


def corporate_rfm(wh: Database, scope: Scope, as_of: date | str | None = None) -> pd.DataFrame:
    """Corporate RFM of every corporate client in scope over the ``[rfm] lookback_months`` window
    up to ``as_of`` (default: ``meta.as_of``).

    Columns: corp_id, branch_id, rm_id, name_zh, name_en, industry, size, recency_days (days from
    the client's last settlement — a corp_transactions row where it is payer or payee — to as_of;
    the window's length in days + 1 when there is none), frequency (settlements per month: such
    rows in the window / lookback_months), monetary (yuan: corp_accounts avg_daily_deposit +
    loan_interest_12m + fee_income_12m; 0 without an accounts row), r_score, f_score, m_score,
    rfm_code, segment (``analytics.rfm.rfm_scores``, scored within each branch over all its
    corporate clients; module docstring). Sorted by corp_id.
    """
    settings = load_settings()
    as_of = _as_of(wh, as_of)
    if as_of is None:
        return rfm_scores(_empty(RFM_COLUMNS[:10]), "recency_days", "frequency", "monetary")[
            RFM_COLUMNS
        ]
    months = int(settings["rfm"]["lookback_months"])
    start = window_start(as_of, months)
    never = (as_of - start).days + 1
    pop, pop_params = _pop_cte(wh, scope)
    df = wh.query(
        f"""
        WITH {pop},
        s AS (
            SELECT payer_id AS corp_id, txn_date FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ? AND payer_id IN (SELECT corp_id FROM pop)
            UNION ALL
            SELECT payee_id AS corp_id, txn_date FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ? AND payee_id IN (SELECT corp_id FROM pop)
        ),
        t AS (SELECT corp_id, MAX(txn_date) AS last_date, COUNT(*) AS n FROM s GROUP BY corp_id)
        SELECT p.corp_id, p.branch_id, p.rm_id, p.name_zh, p.name_en, p.industry, p.size,
               COALESCE(date_diff('day', t.last_date, ?::DATE), ?)::BIGINT AS recency_days,
               COALESCE(t.n, 0)::DOUBLE / ? AS frequency,
               (COALESCE(a.avg_daily_deposit, 0) + COALESCE(a.loan_interest_12m, 0)
                + COALESCE(a.fee_income_12m, 0))::DOUBLE AS monetary,
               p.in_scope
        FROM pop p LEFT JOIN t USING (corp_id) LEFT JOIN corp_accounts a USING (corp_id)
        ORDER BY p.corp_id
        """,
        [*pop_params, start, as_of, start, as_of, as_of, never, months],
    )
    scored = rfm_scores(df, "recency_days", "frequency", "monetary", key="corp_id", by="branch_id")
    scored = scored[scored["in_scope"].astype(bool)].reset_index(drop=True)
    return scored[RFM_COLUMNS]


# ---------------------------------------------------------------------------- CLV


def _clv_history(wh: Database, scope: Scope, as_of: date, settings: dict) -> pd.DataFrame:
    """One row per corporate client of the population: client columns, in_scope, the 12-month
    profit inputs from corp_accounts and the settlement-day history of the window."""
    c = settings["corporate"]
    start = window_start(as_of, int(c["history_months"]))
    pop, pop_params = _pop_cte(wh, scope)
    return wh.query(
        f"""
        WITH {pop},
        s AS (  -- distinct (client, settlement day) pairs
            SELECT payer_id AS corp_id, txn_date FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ? AND payer_id IN (SELECT corp_id FROM pop)
            UNION
            SELECT payee_id AS corp_id, txn_date FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ? AND payee_id IN (SELECT corp_id FROM pop)
        ),
        d AS (
            SELECT corp_id, COUNT(*) AS days, MIN(txn_date) AS first_date,
                   MAX(txn_date) AS last_date
            FROM s GROUP BY corp_id
        )
        SELECT p.corp_id, p.branch_id, p.rm_id, p.name_zh, p.name_en, p.industry, p.size,
               p.in_scope,
               COALESCE(a.avg_daily_deposit, 0)::DOUBLE AS avg_daily_deposit,
               COALESCE(a.loan_interest_12m, 0)::DOUBLE AS loan_interest_12m,
               COALESCE(a.fee_income_12m, 0)::DOUBLE AS fee_income_12m,
               COALESCE(d.days, 0)::BIGINT AS settlement_days,
               date_diff('day', d.first_date, d.last_date)::DOUBLE AS recency_days,
               date_diff('day', d.first_date, ?::DATE)::DOUBLE AS age_days
        FROM pop p LEFT JOIN d USING (corp_id) LEFT JOIN corp_accounts a USING (corp_id)
        ORDER BY p.corp_id
        """,
        [*pop_params, start, as_of, start, as_of, as_of],
    )


class ClvFitError(ValueError):
    """A branch's lifetime-value models cannot be fitted; ``code`` ('too_few' or 'no_fit') and
    ``fields`` name the problem for the page to translate."""

    def __init__(self, code: str, **fields):
        super().__init__(f"{code}: {fields}")
        self.code, self.fields = code, fields


def _fit_branch(branch: str, g: pd.DataFrame, min_clients: int) -> tuple[dict, dict]:
    """BG/NBD and Gamma-Gamma parameters for one branch's clients with settlement history."""
    if len(g) < min_clients:  # [corporate] min_clients_for_fit
        raise ClvFitError("too_few", branch=branch, n=len(g), min=min_clients)
    try:
        bg = fit_bgnbd(g["frequency"], g["recency_weeks"], g["T_weeks"])
        gg = fit_gamma_gamma(g["settlement_days"], g["value_per_settlement"])
    except ValueError as exc:
        raise ClvFitError("no_fit", branch=branch) from exc
    return bg, gg


def corporate_clv(wh: Database, scope: Scope, as_of: date | str | None = None) -> pd.DataFrame:
    """Customer lifetime value of every corporate client in scope at ``as_of`` (default
    ``meta.as_of``), in yuan. Rates from ``[corporate]``.

    - **Current value**: gross_profit_12m = avg_daily_deposit × deposit_spread +
      loan_interest_12m × loan_margin_share + fee_income_12m (corp_accounts);
      cost_to_serve_12m = cost_to_serve_per_year; profit_12m = gross − cost.
    - **Settlement history** (corp_transactions as payer or payee, the ``history_months`` window):
      one transaction = one distinct settlement day; time in weeks. settlement_days = such days,
      frequency = settlement_days − 1 (repeat days), recency_weeks = first to last day,
      T_weeks = first day to as_of.
    - **Models**, fitted per branch on all its corporate clients with history (module docstring):
      BG/NBD on (frequency, recency_weeks, T_weeks) gives p_alive and expected_settlements
      (settlement days in the next ``horizon_months``). value_per_settlement = the window's share
      of gross_profit_12m (× history_months / 12; with the default 12 months the whole of it) /
      settlement_days, raised to ``min_value_per_settlement``. Gamma-Gamma is fitted on
      (settlement_days, value_per_settlement): every settlement day of the window is an observed
      value — the window's first day is not an acquisition as CDNOW's first purchase is, so it is
      not left out. When the branch's fit has q > 1, expected_value_per_settlement is the
      Gamma-Gamma conditional mean (``expected_average_value``: the observed value shrunk toward
      the branch mean, less for clients with more settlement days) and value_model is
      'gamma_gamma'. With q ≤ 1 the customers' values are too spread out (over orders of
      magnitude, as corporate profit usually is) for the Gamma prior to have a mean, so there is
      nothing to shrink toward: the observed value is used and value_model is 'observed'.
      The fitted parameters per branch are in ``result.attrs['models']``
      ({branch: {'bgnbd': {...}, 'gamma_gamma': {...}, 'value_model': ...}}).
    - **Future value**: future_profit = expected_settlements × expected_value_per_settlement;
      future_profit_discounted discounts each month's expected settlements (from the BG/NBD
      curve at each month-end of the horizon) at ``annual_discount_rate``, i.e. by
      (1 + rate)^(−m/12) for month m; future_cost_discounted = cost_to_serve_per_year / 12 a month
      over the horizon, discounted the same way.
    - clv = profit_12m + future_profit_discounted − future_cost_discounted.
    - **Value matrix**: current = 'high' when profit_12m ≥ the branch median (over all its
      corporate clients), future = 'high' when future_profit_discounted ≥ the branch median;
      quadrant = '<current>_<future>' (``QUADRANTS``).

    **No settlement history** (issue 13): a client without any settlement in the window (neither
    payer nor payee in corp_transactions over the last ``history_months``) gives the models
    nothing to forecast from, so by rule its expected settlements and future profit are 0 (its
    CLV is its 12-month profit less the future cost to serve; it lands in a 'low' future quadrant
    unless the branch median is 0 too): frequency, recency_weeks, T_weeks, p_alive,
    value_per_settlement and value_model are NaN/None, and ``future_value_code`` is
    'no_settlement' (else 'modelled'; ``FUTURE_VALUE_CODES``), which the view counts and shows
    in place of a bare ¥0.

    Raises ValueError (message for the view) when a branch of the population has fewer than
    ``min_clients_for_fit`` clients with settlement history, or a fit fails.
    An empty scope gives an empty frame with the columns. Sorted by clv descending, then corp_id.
    """
    settings = load_settings()
    c = settings["corporate"]
    as_of = _as_of(wh, as_of)
    if as_of is None:
        return _empty(CLV_COLUMNS)
    df = _clv_history(wh, scope, as_of, settings)
    if df.empty or not df["in_scope"].any():
        return _empty(CLV_COLUMNS)
    cost_year = float(c["cost_to_serve_per_year"])
    df["gross_profit_12m"] = (
        df["avg_daily_deposit"] * float(c["deposit_spread"])
        + df["loan_interest_12m"] * float(c["loan_margin_share"])
        + df["fee_income_12m"]
    ).round(2)
    df["cost_to_serve_12m"] = cost_year
    df["profit_12m"] = (df["gross_profit_12m"] - cost_year).round(2)
    has = df["settlement_days"] > 0
    df["frequency"] = (df["settlement_days"] - 1).where(has).astype(float)
    df["recency_weeks"] = df["recency_days"].where(has) / DAYS_PER_WEEK
    # a first settlement on as_of itself would give T = 0: count it as one day old
    df["T_weeks"] = np.maximum(df["age_days"], 1.0).where(has) / DAYS_PER_WEEK
    window_share = int(c["history_months"]) / MONTHS_PER_YEAR
    per = df["gross_profit_12m"] * window_share / df["settlement_days"].where(has)
    df["value_per_settlement"] = np.maximum(per, float(c["min_value_per_settlement"])).where(has)

    horizon = int(c["horizon_months"])
    months = np.arange(1, horizon + 1)
    discount = (1 + float(c["annual_discount_rate"])) ** (-months / MONTHS_PER_YEAR)
    min_clients = int(c["min_clients_for_fit"])
    for col in ("p_alive", "expected_settlements", "expected_value_per_settlement"):
        df[col] = np.nan
    df["value_model"] = None
    df["future_profit"] = 0.0
    df["future_profit_discounted"] = 0.0
    models: dict[str, dict] = {}
    for branch, g in df[has].groupby("branch_id", sort=True):
        bg, gg = _fit_branch(str(branch), g, min_clients)
        x, t_x, big_t = (g[k].to_numpy() for k in ("frequency", "recency_weeks", "T_weeks"))
        # cumulative expected settlements at each month-end of the horizon: (clients, months)
        cum = expected_transactions(
            bg, months[None, :] * WEEKS_PER_MONTH, x[:, None], t_x[:, None], big_t[:, None]
        )
        monthly = np.diff(cum, axis=1, prepend=0.0)
        observed = g["value_per_settlement"].to_numpy()
        value_model = "gamma_gamma" if gg["q"] > 1 else "observed"
        if value_model == "gamma_gamma":
            value = expected_average_value(gg, g["settlement_days"].to_numpy(), observed)
        else:
            value = observed
        models[str(branch)] = {"bgnbd": bg, "gamma_gamma": gg, "value_model": value_model}
        df.loc[g.index, "value_model"] = value_model
        df.loc[g.index, "p_alive"] = probability_alive(bg, x, t_x, big_t)
        df.loc[g.index, "expected_settlements"] = cum[:, -1]
        df.loc[g.index, "expected_value_per_settlement"] = value
        df.loc[g.index, "future_profit"] = cum[:, -1] * value
        df.loc[g.index, "future_profit_discounted"] = (monthly @ discount) * value
    df["expected_settlements"] = df["expected_settlements"].fillna(0.0)
    df["future_cost_discounted"] = cost_year / MONTHS_PER_YEAR * float(discount.sum())
    for col in ("future_profit", "future_profit_discounted", "future_cost_discounted"):
        df[col] = df[col].round(2)
    df["clv"] = (
        df["profit_12m"] + df["future_profit_discounted"] - df["future_cost_discounted"]
    ).round(2)
    by = df.groupby("branch_id")
    current_high = df["profit_12m"] >= by["profit_12m"].transform("median")
    future_high = df["future_profit_discounted"] >= by["future_profit_discounted"].transform(
        "median"
    )
    df["current"] = np.where(current_high, "high", "low")
    df["future"] = np.where(future_high, "high", "low")
    df["quadrant"] = df["current"] + "_" + df["future"]
    df["future_value_code"] = np.where(has, "modelled", "no_settlement")
    out = df[df["in_scope"].astype(bool)].sort_values(
        ["clv", "corp_id"], ascending=[False, True], kind="mergesort"
    )
    out = out[CLV_COLUMNS].reset_index(drop=True)
    out.attrs["models"] = models
    return out


def value_matrix(clv_df: pd.DataFrame) -> pd.DataFrame:
    """The current-vs-future value matrix (2×2) of a ``corporate_clv`` result: one row per
    quadrant in ``QUADRANTS`` order (all four, zeros when empty) with current, future ('high' /
    'low'), clients (count), profit_12m, future_profit_discounted and clv (sums, yuan)."""
    sums = (
        clv_df.groupby("quadrant")
        .agg(
            clients=("corp_id", "size"),
            profit_12m=("profit_12m", "sum"),
            future_profit_discounted=("future_profit_discounted", "sum"),
            clv=("clv", "sum"),
        )
        .reindex(list(QUADRANTS))
        .fillna(0)
    )
    out = sums.reset_index(names="quadrant")
    out["clients"] = out["clients"].astype("int64")
    for col in ("profit_12m", "future_profit_discounted", "clv"):
        out[col] = out[col].astype(float).round(2)
    out["current"] = [q.split("_")[0] for q in out["quadrant"]]
    out["future"] = [q.split("_")[1] for q in out["quadrant"]]
    return out[MATRIX_COLUMNS]


# ---------------------------------------------------------------------------- social value


def _edges(wh: Database, start: date, as_of: date) -> pd.DataFrame:
    """Every payer → payee pair of the window, bank-wide: payer_id, payee_id, amount (sum, yuan),
    count (settlements)."""
    return wh.query(
        """
        SELECT payer_id, payee_id, SUM(amount)::DOUBLE AS amount, COUNT(*)::BIGINT AS count
        FROM corp_transactions WHERE txn_date > ? AND txn_date <= ?
        GROUP BY payer_id, payee_id ORDER BY payer_id, payee_id
        """,
        [start, as_of],
    )


def payment_network(wh: Database, scope: Scope, as_of: date | str | None = None) -> pd.DataFrame:
    """The payment network around the scope: every payer → payee pair with a settlement in the
    ``[corporate] history_months`` window up to ``as_of`` (default ``meta.as_of``) where at least
    one end is a corporate client in scope. Columns: payer_id, payee_id, amount (sum, yuan),
    count (settlements), payer_in_scope, payee_in_scope. For head office this is the whole
    bank-wide network that ``social_value`` runs PageRank on. Sorted by payer_id, payee_id."""
    settings = load_settings()
    as_of = _as_of(wh, as_of)
    if as_of is None:
        return _empty(NETWORK_COLUMNS)
    start = window_start(as_of, int(settings["corporate"]["history_months"]))
    where, params = scope.where("c")
    return wh.query(
        f"""
        WITH mine AS (SELECT c.corp_id FROM corp_clients c WHERE {where}),
        e AS (
            SELECT payer_id, payee_id, SUM(amount)::DOUBLE AS amount, COUNT(*)::BIGINT AS count
            FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ?
              AND (payer_id IN (SELECT corp_id FROM mine) OR payee_id IN (SELECT corp_id FROM mine))
            GROUP BY payer_id, payee_id
        )
        SELECT e.*, payer_id IN (SELECT corp_id FROM mine) AS payer_in_scope,
               payee_id IN (SELECT corp_id FROM mine) AS payee_in_scope
        FROM e ORDER BY payer_id, payee_id
        """,
        [*params, start, as_of],
    )[NETWORK_COLUMNS]


def pagerank(
    nodes, payer, payee, amount, damping: float, max_iter: int = 100, tol: float = 1e-6
) -> np.ndarray:
    """PageRank of ``nodes`` on the directed graph payer → payee weighted by ``amount``, aligned
    with ``nodes`` (sums to 1). The same power iteration as ``networkx.pagerank`` (its scipy
    implementation, checked equal in the tests) with uniform teleport and dangling
    redistribution, written on scipy.sparse directly: building a networkx graph of 100,000
    clients takes seconds, this takes a fraction of one. Repeated (payer, payee) pairs add up.
    Raises ValueError if it does not converge within ``max_iter`` iterations."""
    lookup = pd.Index(nodes)
    n = len(lookup)
    if n == 0:
        return np.zeros(0)

    def index(ids) -> np.ndarray:
        pos = lookup.get_indexer(pd.Index(ids))
        if np.any(pos < 0):
            raise ValueError("an edge names a node that is not in the node list")
        return pos

    weights = sparse.csr_array(
        (np.asarray(amount, dtype=float), (index(payer), index(payee))), shape=(n, n)
    )
    out_sum = np.asarray(weights.sum(axis=1)).ravel()
    dangling = out_sum == 0
    scale = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_sum))
    transition = sparse.diags_array(scale) @ weights
    x = np.full(n, 1.0 / n)
    teleport = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = damping * (x @ transition + x[dangling].sum() * teleport) + (1 - damping) * teleport
        if np.abs(x - last).sum() < n * tol:
            return x
    raise ValueError(f"PageRank did not converge in {max_iter} iterations")


def _social_weights(settings: dict) -> dict[str, float]:
    weights = {k: float(settings["corporate"]["social"]["weights"][k]) for k in SOCIAL_FACTORS}
    if any(w < 0 for w in weights.values()) or abs(sum(weights.values()) - 1) > 1e-9:
        raise ValueError("[corporate.social.weights] must be non-negative and sum to 1")
    return weights


def social_value(wh: Database, scope: Scope, as_of: date | str | None = None) -> pd.DataFrame:
    """Social value (社会价值) of every corporate client in scope at ``as_of`` (default
    ``meta.as_of``), settlements over the ``[corporate] history_months`` window.

    Columns: corp_id, branch_id, rm_id, name_zh, name_en, industry, size, and the four factors:
    pagerank (on the bank-wide payer → payee network weighted by amount, damping
    ``[corporate.social] damping``; sums to 1 over all corporate clients: a client ranks high
    when much money reaches it from clients that rank high themselves), counterparties
    (distinct clients it paid or was paid by), payroll_headcount (corp_clients, 代发工资人数),
    linked_retail_clients and linked_retail_aum (retail clients whose clients.employer_corp_id
    is this company, and the sum of their AUM in client_aum_monthly at the latest month-end on or
    before as_of, yuan). Each factor's percentile rank 0..1 within the branch over all its
    corporate clients (pagerank_pct, counterparties_pct, payroll_pct, linked_aum_pct; highest = 1,
    ties share a rank), and influence = 100 × Σ weight × rank on 0–100 with
    ``[corporate.social.weights]`` (ValueError unless they sum to 1). Sorted by influence
    descending, then corp_id.
    """
    settings = load_settings()
    weights = _social_weights(settings)
    social = settings["corporate"]["social"]
    as_of = _as_of(wh, as_of)
    if as_of is None:
        return _empty(SOCIAL_COLUMNS)
    start = window_start(as_of, int(settings["corporate"]["history_months"]))
    pop, pop_params = _pop_cte(wh, scope)
    df = wh.query(
        f"""
        WITH {pop},
        pairs AS (
            SELECT payer_id, payee_id FROM corp_transactions
            WHERE txn_date > ? AND txn_date <= ?
              AND (payer_id IN (SELECT corp_id FROM pop) OR payee_id IN (SELECT corp_id FROM pop))
            GROUP BY payer_id, payee_id
        ),
        partners AS (
            SELECT payer_id AS corp_id, payee_id AS partner FROM pairs
            UNION
            SELECT payee_id AS corp_id, payer_id AS partner FROM pairs
        ),
        n AS (
            SELECT corp_id, COUNT(*) AS counterparties FROM partners
            WHERE corp_id IN (SELECT corp_id FROM pop) GROUP BY corp_id
        ),
        linked AS (
            SELECT cl.employer_corp_id AS corp_id, COUNT(*) AS clients, SUM(m.aum) AS aum
            FROM clients cl JOIN client_aum_monthly m USING (client_id)
            WHERE cl.employer_corp_id IN (SELECT corp_id FROM pop)
              AND m.month_end = (SELECT MAX(month_end) FROM client_aum_monthly
                                 WHERE month_end <= ?)
            GROUP BY cl.employer_corp_id
        )
        SELECT p.corp_id, p.branch_id, p.rm_id, p.name_zh, p.name_en, p.industry, p.size,
               p.in_scope, COALESCE(n.counterparties, 0)::BIGINT AS counterparties,
               p.payroll_headcount::BIGINT AS payroll_headcount,
               COALESCE(l.clients, 0)::BIGINT AS linked_retail_clients,
               COALESCE(l.aum, 0)::DOUBLE AS linked_retail_aum
        FROM pop p LEFT JOIN n USING (corp_id) LEFT JOIN linked l USING (corp_id)
        ORDER BY p.corp_id
        """,
        [*pop_params, start, as_of, as_of],
    )
    if df.empty or not df["in_scope"].any():
        return _empty(SOCIAL_COLUMNS)
    edges = _edges(wh, start, as_of)
    every = wh.query("SELECT corp_id FROM corp_clients ORDER BY corp_id")["corp_id"].to_numpy(
        object
    )
    ranks = pagerank(
        every, edges["payer_id"], edges["payee_id"], edges["amount"], float(social["damping"])
    )
    df["pagerank"] = df["corp_id"].map(pd.Series(ranks, index=every)).astype(float)
    sources = {
        "pagerank": "pagerank",
        "counterparties": "counterparties",
        "payroll": "payroll_headcount",
        "linked_aum": "linked_retail_aum",
    }
    for name, col in sources.items():
        df[f"{name}_pct"] = _pct_rank(df[col], df["branch_id"])
    df["influence"] = (100 * sum(w * df[f"{k}_pct"] for k, w in weights.items())).round(2)
    out = df[df["in_scope"].astype(bool)].sort_values(
        ["influence", "corp_id"], ascending=[False, True], kind="mergesort"
    )
    return out[SOCIAL_COLUMNS].reset_index(drop=True)


def _check(wh: Database, scope: Scope, corp_id: str) -> None:
    """Refuse a corporate client outside the viewer's scope (AccessDenied, no detail)."""
    where, params = scope.where("c")
    found = wh.scalar(
        f"SELECT COUNT(*) FROM corp_clients c WHERE c.corp_id = ? AND {where}", [corp_id, *params]
    )
    if not found:
        raise AccessDenied("client_refused")


def neighbourhood(
    wh: Database,
    scope: Scope,
    corp_id: str,
    as_of: date | str | None = None,
    limit: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The payment neighbourhood (ego network) of one corporate client in scope: the client and
    its top ``limit`` counterparties (default ``[corporate.social] neighbourhood_limit``) by total
    amount settled with it in either direction over the ``[corporate] history_months`` window up
    to ``as_of`` (ties by corp_id). Raises ``AccessDenied`` for a client outside the scope.

    Returns (nodes, edges):

    - nodes: corp_id, name_zh, name_en, industry, branch_id, in_scope, is_center, amount (yuan
      settled with the centre, both directions; for the centre the sum over the shown
      counterparties), amount_in (paid to the centre), amount_out (paid by the centre), direction
      ('center', 'in' = pays the centre (a customer), 'out' = paid by the centre (a supplier),
      'both'), x, y (a radial layout, ``_layout``: the centre at 0, 0, the counterparties
      round it, largest flow first). Centre first, then by amount descending.
    - edges: payer_id, payee_id, amount (sum, yuan), count — every settled pair among the shown
      nodes (counterparties' settlements with each other included).

    **Masking.** A counterparty outside the viewer's scope keeps its corp_id, industry and branch
    but its name_zh and name_en are None: the view shows the industry instead. (Company names are
    not personal data, so ``analytics.privacy``'s person-name masking does not fit; hiding the
    name keeps another RM's or branch's client list private.)
    """
    settings = load_settings()
    social = settings["corporate"]["social"]
    limit = int(social["neighbourhood_limit"] if limit is None else limit)
    _check(wh, scope, corp_id)
    as_of = _as_of(wh, as_of)
    start = window_start(as_of, int(settings["corporate"]["history_months"]))
    flows = wh.query(
        """
        WITH f AS (
            SELECT payee_id AS corp_id, 0.0 AS amount_in, amount::DOUBLE AS amount_out
            FROM corp_transactions WHERE payer_id = ? AND txn_date > ? AND txn_date <= ?
            UNION ALL
            SELECT payer_id AS corp_id, amount::DOUBLE AS amount_in, 0.0 AS amount_out
            FROM corp_transactions WHERE payee_id = ? AND txn_date > ? AND txn_date <= ?
        )
        SELECT corp_id, SUM(amount_in) AS amount_in, SUM(amount_out) AS amount_out,
               SUM(amount_in + amount_out) AS amount
        FROM f WHERE corp_id <> ? GROUP BY corp_id
        ORDER BY amount DESC, corp_id LIMIT ?
        """,
        [corp_id, start, as_of, corp_id, start, as_of, corp_id, max(limit, 0)],
    )
    ids = [corp_id, *flows["corp_id"]]
    marks = ", ".join("?" for _ in ids)
    where, params = scope.where("c")
    info = wh.query(
        f"""
        SELECT c.corp_id, c.name_zh, c.name_en, c.industry, c.branch_id,
               COALESCE(({where}), FALSE) AS in_scope
        FROM corp_clients c WHERE c.corp_id IN ({marks})
        """,
        [*params, *ids],
    )
    edges = wh.query(
        f"""
        SELECT payer_id, payee_id, SUM(amount)::DOUBLE AS amount, COUNT(*)::BIGINT AS count
        FROM corp_transactions
        WHERE txn_date > ? AND txn_date <= ? AND payer_id IN ({marks}) AND payee_id IN ({marks})
        GROUP BY payer_id, payee_id ORDER BY payer_id, payee_id
        """,
        [start, as_of, *ids, *ids],
    )[EDGE_COLUMNS]
    center = pd.DataFrame(
        {
            "corp_id": [corp_id],
            "amount_in": [float(flows["amount_in"].sum())],
            "amount_out": [float(flows["amount_out"].sum())],
            "amount": [float(flows["amount"].sum())],
        }
    )
    nodes = pd.concat([center, flows], ignore_index=True).merge(info, on="corp_id", how="left")
    nodes["in_scope"] = nodes["in_scope"].fillna(False).astype(bool)
    nodes["is_center"] = nodes["corp_id"] == corp_id
    nodes["direction"] = np.select(
        [nodes["is_center"], (nodes["amount_in"] > 0) & (nodes["amount_out"] > 0)],
        ["center", "both"],
        default=np.where(nodes["amount_in"] > 0, "in", "out"),
    )
    for col in ("name_zh", "name_en"):
        nodes[col] = nodes[col].astype(object).where(nodes["in_scope"], None)
    pos = _layout(ids)
    nodes["x"] = [float(pos[i][0]) for i in nodes["corp_id"]]
    nodes["y"] = [float(pos[i][1]) for i in nodes["corp_id"]]
    return nodes[NODE_COLUMNS], edges


def _layout(ids: list[str]) -> dict[str, np.ndarray]:
    """A radial layout that reads at a glance: the centre (``ids[0]``) at 0, 0 and its
    counterparties round it in the order given (largest flow first, clockwise from the top), on two
    alternating rings (radius 1 and 0.72) so that neighbouring labels do not overlap."""
    out = {ids[0]: np.zeros(2)}
    rest = ids[1:]
    for k, node in enumerate(rest):
        angle = math.pi / 2 - 2 * math.pi * k / len(rest)
        radius = 1.0 if k % 2 == 0 else 0.72
        out[node] = np.array([radius * math.cos(angle), radius * math.sin(angle)])
    return out
