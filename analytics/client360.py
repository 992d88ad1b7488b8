"""One client (客户360): identity, KYC, AUM trend, holdings, transactions, contacts, talking points.

Every function first checks that the client is inside the viewer's scope, in SQL; a client outside
it and a client that does not exist raise the same ``AccessDenied``, so a refusal hints nothing.
Personal data comes back masked (``analytics.privacy``) unless ``unmask=True`` is asked by a viewer
who owns the client (an RM for their own client, DESIGN.md §5); the caller audits that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from analytics import privacy
from analytics.access import AccessDenied, Scope, may
from analytics.settings import fund_loss_line, load_settings, tier_lines
from analytics.snapshot import meta
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names
from analytics.value import FUND_CATEGORIES


@dataclass(frozen=True)
class ClientCard:
    """Who the client is, as the client view's header shows it. A fact the bank's roster does not
    give (an optional column left empty in an import) is None: unknown, never a default."""

    client_id: str
    branch_id: str
    rm_id: str | None
    rm_name_zh: str | None
    rm_name_en: str | None
    name_zh: str | None
    name_en: str | None
    id_number: str | None
    phone: str | None
    address: str | None
    gender: str | None
    age: int | None
    occupation: str | None
    marital_status: str | None
    children_ages: tuple[int, ...]
    monthly_income: float | None
    monthly_spending: float | None
    risk_level: str | None
    risk_assessed_on: date | None
    risk_stale: bool
    payroll: bool | None
    pension: bool | None
    mobile_banking: bool | None
    open_date: date | None
    masked: bool = True
    extra: dict = field(default_factory=dict)


def may_unmask(scope: Scope, card_branch: str, card_rm: str | None) -> bool:
    """Only the client's own RM may unmask (``access.may(scope, "unmask")``, the client in their
    book, and settings [privacy] owner_may_unmask)."""
    allowed = bool(load_settings()["privacy"]["owner_may_unmask"])
    return allowed and may(scope, "unmask") and scope.owns(card_branch, card_rm)


def _as_of(wh: Database) -> date:
    return date.fromisoformat(meta(wh)["as_of"])


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def client_card(
    wh: Database, scope: Scope, client_id: str, unmask: bool = False, today: date | None = None
) -> ClientCard:
    """The client's identity and KYC, masked unless ``unmask`` and the viewer owns the client.

    Ages are full years at the snapshot's as-of; ``risk_stale`` says whether the risk assessment
    is past its validity on ``today`` (the viewer's business day; default the snapshot's as-of)."""
    where, params = scope.where("c")
    rows = wh.query(
        f"""
        SELECT c.*, r.name_zh AS rm_name_zh, r.name_en AS rm_name_en
        FROM clients c LEFT JOIN rms r USING (rm_id)
        WHERE c.client_id = ? AND {where}
        """,
        [client_id, *params],
    )
    if rows.empty:
        raise AccessDenied("client_refused")
    row = rows.iloc[0]
    as_of = _as_of(wh)
    children = wh.query(
        "SELECT birth_date FROM family_members WHERE client_id = ? AND relation = 'child' "
        "ORDER BY birth_date",
        [client_id],
    )
    valid_days = int(load_settings()["kyc"]["risk_assessment_valid_days"])
    assessed = _day(row["risk_assessed_on"])
    born = _day(row["birth_date"])
    show_clear = unmask and may_unmask(scope, row["branch_id"], row["rm_id"])
    pii = {k: _value(row[k]) for k in privacy.PII_MASKERS}
    if not show_clear:
        pii = {k: None if v is None else privacy.PII_MASKERS[k](v) for k, v in pii.items()}
    return ClientCard(
        client_id=row["client_id"],
        branch_id=row["branch_id"],
        rm_id=_value(row["rm_id"]),
        rm_name_zh=_value(row["rm_name_zh"]),
        rm_name_en=_value(row["rm_name_en"]),
        name_zh=pii["name_zh"],
        name_en=pii["name_en"],
        id_number=pii["id_number"],
        phone=pii["phone"],
        address=pii["address"],
        gender=_value(row["gender"]),
        age=None if born is None else _years_between(born, as_of),
        occupation=_value(row["occupation"]),
        marital_status=_value(row["marital_status"]),
        children_ages=tuple(
            _years_between(pd.Timestamp(b).date(), as_of) for b in children["birth_date"]
        ),
        monthly_income=_amount(row["monthly_income"]),
        monthly_spending=_amount(row["monthly_spending"]),
        risk_level=_value(row["risk_level"]),
        risk_assessed_on=assessed,
        risk_stale=assessed is not None and ((today or as_of) - assessed).days > valid_days,
        payroll=_flag(row["payroll_flag"]),
        pension=_flag(row["pension_flag"]),
        mobile_banking=_flag(row["mobile_banking"]),
        open_date=_day(row["open_date"]),
        masked=not show_clear,
    )


def _value(v):
    """A cell as a plain value, None when NULL."""
    return None if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)) else v


def _day(v) -> date | None:
    v = _value(v)
    return None if v is None else pd.Timestamp(v).date()


def _amount(v) -> float | None:
    v = _value(v)
    return None if v is None else float(v)


def _flag(v) -> bool | None:
    v = _value(v)
    return None if v is None else bool(v)


def _check(wh: Database, scope: Scope, client_id: str) -> None:
    where, params = scope.where("c")
    found = wh.scalar(
        f"SELECT COUNT(*) FROM clients c WHERE c.client_id = ? AND {where}", [client_id, *params]
    )
    if not found:
        raise AccessDenied("client_refused")


def aum_trend(wh: Database, scope: Scope, client_id: str) -> pd.DataFrame:
    """The client's AUM (yuan) and held tier per month-end: month_end, aum, tier."""
    _check(wh, scope, client_id)
    held, params = held_tiers_sql(scope)
    df = wh.query(
        f"SELECT month_end, aum::DOUBLE AS aum, tier FROM ({held}) WHERE client_id = ? "
        "ORDER BY month_end",
        [*params, client_id],
    )
    names = tier_names()
    df["tier"] = [names[t] for t in df["tier"]]
    return df


