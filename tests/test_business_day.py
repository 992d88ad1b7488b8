"""One reference date and the working-day calendar (issue 13, points 1 and 6).

The viewer's business day (analytics/business_day.py): on a demo snapshot the first working day
after its as-of, whatever the clock says; on imported data the calendar date, stale past
``[stores] stale_after_days``. Working days (analytics/workdays.py): chinesecalendar for the years
it publishes, the settings lists override it, Monday to Friday beyond it with a warning. The
pages count from the business day: the planner's day, the stale banner, the calendar warning.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import logins
import pytest
import streamlit as st
from plan_fixtures import MONDAY, TinyWarehouse
from roster_fixtures import build_roster_snapshot
from streamlit.testing.v1 import AppTest

from analytics import client360, store, workdays
from analytics import contact_plan as cp
from analytics.access import Scope
from analytics.business_day import business_day
from analytics.settings import load_settings
from ui import shell
from ui.i18n import EN

APP = str(Path(__file__).resolve().parent.parent / "app.py")
R1 = Scope("rm", rm_id="R1", viewer_id="rm:R1")


def settings_with(**changes) -> dict:
    """The settings in force with ``section.key`` values replaced (``contact_rule__holidays=[]``)."""
    s = copy.deepcopy(load_settings())
    for name, value in changes.items():
        section, key = name.split("__")
        s[section][key] = value
    return s


# ---------------------------------------------------------------------------- the business day


def test_demo_opens_on_the_first_working_day_after_its_as_of_whatever_the_clock():
    for clock in (date(2026, 12, 1), date(2030, 6, 3)):
        demo = business_day(date(2026, 10, 31), "demo", clock)  # as-of a Saturday
        assert demo.day == date(2026, 11, 2)  # Sunday skipped: Monday
        assert not demo.stale and demo.age_days == 2
    # over the National Day week: 1-7 October 2026 are days off, Thursday the 8th is the next
    assert business_day(date(2026, 9, 30), "demo", date(2026, 12, 1)).day == date(2026, 10, 8)
    # Friday 9 October: the next day, Saturday the 10th, is a make-up working day (调休)
    assert business_day(date(2026, 10, 9), "demo", date(2026, 12, 1)).day == date(2026, 10, 10)
    # a demo snapshot months old is never stale
    assert not business_day(date(2026, 1, 30), "demo", date(2026, 12, 1)).stale


def test_imported_data_counts_from_the_calendar_date_and_goes_stale_past_the_setting():
    week = settings_with(stores__stale_after_days=7)
    as_of = date(2026, 11, 20)
    seven = business_day(as_of, "import", date(2026, 11, 27), week)
    assert (seven.day, seven.age_days, seven.stale) == (date(2026, 11, 27), 7, False)
    eight = business_day(as_of, "import", date(2026, 11, 28), week)  # a Saturday: stays one
    assert (eight.day, eight.age_days, eight.stale) == (date(2026, 11, 28), 8, True)
    month = settings_with(stores__stale_after_days=30)
    assert not business_day(as_of, "import", date(2026, 11, 28), month).stale
    assert business_day(as_of, "import", date(2026, 12, 21), month).stale  # 31 days
    # a clock behind the files' date: the day is the as-of, so the files' contacts are not ahead
    behind = business_day(as_of, "import", date(2026, 11, 19), week)
    assert (behind.day, behind.age_days, behind.stale) == (as_of, 0, False)


def test_the_client_view_counts_days_to_a_maturity_as_the_plan_does(tmp_path):
    tiny = TinyWarehouse(tmp_path / "wh.duckdb")  # as of 2026-10-31
    tiny.client("m7")
    tiny.holding("m7", "P_TD", 50_000, 50_000, MONDAY + timedelta(days=7))  # 30 Nov
    wh = tiny.open()
    plan = cp.contact_plan(wh, R1, "R1", [MONDAY])
    assert plan.set_index("client_id").loc["m7", "reason"] == "maturity_t7"
    points = client360.talking_points(wh, R1, "m7", MONDAY)
    assert [(code, fields["days"]) for code, fields in points] == [("maturity", 7)]  # not 30


# ---------------------------------------------------------------------------- working days


def test_working_days_come_from_chinesecalendar_for_the_years_it_publishes():
    bare = settings_with(contact_rule__holidays=[], contact_rule__working_days=[])
    assert not workdays.is_working_day(date(2026, 10, 1), bare)  # National Day
    assert not workdays.is_working_day(date(2026, 2, 16), bare)  # Spring Festival 2026, a Monday
    assert workdays.is_working_day(date(2026, 10, 10), bare)  # a Saturday make-up day
    assert workdays.is_working_day(date(2026, 11, 2), bare)  # an ordinary Monday
    assert 2026 in workdays.published_years() and 2027 not in workdays.published_years()
    # past the published years: Monday to Friday only, so without the settings list the Spring
    # Festival's Monday 2027-02-08 (初三) would be a working day
    assert workdays.is_working_day(date(2027, 2, 8), bare)


def test_spring_festival_2027_is_not_a_working_day():
    # 除夕 Friday 5 Feb and 初三 Monday 8 Feb 2027: statutory days off on weekdays
    assert not workdays.is_working_day(date(2027, 2, 5))
    assert not workdays.is_working_day(date(2027, 2, 8))
    assert workdays.is_working_day(date(2027, 2, 4))  # the Thursday before
    assert workdays.working_days(date(2027, 2, 1), date(2027, 2, 8)) == [
        date(2027, 2, 1), date(2027, 2, 2), date(2027, 2, 3), date(2027, 2, 4)
    ]  # fmt: skip


def test_a_settings_list_wins_over_chinesecalendar():
    custom = settings_with(
        contact_rule__holidays=["2026-11-02"],  # a Monday the package has as working
        contact_rule__working_days=["2026-10-03"],  # a Saturday of the National Day days off
    )
    assert not workdays.is_working_day(date(2026, 11, 2), custom)
    assert workdays.is_working_day(date(2026, 10, 3), custom)
    assert workdays.next_working_days(date(2026, 10, 31), 1, custom) == [date(2026, 11, 3)]
    assert business_day(date(2026, 10, 31), "demo", date(2026, 12, 1), custom).day == date(
        2026, 11, 3
    )


def test_a_plan_past_the_published_calendar_carries_a_warning():
    assert workdays.calendar_warning([date(2026, 12, 30), date(2026, 12, 31)]) is None
    reach = [date(2026, 12, 31), date(2027, 1, 4)]
    assert workdays.calendar_warning(reach) == ("calendar_unpublished", {"years": [2027]})
    entered = settings_with(contact_rule__notice_years=[2027])  # the bank typed in the notice
    assert workdays.calendar_warning(reach, entered) is None


# ---------------------------------------------------------------------------- the pages


class Clock(date):
    """``date`` with ``today()`` fixed, put in place of ``ui.shell.date`` (the one wall-clock read)."""

    fixed = date(2026, 12, 4)

    @classmethod
    def today(cls):
        return cls.fixed


@contextlib.contextmanager
def data_folder(root: Path):
    """The app reads ``root`` while inside; the cached connections belong to this folder."""
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(root)
    st.cache_resource.clear()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BRANCHLENS_DATA", None)
        else:
            os.environ["BRANCHLENS_DATA"] = old
        st.cache_resource.clear()


@pytest.fixture(scope="module")
def demo_folder(demo_db_path, tmp_path_factory) -> Path:
    """A data folder whose current snapshot is the small demo (as of 2026-10-31)."""
    root = tmp_path_factory.mktemp("business_day_demo")
    shutil.copy(demo_db_path, root / "incoming.duckdb")
    store.publish_snapshot(root / "incoming.duckdb", "demo", root)
    return root


@pytest.fixture(scope="module")
def import_folder(tmp_path_factory) -> Path:
    """A data folder whose current snapshot is an import as of 2026-11-20 (the roster)."""
    root = tmp_path_factory.mktemp("business_day_import")
    store.publish_snapshot(build_roster_snapshot(root / "incoming.duckdb"), "import", root)
    return root


def open_plan(root: Path, role: str, login: bool) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if login:
        logins.log_in_as(at, role)
    else:
        at.query_params["as"] = role
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/contact_plan.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_the_demo_plans_from_its_business_day_and_warns_past_the_calendar(demo_folder):
    beyond = EN["plan.calendar_unpublished"].format(years="2027")
    with data_folder(demo_folder):
        at = open_plan(demo_folder, "rm:R0002", login=False)  # the real clock, whatever it says
        assert at.date_input(key="plan_day").value == date(2026, 11, 2)
        assert EN["sidebar.today"].format(date="2026-11-02") in [c.value for c in at.caption]
        assert beyond not in warnings(at)
        at.date_input(key="plan_day").set_value(date(2027, 3, 1)).run()
        assert not at.exception, [e.value for e in at.exception]
        assert beyond in warnings(at)


def test_stale_imported_data_shows_a_banner(import_folder, monkeypatch):
    monkeypatch.setattr(shell, "date", Clock)
    stale = EN["shell.stale"].format(as_of="2026-11-20", days=14, today="2026-12-04")
    with data_folder(import_folder):
        at = open_plan(import_folder, "rm:M01", login=True)
        assert at.date_input(key="plan_day").value == date(2026, 12, 4)  # the calendar date
        assert stale in warnings(at)
        monkeypatch.setattr(Clock, "fixed", date(2026, 11, 27))  # 7 days: not stale yet
        fresh = open_plan(import_folder, "rm:M01", login=True)
        assert fresh.date_input(key="plan_day").value == date(2026, 11, 27)
        week_old = EN["shell.stale"].format(as_of="2026-11-20", days=7, today="2026-11-27")
        assert week_old not in warnings(fresh)
