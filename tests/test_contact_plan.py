"""The 5-20-30 planner (issue 6): each trigger with the right reason, quotas met and never
exceeded, the minimum interval, other RMs' clients, determinism, the calendar file, accepting,
marking done, coverage and the contact log's access rule."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from icalendar import Calendar
from plan_fixtures import MONDAY, TinyWarehouse

from analytics import contact_plan as cp
from analytics import workdays
from analytics.access import AccessDenied, Scope
from analytics.contact_log import ContactLogError, contact_dates, log_contact, logged_contacts
from analytics.settings import load_settings
from analytics.store import open_workspace

RULE = load_settings()["contact_rule"]
QUOTA = {"deep": RULE["deep"], "call": RULE["calls"], "light": RULE["light"]}
R1 = Scope("rm", rm_id="R1", viewer_id="rm:R1")
WEEK = workdays.week_of(MONDAY)


@pytest.fixture()
def tiny(tmp_path):
    return TinyWarehouse(tmp_path / "wh.duckdb")


@pytest.fixture()
def ws(tmp_path):
    db = open_workspace(tmp_path / "ws.duckdb")
    yield db
    db.close()


def reasons(plan: pd.DataFrame, day: date = MONDAY) -> dict[str, str]:
    return dict(plan.loc[plan["day"] == day, ["client_id", "reason"]].itertuples(index=False))


def days_and_reasons(plan: pd.DataFrame, client: str) -> list[tuple[date, str]]:
    rows = plan[plan["client_id"] == client]
    return list(rows[["day", "reason"]].itertuples(index=False, name=None))


def test_calendar_skips_weekends_and_holidays_and_keeps_make_up_days():
    assert [MONDAY + timedelta(days=i) for i in range(5)] == WEEK
    assert workdays.is_working_day(date(2026, 10, 10))  # a Saturday make-up day (调休)
    assert not workdays.is_working_day(date(2026, 10, 1))  # National Day
    assert not workdays.is_working_day(date(2026, 11, 28))  # Saturday
    assert workdays.working_days(date(2026, 9, 30), date(2026, 10, 9)) == [
        date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9)
    ]  # fmt: skip
    assert workdays.next_working_days(date(2026, 11, 28), 2) == [
        date(2026, 11, 30), date(2026, 12, 1)
    ]  # fmt: skip


def test_each_trigger_puts_the_client_in_with_its_reason(tiny):
    tiny.client("m7")
    tiny.holding("m7", "P_TD", 50_000, 50_000, MONDAY + timedelta(days=7))  # exactly 7 days out
    tiny.client("m3")
    tiny.holding("m3", "P_TD", 50_000, 50_000, MONDAY + timedelta(days=3))
    tiny.client("m6")  # 6 days out: its T-7 (Sunday) was raised on Friday, carried to today
    tiny.holding("m6", "P_TD", 50_000, 50_000, MONDAY + timedelta(days=6))
    tiny.client("bday", birth=date(1980, 11, 23))
    tiny.client("pay", pay_day=23)
    tiny.client("pension", pay_day=23, pension=True)
    tiny.client("fund")
    tiny.holding("fund", "P_EQ", 80_000, 100_000)  # -20%
    tiny.client("fund_ok")
    tiny.holding("fund_ok", "P_EQ", 90_000, 100_000)  # -10%: above the alert
    tiny.client("near", aum=460_000)  # 40,000 under Platinum
    tiny.client("policy")
    tiny.policy("policy", date(2024, 11, 23))  # second anniversary today
    tiny.client("stale", risk_on=date(2025, 11, 1))  # expired
    tiny.client("overdue", aum=600_000, last_contact=date(2026, 11, 1))  # platinum: 14 days
    tiny.client("never", aum=600_000, last_contact=None)
    tiny.client("quiet")
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY])
    got = reasons(plan)
    # issue 13: a dated trigger not done is carried (m6), and the slots the triggers leave are
    # filled from the cadence queue (fund_ok and quiet: potential tier, last contact 13 days ago)
    assert got == {
        "m7": "maturity_t7", "m3": "maturity_t3", "m6": "maturity_t7", "bday": "birthday",
        "pay": "pay_day", "pension": "pay_day", "fund": "fund_drawdown", "near": "threshold",
        "policy": "insurance_callback", "stale": "stale_risk", "overdue": "cadence_overdue",
        "never": "cadence_overdue", "fund_ok": "cadence_due", "quiet": "cadence_due",
    }  # fmt: skip
    detail = {r.client_id: json.loads(r.detail) for r in plan.itertuples()}
    assert detail["m7"]["date"] == "2026-11-30" and detail["m7"]["days"] == 7
    assert detail["pension"]["kind"] == "pension" and detail["pay"]["kind"] == "payroll"
    assert detail["near"] == {"kind": "upgrade", "tier": "platinum", "gap": 40_000.0}
    assert detail["fund"]["pct"] == pytest.approx(-0.2)
    assert detail["bday"]["age"] == 46
    assert detail["policy"] == {
        "date": "2026-11-23", "kind": "anniversary", "years": 2, "product_en": "P_ANN",
        "product_zh": "P_ANN",
    }  # fmt: skip
    assert set(plan["topic"]) <= {"maturity", "review", "birthday", "product", "service"}
    assert plan.loc[plan["client_id"] == "m7", "topic"].item() == "maturity"


def test_a_trigger_due_at_the_weekend_is_raised_on_the_friday_before(tiny):
    tiny.client("sat_bday", birth=date(1990, 11, 28))  # 28 Nov 2026 is a Saturday
    tiny.client("sun_maturity")
    tiny.holding("sun_maturity", "P_TD", 10_000, 10_000, date(2026, 12, 6))  # T-7 = Sunday 29 Nov
    plan = cp.contact_plan(tiny.open(), R1, "R1", WEEK)
    friday = date(2026, 11, 27)
    assert reasons(plan, friday) == {"sat_bday": "birthday", "sun_maturity": "maturity_t7"}
    assert set(plan["day"]) == {friday}


def test_new_policy_call_back_inside_cooling_off_only(tiny):
    tiny.client("new_policy")
    tiny.policy("new_policy", MONDAY - timedelta(days=1))  # sold Sunday: call back Monday
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY])
    assert reasons(plan) == {"new_policy": "insurance_callback"}
    assert json.loads(plan["detail"].item())["kind"] == "new"


def test_quotas_met_when_enough_qualify_and_never_exceeded(tiny):
    for i in range(80):
        tiny.client(f"s{i:02d}", risk_on=date(2025, 1, 1))  # all stale: they prefer a call
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY])
    assert plan.groupby("slot").size().to_dict() == QUOTA
    assert plan["client_id"].is_unique
    assert set(plan["channel"]) == {"visit", "call", "wechat"}


def test_fewer_clients_than_slots_all_planned_in_their_preferred_slot(tiny):
    for i in range(3):
        tiny.client(f"b{i}", birth=date(1980, 11, 23))
    tiny.client("sms", birth=date(1980, 11, 23), mobile=False)
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY])
    assert len(plan) == 4 and set(plan["slot"]) == {"light"}
    assert plan.set_index("client_id").loc["sms", "channel"] == "sms"


def test_higher_tiers_and_stronger_triggers_first(tiny):
    for i in range(QUOTA["call"] + 5):  # more calls than slots: who goes first?
        tiny.client(f"g{i:02d}", aum=250_000, risk_on=date(2025, 1, 1))  # gold, stale
    tiny.client("dia", aum=2_500_000, risk_on=date(2025, 1, 1))  # diamond, stale
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY]).set_index("client_id")
    assert plan["priority"].max() == plan.loc["dia", "priority"]
    # issue 13: 26 clients ask for a call and there are 20: the 25 best take the deep slots and
    # the calls in priority order (the diamond client first, then gold by id), the last one a
    # light touch; no client gets a lighter slot than one ranked below them
    assert list(plan.index[plan["slot"] == "deep"]) == ["dia", "g00", "g01", "g02", "g03"]
    assert list(plan.index[plan["slot"] == "call"]) == [f"g{i:02d}" for i in range(4, 24)]
    assert plan.loc["g24", "slot"] == "light"


def test_no_client_twice_within_the_minimum_interval(tiny):
    tiny.client("fund")
    tiny.holding("fund", "P_EQ", 50_000, 100_000)  # a standing trigger
    tiny.client("bday", birth=date(1980, 11, 25))
    tiny.holding("bday", "P_EQ", 50_000, 100_000)  # planned Monday; birthday Wednesday
    days = workdays.working_days(MONDAY, MONDAY + timedelta(days=20))
    plan = cp.contact_plan(tiny.open(), R1, "R1", days)
    gap = timedelta(days=RULE["min_interval_days"])
    for _, g in plan.groupby("client_id"):
        dates = sorted(g["day"])
        assert all(b - a >= gap for a, b in zip(dates, dates[1:], strict=False))
    # issue 13: the fund loss waits out its cool-down, and the free slots go to the cadence queue
    # (a Potential client), each a week apart
    assert days_and_reasons(plan, "fund") == [
        (MONDAY, "fund_drawdown"), (MONDAY + timedelta(days=7), "cadence_due"),
        (MONDAY + timedelta(days=14), "cadence_due"),
    ]  # fmt: skip


def test_recently_contacted_clients_are_pushed_back(tiny):
    tiny.client("fund", last_contact=MONDAY - timedelta(days=3))  # CRM contact 3 days ago
    tiny.holding("fund", "P_EQ", 50_000, 100_000)
    tiny.client("logged")
    tiny.holding("logged", "P_EQ", 50_000, 100_000)
    wh = tiny.open()
    logged = pd.DataFrame({"client_id": ["logged"], "contact_date": [MONDAY - timedelta(days=1)]})
    plan = cp.contact_plan(wh, R1, "R1", WEEK, contacts=logged)
    first = plan.groupby("client_id")["day"].min().to_dict()
    # 7 days after the CRM contact (Friday); the contact logged Sunday waits until next Sunday
    assert first == {"fund": MONDAY + timedelta(days=4)}
    accepted = pd.DataFrame({"client_id": ["fund"], "plan_day": [MONDAY + timedelta(days=2)]})
    plan = cp.contact_plan(wh, R1, "R1", WEEK, planned=accepted)
    assert "fund" not in set(plan["client_id"])  # already planned Wednesday (4 days apart)


def test_another_rms_client_never_appears(tiny):
    tiny.client("mine", birth=date(1980, 11, 23))
    tiny.client("theirs", rm="R2", birth=date(1980, 11, 23))
    tiny.client("other_branch", rm="R9", birth=date(1980, 11, 23))
    wh = tiny.open()
    assert set(cp.contact_plan(wh, R1, "R1", WEEK)["client_id"]) == {"mine"}
    with pytest.raises(AccessDenied):
        cp.contact_plan(wh, R1, "R2", WEEK)
    manager = Scope("manager", branch_ids=("B001",))
    assert set(cp.contact_plans(wh, manager, WEEK)["client_id"]) == {"mine", "theirs"}
    with pytest.raises(AccessDenied):
        cp.contact_plan(wh, manager, "R9", WEEK)


def test_weekend_day_refused(tiny):
    tiny.client("a")
    with pytest.raises(ValueError, match="not a working day"):
        cp.contact_plan(tiny.open(), R1, "R1", [date(2026, 11, 28)])


def test_plan_is_deterministic(demo_db_path):
    from analytics.store import open_warehouse

    wh = open_warehouse(demo_db_path)
    rm = Scope("rm", rm_id="R0002")
    a = cp.contact_plan(wh, rm, "R0002", WEEK)
    b = cp.contact_plan(wh, rm, "R0002", WEEK)
    pd.testing.assert_frame_equal(a, b)
    sizes = a.groupby(["day", "slot"]).size()
    assert not a.empty and all(n <= QUOTA[slot] for (_, slot), n in sizes.items())
    everyone = cp.contact_plans(wh, Scope("head_office"), WEEK)
    pd.testing.assert_frame_equal(
        everyone[everyone["rm_id"] == "R0002"].reset_index(drop=True), a
    )  # one RM's plan is the same alone or with every RM


def test_ics_parses_back_with_the_right_events():
    events = pd.DataFrame(
        {
            "plan_day": [MONDAY, MONDAY, MONDAY + timedelta(days=1)],
            "rm_id": ["R1"] * 3,
            "client_id": ["a", "b", "c"],
            "summary": ["拜访 张* · 到期", "Visit B", "Visit C"],
            "description": ["理财到期 2026-11-30", "x", "y"],
        }
    )
    cal = Calendar.from_ical(cp.deep_contacts_ics(events, "5-20-30"))
    got = sorted(
        (str(e.get("summary")), e.decoded("dtstart"), e.decoded("dtend") - e.decoded("dtstart"))
        for e in cal.walk("VEVENT")
    )
    tz_start = [e.decoded("dtstart") for e in cal.walk("VEVENT")]
    assert len(got) == 3
    assert {str(e.get("uid")) for e in cal.walk("VEVENT")} == {
        "2026-11-23-R1-a@branchlens", "2026-11-23-R1-b@branchlens", "2026-11-24-R1-c@branchlens"
    }  # fmt: skip
    first = next(e for e in cal.walk("VEVENT") if str(e.get("uid")).endswith("-a@branchlens"))
    start = first.decoded("dtstart")
    assert (start.hour, start.minute, start.utcoffset()) == (9, 30, timedelta(hours=8))
    assert str(first.get("summary")) == "拜访 张* · 到期"
    assert all(d == timedelta(minutes=RULE["deep_contact_minutes"]) for _, _, d in got)
    assert len({t for t in tz_start}) == 3


def test_ics_holds_the_vtimezone_its_events_name():
    """RFC 5545 §3.2.19: a TZID parameter needs a VTIMEZONE of that TZID in the file. Asia/Shanghai
    has had no summer time since 1991: one STANDARD at +0800, nothing else."""
    events = pd.DataFrame(
        {
            "plan_day": [MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=4)],
            "rm_id": ["R1"] * 3,
            "client_id": ["a", "b", "c"],
            "summary": ["Visit A", "Visit B", "Visit C"],
            "description": ["x", "y", "z"],
        }
    )
    data = cp.deep_contacts_ics(events, "5-20-30")
    cal = Calendar.from_ical(data)
    zones = cal.walk("VTIMEZONE")
    assert len(zones) == 1 and data.count(b"BEGIN:VTIMEZONE") == 1
    tzid = str(zones[0]["TZID"])
    assert tzid == RULE["timezone"] == "Asia/Shanghai"
    vevents = cal.walk("VEVENT")
    assert len(vevents) == 3
    assert {e["DTSTART"].params["TZID"] for e in vevents} == {tzid}
    assert {e["DTEND"].params["TZID"] for e in vevents} == {tzid}
    parts = zones[0].subcomponents
    assert [p.name for p in parts] == ["STANDARD"]  # no DAYLIGHT
    assert parts[0].decoded("TZOFFSETTO") == parts[0].decoded("TZOFFSETFROM") == timedelta(hours=8)
    assert b"TZOFFSETTO:+0800" in data
    # the VTIMEZONE comes before the events that use it; DTSTAMP is UTC (§3.8.7.2)
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    assert {e.decoded("dtstamp").utcoffset() for e in vevents} == {timedelta(0)}
    assert b"DTSTAMP:20261122T160000Z" in data  # Monday 23 Nov 2026, 00:00 in Beijing


# ---------------------------------------------------------------------------- workspace


def test_accept_mark_done_and_coverage(tiny, ws):
    for i in range(3):
        tiny.client(f"p{i}", aum=600_000, last_contact=date(2026, 10, 1))  # platinum, overdue
    wh = tiny.open()
    plan = cp.contact_plan(wh, R1, "R1", [MONDAY])
    assert len(plan) == 3
    before = cp.coverage(wh, R1, MONDAY, contact_dates(ws, wh, R1)).set_index("tier")
    assert before.loc["platinum", ["clients", "covered"]].tolist() == [3, 0]
    assert cp.accept_plan(ws, R1, plan, "rm:R1") == 3
    stored = cp.accepted_plan(ws, wh, R1, MONDAY, MONDAY)
    assert len(stored) == 3 and not stored["done"].any()
    pid = int(stored["plan_id"].iloc[0])
    log_id = cp.mark_done(ws, wh, R1, pid, "visit_booked", "约周五来网点", today=MONDAY)
    stored = cp.accepted_plan(ws, wh, R1, MONDAY, MONDAY).set_index("plan_id")
    assert stored.loc[pid, "done"] and stored.loc[pid, "outcome"] == "visit_booked"
    after = cp.coverage(wh, R1, MONDAY, contact_dates(ws, wh, R1)).set_index("tier")
    assert after.loc["platinum", "covered"] == 1
    assert after.loc["platinum", "share"] == pytest.approx(1 / 3)
    logs = logged_contacts(ws, wh, R1)
    assert logs["log_id"].tolist() == [log_id] and logs["plan_id"].item() == pid
    # accepting again keeps the done row and replaces only the open ones
    assert cp.accept_plan(ws, R1, plan, "rm:R1") == 2
    assert len(cp.accepted_plan(ws, wh, R1, MONDAY, MONDAY)) == 3
    done = cp.plan_completion(ws, wh, Scope("manager", branch_ids=("B001",)), MONDAY, MONDAY)
    assert done[["rm_id", "planned", "done"]].values.tolist() == [["R1", 3, 1]]
    # a manager neither accepts nor marks done; another RM cannot touch the plan
    with pytest.raises(AccessDenied):
        cp.accept_plan(ws, Scope("manager", branch_ids=("B001",)), plan, "m")
    with pytest.raises(AccessDenied):
        cp.mark_done(ws, wh, Scope("rm", rm_id="R2"), pid, "reached", today=MONDAY)
    with pytest.raises(AccessDenied):
        cp.accepted_plan(ws, wh, Scope("rm", rm_id="R2"), MONDAY, MONDAY, rm_id="R1")


def test_log_contact_rules(tiny, ws):
    tiny.client("mine")
    tiny.client("theirs", rm="R2")
    wh = tiny.open()
    log_contact(ws, wh, R1, "mine", MONDAY, "call", "reached", "ok", today=MONDAY)
    with pytest.raises(AccessDenied):
        log_contact(ws, wh, R1, "theirs", MONDAY, "call", "reached", today=MONDAY)
    with pytest.raises(AccessDenied):
        log_contact(ws, wh, Scope("head_office"), "mine", MONDAY, "call", "reached", today=MONDAY)
    with pytest.raises(AccessDenied):
        log_contact(ws, wh, R1, "nobody", MONDAY, "call", "reached", today=MONDAY)
    for kwargs, code in [
        ({"channel": "fax"}, "channel"),
        ({"outcome": "maybe"}, "outcome"),
        ({"note": "x" * 501}, "note"),
        ({"contact_date": MONDAY + timedelta(days=1)}, "date"),
    ]:
        args = {"contact_date": MONDAY, "channel": "call", "outcome": "reached", **kwargs}
        with pytest.raises(ContactLogError) as err:
            log_contact(ws, wh, R1, "mine", today=MONDAY, **args)
        assert err.value.code == code
    assert len(logged_contacts(ws, wh, R1)) == 1
    assert logged_contacts(ws, wh, Scope("rm", rm_id="R2")).empty
    assert len(logged_contacts(ws, wh, Scope("manager", branch_ids=("B001",)))) == 1
    assert logged_contacts(ws, wh, Scope("manager", branch_ids=("B002",))).empty