def holdings(wh: Database, scope: Scope, client_id: str, month_end: date | None = None):
    """Positions at a month-end (default: the latest): product, category, risk, balance, cost,
    P&L in yuan and as a share of cost, maturity date."""
    _check(wh, scope, client_id)
    return wh.query(
        """
        SELECT h.product_id, p.name_zh, p.name_en, p.category, p.risk_level,
               h.balance::DOUBLE AS balance, h.cost::DOUBLE AS cost,
               (h.balance - h.cost)::DOUBLE AS pnl,
               CASE WHEN h.cost > 0 THEN ((h.balance - h.cost) / h.cost)::DOUBLE END AS pnl_pct,
               h.maturity_date
        FROM holdings_monthly h JOIN products p USING (product_id)
        WHERE h.client_id = ?
          AND h.month_end = COALESCE(?, (SELECT MAX(month_end) FROM holdings_monthly))
        ORDER BY h.balance DESC
        """,
        [client_id, month_end],
    )


def recent_transactions(wh: Database, scope: Scope, client_id: str, limit: int | None = None):
    """The latest transactions: txn_date, txn_type, amount, channel, product, counterparty bank."""
    _check(wh, scope, client_id)
    limit = limit or int(load_settings()["client_view"]["recent_transactions"])
    return wh.query(
        """
        SELECT t.txn_date, t.txn_type, t.amount::DOUBLE AS amount, t.channel,
               p.name_zh AS product_zh, p.name_en AS product_en, t.counterparty_bank
        FROM transactions t LEFT JOIN products p USING (product_id)
        WHERE t.client_id = ? ORDER BY t.txn_date DESC, t.txn_id DESC LIMIT ?
        """,
        [client_id, limit],
    )


