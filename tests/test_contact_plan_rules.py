"""The planner's rules of issue 13, point 2: (a) the priority order holds across channels, (b) each
standing trigger waits out its cool-down, (c) a dated trigger crowded out on its day is carried
until its deadline, (d) the slots the triggers leave are filled from the cadence queue, and the
plan says how many stayed empty and why. Known answers worked out by hand from settings.toml."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pandas as pd
import pytest
from plan_fixtures import MONDAY, TinyWarehouse

from analytics import contact_plan as cp
from analytics import workdays
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import open_warehouse

RULE = load_settings()["contact_rule"]
R1 = Scope("rm", rm_id="R1", viewer_id="rm:R1")
WEEK = workdays.week_of(MONDAY)  # Monday 23 to Friday 27 November 2026
MASS = 30_000  # below the Potential line: no cadence, so never in the cadence queue
SLOT_RANK = {s: i for i, s in enumerate(cp.SLOTS)}
STALE = date(2025, 1, 1)  # a risk assessment long expired: stale_risk every day


@pytest.fixture()
def tiny(tmp_path):
    return TinyWarehouse(tmp_path / "wh.duckdb")


def settings_with(**rule) -> dict:
    settings = copy.deepcopy(load_settings())
    settings["contact_rule"].update(rule)
    return settings


def inversions(plan: pd.DataFrame) -> int:
    """Pairs of the same RM and day where the better-ranked client has the lighter slot, among
    the rows whose slot no channel rule fixed (a ``keep_slot`` row is exempt; an SMS row is not:
    it only changes the channel of a light touch)."""
    free = plan[~plan["forced"].str.contains("keep_slot")]
    bad = 0
    for _, g in free.groupby(["day", "rm_id"]):
        p = g["priority"].to_numpy(dtype="float64")
        k = g["slot"].map(SLOT_RANK).to_numpy()
        bad += int(((p[:, None] > p[None, :]) & (k[:, None] > k[None, :])).sum())
    return bad


def days_of(plan: pd.DataFrame, client: str) -> list[tuple[date, str]]:
    rows = plan[plan["client_id"] == client]
    return list(rows[["day", "reason"]].itertuples(index=False, name=None))


# ---------------------------------------------------------------------------- (a) priority order


def test_a_better_ranked_client_never_gets_a_lighter_slot(tiny):
    for i in range(1, 7):  # six fund losses ask for a deep contact: 80 (mass)
        tiny.client(f"f{i}", aum=MASS)
        tiny.holding(f"f{i}", "P_EQ", 80_000, 100_000)
    for i in range(1, 21):  # 20 stale risk assessments ask for a call: 50
        tiny.client(f"s{i:02d}", aum=MASS, risk_on=STALE)
    tiny.client("b1", aum=MASS, birth=date(1980, 11, 23))  # birthdays ask for a light touch: 40
    tiny.client("b2", aum=MASS, birth=date(1980, 11, 23))
    tiny.client("sms", aum=MASS, birth=date(1980, 11, 23), mobile=False)  # no mobile banking
    tiny.client("ins", aum=MASS)  # an anniversary today (65): its reason keeps a call
    tiny.policy("ins", date(2024, 11, 23))
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY])
    # ins keeps one of the 20 calls. The other 29 ask for 6 deep slots (5 free), 20 calls (19
    # free) and 3 light touches: the deep one left over asks for a call, so the day uses 5 deep
    # slots and 19 calls, and they go by rank: the 5 best visits, the next 19 calls, the rest
    # light touches. f6 (80) is a call; the old rule gave it a light touch below s01..s19 (50).
    by_slot = {s: plan.loc[plan["slot"] == s, "client_id"].tolist() for s in cp.SLOTS}
    assert by_slot == {
        "deep": ["f1", "f2", "f3", "f4", "f5"],
        "call": ["f6", "ins", *[f"s{i:02d}" for i in range(1, 19)]],
        "light": ["s19", "s20", "b1", "b2", "sms"],
    }
    forced = plan.set_index("client_id")["forced"]
    assert forced[forced != ""].to_dict() == {"ins": "keep_slot", "sms": "no_mobile"}
    assert plan.set_index("client_id").loc["sms", "channel"] == "sms"
    assert inversions(plan) == 0


def test_a_kept_slot_is_the_one_exception_and_is_flagged(tiny):
    for i in range(1, 31):  # 30 fund losses (80, deep)
        tiny.client(f"f{i:02d}", aum=MASS)
        tiny.holding(f"f{i:02d}", "P_EQ", 80_000, 100_000)
    for i in range(1, 25):  # 24 stale risk assessments (50, call)
        tiny.client(f"s{i:02d}", aum=MASS, risk_on=STALE)
    tiny.client("ins", aum=MASS)  # an anniversary (65): keeps a call
    tiny.policy("ins", date(2024, 11, 23))
    plan = cp.contact_plan(tiny.open(), R1, "R1", [MONDAY]).set_index("client_id")
    # 55 candidates, 55 slots. ins keeps a call; the other 54 ask for more deep slots and calls
    # than there are, so they take the 5 deep slots, the 19 other calls and 30 light touches by
    # rank: f01..f05 visits, f06..f24 calls, f25..f30 and every stale client light touches
    assert len(plan) == 55
    assert list(plan.index[plan["slot"] == "deep"]) == [f"f{i:02d}" for i in range(1, 6)]
    assert sorted(plan.index[plan["slot"] == "call"]) == sorted(
        ["ins", *[f"f{i:02d}" for i in range(6, 25)]]
    )
    assert plan.loc["ins", "forced"] == "keep_slot"
    assert inversions(plan.reset_index()) == 0
    # the kept call is heavier than the light touches of f25..f30, who rank above it: the one
    # break in the order, and the row says why
    assert inversions(plan.reset_index().assign(forced="")) == 6


def test_the_demo_weeks_plan_keeps_the_priority_order(demo_db_path):
    wh = open_warehouse(demo_db_path)
    as_of = date.fromisoformat(wh.scalar("SELECT value FROM meta WHERE key = 'as_of'"))
    week = workdays.next_working_days(as_of + timedelta(days=1), 5)
    result = cp.plan_with_summary(wh, Scope("head_office"), week)
    plan = result.rows
    assert inversions(plan) == 0
    # the RM-days with every slot taken (8 on the test snapshot, mostly on the first day; the
    # others run short of triggers and cadence) hold exactly 5 / 20 / 30
    full = result.summary.loc[result.summary["empty"] == 0, ["day", "rm_id"]]
    per_slot = plan.groupby(["day", "rm_id", "slot"]).size().unstack()[list(cp.SLOTS)]
    taken = per_slot.loc[list(full.itertuples(index=False, name=None))]
    assert len(taken) >= 5 and (taken == [RULE["deep"], RULE["calls"], RULE["light"]]).all().all()
    assert set(plan.loc[plan["forced"].str.contains("keep_slot"), "reason"]) == {
        "insurance_callback"
    }
    sms = plan["channel"] == "sms"
    assert (plan.loc[sms, "forced"].str.contains("no_mobile")).all() and sms.any()


# ---------------------------------------------------------------------------- (b) cool-downs


def test_fund_loss_waits_its_cool_down_after_a_contact_for_it(tiny):
    for cid in ("logged", "crm", "other_reason"):
        tiny.client(cid, aum=MASS, last_contact=None)
        tiny.holding(cid, "P_EQ", 80_000, 100_000)  # -20% since October
    three_days_ago = MONDAY - timedelta(days=3)  # Friday 20 November
    tiny.contact("crm", three_days_ago, topic="review")  # the CRM topic of a fund loss
    tiny.contact("other_reason", three_days_ago)  # a service call
    contacts = pd.DataFrame({
        "client_id": ["logged"], "contact_date": [three_days_ago], "reason": ["fund_drawdown"],
    })  # fmt: skip
    days = workdays.working_days(MONDAY, date(2026, 12, 31))
    plan = cp.contact_plan(tiny.open(), R1, "R1", days, contacts=contacts)
    # 30 days after 20 Nov is Sunday 20 Dec: back on Monday 21 Dec, not every week
    assert days_of(plan, "logged") == [(date(2026, 12, 21), "fund_drawdown")]
    assert days_of(plan, "crm") == [(date(2026, 12, 21), "fund_drawdown")]
    # contacted for something else: only the 7-day pause, then 30 days from that plan day
    assert days_of(plan, "other_reason") == [
        (date(2026, 11, 27), "fund_drawdown"), (date(2026, 12, 28), "fund_drawdown"),
    ]  # fmt: skip


def test_fund_loss_comes_back_sooner_after_a_further_drop(tiny):
    day = date(2026, 11, 2)  # the Monday after the as-of
    tiny.client("deeper", aum=MASS, last_contact=None)
    tiny.holding("deeper", "P_EQ", 84_000, 100_000, month=date(2026, 9, 30))  # -16% in September
    tiny.holding("deeper", "P_EQ", 78_000, 100_000)  # -22% in October: 6 points deeper
    tiny.client("steady", aum=MASS, last_contact=None)
    tiny.holding("steady", "P_EQ", 79_000, 100_000, month=date(2026, 9, 30))  # -21%
    tiny.holding("steady", "P_EQ", 78_000, 100_000)  # -22%: 1 point deeper
    contacts = pd.DataFrame({  # both talked to about the loss on Friday 30 Oct (3 days ago)
        "client_id": ["deeper", "steady"], "contact_date": [day - timedelta(days=3)] * 2,
        "reason": ["fund_drawdown"] * 2,
    })  # fmt: skip
    plan = cp.contact_plan(tiny.open(), R1, "R1", workdays.working_days(day, date(2026, 12, 4)),
                           contacts=contacts)  # fmt: skip
    # the loss at that contact is September's (the month-end on or before it): -16% -> -22% is
    # past the 5-point further drop, so only the 7-day pause holds it (Friday 6 Nov); from then
    # the loss is October's, so no further drop and 30 days (Sunday 6 Dec, past this plan)
    assert days_of(plan, "deeper") == [(date(2026, 11, 6), "fund_drawdown")]
    # -21% -> -22% is not: 30 days from 30 Oct is Sunday 29 Nov, so Monday 30 Nov
    assert days_of(plan, "steady") == [(date(2026, 11, 30), "fund_drawdown")]


def test_threshold_waits_its_cool_down_in_days(tiny):
    for cid in ("logged", "accepted", "fresh"):
        tiny.client(cid, aum=47_000)  # 3,000 under the Potential line: an upgrade near-miss
    contacts = pd.DataFrame({
        "client_id": ["logged"], "contact_date": [MONDAY - timedelta(days=3)],
        "reason": ["threshold"],
    })  # fmt: skip
    planned = pd.DataFrame({  # accepted into a plan for it on Wednesday 18 Nov
        "client_id": ["accepted"], "plan_day": [date(2026, 11, 18)], "reason": ["threshold"],
    })  # fmt: skip
    days = workdays.working_days(MONDAY, date(2026, 12, 31))
    plan = cp.contact_plan(tiny.open(), R1, "R1", days, contacts=contacts, planned=planned)
    assert days_of(plan, "logged") == [(date(2026, 12, 21), "threshold")]  # 20 Nov + 30 days
    assert days_of(plan, "accepted") == [(date(2026, 12, 18), "threshold")]  # 18 Nov + 30 days
    assert days_of(plan, "fresh") == [  # today, then 30 days later (Wednesday 23 Dec)
        (MONDAY, "threshold"), (date(2026, 12, 23), "threshold"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------- (c) carried


def crowd(tiny: TinyWarehouse, n: int) -> None:
    """``n`` stale risk assessments (50, mass): 55 of them take a day's slots, then pause."""
    for i in range(n):
        tiny.client(f"s{i:03d}", aum=MASS, risk_on=STALE)


