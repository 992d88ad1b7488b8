"""Working days (工作日): the calendar the planner and the viewer's business day count in (issue 13).

A day is a working day by, in this order:

1. ``[contact_rule] working_days`` in settings.toml: a working day (a 调休 make-up day), whatever
   the published calendar says;
2. ``[contact_rule] holidays``: a day off, whatever the published calendar says;
3. the ``chinesecalendar`` package (pinned in requirements.txt), which carries the State Council's
   holiday notices (法定节假日 and make-up days) for the years it publishes (``published_years``);
4. outside those years, Monday to Friday.

A plan on a day of step 4 rests on a guess (the weekdays plus whatever days the settings list), so
``calendar_warning`` names such days' years, unless ``[contact_rule] notice_years`` says the bank
has entered that year's notice in the settings lists itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from analytics.settings import load_settings

# The code of the warning a plan carries when it reaches past the published calendar (the view
# translates it).
BEYOND_CALENDAR = "calendar_unpublished"


@lru_cache(maxsize=1)
def published_years() -> range:
    """The years ``chinesecalendar`` publishes (first to last year of its holiday table)."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


@lru_cache(maxsize=16)
def _parsed(values: tuple[str, ...]) -> frozenset[date]:
    return frozenset(date.fromisoformat(v) for v in values)


def _listed(rule: dict, key: str) -> frozenset[date]:
    return _parsed(tuple(str(v) for v in rule.get(key, [])))


def is_working_day(day: date, settings: dict | None = None) -> bool:
    """Whether ``day`` is a working day: the settings lists, then ``chinesecalendar``, then
    Monday to Friday (see the module docstring)."""
    rule = (settings or load_settings())["contact_rule"]
    if day in _listed(rule, "working_days"):
        return True
    if day in _listed(rule, "holidays"):
        return False
    if day.year in published_years():
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def working_days(start: date, end: date, settings: dict | None = None) -> list[date]:
    """The working days from ``start`` to ``end``, both included."""
    settings = settings or load_settings()
    days, d = [], start
    while d <= end:
        if is_working_day(d, settings):
            days.append(d)
        d += timedelta(days=1)
    return days


def next_working_days(start: date, n: int, settings: dict | None = None) -> list[date]:
    """The first ``n`` working days on or after ``start``."""
    settings = settings or load_settings()
    days, d = [], start
    while len(days) < n:
        if is_working_day(d, settings):
            days.append(d)
        d += timedelta(days=1)
    return days


def week_of(day: date, settings: dict | None = None) -> list[date]:
    """The working days of ``day``'s week (Monday to Sunday) from ``day`` on."""
    return working_days(day, day + timedelta(days=6 - day.weekday()), settings)


def calendar_warning(days: Iterable[date], settings: dict | None = None) -> tuple[str, dict] | None:
    """``(BEYOND_CALENDAR, {"years": [...]})`` when some of ``days`` fall in a year that
    ``chinesecalendar`` does not publish and ``[contact_rule] notice_years`` does not list (their
    working days are Monday to Friday plus the settings lists); None when every day is covered."""
    rule = (settings or load_settings())["contact_rule"]
    entered = {int(y) for y in rule.get("notice_years", [])}
    published = published_years()
    years = sorted({d.year for d in days} - entered - set(published))
    return (BEYOND_CALENDAR, {"years": years}) if years else None
