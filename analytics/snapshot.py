"""Facts about the warehouse snapshot in force: its as-of date, source, months, branches and RMs."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.store import Database


def meta(wh: Database) -> dict[str, str]:
    """The snapshot's ``meta`` table as a dict (as_of, source, seed, ...)."""
    df = wh.query("SELECT key, value FROM meta")
    return dict(zip(df["key"], df["value"], strict=True))


def month_ends(wh: Database) -> list[date]:
    """The month-ends the snapshot covers, oldest first."""
    df = wh.query("SELECT DISTINCT month_end FROM client_aum_monthly ORDER BY month_end")
    return [pd.Timestamp(d).date() for d in df["month_end"]]


def branches(wh: Database) -> pd.DataFrame:
    """Every branch: branch_id, name_zh, name_en, city (branch names are not personal data)."""
    return wh.query("SELECT branch_id, name_zh, name_en, city FROM branches ORDER BY branch_id")


def rms(wh: Database) -> pd.DataFrame:
    """Every RM with their branch: rm_id, branch_id, name_zh, name_en, title."""
    return wh.query(
        "SELECT rm_id, branch_id, name_zh, name_en, title FROM rms ORDER BY branch_id, rm_id"
    )


def month_and_anchor(wh: Database, as_of: date | None = None) -> tuple[date | None, date | None]:
    """(month-end, anchor) for an ``as_of`` date: the latest month-end on or before it (the
    positions and AUM to read) and the date the windows count from (``as_of`` itself, or that
    month-end when ``as_of`` is None). (None, None) for an empty snapshot."""
    if as_of is None:
        month = wh.scalar("SELECT MAX(month_end) FROM client_aum_monthly")
        month = None if month is None else pd.Timestamp(month).date()
        return month, month
    anchor = pd.Timestamp(as_of).date()
    month = wh.scalar(
        "SELECT MAX(month_end) FROM client_aum_monthly WHERE month_end <= ?", [anchor]
    )
    return (None if month is None else pd.Timestamp(month).date()), anchor


def imported_tables(wh: Database) -> frozenset[str]:
    """The warehouse tables this snapshot was given data for. A demo snapshot has every table; an
    import has the ones its files filled (``meta.tables``), so a view that needs holdings can say
    which file is missing instead of showing zeros as facts."""
    from analytics.schema import warehouse_table_names

    listed = meta(wh).get("tables")
    if listed is None:
        return frozenset(warehouse_table_names())
    return frozenset(t for t in listed.split(",") if t)