def test_a_birthday_crowded_out_is_planned_the_next_working_day(tiny):
    tiny.client("late", aum=MASS, birth=date(1980, 11, 23))  # 40: below the crowd's 50
    crowd(tiny, 55)
    wh = tiny.open()
    plan = cp.contact_plan(wh, R1, "R1", WEEK)
    assert "late" not in set(plan.loc[plan["day"] == MONDAY, "client_id"])
    row = plan[plan["client_id"] == "late"]
    assert row[["day", "reason", "priority"]].values.tolist() == [
        [MONDAY + timedelta(days=1), "birthday", RULE["triggers"]["birthday"]["weight"]]
    ]  # Tuesday, with its priority
    assert row["detail"].str.contains('"date": "2026-11-23"').all()
    # the same when Tuesday is planned on its own after Monday's plan was accepted
    monday = plan.loc[plan["day"] == MONDAY, ["client_id", "day", "reason"]]
    accepted = monday.rename(columns={"day": "plan_day"})
    tuesday = cp.contact_plan(wh, R1, "R1", [MONDAY + timedelta(days=1)], planned=accepted)
    assert tuesday["client_id"].tolist() == ["late"]


def test_a_dated_trigger_is_not_carried_past_its_deadline(tiny):
    tiny.client("late", aum=MASS, birth=date(1980, 11, 23))  # deadline: 3 days after, Thursday
    crowd(tiny, 4 * 55)  # Monday to Thursday: 55 stale clients not planned yet every day
    plan = cp.contact_plan(tiny.open(), R1, "R1", WEEK)
    assert plan.groupby("day").size().to_dict() == {
        MONDAY: 55, MONDAY + timedelta(days=1): 55, MONDAY + timedelta(days=2): 55,
        MONDAY + timedelta(days=3): 55,
    }  # fmt: skip
    # crowded out until Thursday, its deadline; on Friday, with every slot free, it is gone
    assert "late" not in set(plan["client_id"])


