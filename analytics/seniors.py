"""Senior view analytics (中老年客群, issue 4 item 3): maturity calendar, opportunity lists and the
digitally active / silent split of the senior cohort.

The cohort is ``analytics.cohorts.senior_members`` (age >= ``[cohorts] senior_min_age``, or one
band such as '60-69'); numbers come from ``[seniors]`` of settings.toml. Conventions:

- ``as_of`` (default: the latest month-end in ``client_aum_monthly``) is the anchor date; positions
  are those of the latest month-end on or before it (as ``analytics.tags``).
- Maturity window: ``maturity_date`` in ``(as_of, as_of + calendar_days]`` for positions in
  ``maturity_categories``. Week ``k`` starts at ``as_of + 7k`` and holds maturities in
  ``[week_start, week_start + 7)``; every week of the window is listed (``calendar_days // 7 + 1``
  weeks), with 0 where nothing matures.
- Amounts are month-end balances in yuan (float).
- Opportunities (each a frame with client_id and one or two detail columns):
  ``large_maturity`` (amount: maturing in the window, >= ``large_maturity_amount``),
  ``pension_elsewhere`` (age: at or above ``[tags.retirement_age]`` for the gender, pension not paid
  here), ``dormant`` (last_txn: last client-initiated transaction on or before as_of, NULL if none;
  none in ``(as_of - dormant_days, as_of]``), ``above_risk`` (products, amount: positions at the
  as-of month-end whose product level R<n> is above the client's C<n>).
- Clients are filtered by ``scope.where`` in SQL; SQL is parameterised.
- A senior is a client whose age is known (a NULL birth date is not in the cohort). A list whose
  table was not imported (``OPPORTUNITY_NEEDS``, ``coverage.NEEDS``) is empty, not a verdict: no
  transactions means nobody is known to be dormant, no logins nobody is digitally active or silent.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analytics import coverage
from analytics import tags as tags_mod
from analytics.access import Scope
from analytics.cohorts import senior_members
from analytics.settings import load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import Database

OPPORTUNITIES = ("large_maturity", "pension_elsewhere", "dormant", "above_risk")
# What each opportunity reads besides the roster's ages: parts of ``analytics.coverage.NEEDS`` and
# roster columns (``coverage.COLUMN_NEEDS``). Without them its list is empty for want of data, not
# because no senior qualifies, and the view says which file is missing.
OPPORTUNITY_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "large_maturity": (("holdings",), ()),
    "pension_elsewhere": ((), ("pension",)),
    "dormant": (("transactions",), ()),
    "above_risk": (("holdings",), ("risk_level",)),
}
CALENDAR_COLUMNS = ["week_start", "category", "amount", "clients"]
MATURING_COLUMNS = ["client_id", "amount", "first_maturity", "products"]
DIGITAL = ("active", "silent")


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _anchor(wh: Database, as_of: date | None) -> tuple[date | None, date | None]:
    """(month-end of the positions, anchor date): the latest month-end on or before ``as_of``."""
    return month_and_anchor(wh, as_of)


def _members(wh: Database, scope: Scope, band: str | None, as_of: date | None) -> pd.DataFrame:
    return senior_members(wh, scope, band, as_of)[["client_id"]].astype({"client_id": str})


def _query(wh: Database, members: pd.DataFrame, sql: str, params: list) -> pd.DataFrame:
    """Run ``sql`` with the senior ``members`` registered as table ``seniors``."""
    with wh.cursor() as cur:
        cur.register("seniors", members)
        return cur.execute(sql, params).df()


def _pop(scope: Scope) -> tuple[str, list]:
    """CTE ``pop``: the scope's clients (filtered in SQL) that are seniors."""
    where, params = scope.where("c")
    return (
        f"pop AS (SELECT c.* FROM clients c SEMI JOIN seniors s USING (client_id) WHERE {where})",
        params,
    )


