"""The data view (数据管理) in AppTest: upload, check, import and see the new snapshot current; roll
back; who may import."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import logins
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.access import AccessDenied, Scope
from analytics.importer import pipeline
from ui.i18n import EN

APP = str(Path(__file__).resolve().parent.parent / "app.py")

ROSTER = (
    "客户号,客户姓名,所属机构,管户客户经理,月日均资产(万元)\n"
    "K0000001,张三,B001,R0001,12.5\n"
    "K0000002,李四,B001,R0001,60\n"
    "K0000003,王五,B001,,0.5\n"
).encode("gb18030")
BAD = "客户号,所属机构,月日均资产\nK1,B001,abc\n".encode()


@pytest.fixture
def data_folder(demo_db_path, tmp_path):
    """A data folder whose current snapshot is the small demo (the app reads BRANCHLENS_DATA)."""
    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    demo = store.publish_snapshot(copy, "demo", tmp_path)
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(tmp_path)
    yield tmp_path, demo
    st.cache_resource.clear()  # the workspace connection belongs to this folder
    if old is None:
        os.environ.pop("BRANCHLENS_DATA", None)
    else:
        os.environ["BRANCHLENS_DATA"] = old


def open_data_view(role: str, lang: str = "en", login: bool = True) -> AppTest:
    """The data view as ``role``: logged in with a local account (a manager of B001), or with
    ``login=False`` in demo mode through ``as=``."""
    at = AppTest.from_file(APP, default_timeout=120)
    if login:
        logins.log_in(at, role, branch_id="B001" if role == "manager" else None)
    else:
        at.query_params["as"] = role
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    return at


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_import_through_the_view_then_roll_back(data_folder):
    root, demo = data_folder
    at = open_data_view("head_office")
    assert not at.exception, [e.value for e in at.exception]
    at.file_uploader(key="imp_files").set_value(("roster.csv", ROSTER, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "gb18030" in " ".join(c.value for c in at.caption)  # the detected encoding is shown
    button(at, "imp_import").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    current = store.current_snapshot(root)
    assert current != demo and current.name.endswith("-import.duckdb")
    wh = store.open_warehouse(current)
    assert wh.scalar("SELECT SUM(aum) FROM client_aum_monthly") == 125_000 + 600_000 + 5_000
    wh.close()
    log = store.AuditLog().read()
    imports = log[log["action"] == "import"]
    assert len(imports) == 1 and current.name in imports["detail"].iloc[0]
    assert imports["viewer"].iloc[0] == "head_office.all@test.bank"

    # the snapshot list shows both; rolling back makes the demo current again
    at = open_data_view("head_office")
    shown = at.dataframe[0].value
    assert len(shown) == 2 and current.name in shown.iloc[:, -1].tolist()
    at.selectbox(key="snap_pick").set_value(demo.name)
    button(at, "snap_make_current").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.current_snapshot(root) == demo
    assert (store.AuditLog().read()["action"] == "rollback").sum() == 1


def test_a_rejected_file_changes_nothing_and_says_why(data_folder):
    root, demo = data_folder
    at = open_data_view("manager", "zh")
    at.file_uploader(key="imp_files").set_value(("bad.csv", BAD, "text/csv"))
    at.run()
    button(at, "imp_import").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.current_snapshot(root) == demo
    assert any("未导入" in e.value for e in at.error)
    report = next(d.value for d in at.dataframe if "行号" in d.value.columns)
    assert report.iloc[0].tolist()[:4] == ["bad.csv", 2, "月日均资产", "不是数字"]


def test_an_rm_cannot_open_the_import(data_folder):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["as"] = "rm:R0001"
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/data.py")  # not in an RM's navigation
    # and the importer itself refuses an RM, whatever page calls it
    with pytest.raises(AccessDenied):
        pipeline.check([], as_of=date(2026, 10, 31), scope=Scope("rm", ("B001",), "R0001"))


def test_demo_mode_checks_files_but_never_imports(data_folder):
    """Demo mode (no login, anybody is anybody): head office may check a file, not import it."""
    root, demo = data_folder
    at = open_data_view("head_office", login=False)
    assert at.info[0].value == EN["imp.demo_no_import"]
    at.file_uploader(key="imp_files").set_value(("roster.csv", ROSTER, "text/csv"))
    at.run()
    assert button(at, "imp_import").disabled and button(at, "imp_save").disabled
    button(at, "imp_check").click()
    at.run()
    assert any("passed" in s.value for s in at.success)
    assert store.current_snapshot(root) == demo
    assert "snap_make_current" not in [b.key for b in at.button]
    with pytest.raises(AccessDenied):
        pipeline.load([], as_of=date(2026, 10, 31),
                      scope=Scope("head_office", ("B001",), viewer_id="demo:head_office"))  # fmt: skip


def test_a_trainer_checks_but_cannot_import(data_folder):
    root, demo = data_folder
    at = open_data_view("trainer", login=False)
    at.file_uploader(key="imp_files").set_value(("roster.csv", ROSTER, "text/csv"))
    at.run()
    assert button(at, "imp_import").disabled
    button(at, "imp_check").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("passed" in s.value for s in at.success)
    assert store.current_snapshot(root) == demo


def test_a_trainer_demos_a_faulty_sample(data_folder):
    root, demo = data_folder
    at = open_data_view("trainer", "zh", login=False)
    at.multiselect(key="imp_samples").set_value(["clients-bad-rows.csv"])
    at.run()
    button(at, "imp_check").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    report = next(d.value for d in at.dataframe if "行号" in d.value.columns)
    assert sorted(report["行号"].tolist()) == [3, 4, 5, 6, 7, 8, 9, 32]
    assert "身份证号校验位不符" in report["原因"].tolist()
    assert store.current_snapshot(root) == demo