# ---------------------------------------------------------------------------- (d) cadence fill


def fill_case(tiny: TinyWarehouse) -> None:
    tiny.client("t_stale", aum=MASS, risk_on=STALE)  # a trigger: stale_risk (50)
    tiny.client("t_bday", aum=MASS, birth=date(1980, 11, 23))  # a trigger: birthday (40)
    ago = lambda n: MONDAY - timedelta(days=n)  # noqa: E731
    tiny.client("g24", aum=250_000, last_contact=ago(24))  # Gold, 30 days: 0.8 elapsed
    tiny.client("pt10", aum=600_000, last_contact=ago(10))  # Platinum, 14 days: 0.714
    tiny.client("p60", aum=100_000, last_contact=ago(60))  # Potential, 90 days: 0.667
    tiny.client("p30", aum=100_000, last_contact=ago(30))  # Potential: 0.333
    tiny.client("g03", aum=250_000, last_contact=ago(3))  # within the 7-day interval
    tiny.client("pt_due", aum=600_000, last_contact=ago(10))  # T-7 on Wednesday: waits for it
    tiny.holding("pt_due", "P_TD", 100_000, 100_000, date(2026, 12, 2))
    tiny.client("m1", aum=MASS)  # Mass: no cadence, never in the queue


def test_few_triggers_the_cadence_queue_fills_most_overdue_first(tiny):
    fill_case(tiny)
    small = settings_with(deep=1, calls=2, light=2)  # 5 slots: 2 triggers and 3 from the queue
    result = cp.plan_with_summary(tiny.open(), R1, [MONDAY], "R1", settings=small)
    plan = result.rows.sort_values(["priority"], ascending=False, kind="stable")
    assert list(plan[["client_id", "reason"]].itertuples(index=False, name=None)) == [
        ("t_stale", "stale_risk"), ("t_bday", "birthday"), ("g24", "cadence_due"),
        ("pt10", "cadence_due"), ("p60", "cadence_due"),
    ]  # fmt: skip
    fills = plan[plan["reason"] == "cadence_due"].set_index("client_id")
    assert fills["priority"].tolist() == [0.8, 0.714, 0.667]  # share of the cadence elapsed
    assert fills.loc["g24", "detail"] == '{"cadence": 30, "days": 24}'
    # the order holds across the two kinds: the triggers first, then the queue by rank
    assert plan.set_index("client_id")["slot"].to_dict() == {
        "t_stale": "deep", "t_bday": "call", "g24": "call", "pt10": "light", "p60": "light",
    }  # fmt: skip
    assert result.summary.drop(columns="day").to_dict("records") == [{
        "rm_id": "R1", "slots": 5, "by_trigger": 2, "by_cadence": 3, "empty": 0,
        "empty_interval": 0, "empty_no_client": 0,
    }]  # fmt: skip


