"""Client tags (客户标签, issue 4 item 1): rule-based yes/no labels that profile a client in a word and
let every client list be filtered (all-of / any-of).

Every number comes from settings.toml (``[tags.*]``, ``[tiers]``, ``[funds]``, ``[kyc]``); display
names are the ``tag.<code>`` strings of ``ui/i18n.py``. The rules, evaluated at ``as_of`` (a date;
default the latest month-end in ``client_aum_monthly``):

- ``high_net_worth`` 高净值: held AUM tier (``analytics.tiers``, with the downgrade rule) at the
  as-of month-end at or above ``[tags.high_net_worth] min_tier``.
- ``near_retirement`` 临近退休: age in ``[R - years_before, R)`` with R = ``[tags.retirement_age]``
  for the client's gender (men 60, women 55 by default) and ``[tags.near_retirement]
  years_before``, unless the client is already ``retired``.
- ``retired`` 已退休: occupation in ``[tags.retired] occupations`` or age >= R.
- ``pension_payroll`` 代发养老金: ``clients.pension_flag``; ``salary_payroll`` 代发工资:
  ``clients.payroll_flag``.
- ``child_education`` 有子女教育需求: a child in ``family_members`` aged within ``[min_child_age,
  max_child_age]`` of ``[tags.child_education]`` (both ends included).
- ``fund_loss`` 基金浮亏: a position at the as-of month-end in ``[funds] categories`` with
  cost > 0 and ``balance - cost <= loss_line * cost`` (exactly -15% counts; decimal arithmetic).
- ``conservative`` / ``balanced`` / ``aggressive`` 保守型/稳健型/进取型: risk level in the lists of
  ``[tags.risk_profile]`` (C1–C2 / C3 / C4–C5).
- ``digital_active`` 数字活跃: mobile banking activated and at least ``[tags.digital] min_logins``
  mobile logins over the last ``months`` month-ends (as-of month included). ``digital_silent``
  数字沉默 is exactly its complement (it includes clients without mobile banking).
- ``deposit_maturing`` 存款到期: a position at the as-of month-end in ``[tags.deposit_maturing]
  categories`` whose maturity_date is in ``(as_of, as_of + within_days]``.
- ``long_uncontacted`` 长期未联系: no ``contact_history`` row dated in ``(as_of - days, as_of]``
  (``[tags.long_uncontacted] days``). Only the CRM export of the warehouse is read: contacts logged
  in BranchLens (workspace ``contact_logs``) are not seen here.
- ``risk_assessment_expired`` 风险测评过期: ``risk_assessed_on`` more than ``[kyc]
  risk_assessment_valid_days`` days before as_of (exactly that many days old is still valid).

Unknown roster values (NULL in a bank's import: no birth date, risk level or flags) give no tag,
and a tag whose table or roster column was not imported at all is False for everyone and left out
of ``available_tags`` (``TAG_NEEDS``).

Ages are full years at ``as_of``. Positions are those of the latest month-end on or before
``as_of``; the windows of maturities and contacts are anchored on ``as_of`` itself (the same
conventions as ``analytics.threshold``). Rows are every client in the scope (filtered in SQL).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from analytics import coverage
from analytics.access import AccessDenied, Scope
from analytics.settings import fund_categories, fund_loss_line, load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import held_tiers_sql, month_start, tier_names, tier_window_start

# Display order (profiles, then money and family, then the client's state and RM actions).
TAGS = (
    "high_net_worth",
    "near_retirement",
    "retired",
    "pension_payroll",
    "salary_payroll",
    "child_education",
    "fund_loss",
    "conservative",
    "balanced",
    "aggressive",
    "digital_active",
    "digital_silent",
    "deposit_maturing",
    "long_uncontacted",
    "risk_assessment_expired",
)
MODES = ("all", "any")

# What a tag reads besides the held AUM tier (issue 11, minimum import): a part of
# ``analytics.coverage.NEEDS`` the snapshot must have, and roster columns of which at least one
# must hold values. A tag whose data was not imported is not offered (``available_tags``) and is
# False for everyone (``client_tags``), rather than true for all (everyone "never contacted") or
# false as a fact.
TAG_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "near_retirement": ((), ("birth_date",)),
    "retired": ((), ("birth_date", "occupation")),
    "pension_payroll": ((), ("pension_flag",)),
    "salary_payroll": ((), ("payroll_flag",)),
    "child_education": (("family",), ()),
    "fund_loss": (("holdings",), ()),
    "conservative": ((), ("risk_level",)),
    "balanced": ((), ("risk_level",)),
    "aggressive": ((), ("risk_level",)),
    "digital_active": (("digital",), ()),
    "digital_silent": (("digital",), ()),
    "deposit_maturing": (("holdings",), ()),
    "long_uncontacted": (("contacts",), ()),
    "risk_assessment_expired": ((), ("risk_assessed_on",)),
}


def available_tags(wh: Database) -> tuple[str, ...]:
    """The tags of ``TAGS`` the snapshot has the data for (every tag on the demo), in order."""
    filled = coverage.filled_columns(wh)
    out = []
    for tag in TAGS:
        parts, columns = TAG_NEEDS.get(tag, ((), ()))
        if coverage.has(wh, *parts) and (not columns or any(c in filled for c in columns)):
            out.append(tag)
    return tuple(out)


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _month(wh: Database, as_of: date | None) -> tuple[date | None, date | None]:
    """(month-end used, anchor date): the latest month-end on or before ``as_of``."""
    return month_and_anchor(wh, as_of)


def _tags_sql(
    scope: Scope, month: date | None, anchor: date, client_id: str | None = None
) -> tuple[str, list]:
    """SQL of (client_id, *TAGS) for the clients in ``scope`` (one client when ``client_id``)."""
    settings = load_settings()
    t = settings["tags"]
    where, where_params = scope.where("c")
    if client_id is not None:
        where += " AND c.client_id = ?"
        where_params = [*where_params, client_id]
    names = tier_names(settings)
    min_tier = names.index(t["high_net_worth"]["min_tier"])
    retire = t["retirement_age"]
    retire_rows = ", ".join("(?, ?::INTEGER)" for _ in retire)
    retire_params = [v for gender, age in retire.items() for v in (gender, int(age))]
    retired_occ = list(t["retired"]["occupations"])
    kids = t["child_education"]
    funds, fund_line = fund_categories(settings), fund_loss_line(settings)
    risk = t["risk_profile"]
    digital = t["digital"]
    maturing = t["deposit_maturing"]
    valid_days = int(settings["kyc"]["risk_assessment_valid_days"])
    if month is not None:
        held, held_params = held_tiers_sql(
            scope, settings, first=tier_window_start(month), last=month
        )
        login_first = month_start(month, int(digital["months"]) - 1)
    else:  # no month-end on or before as_of: no tier, positions or logins
        held, held_params = (
            "SELECT NULL::VARCHAR AS client_id, 0 AS tier, NULL::DATE AS month_end",
            [],
        )
        login_first = None

    sql = f"""
        WITH pop AS (
            SELECT c.client_id, c.gender, c.occupation, c.risk_level, c.risk_assessed_on,
                   c.payroll_flag, c.pension_flag, c.mobile_banking,
                   date_sub('year', c.birth_date, ?::DATE) AS age
            FROM clients c WHERE {where}
        ),
        retire(gender, age) AS (VALUES {retire_rows}),
        held AS (
            SELECT client_id, tier FROM ({held}) WHERE month_end = ?
        ),
        kids AS (
            SELECT DISTINCT f.client_id FROM family_members f SEMI JOIN pop USING (client_id)
            WHERE f.relation = 'child'
              AND date_sub('year', f.birth_date, ?::DATE) BETWEEN ? AND ?
        ),
        fund AS (
            SELECT DISTINCT h.client_id
            FROM holdings_monthly h JOIN products p USING (product_id) SEMI JOIN pop USING (client_id)
            WHERE h.month_end = ? AND p.category IN ({_marks(funds)})
              AND h.cost > 0 AND h.balance - h.cost <= CAST(? AS DECIMAL(18, 6)) * h.cost
        ),
        logins AS (
            SELECT d.client_id, SUM(d.mobile_logins) AS logins
            FROM digital_activity d SEMI JOIN pop USING (client_id)
            WHERE d.month_end >= ? AND d.month_end <= ?
            GROUP BY d.client_id
        ),
        maturing AS (
            SELECT DISTINCT h.client_id
            FROM holdings_monthly h JOIN products p USING (product_id) SEMI JOIN pop USING (client_id)
            WHERE h.month_end = ? AND p.category IN ({_marks(maturing["categories"])})
              AND h.maturity_date > ? AND h.maturity_date <= ?
        ),
        contacted AS (
            SELECT DISTINCT x.client_id FROM contact_history x SEMI JOIN pop USING (client_id)
            WHERE x.contact_date > ? AND x.contact_date <= ?
        ),
        base AS (
            SELECT pop.*, r.age AS retire_age,
                   COALESCE(pop.occupation IN ({_marks(retired_occ)}), FALSE)
                       OR COALESCE(pop.age >= r.age, FALSE) AS is_retired,
                   COALESCE(held.tier, 0) AS tier,
                   COALESCE(pop.mobile_banking, logins.logins > 0, FALSE)
                       AND COALESCE(logins.logins, 0) >= ? AS is_digital
            FROM pop LEFT JOIN retire r USING (gender)
            LEFT JOIN held USING (client_id) LEFT JOIN logins USING (client_id)
        )
        SELECT b.client_id,
               b.tier >= ? AS high_net_worth,
               NOT b.is_retired AND COALESCE(b.age >= b.retire_age - ? AND b.age < b.retire_age,
                                             FALSE) AS near_retirement,
               b.is_retired AS retired,
               COALESCE(b.pension_flag, FALSE) AS pension_payroll,
               COALESCE(b.payroll_flag, FALSE) AS salary_payroll,
               b.client_id IN (SELECT client_id FROM kids) AS child_education,
               b.client_id IN (SELECT client_id FROM fund) AS fund_loss,
               COALESCE(b.risk_level IN ({_marks(risk["conservative"])}), FALSE) AS conservative,
               COALESCE(b.risk_level IN ({_marks(risk["balanced"])}), FALSE) AS balanced,
               COALESCE(b.risk_level IN ({_marks(risk["aggressive"])}), FALSE) AS aggressive,
               b.is_digital AS digital_active,
               NOT b.is_digital AS digital_silent,
               b.client_id IN (SELECT client_id FROM maturing) AS deposit_maturing,
               b.client_id NOT IN (SELECT client_id FROM contacted) AS long_uncontacted,
               COALESCE(b.risk_assessed_on < ?, FALSE) AS risk_assessment_expired
        FROM base b
        ORDER BY b.client_id
    """
    params = [
        anchor,
        *where_params,
        *retire_params,
        *held_params,
        month,
        anchor,
        int(kids["min_child_age"]),
        int(kids["max_child_age"]),
        month,
        *funds,
        str(Decimal(str(fund_line))),
        login_first,
        month,
        month,
        *maturing["categories"],
        anchor,
        anchor + timedelta(days=int(maturing["within_days"])),
        anchor - timedelta(days=int(t["long_uncontacted"]["days"])),
        anchor,
        *retired_occ,
        int(digital["min_logins"]),
        min_tier,
        int(t["near_retirement"]["years_before"]),
        *risk["conservative"],
        *risk["balanced"],
        *risk["aggressive"],
        anchor - timedelta(days=valid_days),
    ]
    return sql, params


def _frame(df: pd.DataFrame, wh: Database | None = None) -> pd.DataFrame:
    df = df[["client_id", *TAGS]].astype({tag: bool for tag in TAGS}).reset_index(drop=True)
    if wh is not None and len(df):
        for tag in set(TAGS) - set(available_tags(wh)):
            df[tag] = False
    return df


def client_tags(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """One row per client in ``scope`` (sorted by client_id): client_id and one boolean column per
    tag code of ``TAGS``, evaluated at ``as_of`` (default: the latest month-end)."""
    month, anchor = _month(wh, as_of)
    if anchor is None:  # an empty snapshot
        return _frame(pd.DataFrame(columns=["client_id", *TAGS]))
    sql, params = _tags_sql(scope, month, anchor)
    return _frame(wh.query(sql, params), wh)


def tags_of(wh: Database, scope: Scope, client_id: str, as_of: date | None = None) -> list[str]:
    """The tag codes one client holds, in ``TAGS`` order. A client outside the scope and a client
    that does not exist raise the same ``AccessDenied`` (as ``analytics.client360``)."""
    month, anchor = _month(wh, as_of)
    if anchor is None:
        raise AccessDenied("client_refused")
    sql, params = _tags_sql(scope, month, anchor, client_id)
    df = wh.query(sql, params)
    if df.empty:
        raise AccessDenied("client_refused")
    row = _frame(df, wh).iloc[0]
    return [tag for tag in TAGS if bool(row[tag])]


def filter_by_tags(tags_frame: pd.DataFrame, wanted: list[str], mode: str = "all") -> pd.DataFrame:
    """The clients of ``tags_frame`` (from ``client_tags``) holding all (``mode='all'``) or at least
    one (``'any'``) of the ``wanted`` tag codes, as a frame with one column client_id (in the
    frame's order). No wanted tag means no filter: every client is returned."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    unknown = [tag for tag in wanted if tag not in TAGS]
    if unknown:
        raise ValueError(f"unknown tags {unknown}")
    if not wanted:
        keep = pd.Series(True, index=tags_frame.index)
    else:
        flags = tags_frame[list(wanted)].astype(bool)
        keep = flags.all(axis=1) if mode == "all" else flags.any(axis=1)
    return tags_frame.loc[keep, ["client_id"]].reset_index(drop=True)
