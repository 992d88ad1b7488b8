"""Invitation lists (客户邀约, DESIGN.md §3): who to invite for which campaign, in which order, and
how far each campaign's invitations got.

Four campaigns (``CAMPAIGNS``); every number comes from ``[invitations]`` in settings.toml, or
from the section that defines it once (``[tiers.lines]``, ``[funds]``):

- ``upgrade`` (升级邀约): latest AUM in ``[(1 - upgrade_band_below) * line, line)``, ``line`` = the
  ``[tiers.lines]`` line of ``upgrade_line_tier`` (Platinum, 50万). Exactly on the line is not
  invited (the client has reached it). The rule reads this month's AUM only, so a client who still
  holds Platinum in the downgrade grace period (``analytics.tiers``) but is below 50万 is invited
  too: reaching the line again is the same conversation. Column ``gap`` = line - aum (元).
- ``fund_diagnosis`` (基金诊断): a fund position (``[funds] categories``) held at the month-end
  with P&L ``balance - cost`` at or below ``[funds] loss_line`` x cost (-15%; the same P&L % as the
  client view's holdings, ``(balance - cost) / cost``; positions with no cost are skipped).
  Columns ``loss_pct`` (the worst fund position's P&L as a fraction, e.g. -0.18), ``loss_amount``
  (元, positive: the sum of ``cost - balance`` over the client's fund positions in loss), ``level``
  (2 when a position is at or below ``fund_loss_second``, -20%, else 1) and ``positions`` (fund
  positions at or below the first line). Compared in decimals, so -15.00% exactly is level 1 and
  -20.00% exactly is level 2.
- ``insurance_review`` (保单检视): a bank-insurance policy started on or before the as-of date
  whose ``actual_yield`` is below its ``illustrated_yield`` or below ``deposit_rate_3y`` (the 3-year
  time-deposit rate). Protection policies (NULL yields) never qualify. Per policy the shortfall is
  the larger of (illustrated - actual) and (deposit rate - actual), counting only the positive ones;
  the client's worst policy (largest shortfall, then policy_id) gives ``policy_id``, ``yield_gap``
  (fraction), ``actual_yield``, ``illustrated_yield`` and ``reason``: the shortfall that
  ``yield_gap`` measures, ``"below_illustration"`` or ``"below_deposit_rate"``; when both are equal
  it is ``"below_illustration"`` (the promise made at sale is the first thing to explain).
- ``family_event`` (家庭活动邀约): families with children (a ``family_members`` child younger
  than ``event_child_max_age`` full years at ``today``) or affluent families (latest AUM at or above
  the ``[tiers.lines]`` line of ``event_affluent_tier``, 50万, and ``marital_status = 'married'`` or
  a spouse row). Columns ``reason``
  (``"children"`` | ``"affluent"`` | ``"both"``) and ``children`` (children under the age).

Common conventions:

- ``as_of`` (default: the snapshot's last month-end) picks the month-end whose AUM, positions and
  policies are read (``snapshot.month_and_anchor``). ``today`` (default: that anchor, i.e. the
  snapshot date) is the date ages and the recent-contact window count from; pass the real date in
  the live app.
- The population is the clients in the viewer's scope (``Scope.where`` on ``clients``, in SQL);
  ``aum`` is the month-end's ``client_aum_monthly.aum`` (0 when the client has no row).
- Clients contacted within ``exclude_contacted_days`` before ``today`` are left out
  (``threshold.contacted_recently``: CRM ``contact_history`` plus the contacts logged in the app,
  passed as ``extra_contacts``; a contact dated after ``today`` counts as recent too).
- The lists are ranked by value: ``value_score`` (0-100, ``value.value_scores`` at the month-end)
  highest first; a client without a score goes after those with one; ties by AUM (highest first),
  then client_id. ``rank`` 1 = the first to invite.
- Results are *members* frames (client_id and the campaign's own columns, no names or other
  personal data): ``client_lists.client_list`` adds names, RM, tier and masking.

The funnel (``funnel``) follows one campaign's invitations through the contact log of the app's
workspace (``contact_logs`` rows, see ``funnel_clients``) and the warehouse: conversions come from
the snapshot, so they appear once a snapshot newer than the invitation has been loaded. Each
recorded stage has its outcome code (``contact_log.OUTCOMES``): the invitation itself (any
outcome), ``reached`` (or any answer) and ``visited`` (the client came); a conversion is never
typed in by hand: it is what the bank's own data shows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from analytics import coverage
from analytics.access import Scope
from analytics.settings import fund_loss_line, load_settings, tier_line
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.threshold import contacted_recently
from analytics.value import FUND_CATEGORIES, value_scores

CAMPAIGNS = ("upgrade", "fund_diagnosis", "insurance_review", "family_event")
# What each campaign's rule reads besides the roster and its AUM (``analytics.coverage.NEEDS``):
# without it the list is empty for want of data, and the view names the missing file.
CAMPAIGN_NEEDS: dict[str, tuple[str, ...]] = {
    "upgrade": (),
    "fund_diagnosis": ("holdings",),
    "insurance_review": ("policies",),
    "family_event": ("family",),
}

# Columns of campaign_members: these first, then the campaign's own, then value_score and rank.
BASE_COLUMNS = ("client_id", "aum")
RANK_COLUMNS = ("value_score", "rank")
CAMPAIGN_COLUMNS = {
    "upgrade": ("line", "gap"),
    "fund_diagnosis": ("loss_pct", "loss_amount", "level", "positions"),
    "insurance_review": ("policy_id", "yield_gap", "reason", "actual_yield", "illustrated_yield"),
    "family_event": ("reason", "children"),
}
SUMMARY_COLUMNS = ("campaign", "clients", "aum", "excluded_recent")

# Reason codes
INSURANCE_REASONS = ("below_illustration", "below_deposit_rate")
FAMILY_REASONS = ("children", "affluent", "both")

# Funnel (contact-log codes, schema.sql contact_logs / contact_history).
INVITE_PREFIX = "invite_"
FUNNEL_STAGES = ("invited", "reached", "visited", "converted")
# The client answered: every outcome except no_answer (a refusal is still a conversation; a client
# who came was reached).
REACHED_OUTCOMES = ("reached", "visit_booked", "visited", "product_discussed", "declined")
NOT_REACHED_OUTCOMES = ("no_answer",)
# The client came: a row on or after the first invitation with the outcome ``visited`` (recorded
# on any channel: the RM who invited by phone records that the client came), or a visit or event
# row with one of ``VISITED_OUTCOMES`` (the meeting itself took place).
VISITED_OUTCOME = "visited"
VISIT_CHANNELS = ("visit", "event")
VISITED_OUTCOMES = ("reached", "visit_booked", "visited", "product_discussed")
# Conversion for every campaign but upgrade: a client-initiated transaction of this type.
CONVERSION_TXN_TYPE = "purchase"
LOG_COLUMNS = (
    "log_id",
    "client_id",
    "rm_id",
    "contact_date",
    "channel",
    "reason",
    "outcome",
    "note",
)
FUNNEL_CLIENT_COLUMNS = ("client_id", "first_invite", *FUNNEL_STAGES[1:])


# ---------------------------------------------------------------------------- helpers


def _check(campaign: str) -> None:
    if campaign not in CAMPAIGNS:
        raise ValueError(f"unknown campaign {campaign!r}")


def invite_reason(campaign: str) -> str:
    """The contact-log ``reason`` code of an invitation for ``campaign``: ``"invite_<campaign>"``."""
    _check(campaign)
    return f"{INVITE_PREFIX}{campaign}"


def columns(campaign: str) -> list[str]:
    """The columns of ``campaign_members`` for ``campaign``, in order."""
    _check(campaign)
    return [*BASE_COLUMNS, *CAMPAIGN_COLUMNS[campaign], *RANK_COLUMNS]


def _rules() -> dict:
    return load_settings()["invitations"]


def upgrade_line() -> float:
    """The tier line (元) of the upgrade invitation: ``[tiers.lines]`` of ``upgrade_line_tier``."""
    return _line_of("upgrade_line_tier")


def affluent_line() -> float:
    """The AUM (元) of an affluent family: ``[tiers.lines]`` of ``event_affluent_tier``."""
    return _line_of("event_affluent_tier")


def fund_loss_levels() -> tuple[float, float]:
    """The fund check-up's two P&L lines (fractions of cost): ``[funds] loss_line`` (level 1) and
    ``[invitations] fund_loss_second`` (level 2)."""
    return fund_loss_line(), float(_rules()["fund_loss_second"])


def _line_of(key: str) -> float:
    tier = _rules()[key]
    try:
        return tier_line(tier)
    except ValueError:
        raise ValueError(f"[invitations] {key} {tier!r} is not a tier with a line") from None


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _dec(value) -> str:
    """A settings number as an exact decimal string (for ``CAST(? AS DECIMAL(..))``)."""
    return str(Decimal(str(value)))


def _pop_sql(scope: Scope, month: date) -> tuple[str, list]:
    """CTE ``pop``: the clients in scope with their month-end AUM (``aum`` DOUBLE, 0 without a row;
    ``aum_dec`` the stored decimal, NULL without a row) and family facts."""
    where, params = scope.where("c")
    sql = f"""
        pop AS (
            SELECT c.client_id, c.marital_status, a.aum AS aum_dec,
                   COALESCE(a.aum, 0)::DOUBLE AS aum
            FROM clients c
            LEFT JOIN client_aum_monthly a ON a.client_id = c.client_id AND a.month_end = ?
            WHERE {where}
        )
    """
    return sql, [month, *params]


def _upgrade(wh: Database, scope: Scope, month: date, anchor: date, today: date) -> pd.DataFrame:
    rules = _rules()
    band = Decimal(str(rules["upgrade_band_below"]))
    if not Decimal(0) <= band < Decimal(1):
        raise ValueError("[invitations] upgrade_band_below must be in [0, 1)")
    line = Decimal(str(upgrade_line()))
    # the bound in decimals (0.9 x 500,000 is exactly 450,000), compared as doubles: both sides are
    # the nearest double of an exact decimal, so the band edges are exact (as in threshold.py)
    bound = line * (1 - band)
    pop, params = _pop_sql(scope, month)
    return wh.query(
        f"""
        WITH {pop}
        SELECT client_id, aum, ?::DOUBLE AS line, ROUND(?::DOUBLE - aum, 2) AS gap
        FROM pop
        WHERE aum_dec IS NOT NULL AND aum >= ?::DOUBLE AND aum < ?::DOUBLE
        """,
        [*params, float(line), float(line), float(bound), float(line)],
    )


def _fund_diagnosis(
    wh: Database, scope: Scope, month: date, anchor: date, today: date
) -> pd.DataFrame:
    pop, params = _pop_sql(scope, month)
    return wh.query(
        f"""
        WITH {pop},
        pos AS (
            SELECT h.client_id, h.balance, h.cost
            FROM holdings_monthly h JOIN products p USING (product_id) SEMI JOIN pop USING (client_id)
            WHERE h.month_end = ? AND p.category IN ({_marks(FUND_CATEGORIES)}) AND h.cost > 0
        ),
        agg AS (
            SELECT client_id,
                   MIN((balance - cost) / cost)::DOUBLE AS loss_pct,
                   SUM(GREATEST(cost - balance, 0))::DOUBLE AS loss_amount,
                   COUNT(*) FILTER (WHERE balance - cost <= CAST(? AS DECIMAL(18, 6)) * cost)
                       AS positions,
                   BOOL_OR(balance - cost <= CAST(? AS DECIMAL(18, 6)) * cost) AS deep
            FROM pos GROUP BY client_id
        )
        SELECT p.client_id, p.aum, g.loss_pct, ROUND(g.loss_amount, 2) AS loss_amount,
               CASE WHEN g.deep THEN 2 ELSE 1 END AS level, g.positions
        FROM pop p JOIN agg g USING (client_id)
        WHERE g.positions > 0
        """,
        [
            *params,
            month,
            *FUND_CATEGORIES,
            *(_dec(line) for line in fund_loss_levels()),
        ],
    )


def _insurance_review(
    wh: Database, scope: Scope, month: date, anchor: date, today: date
) -> pd.DataFrame:
    rate = _dec(_rules()["deposit_rate_3y"])
    pop, params = _pop_sql(scope, month)
    return wh.query(
        f"""
        WITH {pop},
        pol AS (
            SELECT i.client_id, i.policy_id, i.actual_yield, i.illustrated_yield,
                   CASE WHEN i.actual_yield < i.illustrated_yield
                        THEN i.illustrated_yield - i.actual_yield END AS ill_gap,
                   CASE WHEN i.actual_yield < CAST(? AS DECIMAL(12, 8))
                        THEN CAST(? AS DECIMAL(12, 8)) - i.actual_yield END AS dep_gap
            FROM insurance_policies i SEMI JOIN pop USING (client_id)
            WHERE i.actual_yield IS NOT NULL AND i.start_date <= ?
        ),
        bad AS (
            SELECT *, GREATEST(COALESCE(ill_gap, 0), COALESCE(dep_gap, 0)) AS gap,
                   CASE WHEN COALESCE(ill_gap, 0) >= COALESCE(dep_gap, 0)
                        THEN 'below_illustration' ELSE 'below_deposit_rate' END AS reason
            FROM pol WHERE ill_gap IS NOT NULL OR dep_gap IS NOT NULL
        ),
        worst AS (
            SELECT * FROM bad
            QUALIFY ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY gap DESC, policy_id) = 1
        )
        SELECT p.client_id, p.aum, w.policy_id, w.gap::DOUBLE AS yield_gap, w.reason,
               w.actual_yield::DOUBLE AS actual_yield,
               w.illustrated_yield::DOUBLE AS illustrated_yield
        FROM pop p JOIN worst w USING (client_id)
        """,
        [*params, rate, rate, anchor],
    )


def _family_event(
    wh: Database, scope: Scope, month: date, anchor: date, today: date
) -> pd.DataFrame:
    rules = _rules()
    pop, params = _pop_sql(scope, month)
    return wh.query(
        f"""
        WITH {pop},
        kids AS (
            SELECT f.client_id, COUNT(*) AS children
            FROM family_members f SEMI JOIN pop USING (client_id)
            WHERE f.relation = 'child' AND f.birth_date <= ?
              AND date_sub('year', f.birth_date, ?::DATE) < ?
            GROUP BY f.client_id
        ),
        spouse AS (
            SELECT DISTINCT f.client_id FROM family_members f SEMI JOIN pop USING (client_id)
            WHERE f.relation = 'spouse'
        ),
        fam AS (
            SELECT p.client_id, p.aum, COALESCE(k.children, 0) AS children,
                   COALESCE(p.aum_dec >= CAST(? AS DECIMAL(18, 2)), FALSE)
                       AND (p.marital_status = 'married' OR s.client_id IS NOT NULL) AS affluent
            FROM pop p LEFT JOIN kids k USING (client_id) LEFT JOIN spouse s USING (client_id)
        )
        SELECT client_id, aum,
               CASE WHEN children > 0 AND affluent THEN 'both'
                    WHEN children > 0 THEN 'children' ELSE 'affluent' END AS reason,
               children
        FROM fam WHERE children > 0 OR affluent
        """,
        [
            *params,
            today,
            today,
            int(rules["event_child_max_age"]),
            _dec(affluent_line()),
        ],
    )


_RULES = {
    "upgrade": _upgrade,
    "fund_diagnosis": _fund_diagnosis,
    "insurance_review": _insurance_review,
    "family_event": _family_event,
}


def _dates(wh: Database, as_of, today) -> tuple[date | None, date | None, date | None]:
    month, anchor = month_and_anchor(wh, as_of)
    if today is None:
        today = anchor
    return month, anchor, (None if today is None else pd.Timestamp(today).date())


def qualifying(
    wh: Database,
    scope: Scope,
    campaign: str,
    as_of: date | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """Every client in scope who meets ``campaign``'s rule (module docstring), recently contacted
    or not, unranked: client_id, aum and the campaign's own columns, by client_id."""
    _check(campaign)
    month, anchor, today = _dates(wh, as_of, today)
    cols = [*BASE_COLUMNS, *CAMPAIGN_COLUMNS[campaign]]
    if month is None:
        return pd.DataFrame(columns=cols)
    df = _RULES[campaign](wh, scope, month, anchor, today)
    return df[cols].sort_values("client_id", kind="mergesort").reset_index(drop=True)