def contact_history(
    wh: Database,
    scope: Scope,
    client_id: str,
    logged: pd.DataFrame | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Contacts, newest first: the CRM history in the snapshot plus, if given, contacts logged in
    the workspace (``logged``: contact_date, channel, outcome, note). Columns: contact_date,
    channel, topic, outcome, note, source ('crm' | 'branchlens')."""
    _check(wh, scope, client_id)
    limit = limit or int(load_settings()["client_view"]["recent_contacts"])
    crm = wh.query(
        """
        SELECT contact_date, channel, topic, outcome, NULL::VARCHAR AS note, 'crm' AS source
        FROM contact_history WHERE client_id = ? ORDER BY contact_date DESC LIMIT ?
        """,
        [client_id, limit],
    )
    if logged is not None and not logged.empty:
        ours = logged.assign(source="branchlens", topic=logged.get("reason"))
        crm = pd.concat([ours[crm.columns], crm], ignore_index=True)
    crm["contact_date"] = pd.to_datetime(crm["contact_date"]).dt.date
    return crm.sort_values("contact_date", ascending=False, kind="stable").head(limit)


def talking_points(
    wh: Database, scope: Scope, client_id: str, today: date
) -> list[tuple[str, dict]]:
    """What to talk about next, as (code, fields) pairs the view translates, in this order
    (the windows and day counts count from ``today``, the viewer's business day,
    ``analytics/business_day.py``, as the planner's do; positions are the snapshot's):

    - ``maturity``: a position maturing within ``[client_view] maturity_lookahead_days``;
    - ``fund_loss``: a fund at or below the ``[funds] loss_line`` P&L;
    - ``tier_gap``: the AUM within ``[threshold] upgrade_band`` below the next tier line;
    - ``stale_risk``: a risk assessment older than ``[kyc] risk_assessment_valid_days``;
    - ``birthday``: a birthday within ``upcoming_birthday_days``.
    """
    s = load_settings()
    cv = s["client_view"]
    card = client_card(wh, scope, client_id, today=today)
    points: list[tuple[str, dict]] = []
    pos = holdings(wh, scope, client_id)
    horizon = today + timedelta(days=int(cv["maturity_lookahead_days"]))
    for r in pos.sort_values("maturity_date").itertuples():  # soonest first
        if pd.notna(r.maturity_date):
            m = pd.Timestamp(r.maturity_date).date()
            if today < m <= horizon:
                points.append(
                    ("maturity", {"product_zh": r.name_zh, "product_en": r.name_en,
                                  "date": m, "amount": r.balance, "days": (m - today).days})
                )  # fmt: skip
    loss_alert = fund_loss_line(s)
    for r in pos.itertuples():
        if r.category in FUND_CATEGORIES and pd.notna(r.pnl_pct) and r.pnl_pct <= loss_alert:
            points.append(
                ("fund_loss", {"product_zh": r.name_zh, "product_en": r.name_en,
                               "pct": r.pnl_pct, "amount": r.pnl})
            )  # fmt: skip
    trend = aum_trend(wh, scope, client_id)
    if not trend.empty:
        aum = float(trend["aum"].iloc[-1])
        band = float(s["threshold"]["upgrade_band"])
        for name, line in tier_lines(s)[1:]:
            if (1 - band) * line <= aum < line:
                points.append(("tier_gap", {"tier": name, "gap": line - aum}))
                break
    if card.risk_stale:
        points.append(("stale_risk", {"date": card.risk_assessed_on}))
    born = _day(wh.scalar("SELECT birth_date FROM clients WHERE client_id = ?", [client_id]))
    if born is not None:  # no birth date in the roster: no birthday to mention
        next_bd = _next_birthday(born, today)
        if (next_bd - today).days <= int(cv["upcoming_birthday_days"]):
            points.append(("birthday", {"date": next_bd, "age": _years_between(born, next_bd)}))
    return points


def _next_birthday(born: date, after: date) -> date:
    for year in (after.year, after.year + 1):
        try:
            d = born.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on 1 March
            d = date(year, 3, 1)
        if d > after:
            return d
    raise AssertionError("unreachable")
