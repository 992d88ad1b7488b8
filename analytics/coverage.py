"""What a snapshot has data for, and what each part of a view needs (issue 11, minimum import).

A bank may import only its client roster (客户清单) with each client's month-average AUM: that is
enough for clients, AUM tiers, tier trends and migration, upgrade near-misses, RM books and client
lists. Everything else reads a table the bank may not have exported. A part of a view that needs
such a table asks ``has(wh, part)`` and, when the answer is no, says which file is missing instead
of showing zeros as facts (``ui/needs.py`` shows the message; the analytics functions return
unknown values, NaN or None, rather than zeros).

``NEEDS`` maps each part to the warehouse tables it reads besides ``clients`` and
``client_aum_monthly``. A table counts as there when the snapshot was given data for it
(``snapshot.imported_tables``: every table on a demo snapshot, ``meta.tables`` on an import).

Optional client columns (birth date, risk level, payroll flag ...) may be NULL for some or all
clients. ``filled_columns`` says which of them hold at least one value in the snapshot: a part that
reads one of them (``COLUMN_NEEDS``) cannot say anything when none is filled.
"""

from __future__ import annotations

import duckdb

from analytics.schema import warehouse_table_names
from analytics.snapshot import imported_tables
from analytics.store import Database

NEEDS: dict[str, tuple[str, ...]] = {
    # positions at month-ends: product mix and penetration, a client's holdings, maturities,
    # fund losses, suitability, the three-balance check
    "holdings": ("holdings_monthly",),
    # contribution (balances earn their category's rate): value tiers, value score, Pareto curve;
    # transactions and policies add fees and the counter cost when imported
    "value": ("holdings_monthly",),
    # recency, frequency and amount of client-initiated transactions
    "rfm": ("transactions",),
    # behaviour groups: product shares and breadth are the behaviour (transactions and logins
    # count when imported)
    "clusters": ("holdings_monthly",),
    # a client's transactions, dormant clients, inflows from other banks, purchases
    "transactions": ("transactions",),
    # the full relationship: mobile banking in use, a wealth product, insurance
    "relationship": ("holdings_monthly", "digital_activity"),
    # mobile-banking logins: digitally active or silent
    "digital": ("digital_activity",),
    # the CRM's contact history: last contacts, cadence and coverage before BranchLens
    "contacts": ("contact_history",),
    # children and spouses: family events, child education, protection gap
    "family": ("family_members",),
    # bank-insurance policies: review calls, insurance call-backs
    "policies": ("insurance_policies",),
    # the product shelf: rebalancing moves into products on sale
    "shelf": ("products",),
    # corporate clients
    "corp_rfm": ("corp_clients", "corp_transactions", "corp_accounts"),
    "corp_clv": ("corp_clients", "corp_transactions", "corp_accounts"),
    "corp_social": ("corp_clients", "corp_transactions"),
    "corp_credit": ("corp_clients", "corp_accounts"),
}

# Parts that read an optional column of the client roster: part -> (table, column).
COLUMN_NEEDS: dict[str, tuple[str, str]] = {
    "age": ("clients", "birth_date"),
    "risk_level": ("clients", "risk_level"),
    "pension": ("clients", "pension_flag"),
}

# The optional client columns ``filled_columns`` looks at.
CLIENT_COLUMNS = (
    "gender",
    "birth_date",
    "occupation",
    "marital_status",
    "monthly_income",
    "monthly_spending",
    "risk_level",
    "risk_assessed_on",
    "payroll_flag",
    "pension_flag",
    "pay_day",
    "mobile_banking",
    "open_date",
)


def tables_of(*parts: str) -> tuple[str, ...]:
    """The tables the ``parts`` need, in order, without repeats. A name that is not a part is
    taken as a table name (``tables_of("value", "transactions")``)."""
    out: list[str] = []
    for part in parts:
        for table in NEEDS.get(part, (part,)):
            if table not in out:
                out.append(table)
    return tuple(out)


def imported(wh: Database) -> frozenset[str]:
    """The tables the snapshot was given data for (``snapshot.imported_tables``); a hand-made
    database without a ``meta`` table (unit tests) counts as having them all."""
    try:
        return imported_tables(wh)
    except duckdb.Error:
        return frozenset(warehouse_table_names())


def missing(wh: Database, *parts: str) -> tuple[str, ...]:
    """The tables the ``parts`` need that the snapshot was not given (empty: all there)."""
    have = imported(wh)
    return tuple(t for t in tables_of(*parts) if t not in have)


def has(wh: Database, *parts: str) -> bool:
    """Whether the snapshot has every table the ``parts`` need."""
    return not missing(wh, *parts)


def filled_columns(wh: Database) -> frozenset[str]:
    """The optional ``CLIENT_COLUMNS`` that hold a value for at least one client (a column the
    table does not have at all, in a hand-made database, counts as filled: nothing is hidden)."""
    present = set(
        wh.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_name = 'clients'"
        )["column_name"]
    )
    asked = [c for c in CLIENT_COLUMNS if c in present]
    absent = {c for c in CLIENT_COLUMNS if c not in present}
    if not asked:
        return frozenset(absent)
    counts = wh.query(
        "SELECT " + ", ".join(f"COUNT(c.{c}) AS n_{c}" for c in asked) + " FROM clients c"
    ).iloc[0]
    return frozenset({c for c in asked if int(counts[f"n_{c}"]) > 0} | absent)


def has_column(wh: Database, part: str) -> bool:
    """Whether the column a part of ``COLUMN_NEEDS`` reads holds any value."""
    _, column = COLUMN_NEEDS[part]
    return column in filled_columns(wh)