def _recent_ids(wh, scope, today, extra_contacts) -> set:
    days = int(_rules()["exclude_contacted_days"])
    recent = contacted_recently(wh, scope, days, as_of=today, extra_contacts=extra_contacts)
    return set(recent["client_id"])


def rank_by_value(members: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """``members`` with ``value_score`` (from ``scores``: client_id, value_score; NaN when the
    client has none) and ``rank`` (1 = first): value_score highest first, clients without a score
    last, then AUM highest first, then client_id."""
    df = members.merge(scores[["client_id", "value_score"]], on="client_id", how="left")
    df["value_score"] = df["value_score"].astype("float64")
    df = df.sort_values(
        ["value_score", "aum", "client_id"],
        ascending=[False, False, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    df["rank"] = pd.Series(range(1, len(df) + 1), dtype="int64")
    return df


# ---------------------------------------------------------------------------- public API


def campaign_members(
    wh: Database,
    scope: Scope,
    campaign: str,
    as_of: date | None = None,
    today: date | None = None,
    extra_contacts: pd.DataFrame | None = None,
    *,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The invitation list of ``campaign`` (one of ``CAMPAIGNS``; anything else: ValueError).

    The clients in scope who meet the campaign's rule (module docstring), minus those contacted
    within ``[invitations] exclude_contacted_days`` before ``today`` (CRM history plus
    ``extra_contacts``: a frame with client_id and contact_date, e.g. the workspace contact log),
    ranked by value. Columns: ``columns(campaign)``: client_id, aum (元, month-end), the campaign's
    own columns, value_score, rank (1 = first to invite). Sorted by rank.

    ``scores`` (client_id, value_score; e.g. ``value.client_scores``) saves recomputing
    ``value.value_scores`` when the caller has them already.
    """
    cols = columns(campaign)
    month, _, today = _dates(wh, as_of, today)
    if month is None:
        return pd.DataFrame(columns=cols)
    df = qualifying(wh, scope, campaign, as_of, today)
    if not df.empty:
        df = df[~df["client_id"].isin(_recent_ids(wh, scope, today, extra_contacts))]
    if scores is None:
        scores = value_scores(wh, scope, month) if not df.empty else None
    if scores is None or scores.empty:
        scores = pd.DataFrame({"client_id": pd.Series(dtype=str), "value_score": []})
    return rank_by_value(df, scores)[cols]


def campaign_summary(
    wh: Database,
    scope: Scope,
    as_of: date | None = None,
    today: date | None = None,
    extra_contacts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per campaign (``CAMPAIGNS`` order): campaign, clients (on the list, i.e. after the
    exclusion), aum (元, their month-end AUM summed) and excluded_recent (clients who meet the rule
    but were left out as contacted within ``exclude_contacted_days``)."""
    month, _, today = _dates(wh, as_of, today)
    recent = set() if month is None else _recent_ids(wh, scope, today, extra_contacts)
    rows = []
    for campaign in CAMPAIGNS:
        df = qualifying(wh, scope, campaign, as_of, today)
        out = df["client_id"].isin(recent)
        rows.append(
            {
                "campaign": campaign,
                "clients": int((~out).sum()),
                "aum": float(df.loc[~out, "aum"].astype("float64").sum()),
                "excluded_recent": int(out.sum()),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _clean_logs(logs: pd.DataFrame) -> pd.DataFrame:
    """The log columns the funnel reads, with plain types for DuckDB (contact_date as datetime)."""
    return pd.DataFrame(
        {
            "client_id": logs["client_id"].astype(str),
            "contact_date": pd.to_datetime(logs["contact_date"]),
            "channel": logs["channel"].fillna("").astype(str),
            "reason": logs["reason"].fillna("").astype(str),
            "outcome": logs["outcome"].fillna("").astype(str),
        }
    )


def funnel_clients(wh: Database, scope: Scope, campaign: str, logs: pd.DataFrame) -> pd.DataFrame:
    """Per invited client of ``campaign`` in scope: client_id, first_invite (date of the first
    invitation row) and the stages reached (booleans):

    - invited: ``logs`` (workspace contact-log rows: log_id, client_id, rm_id, contact_date,
      channel, reason, outcome, note) has a row with ``reason == invite_reason(campaign)``;
    - reached: a row of the client dated on or after the first invitation (the invitation itself
      included) with an outcome in ``REACHED_OUTCOMES`` (anything but no_answer);
    - visited: such a row with the outcome ``visited`` (``VISITED_OUTCOME``, on any channel), or
      with channel in ``VISIT_CHANNELS`` (visit, event) and an outcome in ``VISITED_OUTCOMES``
      (reached, visit_booked, visited, product_discussed): the client came;
    - converted, from the warehouse snapshot: for ``upgrade``, the client's AUM at a month-end on
      or after the first invitation reached ``upgrade_line()``; for the other campaigns, a
      client-initiated ``purchase`` transaction dated on or after the first invitation. A
      conversion shows once a snapshot newer than the invitation is loaded; it does not require
      the earlier stages (the invitation may work without a logged answer).

    Only clients inside ``scope`` are counted (the log rows are joined to ``clients`` under
    ``scope.where`` in SQL). Sorted by first_invite, then client_id.
    """
    reason = invite_reason(campaign)
    cols = list(FUNNEL_CLIENT_COLUMNS)
    if logs is None or logs.empty or not (logs["reason"] == reason).any():
        return pd.DataFrame(columns=cols)
    frame = _clean_logs(logs)
    where, params = scope.where("c")
    if campaign == "upgrade":
        conv = """
            SELECT DISTINCT a.client_id FROM client_aum_monthly a JOIN inv USING (client_id)
            WHERE a.month_end >= inv.first_invite AND a.aum::DOUBLE >= ?::DOUBLE
        """
        conv_params: list = [upgrade_line()]
    else:
        conv = """
            SELECT DISTINCT t.client_id FROM transactions t JOIN inv USING (client_id)
            WHERE t.txn_type = ? AND t.client_initiated AND t.txn_date >= inv.first_invite
        """
        conv_params = [CONVERSION_TXN_TYPE]
    sql = f"""
        WITH logs AS (
            SELECT client_id, CAST(contact_date AS DATE) AS contact_date, channel, reason, outcome
            FROM funnel_logs
        ),
        inv AS (
            SELECT l.client_id, MIN(l.contact_date) AS first_invite
            FROM logs l JOIN clients c ON c.client_id = l.client_id
            WHERE l.reason = ? AND {where}
            GROUP BY l.client_id
        ),
        stages AS (
            SELECT l.client_id,
                   BOOL_OR(l.outcome IN ({_marks(REACHED_OUTCOMES)})) AS reached,
                   BOOL_OR(l.outcome = ?
                           OR (l.channel IN ({_marks(VISIT_CHANNELS)})
                               AND l.outcome IN ({_marks(VISITED_OUTCOMES)}))) AS visited
            FROM logs l JOIN inv USING (client_id)
            WHERE l.contact_date >= inv.first_invite
            GROUP BY l.client_id
        ),
        conv AS ({conv})
        SELECT i.client_id, i.first_invite,
               COALESCE(s.reached, FALSE) AS reached, COALESCE(s.visited, FALSE) AS visited,
               v.client_id IS NOT NULL AS converted
        FROM inv i LEFT JOIN stages s USING (client_id) LEFT JOIN conv v USING (client_id)
        ORDER BY i.first_invite, i.client_id
    """
    with wh.cursor() as cur:
        cur.register("funnel_logs", frame)
        df = cur.execute(
            sql,
            [
                reason,
                *params,
                *REACHED_OUTCOMES,
                VISITED_OUTCOME,
                *VISIT_CHANNELS,
                *VISITED_OUTCOMES,
                *conv_params,
            ],
        ).df()
    df["first_invite"] = pd.to_datetime(df["first_invite"]).dt.date
    return df[cols].astype({s: bool for s in FUNNEL_STAGES[1:]})


def funnel(wh: Database, scope: Scope, campaign: str, logs: pd.DataFrame) -> dict:
    """Stage counts of ``campaign``'s invitations (distinct clients in scope, ``funnel_clients``):
    ``{"campaign", "invited", "reached", "visited", "converted", "data_until"}``; ``data_until``
    is the snapshot's latest month-end (conversions after it are not visible yet), or None.
    ``converted`` is None (unknown) when a purchase would show in transactions and the snapshot
    has none imported."""
    per = funnel_clients(wh, scope, campaign, logs)
    latest = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
    out: dict = {"campaign": campaign, "invited": int(len(per))}
    for stage in FUNNEL_STAGES[1:]:
        out[stage] = int(per[stage].sum()) if len(per) else 0
    if campaign != "upgrade" and not coverage.has(wh, "transactions"):
        out["converted"] = None
    out["data_until"] = None if latest is None else pd.Timestamp(latest).date()
    return out
