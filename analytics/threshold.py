"""Threshold clients (临界客户, DESIGN.md §3): who is a small step from a tier line or from the full
relationship, how large the step is and what could close it.

- *Upgrade near-miss*: AUM in ``[(1 - b) * line, line)`` for a tier line above the client's held
  tier, ``b = [threshold] upgrade_band``.
- *Downgrade risk*: a tier holder whose AUM is below their held tier's line this month (inside the
  grace period of ``analytics.tiers``), or in ``[line, (1 + b) * line)`` and lower than the month
  before, ``b = [threshold] downgrade_band``.
- *Relationship near-miss*: missing exactly one element of the full relationship (mobile banking,
  payroll/pension, a wealth product, insurance).

Common conventions:

- ``as_of`` (a date, default: the snapshot's last month-end) picks the month: the latest month-end
  on or before it. AUM, held tiers and positions are that month-end's. The windows for maturities
  and inflows are anchored on ``as_of`` itself.
- The population is the clients with an AUM row in that month whose row is inside the scope.
- Tiers are held tiers (``analytics.tiers.held_tiers_sql``, with the downgrade rule); codes, not
  display strings: ``tier``/``line_tier`` are tier codes, ``reason`` and ``missing`` are codes.
- Money is in yuan (float).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from analytics import coverage
from analytics.access import Scope
from analytics.migration import held_tiers_between
from analytics.settings import load_settings, tier_lines
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import month_start, tier_names, tier_window_start

KINDS = ("upgrade", "downgrade", "relationship")
MISSING = ("mobile", "payroll_pension", "wealth", "insurance")

UPGRADE_COLUMNS = [
    "client_id",
    "branch_id",
    "rm_id",
    "tier",
    "line_tier",
    "line",
    "aum",
    "gap",
    "gap_share",
    "maturing_amount",
    "inflow_amount",
    "closable",
    "ease",
]
DOWNGRADE_COLUMNS = [
    "client_id",
    "branch_id",
    "rm_id",
    "tier",
    "line_tier",
    "line",
    "aum",
    "prev_aum",
    "gap_to_keep",
    "months_below",
    "months_left",
    "reason",
]
RELATIONSHIP_COLUMNS = [
    "client_id",
    "branch_id",
    "rm_id",
    "tier",
    "aum",
    "has_mobile",
    "has_payroll_pension",
    "has_wealth",
    "has_insurance",
    "missing",
]
THRESHOLD_COLUMNS = [
    "client_id",
    "branch_id",
    "rm_id",
    "kind",
    "tier",
    "line_tier",
    "aum",
    "gap",
    "closable",
    "ease",
    "maturing_amount",
    "inflow_amount",
    "reason",
    "months_below",
    "missing",
]


# ---------------------------------------------------------------------------- helpers


def _month(wh: Database, as_of: date | None) -> tuple[date | None, date | None]:
    """(month-end used, anchor date): the latest month-end on or before ``as_of``."""
    return month_and_anchor(wh, as_of)


def _lines_values(factor: Decimal) -> tuple[str, list]:
    """SQL ``VALUES`` of (rank, line, bound) for every tier with a line; bound = factor * line.

    The bound is computed in decimals (0.9 * 500,000 is exactly 450,000) and compared with the
    AUM as DOUBLE: both sides are then the nearest double of the same decimal on the band edge,
    and a fen apart anywhere else, so the edges are exact without slow decimal comparisons.
    """
    rows, params = [], []
    for rank, (_, line) in enumerate(tier_lines()):
        if rank == 0:
            continue
        exact = Decimal(str(line))
        rows.append("(?::INTEGER, ?::DOUBLE, ?::DOUBLE)")
        params += [rank, float(exact), float(exact * factor)]
    return "VALUES " + ", ".join(rows), params


def _band(band: float | None, key: str) -> Decimal:
    value = load_settings()["threshold"][key] if band is None else band
    value = Decimal(str(value))
    if not Decimal(0) <= value < Decimal(1):
        raise ValueError("band must be in [0, 1)")
    return value


def _names(df: pd.DataFrame, column: str, rank_column: str) -> None:
    names = np.array(tier_names(), dtype=object)
    df[column] = names[df[rank_column].to_numpy(dtype="int64")]


# ---------------------------------------------------------------------------- upgrade near-miss


def upgrade_near_miss(
    wh: Database, scope: Scope, band: float | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Clients just under a tier line above their held tier, easiest to lift first.

    One row per client, for the nearest line above whose band ``[(1 - b) * line, line)`` holds the
    AUM (``b`` = ``band`` or ``[threshold] upgrade_band``). Exactly on the line is not a near-miss
    (the client has reached it). Columns: client_id, branch_id, rm_id, tier (held), line_tier,
    line, aum, gap (line - aum), gap_share (gap / line), maturing_amount (month-end balance of
    positions maturing in ``(as_of, as_of + maturity_window_days]``: money to keep and top up),
    inflow_amount (``transfer_in`` with a ``counterparty_bank`` in ``(as_of - inflow_window_days,
    as_of]``: money seen coming from another bank), closable (maturing + inflow >= gap) and ease
    (1 = easiest: closable first, then the smaller gap relative to the line, then client_id).

    Both closers are talking points for the RM, not a forecast: maturing money is already in the
    AUM (it lifts the client only if kept and topped up), and an inflow from another bank shows
    that the client has money there to bring over. A closer is NaN (unknown) when its table was
    not imported (holdings for maturities, transactions for inflows); closable then counts the
    known one.
    """
    b = _band(band, "upgrade_band")
    th = load_settings()["threshold"]
    month, anchor = _month(wh, as_of)
    if month is None:
        return pd.DataFrame(columns=UPGRADE_COLUMNS)
    held, held_params = held_tiers_between(scope, tier_window_start(month), month)
    lines, line_params = _lines_values(1 - b)
    df = wh.query(
        f"""
        WITH held AS ({held}),
        lines(rank, line, bound) AS ({lines}),
        near AS (
            SELECT h.client_id, h.branch_id, h.rm_id, h.tier, l.rank AS line_rank, l.line,
                   h.aum::DOUBLE AS aum, (l.line - h.aum::DOUBLE) AS gap
            FROM held h JOIN lines l
              ON l.rank > h.tier AND h.aum::DOUBLE >= l.bound AND h.aum::DOUBLE < l.line
            WHERE h.month_end = ?
            QUALIFY ROW_NUMBER() OVER (PARTITION BY h.client_id ORDER BY l.rank) = 1
        ),
        maturing AS (
            SELECT m.client_id, SUM(m.balance)::DOUBLE AS amount
            FROM holdings_monthly m SEMI JOIN near USING (client_id)
            WHERE m.month_end = ? AND m.maturity_date > ? AND m.maturity_date <= ?
            GROUP BY m.client_id
        ),
        inflow AS (
            SELECT x.client_id, SUM(x.amount)::DOUBLE AS amount
            FROM transactions x SEMI JOIN near USING (client_id)
            WHERE x.txn_type = 'transfer_in' AND x.counterparty_bank IS NOT NULL
              AND x.counterparty_bank <> '' AND x.txn_date > ? AND x.txn_date <= ?
            GROUP BY x.client_id
        )
        SELECT n.*, COALESCE(m.amount, 0) AS maturing_amount,
               COALESCE(i.amount, 0) AS inflow_amount
        FROM near n LEFT JOIN maturing m USING (client_id) LEFT JOIN inflow i USING (client_id)
        """,
        [
            *held_params,
            *line_params,
            month,
            month,
            anchor,
            anchor + timedelta(days=int(th["maturity_window_days"])),
            anchor - timedelta(days=int(th["inflow_window_days"])),
            anchor,
        ],
    )
    df["gap"] = df["gap"].round(2)
    df["gap_share"] = df["gap"] / df["line"]
    # a closer whose data the snapshot was not given is unknown (NaN), not 0 (analytics.coverage)
    if not coverage.has(wh, "holdings"):
        df["maturing_amount"] = np.nan
    if not coverage.has(wh, "transactions"):
        df["inflow_amount"] = np.nan
    closers = df["maturing_amount"].fillna(0) + df["inflow_amount"].fillna(0)
    df["closable"] = closers.round(2) >= df["gap"]
    df = df.sort_values(
        ["closable", "gap_share", "client_id"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    df["ease"] = range(1, len(df) + 1)
    _names(df, "tier", "tier")
    _names(df, "line_tier", "line_rank")
    return df[UPGRADE_COLUMNS].astype({"closable": bool, "ease": "int64"})


# ---------------------------------------------------------------------------- downgrade risk


def downgrade_risk(
    wh: Database, scope: Scope, band: float | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Tier holders (held tier Potential or above) at risk of losing their tier, most urgent first.

    reason 'below_line': this month's AUM is below the held tier's line, so the client is inside the
    grace period; months_below counts the consecutive month-ends below it so far (1 ..
    ``downgrade_after_months`` - 1) and months_left = ``downgrade_after_months`` - months_below is
    how many more month-ends below would cost the tier (1 = the next one).
    reason 'near_and_falling': AUM in ``[line, (1 + b) * line)`` (``b`` = ``band`` or
    ``[threshold] downgrade_band``) and lower than the month before (months_below 0).

    Columns: client_id, branch_id, rm_id, tier (held), line_tier (= tier), line, aum, prev_aum
    (previous month-end's AUM, NaN if none), gap_to_keep (line - aum if below, else 0),
    months_below, months_left, reason. Sorted by months_left, then gap_to_keep / line (the
    easiest to keep first), then client_id.
    """
    b = _band(band, "downgrade_band")
    n = int(load_settings()["tiers"]["downgrade_after_months"])
    month, _ = _month(wh, as_of)
    if month is None:
        return pd.DataFrame(columns=DOWNGRADE_COLUMNS)
    # one month more than the tier needs, for the previous month's AUM
    held, held_params = held_tiers_between(scope, tier_window_start(month, 1), month)
    lines, line_params = _lines_values(1 + b)
    df = wh.query(
        f"""
        WITH held AS ({held}),
        lines(rank, line, bound) AS ({lines}),
        hist AS (
            SELECT *, LAG(aum) OVER (PARTITION BY client_id ORDER BY month_end) AS prev_aum
            FROM held WHERE month_end <= ?
        ),
        cur AS (
            SELECT h.client_id, h.branch_id, h.rm_id, h.tier, h.aum::DOUBLE AS aum,
                   h.prev_aum::DOUBLE AS prev_aum, l.line,
                   CASE WHEN h.aum::DOUBLE < l.line THEN 'below_line' ELSE 'near_and_falling' END
                       AS reason
            FROM hist h JOIN lines l ON l.rank = h.tier
            WHERE h.month_end = ?
              AND (h.aum::DOUBLE < l.line OR (h.aum::DOUBLE < l.bound AND h.aum < h.prev_aum))
        ),
        streak AS (  -- month-ends below the held line since the client was last at or above it
            SELECT c.client_id,
                   COUNT(*) FILTER (WHERE h.month_end > COALESCE(s.last_at, DATE '0001-01-01'))
                       AS months_below
            FROM cur c
            JOIN hist h USING (client_id)
            JOIN (SELECT c2.client_id,
                         MAX(h2.month_end) FILTER (WHERE h2.aum::DOUBLE >= c2.line) AS last_at
                  FROM cur c2 JOIN hist h2 USING (client_id)
                  GROUP BY c2.client_id) s USING (client_id)
            WHERE c.reason = 'below_line'
            GROUP BY c.client_id
        )
        SELECT c.client_id, c.branch_id, c.rm_id, c.tier, c.tier AS line_rank,
               c.line::DOUBLE AS line, c.aum::DOUBLE AS aum, c.prev_aum::DOUBLE AS prev_aum,
               GREATEST(c.line - c.aum, 0)::DOUBLE AS gap_to_keep,
               COALESCE(s.months_below, 0) AS months_below, c.reason
        FROM cur c LEFT JOIN streak s USING (client_id)
        """,
        [*held_params, *line_params, month, month],
    )
    df["gap_to_keep"] = df["gap_to_keep"].round(2)
    df["months_below"] = df["months_below"].astype("int64")
    df["months_left"] = n - df["months_below"]
    df["_share"] = df["gap_to_keep"] / df["line"]
    df = df.sort_values(
        ["months_left", "_share", "client_id"], ascending=True, kind="mergesort"
    ).reset_index(drop=True)
    _names(df, "tier", "tier")
    _names(df, "line_tier", "line_rank")
    return df[DOWNGRADE_COLUMNS].astype({"months_left": "int64"})


# ---------------------------------------------------------------------------- relationship


def relationship_near_miss(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Clients missing exactly one element of the full relationship (综合签约), largest AUM first.

    The elements, at the month-end picked by ``as_of``:

    - ``mobile``: mobile banking activated (``clients.mobile_banking``) *and* used: at least
      ``[threshold] mobile_min_logins`` logins over the last ``mobile_active_months`` month-ends
      (the as-of month included). An activated but dormant app does not count.
    - ``payroll_pension``: salary or pension paid through the bank (``payroll_flag`` or
      ``pension_flag``).
    - ``wealth``: a position with a balance in one of ``relationship_wealth_categories`` (wealth
      products, bond/mixed/equity funds, trusts, precious metals; money-market funds are a cash
      substitute and do not count).
    - ``insurance``: a position in ``relationship_insurance_categories`` (protection or annuity
      insurance) or a bank-insurance policy started on or before the as-of date.

    Columns: client_id, branch_id, rm_id, tier (held), aum, has_mobile, has_payroll_pension,
    has_wealth, has_insurance, missing (the one missing element's code).

    Nobody is listed when the snapshot has no holdings or mobile-banking activity
    (``coverage.NEEDS['relationship']``). A client whose payroll/pension is unknown (NULL flags in
    the roster) is not listed; an unknown mobile-banking flag counts as activated when the client
    logged in.
    """
    th = load_settings()["threshold"]
    month, anchor = _month(wh, as_of)
    if month is None or not coverage.has(wh, "relationship"):
        return pd.DataFrame(columns=RELATIONSHIP_COLUMNS)
    held, held_params = held_tiers_between(scope, tier_window_start(month), month)
    wealth = list(th["relationship_wealth_categories"])
    insurance = list(th["relationship_insurance_categories"])
    df = wh.query(
        f"""
        WITH held AS ({held}),
        cur AS (SELECT client_id, branch_id, rm_id, tier, aum FROM held WHERE month_end = ?),
        logins AS (
            SELECT d.client_id, SUM(d.mobile_logins) AS logins
            FROM digital_activity d SEMI JOIN cur USING (client_id)
            WHERE d.month_end >= ? AND d.month_end <= ?
            GROUP BY d.client_id
        ),
        cats AS (
            SELECT m.client_id,
                   BOOL_OR(list_contains(?::VARCHAR[], p.category)) AS wealth,
                   BOOL_OR(list_contains(?::VARCHAR[], p.category)) AS insurance
            FROM holdings_monthly m JOIN products p USING (product_id) SEMI JOIN cur USING (client_id)
            WHERE m.month_end = ? AND m.balance > 0
            GROUP BY m.client_id
        ),
        policies AS (
            SELECT DISTINCT i.client_id FROM insurance_policies i SEMI JOIN cur USING (client_id)
            WHERE i.start_date <= ?
        ),
        el AS (
            SELECT u.client_id, u.branch_id, u.rm_id, u.tier, u.aum::DOUBLE AS aum,
                   (COALESCE(c.mobile_banking, COALESCE(g.logins, 0) > 0)
                    AND COALESCE(g.logins, 0) >= ?) AS has_mobile,
                   (c.payroll_flag OR c.pension_flag) AS has_payroll_pension,
                   COALESCE(k.wealth, FALSE) AS has_wealth,
                   (COALESCE(k.insurance, FALSE) OR q.client_id IS NOT NULL) AS has_insurance
            FROM cur u JOIN clients c USING (client_id)
            LEFT JOIN logins g USING (client_id)
            LEFT JOIN cats k USING (client_id)
            LEFT JOIN policies q USING (client_id)
        )
        SELECT *, CASE WHEN NOT has_mobile THEN 'mobile'
                       WHEN NOT has_payroll_pension THEN 'payroll_pension'
                       WHEN NOT has_wealth THEN 'wealth'
                       ELSE 'insurance' END AS missing
        FROM el
        WHERE has_mobile::INTEGER + has_payroll_pension::INTEGER + has_wealth::INTEGER
              + has_insurance::INTEGER = 3
        ORDER BY aum DESC, client_id
        """,
        [
            *held_params,
            month,
            month_start(month, int(th["mobile_active_months"]) - 1),
            month,
            wealth,
            insurance,
            month,
            anchor,
            int(th["mobile_min_logins"]),
        ],
    )
    flags = ["has_mobile", "has_payroll_pension", "has_wealth", "has_insurance"]
    df = df.astype({f: bool for f in flags})
    _names(df, "tier", "tier")
    return df[RELATIONSHIP_COLUMNS]


# ---------------------------------------------------------------------------- all together


def threshold_clients(
    wh: Database, scope: Scope, band: float | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """The three lists in one long frame, one row per (client, kind); a client may be in several.

    ``band`` (if given) is used for both the upgrade and the downgrade band; otherwise each comes
    from settings. Columns: client_id, branch_id, rm_id, kind ('upgrade' | 'downgrade' |
    'relationship'), tier (held), line_tier (NaN for relationship), aum, gap (upgrade: line - aum;
    downgrade: gap_to_keep; relationship: NaN), and the detail columns closable, ease,
    maturing_amount, inflow_amount (upgrade), reason, months_below (downgrade), missing (relationship); NA elsewhere.
    """
    up = upgrade_near_miss(wh, scope, band, as_of).assign(kind="upgrade")
    down = downgrade_risk(wh, scope, band, as_of).assign(kind="downgrade")
    down = down.rename(columns={"gap_to_keep": "gap"})
    rel = relationship_near_miss(wh, scope, as_of).assign(kind="relationship")
    parts = [p for p in (up, down, rel) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=THRESHOLD_COLUMNS)
    df = pd.concat(parts, ignore_index=True).reindex(columns=THRESHOLD_COLUMNS)
    return df.astype(
        {
            "aum": "float64",
            "gap": "float64",
            "maturing_amount": "float64",
            "inflow_amount": "float64",
            "closable": "boolean",
            "months_below": "Int64",
            "ease": "Int64",
        }
    )


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per kind of a ``threshold_clients`` frame: kind, clients, gap_total (yuan, NaN-free;
    0 for relationship), closable (upgrade clients whose gap could be closed). Every kind present."""
    rows = []
    for kind in KINDS:
        part = frame[frame["kind"] == kind]
        rows.append(
            {
                "kind": kind,
                "clients": int(part["client_id"].nunique()),
                "gap_total": float(part["gap"].fillna(0).sum()),
                "closable": int(part["closable"].fillna(False).astype(bool).sum()),
            }
        )
    return pd.DataFrame(rows)


def threshold_summary(
    wh: Database, scope: Scope, band: float | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """``summarise(threshold_clients(...))``: kind, clients, gap_total, closable."""
    return summarise(threshold_clients(wh, scope, band, as_of))


# ---------------------------------------------------------------------------- contacts


def contacted_recently(
    wh: Database,
    scope: Scope,
    days: int | None = None,
    as_of: date | None = None,
    extra_contacts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Clients in scope contacted after ``as_of - days``: client_id, last_contact, contacts.

    ``days`` defaults to ``[invitations] exclude_contacted_days``; ``as_of`` to the snapshot's last
    month-end (pass today's date in the live app). Contacts come from the warehouse
    ``contact_history`` plus ``extra_contacts`` (a frame with client_id and contact_date, e.g. the
    workspace ``contact_logs``). A contact after ``as_of`` (logged since the snapshot) counts too.
    Use ``client_id.isin(...)`` on the result to flag or exclude them.
    """
    if days is None:
        days = int(load_settings()["invitations"]["exclude_contacted_days"])
    if as_of is None:
        as_of = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
    cols = ["client_id", "last_contact", "contacts"]
    if as_of is None:
        return pd.DataFrame(columns=cols)
    ids: list = []
    dates: list = []
    if extra_contacts is not None and not extra_contacts.empty:
        ids = extra_contacts["client_id"].astype(str).tolist()
        dates = [pd.Timestamp(d).date() for d in extra_contacts["contact_date"]]
    where, params = scope.where("c")
    df = wh.query(
        f"""
        WITH extra AS (
            SELECT UNNEST(?::VARCHAR[]) AS client_id, UNNEST(?::DATE[]) AS contact_date
        ),
        contacts AS (
            SELECT client_id, contact_date FROM contact_history
            UNION ALL SELECT client_id, contact_date FROM extra
        )
        SELECT x.client_id, MAX(x.contact_date) AS last_contact, COUNT(*) AS contacts
        FROM contacts x JOIN clients c USING (client_id)
        WHERE x.contact_date > ? AND {where}
        GROUP BY x.client_id ORDER BY x.client_id
        """,
        [ids, dates, as_of - timedelta(days=int(days)), *params],
    )
    df["last_contact"] = pd.to_datetime(df["last_contact"]).dt.date
    return df[cols].astype({"contacts": "int64"})
