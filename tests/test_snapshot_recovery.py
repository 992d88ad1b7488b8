"""A data folder that holds a bank's data never gets the demo: a missing or damaged current
snapshot is reported and the last good one offered (AppTest); the sidebar names the data source;
the templates and the data dictionary follow the import contract."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import logins
import pytest
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.access import Scope
from analytics.importer import contract, docs, pipeline

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SAMPLES = ROOT / "data" / "samples"
HO = Scope("head_office", viewer_id="test:ho")


@pytest.fixture
def bank_folder(tmp_path, monkeypatch):
    """A data folder with two imported snapshots (September, then October), the app pointed at it."""
    for as_of in (date(2026, 9, 30), date(2026, 10, 31)):
        report = pipeline.load([pipeline.ImportFile(SAMPLES / "clients-bom-slash.csv", "clients")],
                               as_of=as_of, scope=HO, root=tmp_path)  # fmt: skip
        assert report.ok
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    monkeypatch.setattr("analytics.demo_data.build_snapshot",
                        lambda *a, **k: pytest.fail("the demo was built over a bank's data"))  # fmt: skip
    return tmp_path


def run(lang: str = "en") -> AppTest:
    """The app as a logged-in head office (a bank's data shows nothing without a login)."""
    at = AppTest.from_file(APP, default_timeout=120)
    logins.log_in(at, "head_office")
    at.query_params["lang"] = lang
    at.run()
    return at


def test_the_sidebar_says_it_is_the_banks_data(bank_folder):
    at = run("zh")
    assert not at.exception, [e.value for e in at.exception]
    assert any("银行数据" in c.value for c in at.sidebar.caption)


def test_a_damaged_current_snapshot_offers_the_last_good_one(bank_folder):
    september, october = store.snapshots(bank_folder)
    data = october.read_bytes()
    october.write_bytes(data[: len(data) // 2])  # a disk problem truncated it
    at = run()
    assert not at.exception, [e.value for e in at.exception]
    assert "missing or damaged" in at.error[0].value
    assert september.name in at.info[0].value
    assert not at.title  # no page, no client data
    assert f"rollback {september.name}" in at.code[0].value
    assert store.current_snapshot(bank_folder) == october  # nothing switched by itself


def test_a_missing_pointer_is_reported_not_replaced_by_the_demo(bank_folder):
    (store.warehouse_dir(bank_folder) / "CURRENT").unlink()
    at = run("zh")
    assert not at.exception, [e.value for e in at.exception]
    assert "不会自动生成演示数据" in at.error[0].value
    assert store.current_snapshot(bank_folder) is None  # nothing was built or switched
    assert len(store.snapshots(bank_folder)) == 2


def test_a_filled_template_imports(tmp_path):
    """The blank roster template, filled in, imports as it is."""
    text = docs.template_csv("clients").decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    spec = contract.TABLES["clients"]
    assert header[: len(spec.required)] == [spec.column(c).zh for c in spec.required]
    row = {spec.column("client_id").zh: "K1", spec.column("branch_id").zh: "B001",
           spec.column("aum").zh: "120000", spec.column("gender").zh: "女"}  # fmt: skip
    path = tmp_path / "filled.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerow(row)
    report = pipeline.load([pipeline.ImportFile(path, "clients")], as_of=date(2026, 10, 31),
                           scope=HO, root=tmp_path / "d")  # fmt: skip
    assert report.ok, report.problems
    assert report.files[0].unmapped == []  # every template header is known


def test_the_data_dictionary_is_the_contract():
    """docs/data-dictionary.md is generated; a change to the contract must regenerate it
    (python -m analytics.importer dictionary --out docs/data-dictionary.md)."""
    assert (ROOT / "docs" / "data-dictionary.md").read_text(
        encoding="utf-8"
    ) == docs.data_dictionary()


def test_every_template_opens(tmp_path):
    paths = docs.write_templates(tmp_path)
    assert len(paths) == 2 * len(contract.TABLES)
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "holdings_monthly.xlsx")
    headers = [c.value for c in wb.active[1]]
    assert headers[:3] == ["客户号", "产品代码", "余额"]
    assert os.path.getsize(tmp_path / "clients.csv") > 0
