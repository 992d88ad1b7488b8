"""Issue 14 point 4 in AppTest: the invitation form and the plan's done form start empty after a
save and say what was saved (each record keeps its own note, checked in the workspace); a visit
is recorded and counted; the branch manager's record table names the RM; the plan's undo buttons
restore the workspace rows exactly and write one audit record each."""

from __future__ import annotations

from pathlib import Path

import app_pages
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import store
from ui import formats
from ui.i18n import EN, ZH

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def data(demo_db_path, tmp_path_factory):
    """A data folder of its own (the demo snapshot published as current), so the rows compared
    here are only this module's."""
    root = tmp_path_factory.mktemp("forms_undo")
    with app_pages.published_demo(root, demo_db_path) as published:
        yield published


def run_page(page: str, role: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["as"], at.query_params["lang"] = role, lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def query(sql: str, params=()) -> list[list]:
    ws = store.open_workspace()
    try:
        return ws.query(sql, list(params)).values.tolist()
    finally:
        ws.close()


def rows() -> dict[str, list[list]]:
    """The workspace rows the plan touches, every column, in a fixed order."""
    return {
        "planned_contacts": query("SELECT * FROM planned_contacts ORDER BY plan_id"),
        "contact_logs": query("SELECT * FROM contact_logs ORDER BY log_id"),
    }


def undo_records() -> list[str]:
    log = store.AuditLog().read()
    return log.loc[log["action"] == "undo", "detail"].tolist()


def saved(t: dict, key: str, client: str, outcome: str, note: str, channel: str = "") -> str:
    return t[key].format(
        client=client, outcome=t[f"outcome.{outcome}"],
        channel=t[f"channel.{channel}"] if channel else "",
        note=t["form.note_saved"].format(note=note),
    )  # fmt: skip


def test_invitation_form_clears_each_record_keeps_its_note_and_the_manager_sees_the_rm(data):
    at = run_page("pages/invitations.py", "rm:R0003", "en")
    who, outcome, note = (f"inv_fund_diagnosis_{k}" for k in ("who", "outcome", "note"))
    first, first_label = at.selectbox(key=who).value, at.selectbox(key=who).options[0]
    assert at.selectbox(key=who).index == 0
    at.selectbox(key=outcome).set_value("visited")
    at.text_input(key=note).input("first: came for the fund check-up")
    at.button(key="inv_fund_diagnosis_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the form is empty again, and says what was saved
    assert at.text_input(key=note).value == ""
    assert at.selectbox(key=outcome).value == "reached"
    assert saved(EN, "inv.record_saved", first_label, "visited",
                 "first: came for the fund check-up", "call") in [s.value for s in at.success]  # fmt: skip
    second = at.selectbox(key=who).value
    assert second != first  # the first was contacted just now: off the list
    at.text_input(key=note).input("second: call back Friday")
    at.button(key="inv_fund_diagnosis_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.text_input(key=note).value == ""
    recorded = query(
        "SELECT client_id, rm_id, outcome, note FROM contact_logs "
        "WHERE reason = 'invite_fund_diagnosis' ORDER BY log_id"
    )
    assert recorded == [
        [first, "R0003", "visited", "first: came for the fund check-up"],
        [second, "R0003", "reached", "second: call back Friday"],
    ]
    # the manager of R0003's branch reads the team's records with the RM's name
    wh = store.open_warehouse(data)
    try:
        branch, name_zh, name_en = wh.query(
            "SELECT branch_id, name_zh, name_en FROM rms WHERE rm_id = 'R0003'"
        ).values.tolist()[0]
    finally:
        wh.close()
    for lang, t, name in (("en", EN, name_en), ("zh", ZH, name_zh)):
        mgr = run_page("pages/invitations.py", f"manager:{branch}", lang)
        assert "inv_fund_diagnosis_save" not in [b.key for b in mgr.button]
        table = next(
            d.value for d in mgr.dataframe
            if t["col.note"] in d.value.columns and t["col.rm"] in d.value.columns
        )  # fmt: skip
        assert table[t["col.client_id"]].tolist() == [second, first]  # newest first
        assert table[t["col.rm"]].tolist() == [name, name]
        assert table[t["col.outcome"]].tolist() == [t["outcome.reached"], t["outcome.visited"]]


def test_plan_done_form_clears_and_each_undo_restores_the_rows(data):
    at = run_page("pages/contact_plan.py", "rm:R0002", "en")
    before = rows()
    at.button(key="plan_accept").click().run()
    assert not at.exception, [e.value for e in at.exception]
    accepted = rows()
    planned = len(accepted["planned_contacts"]) - len(before["planned_contacts"])
    assert planned == 55 and accepted["contact_logs"] == before["contact_logs"]
    day = pd.Timestamp(accepted["planned_contacts"][-1][1]).date()  # plan_day

    # the first call: done with its note; the next call's form is empty
    pick = at.selectbox(key="plan_call_pick")
    labels = pick.options
    pick.select_index(0).run()
    at.radio(key="plan_call_outcome").set_value("visited")
    at.text_input(key="plan_call_note").input("note a")
    at.button(key="plan_call_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    client0 = labels[0].rsplit(" · ", 1)[0]  # name · client id (· reason)
    assert saved(EN, "plan.done_saved", client0, "visited", "note a") in [
        s.value for s in at.success
    ]
    first_done = rows()
    at.selectbox(key="plan_call_pick").select_index(1).run()
    assert at.text_input(key="plan_call_note").value == ""
    assert at.radio(key="plan_call_outcome").value == "reached"
    at.text_input(key="plan_call_note").input("note b")
    at.button(key="plan_call_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    logs = query("SELECT plan_id, rm_id, outcome, note FROM contact_logs ORDER BY log_id")
    new = logs[len(before["contact_logs"]) :]
    ids = [r[0] for r in new]
    assert [r[1:] for r in new] == [["R0002", "visited", "note a"], ["R0002", "reached", "note b"]]
    assert ids[0] != ids[1]

    # undo the second marking: exactly the rows after the first; one audit record
    assert undo_records() == []
    at.button(key="plan_call_undo").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows() == first_done
    assert len(undo_records()) == 1 and undo_records()[0].startswith(
        f"mark_done: plan_id={ids[1]} "
    )
    # undo the first: exactly the accepted plan again
    at.selectbox(key="plan_call_pick").select_index(0).run()
    at.button(key="plan_call_undo").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows() == accepted
    assert len(undo_records()) == 2
    # withdraw the day: exactly the rows before it was accepted, and the proposal is back
    at.button(key="plan_withdraw").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows() == before
    assert len(undo_records()) == 3 and undo_records()[2].startswith(
        f"accept_plan: R0002 {day}, {planned} planned contacts withdrawn"
    )
    shown = EN["plan.withdrawn"].format(n=planned, day=formats.day(day, "en"))
    assert shown in [s.value for s in at.success]
    assert "plan_accept" in [b.key for b in at.button]
    assert "plan_withdraw" not in [b.key for b in at.button]
