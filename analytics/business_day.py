"""The viewer's business day (营业日): the one date every window, day count and plan counts from
(DESIGN.md §3 "the viewer's today", issue 13) — contacted in the last 30 days, cadence, coverage,
days to a maturity, the planning day, the latest date a contact may be logged.

Where its numbers come from:

- **Demo snapshot** (``meta.source`` = ``demo``): the first working day (``analytics/workdays.py``)
  after the snapshot's ``meta.as_of``. The demo's CRM history, maturities and birthdays are built
  around its as-of, so a class sees the demo as it was built whatever the wall clock says: the
  default demo, as of Saturday 2026-10-31, opens on Monday 2026-11-02. Never stale.
- **Imported data**: the calendar date that the caller passes in (the app reads the wall clock in
  one place, ``ui/shell.current_viewer``), but never before the snapshot's as-of (a server clock
  behind the files' date would otherwise put the bank's own contacts in the future). The snapshot
  is *stale* when its as-of lies more than ``[stores] stale_after_days`` calendar days before that
  date; the app then shows a banner on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from analytics.settings import load_settings
from analytics.workdays import next_working_days


@dataclass(frozen=True)
class BusinessDay:
    """The viewer's today and how old the snapshot is on it."""

    day: date  # the viewer's today
    as_of: date  # the snapshot's as-of date
    demo: bool  # a demo snapshot (the day follows its as-of, not the clock)
    age_days: int  # calendar days from the snapshot's as-of to ``day``
    stale: bool  # imported data older than ``[stores] stale_after_days``


def business_day(
    as_of: date, source: str, calendar_day: date, settings: dict | None = None
) -> BusinessDay:
    """The business day for a snapshot of ``as_of`` from ``source`` (its ``meta.source``), seen
    on the calendar date ``calendar_day`` (see the module docstring)."""
    settings = settings or load_settings()
    demo = source == "demo"
    if demo:
        day = next_working_days(as_of + timedelta(days=1), 1, settings)[0]
    else:
        day = max(calendar_day, as_of)
    age = (day - as_of).days
    stale = not demo and age > int(settings["stores"]["stale_after_days"])
    return BusinessDay(day=day, as_of=as_of, demo=demo, age_days=age, stale=stale)