def test_the_summary_says_how_many_slots_stayed_empty_and_why(tiny):
    fill_case(tiny)
    tuesday = MONDAY + timedelta(days=1)
    result = cp.plan_with_summary(tiny.open(), R1, [MONDAY, tuesday], "R1")
    plan = result.rows
    assert plan.loc[plan["day"] == MONDAY, "client_id"].tolist() == [
        "t_stale", "t_bday", "g24", "pt10", "p60", "p30"
    ]  # fmt: skip
    assert plan.loc[plan["day"] == tuesday].empty
    summary = result.summary.set_index("day")
    assert summary.loc[MONDAY].to_dict() == {
        # 55 slots: 2 triggers, 4 from the queue; of the 49 empty, 2 could have gone to g03
        # (contacted 3 days ago) and pt_due (its maturity T-7 comes on Wednesday); for the
        # other 47 no client is left (m1 and the triggers' clients are Mass: no cadence)
        "rm_id": "R1",
        "slots": 55,
        "by_trigger": 2,
        "by_cadence": 4,
        "empty": 49,
        "empty_interval": 2,
        "empty_no_client": 47,
    }
    assert summary.loc[tuesday].to_dict() == {
        # everyone with a cadence was planned on Monday or waits as above: 6 within the interval
        "rm_id": "R1",
        "slots": 55,
        "by_trigger": 0,
        "by_cadence": 0,
        "empty": 55,
        "empty_interval": 6,
        "empty_no_client": 49,
    }


