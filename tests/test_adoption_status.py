"""The RM adoption tab's status line says what the counts say (issue 14 point 4), and an accepted
adoption can be undone from the tab: exact texts in zh and en, then the page in AppTest."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_adoption import CLIENTS, M1, RMS, SMALL_CAP, build_wh

from analytics import adoption, store
from analytics.access import Scope
from analytics.store import AuditLog, open_workspace
from ui import adoption_view

APP = str(Path(__file__).resolve().parent.parent / "app.py")
LAST = adoption.Acceptance(
    datetime(2026, 11, 2, 9, 30, 15), "mgr:B001", tuple(f"c{i:02d}" for i in range(35)), ("B001",)
)


# ---------------------------------------------------------------------------- the texts


def test_accepted_and_nothing_left_says_so_with_the_count_date_and_who():
    assert adoption_view.status(0, 0, 0, LAST, "en") == (
        "success",
        "35 accepted on 2 Nov 2026 09:30 by mgr:B001; nothing left to propose.",
    )
    assert adoption_view.status(0, 0, 0, LAST, "zh") == (
        "success",
        "已于2026年11月2日 09:30由 mgr:B001 接受 35 位客户的分配；目前没有需要调整的客户。",
    )


def test_nothing_ever_accepted_and_nothing_to_do():
    assert adoption_view.status(0, 0, 0, None, "en") == (
        "success",
        "Nothing to change: every high-end client has an RM and no RM is above capacity.",
    )
    assert adoption_view.status(0, 0, 0, None, "zh") == (
        "success",
        "无需调整：所有中高端客户都已有客户经理，且没有客户经理超出容量。",
    )


def test_moves_proposed_with_and_without_an_earlier_acceptance():
    assert adoption_view.status(4, 3, 1, None, "en") == (
        "info",
        "4 moves proposed; no client changes RM until they are accepted.",
    )
    assert adoption_view.status(4, 3, 1, None, "zh") == (
        "info",
        "共 4 项调整建议；接受之前不会改变任何客户的客户经理。",
    )
    assert adoption_view.status(4, 3, 1, LAST, "en") == (
        "info",
        "Last acceptance: 35 clients on 2 Nov 2026 09:30 by mgr:B001; 4 further moves proposed "
        "below.",
    )
    assert adoption_view.status(4, 3, 1, LAST, "zh") == (
        "info",
        "上次接受：2026年11月2日 09:30由 mgr:B001 接受 35 位客户；下方另有 4 项调整建议。",
    )


def test_left_over_that_no_move_can_fix_is_never_nothing_to_change():
    en = adoption_view.status(0, 0, 1, LAST, "en")
    assert en == (
        "warning",
        "Nothing more can be proposed: 0 high-end clients without an RM and 1 RMs above "
        "capacity, but their branch has no RM with room. Raise the capacities (Rules: RM "
        "adoption) or add RMs. Last acceptance: 35 clients on 2 Nov 2026 09:30 by mgr:B001.",
    )
    assert adoption_view.status(0, 2, 0, None, "zh") == (
        "warning",
        "无法再提出调整：还有 2 位中高端客户没有客户经理、0 位客户经理超出容量，但所在网点已没有"
        "尚有余量的客户经理。可在规则设置“客户认养”中调高容量，或增配客户经理。",
    )


def test_the_status_after_accepting_on_the_hand_made_tables(tmp_path):
    """B1 of tests/test_adoption.py: 4 moves, all accepted; nothing left, nobody over capacity.
    Head office also sees B2, where R4 stays over capacity (3 clients, capacity 2, no other RM):
    the line says so instead of "nothing to change"."""
    wh = build_wh(tmp_path / "wh.duckdb", CLIENTS, RMS)
    ws = open_workspace(tmp_path / "ws.duckdb")
    head = Scope("head_office", viewer_id="ho:1")

    def counts(scope):
        return (
            len(adoption.propose_assignment(wh, ws, scope, settings=SMALL_CAP)),
            len(adoption.unassigned(wh, ws, scope, settings=SMALL_CAP)),
            int(adoption.rm_load(wh, ws, scope, settings=SMALL_CAP)["over_capacity"].sum()),
        )

    assert counts(M1) == (4, 2, 1)
    assert adoption_view.status(*counts(M1), adoption.last_acceptance(ws, M1), "en") == (
        "info",
        "4 moves proposed; no client changes RM until they are accepted.",
    )
    adoption.accept_assignment(ws, adoption.propose_assignment(wh, ws, M1, settings=SMALL_CAP), M1)
    last = adoption.last_acceptance(ws, M1)
    at = adoption_view.when(last.accepted_at, "en")
    assert counts(M1) == (0, 0, 0)
    assert adoption_view.status(*counts(M1), last, "en") == (
        "success",
        f"4 accepted on {at} by mgr:B1; nothing left to propose.",
    )
    p = adoption.propose_assignment(wh, ws, head, settings=SMALL_CAP)
    adoption.accept_assignment(ws, p, head)  # B2: u3, u4, u5 all to R4
    assert counts(head) == (0, 0, 1)
    last = adoption.last_acceptance(ws, head)
    kind, text = adoption_view.status(*counts(head), last, "en")
    assert kind == "warning" and text.startswith("Nothing more can be proposed: 0 high-end")
    assert text.endswith(
        f"Last acceptance: 3 clients on {adoption_view.when(last.accepted_at, 'en')} by ho:1."
    )
    ws.close()
    wh.close()


# ---------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def app_root(demo_db_path, tmp_path_factory):
    """A data folder of its own with the small demo published as current."""
    root = tmp_path_factory.mktemp("adoption_data")
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(root)
    st.cache_resource.clear()  # the workspace connection is per process: drop another folder's
    st.cache_data.clear()
    yield root
    st.cache_resource.clear()
    st.cache_data.clear()
    if old is None:
        os.environ.pop("BRANCHLENS_DATA", None)
    else:
        os.environ["BRANCHLENS_DATA"] = old


def _page(role: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["as"] = role
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/high_end.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _workspace_rows(root):
    """The workspace's rm_assignments, read with the app's cached connection closed."""
    st.cache_resource.clear()
    ws = open_workspace(root / "workspace.duckdb")
    try:
        return ws.query("SELECT * FROM rm_assignments ORDER BY rowid")
    finally:
        ws.close()


def test_accept_then_undo_in_the_page(app_root, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    moves = len(adoption.propose_assignment(wh, None, Scope("manager", ("B001",))))
    wh.close()
    assert moves == 1, "the test snapshot proposes one move in B001"
    # one move: the English singular (ui.i18n.EN_ONE)
    opening = "1 move proposed; no client changes RM until it is accepted."

    at = _page("manager", "en")
    assert opening in [m.value for m in at.info]
    assert "he_undo" not in _keys(at)  # nothing accepted yet: nothing to undo
    at.button(key="he_accept").click().run()
    assert not at.exception

    saved = _workspace_rows(app_root)
    assert len(saved) == moves and set(saved["accepted_by"]) == {"demo:manager:B001"}
    when = adoption_view.when(saved["accepted_at"].iloc[0].to_pydatetime(), "en")
    at = _page("manager", "en")
    shown = [m.value for m in at.success]
    assert f"{moves} accepted on {when} by demo:manager:B001; nothing left to propose." in shown
    assert not any("Nothing to change" in m for m in shown)  # not next to the acceptance

    # the RM and the trainer see the status but no undo button
    for role in ("rm:R0001", "trainer"):
        assert "he_undo" not in _keys(_page(role, "en"))

    at = _page("manager", "en")
    records = len(AuditLog(app_root / "audit.jsonl").read())
    at.button(key="he_undo").click().run()
    assert not at.exception
    assert (
        f"Withdrawn: the {moves} assignments accepted on {when} by demo:manager:B001; the "
        "clients are back with their previous RM."
    ) in [m.value for m in at.success]
    assert opening in [m.value for m in at.info]
    assert _workspace_rows(app_root).empty  # exactly the workspace before the acceptance
    log = AuditLog(app_root / "audit.jsonl").read()
    assert len(log[log["action"] == "undo"]) == 1
    assert len(log) > records  # the undo record (and the page views around it)


def _keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button}