def week_starts(anchor: date, calendar_days: int | None = None) -> list[date]:
    """Start of every week of the maturity window anchored on ``anchor``."""
    days = (
        int(load_settings()["seniors"]["calendar_days"]) if calendar_days is None else calendar_days
    )
    return [anchor + timedelta(days=7 * k) for k in range(days // 7 + 1)]


# ---------------------------------------------------------------------------- maturity calendar


def _maturing_sql(scope: Scope, month: date, anchor: date) -> tuple[str, list]:
    """SQL of the seniors' maturing positions in the window: client_id, category, balance,
    maturity_date, week (0-based)."""
    s = load_settings()["seniors"]
    cats = list(s["maturity_categories"])
    pop, pop_params = _pop(scope)
    sql = f"""
        WITH {pop}
        SELECT h.client_id, p.category, h.balance::DOUBLE AS balance, h.maturity_date,
               (date_diff('day', ?::DATE, h.maturity_date) // 7)::INTEGER AS week
        FROM holdings_monthly h JOIN products p USING (product_id) SEMI JOIN pop USING (client_id)
        WHERE h.month_end = ? AND p.category IN ({_marks(cats)})
          AND h.maturity_date > ? AND h.maturity_date <= ?
    """
    params = [
        *pop_params,
        anchor,
        month,
        *cats,
        anchor,
        anchor + timedelta(days=int(s["calendar_days"])),
    ]
    return sql, params


def maturity_calendar(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Seniors' maturities by week x category: week_start (date), category, amount (yuan),
    clients (distinct clients). Every week x ``maturity_categories`` pair is present, 0 if empty;
    sorted by week_start then the settings' category order."""
    s = load_settings()["seniors"]
    cats = list(s["maturity_categories"])
    month, anchor = _anchor(wh, as_of)
    if anchor is None:
        return pd.DataFrame(columns=CALENDAR_COLUMNS)
    starts = week_starts(anchor, int(s["calendar_days"]))
    grid = pd.DataFrame(
        [(k, ws, cat) for k, ws in enumerate(starts) for cat in cats],
        columns=["week", "week_start", "category"],
    )
    if month is None:
        found = pd.DataFrame(columns=["week", "category", "amount", "clients"])
    else:
        sql, params = _maturing_sql(scope, month, anchor)
        found = _query(
            wh,
            _members(wh, scope, band, as_of),
            f"""
            SELECT week, category, SUM(balance) AS amount, COUNT(DISTINCT client_id) AS clients
            FROM ({sql}) GROUP BY week, category
            """,
            params,
        )
    out = grid.merge(found, on=["week", "category"], how="left")
    out["amount"] = out["amount"].fillna(0).astype(float)
    out["clients"] = out["clients"].fillna(0).astype(int)
    return out[CALENDAR_COLUMNS].reset_index(drop=True)


def maturing_clients(
    wh: Database,
    scope: Scope,
    week_start: date,
    band: str | None = None,
    as_of: date | None = None,
    category: str | None = None,
) -> pd.DataFrame:
    """Drill from a calendar week (and optionally one category) to its seniors: client_id, amount
    (yuan maturing that week), first_maturity (date), products (positions), largest amount first."""
    month, anchor = _anchor(wh, as_of)
    if month is None:
        return pd.DataFrame(columns=MATURING_COLUMNS)
    start = pd.Timestamp(week_start).date()
    sql, params = _maturing_sql(scope, month, anchor)
    df = _query(
        wh,
        _members(wh, scope, band, as_of),
        f"""
        SELECT client_id, SUM(balance) AS amount, MIN(maturity_date) AS first_maturity,
               COUNT(*) AS products
        FROM ({sql})
        WHERE maturity_date >= ? AND maturity_date < ? AND category = COALESCE(?, category)
        GROUP BY client_id ORDER BY amount DESC, client_id
        """,
        [*params, start, start + timedelta(days=7), category],
    )
    df["first_maturity"] = pd.to_datetime(df["first_maturity"]).dt.date
    return df[MATURING_COLUMNS].astype({"amount": float, "products": int})


# ---------------------------------------------------------------------------- opportunities


def opportunities(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> dict[str, pd.DataFrame]:
    """The four opportunity lists of the senior view (module docstring), keyed by
    ``OPPORTUNITIES``: large_maturity (client_id, amount), pension_elsewhere (client_id, age),
    dormant (client_id, last_txn), above_risk (client_id, products, amount)."""
    settings = load_settings()
    s = settings["seniors"]
    month, anchor = _anchor(wh, as_of)
    empty = {
        "large_maturity": ["client_id", "amount"],
        "pension_elsewhere": ["client_id", "age"],
        "dormant": ["client_id", "last_txn"],
        "above_risk": ["client_id", "products", "amount"],
    }
    if month is None:
        return {k: pd.DataFrame(columns=cols) for k, cols in empty.items()}
    members = _members(wh, scope, band, as_of)
    pop, pop_params = _pop(scope)
    out: dict[str, pd.DataFrame] = {}

    sql, params = _maturing_sql(scope, month, anchor)
    out["large_maturity"] = _query(
        wh,
        members,
        f"""
        SELECT client_id, SUM(balance) AS amount FROM ({sql})
        GROUP BY client_id HAVING SUM(balance) >= ?
        ORDER BY amount DESC, client_id
        """,
        [*params, float(s["large_maturity_amount"])],
    ).astype({"amount": float})

    retire = settings["tags"]["retirement_age"]
    out["pension_elsewhere"] = _query(
        wh,
        members,
        f"""
        WITH {pop},
        retire(gender, age) AS (VALUES {", ".join("(?, ?::INTEGER)" for _ in retire)})
        SELECT client_id, age FROM (
            SELECT pop.client_id, pop.pension_flag, r.age AS retire_age,
                   date_sub('year', pop.birth_date, ?::DATE) AS age
            FROM pop JOIN retire r USING (gender)
        ) WHERE age >= retire_age AND NOT pension_flag
        ORDER BY age DESC, client_id
        """,
        [*pop_params, *[v for g, a in retire.items() for v in (g, int(a))], anchor],
    ).astype({"age": int})

    dormant = _query(
        wh,
        members,
        f"""
        WITH {pop},
        last AS (
            SELECT t.client_id, MAX(t.txn_date) AS last_txn
            FROM transactions t SEMI JOIN pop USING (client_id)
            WHERE t.client_initiated AND t.txn_date <= ?
            GROUP BY t.client_id
        )
        SELECT pop.client_id, last.last_txn FROM pop LEFT JOIN last USING (client_id)
        WHERE last.last_txn IS NULL OR last.last_txn <= ?
        ORDER BY last.last_txn NULLS FIRST, pop.client_id
        """,
        [*pop_params, anchor, anchor - timedelta(days=int(s["dormant_days"]))],
    )
    dormant["last_txn"] = [
        None if pd.isna(d) else pd.Timestamp(d).date() for d in dormant["last_txn"]
    ]
    out["dormant"] = dormant

    out["above_risk"] = _above_risk(wh, scope, members, month)
    for code, (parts, _) in OPPORTUNITY_NEEDS.items():  # e.g. no transactions: none is dormant
        if not coverage.has(wh, *parts):
            out[code] = pd.DataFrame(columns=empty[code])
    return {k: out[k][empty[k]].reset_index(drop=True) for k in OPPORTUNITIES}


def _above_risk(wh: Database, scope: Scope, members: pd.DataFrame, month: date) -> pd.DataFrame:
    pop, pop_params = _pop(scope)
    return _query(
        wh,
        members,
        f"""
        WITH {pop}
        SELECT h.client_id, COUNT(*) AS products, SUM(h.balance)::DOUBLE AS amount
        FROM holdings_monthly h JOIN products p USING (product_id) JOIN pop USING (client_id)
        WHERE h.month_end = ?
          AND TRY_CAST(substr(p.risk_level, 2) AS INTEGER)
              > TRY_CAST(substr(pop.risk_level, 2) AS INTEGER)
        GROUP BY h.client_id ORDER BY amount DESC, h.client_id
        """,
        [*pop_params, month],
    ).astype({"products": int, "amount": float})


def above_risk(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Seniors holding products above their risk level at the as-of month-end: client_id,
    products (positions), amount (yuan). Same as ``opportunities(...)['above_risk']``; reads only
    clients, products, holdings_monthly and client_aum_monthly."""
    month, _ = _anchor(wh, as_of)
    if month is None:
        return pd.DataFrame(columns=["client_id", "products", "amount"])
    return _above_risk(wh, scope, _members(wh, scope, band, as_of), month)


# ---------------------------------------------------------------------------- digital split


def digital_split(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Seniors in scope (client_id, sorted) with digital 'active' (reach online: the tag
    ``digital_active`` of ``analytics.tags``) or 'silent' (reach at the branch or an event)."""
    if not coverage.has(wh, "digital"):  # no logins imported: nobody is known to be either
        return pd.DataFrame({"client_id": pd.Series(dtype=object), "digital": []})
    members = set(_members(wh, scope, band, as_of)["client_id"])
    t = tags_mod.client_tags(wh, scope, as_of)
    t = t[t["client_id"].isin(members)]
    return pd.DataFrame(
        {
            "client_id": t["client_id"].to_numpy(),
            "digital": ["active" if a else "silent" for a in t["digital_active"]],
        }
    )