def test_contact_plan_and_plan_with_summary_agree(tiny):
    fill_case(tiny)
    wh = tiny.open()
    result = cp.plan_with_summary(wh, R1, WEEK, "R1")
    pd.testing.assert_frame_equal(result.rows, cp.contact_plan(wh, R1, "R1", WEEK))
    assert list(result.summary.columns) == list(cp.SUMMARY_COLUMNS)
    assert result.summary["day"].tolist() == WEEK  # one row per RM and day, planned or not


# ---------------------------------------------------------------------------- the view


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_view_shows_the_summary_and_the_channel_rule(demo_db_path, tmp_path, monkeypatch, lang):
    import shutil
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from analytics import store
    from ui.i18n import EN, ZH

    shutil.copy(demo_db_path, tmp_path / "incoming.duckdb")
    store.publish_snapshot(tmp_path / "incoming.duckdb", "demo", tmp_path)
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90
    )
    at.query_params["as"], at.query_params["lang"] = "rm:R0002", lang
    at.run()
    at.switch_page("pages/contact_plan.py").run()
    assert not at.exception, [e.value for e in at.exception]
    t = ZH if lang == "zh" else EN
    tables = [d.value for d in at.dataframe]
    summary = next(v for v in tables if t["plan.sum_trigger"] in v.columns)
    counts = [t[k] for k in ("plan.sum_trigger", "plan.sum_cadence", "plan.sum_empty_interval",
                             "plan.sum_empty_none")]  # fmt: skip
    assert len(summary) == 1 and summary[counts].sum(axis=1).tolist() == [55]  # today's 55 slots
    light = next(v for v in tables if t["plan.forced"] in v.columns and len(v) == RULE["light"])
    by_sms = light[t["col.channel"]] == t["channel.sms"]
    assert by_sms.any()
    assert (light.loc[by_sms, t["plan.forced"]] == t["plan.forced_no_mobile"]).all()
    assert (light.loc[~by_sms, t["plan.forced"]] == "").all()
