"""Free text (issue 12, item 5): mobile, ID and card numbers typed into notes are masked for
everyone but the note's author, with known answers; the author is warned when saving one."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from plan_fixtures import MONDAY, TinyWarehouse

from analytics import contact_plan as cp
from analytics import scorecard
from analytics.access import Scope
from analytics.client360 import contact_history
from analytics.contact_log import log_contact, logged_contacts
from analytics.privacy import contains_pii, mask_free_text, mask_notes
from analytics.store import open_workspace

R1 = Scope("rm", branch_ids=("B001",), rm_id="R1", viewer_id="rm:R1")
MANAGER = Scope("manager", branch_ids=("B001",), viewer_id="manager:B001")
NOTE = "客户说换了手机 139-1234-5678，身份证 11010119800307123X，下周回电"
MASKED = "客户说换了手机 139****5678，身份证 110101********123X，下周回电"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请回电 13812345678", "请回电 138****5678"),
        ("手机：138 1234 5678。", "手机：138****5678。"),
        ("+86 138-1234-5678 晚上打", "+86 138****5678 晚上打"),
        ("0086-13812345678", "0086 138****5678"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width digits, as an IME types them
        ("tel13812345678abc", "tel138****5678abc"),
        ("身份证11010119900307123X号", "身份证110101********123X号"),
        ("id 110101 19900307 123x", "id 110101********123X"),
        ("旧证 110101900307123", "旧证 110101*****7123"),
        ("卡 6222 0212 3456 7890 123 已挂失", "卡 622202*********0123 已挂失"),
        ("卡号6222021234567890", "卡号622202******7890"),
        ("座机 010-87654321", "座机 *******4321"),
        ("13812345678 13987654321", "******************4321"),  # two numbers, one run
        (NOTE, MASKED),
    ],
)
def test_numbers_inside_text_are_masked(text, masked):
    assert mask_free_text(text) == masked
    assert contains_pii(text)


@pytest.mark.parametrize(
    "text",
    [
        "买了 30000 元理财，约 3 万",
        "金额 1,000,000 元，2024-01-01 到期，年化 2.35%",
        "分行电话 87654321",  # 8 digits, no area code
        "预约 11 月 23 日 15:30",
        "",
    ],
)
def test_text_without_personal_numbers_is_unchanged(text):
    assert mask_free_text(text) == text
    assert not contains_pii(text)


def test_missing_values_stay_missing():
    assert mask_free_text(None) is None
    assert pd.isna(mask_free_text(float("nan")))
    assert not contains_pii(None)


def test_mask_notes_keeps_the_authors_own_words():
    notes = pd.Series([NOTE, NOTE, NOTE, None])
    authors = pd.Series(["rm:R1", "rm:R2", None, "rm:R1"])
    seen = mask_notes(notes, authors, "rm:R1")
    assert seen[:3].tolist() == [NOTE, MASKED, MASKED] and pd.isna(seen[3])
    assert mask_notes(notes, authors, "")[:3].tolist() == [MASKED, MASKED, MASKED]


@pytest.fixture()
def tiny(tmp_path):
    wh = TinyWarehouse(tmp_path / "wh.duckdb")
    wh.client("c1", aum=600_000, last_contact=date(2026, 10, 1))
    db = wh.open()
    yield db
    db.close()


@pytest.fixture()
def ws(tmp_path):
    db = open_workspace(tmp_path / "ws.duckdb")
    yield db
    db.close()


def test_contact_notes_masked_for_everyone_but_the_author(tiny, ws):
    log_contact(ws, tiny, R1, "c1", MONDAY, "call", "reached", NOTE, today=MONDAY)
    assert logged_contacts(ws, tiny, R1)["note"].tolist() == [NOTE]  # stored and shown as typed
    assert logged_contacts(ws, tiny, MANAGER)["note"].tolist() == [MASKED]
    assert logged_contacts(ws, tiny, Scope("head_office"))["note"].tolist() == [MASKED]
    other_login_same_rm = Scope("rm", branch_ids=("B001",), rm_id="R1", viewer_id="alice")
    assert logged_contacts(ws, tiny, other_login_same_rm)["note"].tolist() == [MASKED]
    # the client view's contact history shows what logged_contacts gave it
    seen = contact_history(tiny, MANAGER, "c1", logged=logged_contacts(ws, tiny, MANAGER))
    assert seen.loc[seen["source"] == "branchlens", "note"].tolist() == [MASKED]


def test_plan_notes_masked_for_the_manager(tiny, ws):
    plan = cp.contact_plan(tiny, R1, "R1", [MONDAY])
    cp.accept_plan(ws, R1, plan, "rm:R1")
    pid = int(cp.accepted_plan(ws, tiny, R1, MONDAY, MONDAY)["plan_id"].iloc[0])
    cp.mark_done(ws, tiny, R1, pid, "reached", NOTE, today=MONDAY)
    mine = cp.accepted_plan(ws, tiny, R1, MONDAY, MONDAY).set_index("plan_id")
    theirs = cp.accepted_plan(ws, tiny, MANAGER, MONDAY, MONDAY).set_index("plan_id")
    assert mine.loc[pid, "note"] == NOTE and theirs.loc[pid, "note"] == MASKED
    assert "logged_by" not in theirs.columns  # the columns are the documented ones


def test_manual_grade_reason_masked_for_others(demo_db_path, tmp_path):
    from analytics.store import open_warehouse

    wh = open_warehouse(demo_db_path)
    ws = open_workspace(tmp_path / "grades.duckdb")
    corp = wh.scalar("SELECT MIN(corp_id) FROM corp_clients WHERE branch_id = 'B001'")
    head = Scope("head_office", viewer_id="ho:wang")
    other = Scope("head_office", viewer_id="ho:li")
    reason = "法人代表电话 13812345678 确认担保"
    scorecard.record_manual_grade(ws, wh, head, corp, "BBB", "A", reason, "ho:wang", 600.0, "s")
    mine = scorecard.recorded_grades(ws, wh, head)
    theirs = scorecard.recorded_grades(ws, wh, other)
    assert mine["reason"].tolist() == [reason]
    assert theirs["reason"].tolist() == ["法人代表电话 138****5678 确认担保"]
    ws.close()
    wh.close()


# ---------------------------------------------------------------------------- in the app


@pytest.fixture
def app_folder(demo_db_path, tmp_path, monkeypatch):
    """A fresh data folder (demo snapshot, empty workspace) that the app reads."""
    import shutil

    from analytics import store
    from ui import shell

    copy = tmp_path / "in.duckdb"
    shutil.copy(demo_db_path, copy)
    published = store.publish_snapshot(copy, "demo", tmp_path / "data")
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path / "data"))
    shell.workspace.clear()  # the cached workspace belongs to this folder for the test
    wh = store.open_warehouse(published)
    client = wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = 'R0001'")
    wh.close()
    yield client
    shell.workspace.clear()


def _client_page(role: str, client: str):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120
    )
    at.query_params.update({"as": role, "lang": "en", "client": client})
    at.run()
    at.switch_page("pages/client.py")
    at.run()
    assert not at.exception
    return at


def _contact_notes(at) -> list:
    """The notes column of the client view's contact history table."""
    from ui.i18n import EN

    tables = [d.value for d in at.dataframe if EN["col.source"] in d.value.columns]
    assert len(tables) == 1
    return tables[0][EN["col.note"]].tolist()


def test_the_author_is_warned_and_the_manager_reads_it_masked(app_folder):
    from ui.i18n import EN

    client = app_folder
    at = _client_page("rm:R0001", client)
    at.text_input(key="client_log_note").input(NOTE)
    next(b for b in at.button if b.label == EN["client.log_button"]).click()
    at.run()
    assert not at.exception
    assert EN["note.pii_saved"] in [w.value for w in at.warning]  # saved, and the author warned
    notes = _contact_notes(at)
    assert NOTE in notes  # the author reads their own words
    at.run()
    assert EN["note.pii_saved"] not in [w.value for w in at.warning]  # once, not on every run

    manager = _client_page("manager", client)
    notes = _contact_notes(manager)
    assert MASKED in notes and NOTE not in notes
    assert EN["note.pii_saved"] not in [w.value for w in manager.warning]
