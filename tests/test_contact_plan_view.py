"""The contact-plan view's table builders (ui/plan_view.py), without Streamlit running: the plan's
order, the plan table as shown and exported, the calendar events, the coverage bars and the team
table, each against an exact expected output."""

from datetime import date

import pandas as pd

from analytics.access import Scope
from ui import plan_view
from ui.shell import Viewer

RULE = {
    "deep": 5,
    "calls": 20,
    "light": 30,
    "cadence_days": {"private": 7, "platinum": 14, "gold": 30},
}
DAY = date(2026, 11, 23)


def viewer(lang: str = "en") -> Viewer:
    scope = Scope("rm", ("B001",), rm_id="R1")
    return Viewer(scope, lang, True, "unused.duckdb", date(2026, 10, 31), "demo", DAY)


def plan_rows() -> pd.DataFrame:
    """Two rows as ``plan_view.plan_rows`` makes them: an accepted one marked done, and a proposed
    one (with the client facts ``with_clients`` adds)."""
    return pd.DataFrame(
        {
            "day": [DAY, date(2026, 11, 24)],
            "rm_id": ["R1", "R1"],
            "client_id": ["C1", "C2"],
            "slot": ["deep", "light"],
            "channel": ["visit", "sms"],
            "reason": ["birthday", "cadence_overdue"],
            "priority": [3.0, 1.0],
            "detail": ['{"age": 60}', "{}"],
            "forced": ["", "no_mobile"],
            "status": ["accepted", "proposed"],
            "plan_id": [7, pd.NA],
            "done": [True, False],
            "outcome": ["visit_booked", None],
            "name_zh": ["张*", "李*"],
            "name_en": ["Zhang *", "Li *"],
            "tier_now": ["platinum", "gold"],
            "aum_now": [1_234_567.0, 250_000.0],
        }
    )


def test_plan_rows_are_ordered_by_day_slot_priority_then_client():
    rows = pd.DataFrame(
        {
            "day": [DAY + pd.Timedelta(days=1), DAY, DAY, DAY, DAY],
            "slot": ["deep", "light", "call", "call", "deep"],
            "priority": [9.0, 9.0, 1.0, 1.0, 2.0],
            "client_id": ["E", "D", "C", "B", "A"],
        },
        index=[10, 11, 12, 13, 14],
    )
    ordered = plan_view.in_plan_order(rows)
    assert ordered["client_id"].tolist() == ["A", "B", "C", "D", "E"]
    assert list(ordered.columns) == ["day", "slot", "priority", "client_id"]
    assert ordered.index.tolist() == [0, 1, 2, 3, 4]
    assert plan_view.done_count(plan_rows()) == 1


def test_the_plan_table_reads_each_row_in_words():
    table = plan_view.plan_table(viewer(), plan_rows(), with_day=True)
    assert table.to_dict("list") == {
        "Day": ["23 Nov 2026", "24 Nov 2026"],
        "Client no.": ["C1", "C2"],
        "Name": ["Zhang *", "Li *"],
        "Tier": ["Platinum", "Gold"],
        "AUM": ["¥1,234,567", "¥250,000"],
        "Reason": ["Birthday", "Overdue for contact"],
        "Topic": ["Birthday greeting", "Service follow-up"],
        "Channel": ["Meeting", "SMS"],
        "Channel rule": ["", "No mobile banking: by SMS"],
        "Status": ["Visit booked", "Proposed"],
        "Opener": [
            "Happy birthday! Best wishes for your 60th year.",
            "Hello, I'm your relationship manager at the bank; I'd like to introduce myself and "
            "hear what you need for your savings.",
        ],
    }
    one_day = plan_view.plan_table(viewer("zh"), plan_rows().iloc[:1], with_day=False)
    assert one_day.iloc[0].to_dict() == {
        "客户号": "C1",
        "姓名": "张*",
        "层级": "白金",
        "AUM": "123.5万",
        "原因": "生日",
        "主题": "生日祝福",
        "渠道": "面谈",
        "渠道规则": "",
        "状态": "已约到访",
        "开场白": "生日快乐！祝您60岁生日身体健康、万事顺意。",
    }


def test_deep_contacts_become_calendar_events():
    events = plan_view.ics_events(viewer(), plan_rows().iloc[:1])
    assert events.to_dict("records") == [
        {
            "plan_day": DAY,
            "rm_id": "R1",
            "client_id": "C1",
            "summary": "Meet Zhang * · Birthday",
            "description": "Happy birthday! Best wishes for your 60th year.",
        }
    ]


def test_coverage_bars_are_labelled_top_tier_first():
    coverage = pd.DataFrame(
        {
            "tier": ["gold", "platinum"],
            "cadence_days": [30, 14],
            "clients": [1200, 80],
            "covered": [300, 60],
            "share": [0.25, 0.75],
        }
    )
    bars = plan_view.coverage_bars(viewer(), coverage)
    assert bars[["label", "text"]].to_dict("list") == {
        "label": ["Platinum · every 14 days", "Gold · every 30 days"],
        "text": ["75% (60/80)", "25% (300/1,200)"],
    }


def test_the_team_table_puts_every_rm_side_by_side():
    rms = pd.DataFrame(
        {
            "rm_id": ["R1", "R2", "R3"],
            "name_zh": ["王一", "李二", "赵三"],
            "name_en": ["Wang Yi", "Li Er", "Zhao San"],
        }
    )
    completion = pd.DataFrame(
        {
            "rm_id": ["R1"],
            "planned": [55],
            "done": [11],
            "done_share": [0.2],
            "deep_planned": [5],
            "deep_done": [2],
            "call_planned": [20],
            "call_done": [9],
            "light_planned": [30],
            "light_done": [0],
        }
    )
    by_rm = pd.DataFrame(
        {
            "rm_id": ["R1", "R1", "R2"],
            "tier": ["gold", "platinum", "gold"],
            "share": [0.5, 1.0, 0.125],
        }
    )  # R3 has neither a plan nor clients in scope: not shown; no one holds private
    table = plan_view.team_table(viewer(), RULE, rms, completion, by_rm)
    assert table.to_dict("list") == {
        "RM": ["Wang Yi", "Li Er"],
        "Planned": [55, 0],
        "Done": [11, 0],
        "Done %": ["20%", "Not accepted"],
        "Deep contacts 5": ["2/5", "—"],
        "Calls 20": ["9/20", "—"],
        "Light touches 30": ["0/30", "—"],
        "Platinum coverage": ["100%", "—"],
        "Gold coverage": ["50%", "12%"],
    }
