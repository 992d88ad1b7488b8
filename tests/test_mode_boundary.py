"""The demo-mode boundary (issue 12 point 2, DESIGN.md §5): the role switcher and ``as=`` exist
only on the demo snapshot with no login configured. A bank's data with no login shows no client
data on any page, whatever the URL says; a secrets file that does not parse stops the app."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from analytics import store
from ui.i18n import EN, ZH
from ui.shell import PAGES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def bank_folder(demo_db_path, tmp_path_factory):
    """The demo's data (full names, IDs, mobiles) published as a bank's import, no login."""
    root = tmp_path_factory.mktemp("bank-no-login")
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE meta SET value = 'import' WHERE key = 'source'")
    con.close()
    store.publish_snapshot(copy, "import", root)
    return root


def personal_values(demo_db_path, n: int = 300) -> list[str]:
    """Client ids, names, mobiles and ID numbers of the snapshot: none may appear anywhere."""
    wh = store.open_warehouse(demo_db_path)
    try:
        df = wh.query(
            "SELECT client_id, name_zh, name_en, phone, id_number FROM clients ORDER BY client_id "
            "LIMIT ?",
            [n],
        )
    finally:
        wh.close()
    return [str(v) for col in df.columns for v in df[col].dropna()]


def everything_shown(at: AppTest) -> str:
    parts = [str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.error, *at.title,
                                    *at.subheader, *at.header, *at.text, *at.code)]  # fmt: skip
    parts += [str(m.value) for m in at.metric]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize("as_", ["head_office", "rm:R0001", "trainer", "manager:B001"])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_bank_data_without_a_login_shows_no_client_data(bank_folder, demo_db_path, monkeypatch,
                                                        page, as_):  # fmt: skip
    monkeypatch.setenv("BRANCHLENS_DATA", str(bank_folder))
    at = AppTest.from_file(str(ROOT / page.path), default_timeout=90)  # the page's own URL
    at.query_params.update({"as": as_, "lang": "en", "client": "C00000001"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [EN["access.bank_data_needs_login"]]
    assert [i.value for i in at.info] == [EN["access.how_to_login"]]
    assert not at.dataframe and not at.metric and not at.title and not at.selectbox
    assert "as" not in at.query_params  # the URL no longer claims a role
    shown = everything_shown(at)
    leaked = [v for v in personal_values(demo_db_path) if v in shown]
    assert not leaked


def test_the_demo_itself_still_has_demo_mode(demo_db_path, tmp_path, monkeypatch):
    """The same app on the demo snapshot with no login: ``as=`` picks the viewer."""
    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", tmp_path)
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"as": "rm:R0001", "lang": "zh"})
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == ZH["page.overview"]
    assert at.sidebar.selectbox[0].label == ZH["sidebar.view_as"]
    assert at.query_params["as"] == "rm:R0001"


@pytest.mark.parametrize(
    ("text", "line"),
    [('[branchlens]\nlogin = "local\n', 2), ("[auth\nclient_id = 1\n", 1),
     ('login = "local"\n[auth]\nx = = 2\n', 3)],
)  # fmt: skip
def test_a_secrets_file_that_does_not_parse_stops_the_app(demo_db_path, tmp_path, monkeypatch,
                                                          text, line):  # fmt: skip
    """Streamlit alone would log a warning and run without secrets (demo mode); BranchLens stops
    and names the file and line, on the demo data too."""
    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", tmp_path / "data")
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path / "data"))
    broken = tmp_path / "secrets.toml"
    broken.write_text(text, encoding="utf-8")
    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(broken)])
    try:
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params.update({"as": "head_office", "lang": "en"})
        at.run()
    finally:
        config.set_option("secrets.files", old)
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        EN["access.secrets_broken"].format(file=str(broken), line=line)
    ]
    assert not at.title and not at.metric and not at.dataframe
    assert not at.sidebar.selectbox  # no role switcher: never demo mode
