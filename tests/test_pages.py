"""Every page x every role x both languages renders in AppTest, and shows the viewer's numbers."""

from __future__ import annotations

from pathlib import Path

import app_pages
import pytest
from app_pages import run_page
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.access import Scope
from analytics.overview import headline, tier_summary
from analytics.privacy import mask_name
from ui.formats import md
from ui.i18n import EN, ZH
from ui.shell import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ROLES = ["trainer", "head_office", "manager", "manager:B002", "rm:R0001", "rm:R0009"]


@pytest.fixture(scope="session")
def app_data(demo_db_path, tmp_path_factory):
    """A data folder with the small demo snapshot published as current; the app reads it."""
    root = tmp_path_factory.mktemp("data")
    with app_pages.published_demo(root, demo_db_path) as published:
        yield published


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_page_renders(app_data, page, role, lang):
    spec = next(p for p in PAGES if p.path == page)
    if role.split(":")[0] not in spec.roles:
        pytest.skip(f"{role} may not open {page}")  # test_data_view.py checks the refusal
    at = run_page(page, role, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = ZH if lang == "zh" else EN
    spec = next(p for p in PAGES if p.path == page)
    assert at.title[0].value == table[spec.title_key]


def expected_headline(wh, where_sql, params):
    """Clients and AUM of the latest month, counted independently from holdings_monthly."""
    return wh.query(
        f"""
        SELECT COUNT(DISTINCT h.client_id) AS clients,
               SUM(COALESCE(h.avg_balance, h.balance))::DOUBLE AS aum
        FROM holdings_monthly h JOIN clients c USING (client_id)
        WHERE h.month_end = (SELECT MAX(month_end) FROM holdings_monthly) AND {where_sql}
        """,
        params,
    ).iloc[0]


def test_overview_numbers_follow_scope(demo_db_path):
    """For a sample of RMs and for each branch manager the overview's headline equals an
    independent SQL count over holdings, and a manager sees exactly their branch."""
    wh = store.open_warehouse(demo_db_path)
    rms = wh.query("SELECT rm_id, branch_id FROM rms ORDER BY rm_id")
    sample = rms.iloc[:: max(1, len(rms) // 5)]
    for rm_id, branch_id in zip(sample["rm_id"], sample["branch_id"], strict=True):
        head = headline(tier_summary(wh, Scope("rm", (branch_id,), rm_id=rm_id)))
        want = expected_headline(wh, "c.rm_id = ?", [rm_id])
        assert head.clients == want["clients"] > 0
        assert head.aum == pytest.approx(want["aum"], rel=1e-9)
    total = 0
    for branch_id in wh.query("SELECT branch_id FROM branches")["branch_id"]:
        head = headline(tier_summary(wh, Scope("manager", (branch_id,))))
        want = expected_headline(wh, "c.branch_id = ?", [branch_id])
        assert head.clients == want["clients"] and head.aum == pytest.approx(want["aum"])
        total += head.clients
    everyone = headline(tier_summary(wh, Scope("head_office")))
    assert everyone.clients == total  # the branches partition the bank


def test_overview_page_shows_the_rms_count(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    want = expected_headline(wh, "c.rm_id = ?", ["R0001"])
    at = run_page(PAGES[0].path, "rm:R0001", "en")
    assert at.metric[0].value == f"{int(want['clients']):,}"


def test_language_switch_changes_labels(app_data):
    at = run_page(PAGES[0].path, "trainer", "zh")
    assert at.title[0].value == ZH["overview.title"]
    at.sidebar.segmented_control[0].set_value("en").run()
    assert at.title[0].value == EN["overview.title"]
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


def test_role_switcher_changes_scope(app_data):
    at = run_page(PAGES[0].path, "head_office", "en")
    everyone = at.metric[0].value
    at.sidebar.selectbox[0].set_value("rm:R0001").run()
    assert not at.exception
    assert at.metric[0].value != everyone


def own_and_other_client(path):
    """One client of R0001 and one client of another RM of the same branch."""
    wh = store.open_warehouse(path)
    mine = wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = 'R0001'")
    other = wh.scalar(
        "SELECT MIN(client_id) FROM clients WHERE rm_id <> 'R0001' AND branch_id = "
        "(SELECT branch_id FROM rms WHERE rm_id = 'R0001')"
    )
    return mine, other


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_client_view_renders_with_a_client(app_data, demo_db_path, role, lang):
    mine, _ = own_and_other_client(demo_db_path)
    at = run_page("pages/client.py", role, lang, client=mine)
    assert not at.exception, [e.value for e in at.exception]
    table = ZH if lang == "zh" else EN
    if role in ("rm:R0001", "trainer", "head_office", "manager"):
        assert not at.error
        assert any(mine in m.value for m in at.markdown)
    else:  # another branch's manager or another RM: refused
        assert at.error[0].value == table["client.refused"]


def test_rm_opening_another_rms_client_sees_only_the_refusal(app_data, demo_db_path):
    _, other = own_and_other_client(demo_db_path)
    wh = store.open_warehouse(demo_db_path)
    name = wh.scalar("SELECT name_zh FROM clients WHERE client_id = ?", [other])
    at = run_page("pages/client.py", "rm:R0001", "zh", client=other)
    assert [e.value for e in at.error] == [ZH["client.refused"]]
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert other not in shown and name not in shown and mask_name(name) not in shown
    assert not at.dataframe and not at.metric


def test_unknown_client_gets_the_same_refusal(app_data):
    at = run_page("pages/client.py", "head_office", "en", client="C99999999")
    assert [e.value for e in at.error] == [EN["client.refused"]]


def test_segmentation_lists_the_picked_segment(app_data):
    at = run_page("pages/segmentation.py", "manager", "en")
    assert not at.exception
    at.selectbox(key="seg_pick").set_value("value_tier:BZ").run()
    assert not at.exception
    assert at.subheader[-1].value == EN["seg.list_title"].format(what=EN["vt.BZ"])
    listed = at.dataframe[-1].value
    assert len(listed) > 0 and set(listed[EN["client.value_tier"]]) == {EN["vt.BZ"]}


def test_threshold_view_lists_clients_under_a_line(app_data):
    at = run_page("pages/threshold.py", "manager", "zh")
    assert not at.exception
    listed = at.dataframe[0].value
    assert len(listed) > 0
    gaps_positive = listed[ZH["col.gap"]].str.len() > 0
    assert gaps_positive.all()


def test_only_the_own_rm_may_unmask_and_it_is_audited(app_data, demo_db_path):
    mine, _ = own_and_other_client(demo_db_path)
    wh = store.open_warehouse(demo_db_path)
    name = wh.scalar("SELECT name_zh FROM clients WHERE client_id = ?", [mine])
    log = store.AuditLog(app_data.parent.parent / "audit.jsonl")

    manager = run_page("pages/client.py", "manager", "zh", client=mine)
    assert not manager.toggle  # a manager sees the client masked, with no way to unmask
    masked = md(mask_name(name))  # as written into Markdown
    assert masked in manager.markdown[0].value and name not in manager.markdown[0].value

    rm = run_page("pages/client.py", "rm:R0001", "zh", client=mine)
    assert masked in rm.markdown[0].value
    rm.toggle[0].set_value(True).run()
    assert name in rm.markdown[0].value
    events = log.read()
    mine_events = events[events["client_ids"].map(lambda ids: mine in ids)]
    assert {"view", "unmask"} <= set(mine_events["action"])
    assert "demo:rm:R0001" in set(mine_events.loc[mine_events["action"] == "unmask", "viewer"])


def test_client_lists_filter_by_tags(app_data, demo_db_path):
    from analytics import tags

    wh = store.open_warehouse(demo_db_path)
    flags = tags.client_tags(wh, Scope("manager", ("B001",))).set_index("client_id")
    at = run_page("pages/segmentation.py", "manager", "en")
    at.session_state["seg_tab"] = EN["seg.tab_aum"]  # the list follows the open tab
    at.run()
    at.selectbox(key="seg_pick").set_value("aum_tier:mass").run()
    at.multiselect(key="seg_list_tags").set_value(["retired", "digital_silent"]).run()
    listed = at.dataframe[-1].value[EN["col.client_id"]]
    assert len(listed) > 0
    assert flags.loc[list(listed), ["retired", "digital_silent"]].all(axis=None)
    at.radio(key="seg_list_tags_mode").set_value("any").run()
    listed_any = at.dataframe[-1].value[EN["col.client_id"]]
    assert flags.loc[list(listed_any), ["retired", "digital_silent"]].any(axis=1).all()


def test_accepting_an_assignment_persists_across_a_restart(app_data, demo_db_path):
    import streamlit as st

    from analytics import adoption

    at = run_page("pages/high_end.py", "manager", "en")
    assert not at.exception
    proposed = set(adoption.propose_assignment(
        store.open_warehouse(demo_db_path), None, Scope("manager", ("B001",))
    )["client_id"])  # fmt: skip
    assert proposed, "the demo should have high-end clients without an RM"
    at.button(key="he_accept").click().run()
    assert not at.exception
    assert at.success[-1].value.startswith(f"{len(proposed)} accepted on ")
    # a restart: every cached connection is dropped, the workspace file is opened anew
    st.cache_resource.clear()
    st.cache_data.clear()
    again = run_page("pages/high_end.py", "manager", "en")
    assert any(s.value.endswith("; nothing left to propose.") for s in again.success)
    client = sorted(proposed)[0]
    ws = store.open_workspace(app_data.parent.parent / "workspace.duckdb")
    new_rm = adoption.assigned_rm(ws, client)
    ws.close()
    st.cache_resource.clear()
    view = run_page("pages/client.py", "manager", "en", client=client)
    rm_name = store.open_warehouse(demo_db_path).scalar(
        "SELECT name_en FROM rms WHERE rm_id = ?", [new_rm]
    )
    assert any(f"RM: {rm_name}" in m.value for m in view.markdown)


def test_an_rm_sees_only_their_own_cohort_members(app_data, demo_db_path):
    at = run_page("pages/seniors.py", "rm:R0001", "en")
    assert not at.exception
    wh = store.open_warehouse(demo_db_path)
    own = set(wh.query("SELECT client_id FROM clients WHERE rm_id = 'R0001'")["client_id"])
    for frame in at.dataframe:
        value = frame.value
        if EN["col.client_id"] in value:
            assert set(value[EN["col.client_id"]]) <= own


def scores_shown(at, lang="en"):
    table = ZH if lang == "zh" else EN
    frame = next(d.value for d in at.dataframe if table["al.now"] in d.value)
    return list(frame[table["al.now"]])


def edit(at, key, rows):
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def test_allocation_for_a_client_a_blank_and_the_example_household(app_data, demo_db_path):
    mine, _ = own_and_other_client(demo_db_path)
    for lang in ("zh", "en"):
        table = ZH if lang == "zh" else EN
        client = run_page("pages/allocation.py", "rm:R0001", lang, client=mine)
        assert not client.exception and not client.error
        assert scores_shown(client, lang)[0] != "—"
        example = run_page("pages/allocation.py", "manager", lang)
        assert not example.exception
        assert any(table["al.moves"] == h.value for h in example.subheader)
        example.segmented_control(key="al_source").set_value("blank").run()
        assert not example.exception
        assert any(table["find.empty_portfolio"] in m.value for m in example.markdown)


def test_an_edit_changes_the_scores_and_bad_amounts_are_refused(app_data):
    at = run_page("pages/allocation.py", "manager", "en")
    before = scores_shown(at)
    edit(at, "al_editor_example", {1: {"amount": 50_000}})  # the big time deposit shrinks
    assert not at.exception
    after = scores_shown(at)
    assert after != before
    edit(at, "al_editor_example", {1: {"amount": -5}})
    assert any("Row 2" in e.value and EN["al.why.amount_negative"] in e.value for e in at.error)
    assert scores_shown(at) == before  # the refused edit changed nothing


def test_client_view_links_to_the_check_with_the_finding_count(app_data, demo_db_path):
    mine, _ = own_and_other_client(demo_db_path)
    at = run_page("pages/client.py", "rm:R0001", "en", client=mine)
    links = [p for p in at.get("page_link")]
    assert any(EN["al.open_check"] in p.proto.label for p in links)


# ---------------------------------------------------------------------------- contact plan (issue 6)


def _metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def test_rm_accepts_plan_marks_contact_done_and_coverage_rises(app_data):
    """An RM accepts today's plan, marks an overdue client's call done; their coverage goes up by
    one client and their manager sees the completion in the team table."""
    at = run_page("pages/contact_plan.py", "rm:R0002", "en")
    assert not at.exception
    before = _metric(at, EN["plan.coverage_all"]).value
    at.button(key="plan_accept").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "plan_accept" not in [b.key for b in at.button]  # today is accepted
    pick = at.selectbox(key="plan_call_pick")
    overdue = next(
        i for i, label in enumerate(pick.options) if EN["reason.cadence_overdue"] in label
    )
    pick.select_index(overdue).run()
    at.radio(key="plan_call_outcome").set_value("visit_booked")
    at.text_input(key="plan_call_note").input("booked for Friday")
    at.button(key="plan_call_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after = _metric(at, EN["plan.coverage_all"])
    clients = int(after.delta.split(" of ")[1].split()[0].replace(",", ""))
    covered = lambda v: round(float(v.rstrip("%")) / 100 * clients)  # noqa: E731
    assert covered(after.value) == covered(before) + 1
    assert any(m.value == "1 / 20" for m in at.metric)  # calls: 1 of 20 done
    at.button(key="plan_export").click().run()  # the plan and the week's .ics are offered
    assert not at.exception, [e.value for e in at.exception]
    mgr = run_page("pages/contact_plan.py", "manager", "en")
    team = mgr.dataframe[-1].value
    row = team[team[EN["plan.done"]] > 0]
    assert len(row) == 1 and row[EN["plan.done"]].item() == 1


def test_rm_cannot_log_for_another_rms_client(app_data, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    other = wh.scalar("SELECT client_id FROM clients WHERE rm_id = 'R0003' ORDER BY client_id")
    own = wh.scalar("SELECT client_id FROM clients WHERE rm_id = 'R0002' ORDER BY client_id")
    at = run_page("pages/client.py", "rm:R0002", "en", client=other)
    assert at.error and at.error[0].value == EN["client.refused"]
    assert not [b for b in at.button if b.label == EN["client.log_button"]]
    at = run_page("pages/client.py", "manager", "en", client=other)
    assert EN["client.log_rm_only"] in [c.value for c in at.caption]
    at = run_page("pages/client.py", "rm:R0002", "en", client=own)
    save = next(b for b in at.button if b.label == EN["client.log_button"])
    at.text_input(key="client_log_note").input("called about the CD")
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    history = next(d.value for d in at.dataframe if EN["col.source"] in d.value.columns)
    mine = history[history[EN["col.source"]] == EN["source.branchlens"]]
    assert mine[EN["col.note"]].tolist() == ["called about the CD"]


# ---------------------------------------------------------------------------- corporate (issue 7)


def history_csv(rows: int = 600, bads: int | None = None, classes: int = 2, seed: int = 3) -> bytes:
    """A bank's own credit history as a raw CSV: numbers, text categories, an account number, a
    free-text remark and a text target ('bad' / 'good')."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    debt = rng.uniform(0, 1.2, rows)
    region = rng.choice(["华北", "华东", "华南", "西部"], rows)
    risk = 1 / (1 + np.exp(-(-3.2 + 3.5 * debt + (region == "西部") * 0.8)))
    bad = rng.random(rows) < risk
    if bads is not None:
        bad = np.zeros(rows, bool)
        bad[:bads] = True
    status = np.where(bad, "bad", "good").astype(object)
    if classes == 3:
        status[::7] = "watch"
    df = pd.DataFrame({
        "account_no": [f"6222{i:010d}" for i in range(rows)],
        "region": region,
        "debt_ratio": debt.round(3),
        "revenue_wan": rng.lognormal(6, 1, rows).round(1),
        "guaranteed": rng.choice(["yes", "no"], rows),
        "remark": [f"客户经理走访记录第{i}号：经营正常，按时付息，无异常情况说明。" for i in range(rows)],
        "status": status,
    })  # fmt: skip
    return df.to_csv(index=False).encode("utf-8-sig")


def upload(at: AppTest, name: str, data: bytes, target: str | None = None, bad=None) -> AppTest:
    at.radio(key="credit_source").set_value("upload").run()
    at.file_uploader(key="credit_file").set_value((name, data, "text/csv")).run()
    if target is not None:
        at.selectbox(key="credit_target").set_value(target).run()
    if bad is not None:
        at.selectbox(key="credit_bad").set_value(bad).run()
    return at


def _workspace_rows() -> tuple[int, int]:
    ws = store.open_workspace()
    try:
        return ws.scalar("SELECT COUNT(*) FROM grade_overrides"), ws.scalar(
            "SELECT COUNT(*) FROM contact_logs"
        )
    finally:
        ws.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_credit_tab_trains_on_an_uploaded_history(app_data, role, lang):
    table = ZH if lang == "zh" else EN
    at = upload(run_page("pages/corporate.py", role, lang), "history.csv", history_csv(),
                "status", "bad")  # fmt: skip
    assert not at.exception and not at.error, [e.value for e in at.error]
    auc = next(m for m in at.metric if m.label == table["credit.auc"])
    assert float(auc.value) > 0.7
    # the account number is named as a row identifier, the free-text remark as unusable
    assert [c.value for c in at.caption if "account_no" in c.value]
    unusable = [i.value for i in at.info if "remark" in i.value]
    assert unusable and "account_no" not in unusable[0]  # named and left out
    assert [m for m in at.metric if m.label == table["credit.final_grade"]]


def test_bad_uploads_say_why_and_change_nothing(app_data):
    at = run_page("pages/corporate.py", "head_office", "en")
    demo_auc = next(m for m in at.metric if m.label == EN["credit.auc"]).value
    before = _workspace_rows()
    cases = [
        (("x.xlsx", b"\x00\x01 not a workbook"), {}, EN["credit.upload_error.unreadable"]),
        (("h.csv", history_csv(classes=3)), {"target": "status", "bad": "bad"},
         "must have exactly two values"),
        (("h.csv", history_csv(bads=10)), {"target": "status", "bad": "bad"}, "Too few bad cases"),
        (("h.csv", b"a,b\n1.5,2.5\n2.5,3.5\n3.5,1.25\n"), {}, EN["credit.error.no_target_column"]),
    ]  # fmt: skip
    for (name, data), choice, message in cases:
        at = upload(run_page("pages/corporate.py", "head_office", "en"), name, data, **choice)
        assert not at.exception, [e.value for e in at.exception]
        assert any(message in e.value for e in at.error), (name, [e.value for e in at.error])
        assert not [m for m in at.metric if m.label == EN["credit.auc"]]
    assert _workspace_rows() == before
    at = run_page("pages/corporate.py", "head_office", "en")  # the demo card is as it was
    assert next(m for m in at.metric if m.label == EN["credit.auc"]).value == demo_auc


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clv_tab_says_which_models_were_used(app_data, demo_db_path, lang):
    """Issue 13 point 4: under the value matrix, one note per branch in view, by the branch's name,
    saying which value model was used with the fit's q."""
    from analytics import corporate

    table = ZH if lang == "zh" else EN
    wh = store.open_warehouse(demo_db_path)
    name = wh.query("SELECT name_zh, name_en FROM branches WHERE branch_id = 'B002'").iloc[0]
    model = corporate.corporate_clv(wh, Scope("manager", ("B002",))).attrs["models"]["B002"]
    at = run_page("pages/corporate.py", "manager:B002", lang)
    assert not at.exception, [e.value for e in at.exception]
    shown = [c.value for c in at.caption if "BG/NBD" in c.value and "q = " in c.value]
    value = table[f"corp.value_model.{model['value_model']}"].format(
        q=f"{model['gamma_gamma']['q']:.2f}"
    )
    assert len(shown) == 1 and shown[0].startswith(name[f"name_{lang}"]), shown
    assert shown[0].endswith(value)


def test_grade_adjustments_recorded_from_the_view(app_data):
    at = run_page("pages/corporate.py", "manager", "en")
    before = _workspace_rows()[0]
    at.button(key="credit_record").click().run()
    assert not at.exception
    recorded = _workspace_rows()[0] - before
    assert recorded > 0 and any(str(recorded) in s.value for s in at.success)
    rm = run_page("pages/corporate.py", "rm:R0001", "en")
    assert "credit_record" not in [b.key for b in rm.button]
    assert EN["credit.deciders_only"] in [c.value for c in rm.caption]


def test_recording_an_invitation_logs_it_and_fills_the_funnel(app_data):
    """An RM records an invitation from the fund check-up list: it is logged in the workspace with
    the campaign as its reason, leaves the list (contacted lately) and the funnel counts it."""
    at = run_page("pages/invitations.py", "rm:R0003", "en")
    assert not at.exception
    before = _workspace_rows()[1]
    who = at.selectbox(key="inv_fund_diagnosis_who").value
    empty_funnels = sum(i.value == EN["inv.funnel_empty"] for i in at.info)
    at.selectbox(key="inv_fund_diagnosis_outcome").set_value("visit_booked")
    at.text_input(key="inv_fund_diagnosis_note").input("invited to Thursday's fund check-up")
    at.button(key="inv_fund_diagnosis_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _workspace_rows()[1] == before + 1
    logs = next(d.value for d in at.dataframe if EN["col.note"] in d.value.columns)
    assert logs[EN["col.client_id"]].tolist()[0] == who
    listed = at.selectbox(key="inv_fund_diagnosis_who").options
    assert not [o for o in listed if o.endswith(who)]  # contacted lately: off the list
    assert sum(i.value == EN["inv.funnel_empty"] for i in at.info) == empty_funnels - 1
    ws = store.open_workspace()
    try:
        reason = ws.scalar("SELECT reason FROM contact_logs ORDER BY log_id DESC LIMIT 1")
    finally:
        ws.close()
    assert reason == "invite_fund_diagnosis"
