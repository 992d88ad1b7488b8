"""The importer on the sample files of data/samples (real bank shapes and typical faults): clean
variants import to the same contents, every faulty file is rejected with its reasons and changes
nothing, credentials never land anywhere, month after month, who may import what."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import snapshot, store
from analytics.access import AccessDenied, Scope
from analytics.importer import pipeline

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
HO = Scope("head_office", viewer_id="test:ho")
OCT, NOV = date(2026, 10, 31), date(2026, 11, 30)


def f(name: str, table: str = "clients") -> pipeline.ImportFile:
    return pipeline.ImportFile(SAMPLES / name, table)


def load(
    root: Path, *files: pipeline.ImportFile, as_of=OCT, scope=HO, **kw
) -> pipeline.ImportReport:
    return pipeline.load(list(files), as_of=as_of, scope=scope, root=root, **kw)


def table(root: Path, sql: str) -> pd.DataFrame:
    wh = store.open_warehouse(store.current_snapshot(root))
    try:
        return wh.query(sql)
    finally:
        wh.close()


def state(root: Path) -> tuple[str, str]:
    """What 'nothing changed' means: the pointer's text and the current file's checksum."""
    current = store.current_snapshot(root)
    pointer = (store.warehouse_dir(root) / "CURRENT").read_text(encoding="utf-8")
    return pointer, hashlib.sha256(current.read_bytes()).hexdigest()


CLIENT_COLUMNS = (
    "client_id, branch_id, rm_id, name_zh, gender, birth_date, id_number, phone, risk_level, "
    "risk_assessed_on, open_date"
)


@pytest.mark.parametrize("other", ["clients-title.xlsx", "clients-bom-slash.csv"])
def test_clean_variants_import_to_identical_contents(tmp_path, other):
    """A GBK CSV in 万元 with a title and a 合计 row, an XLSX with a title and a merged two-row
    header, and a UTF-8-BOM CSV with other header spellings and slash dates: same tables."""
    a, b = tmp_path / "a", tmp_path / "b"
    ra = load(a, f("clients-gbk-wan.csv"))
    rb = load(b, f(other))
    assert ra.ok and rb.ok, (ra.problems, rb.problems)
    assert ra.files[0].encoding == "gb18030" and ra.files[0].header_row == 3
    assert [d[1] for d in ra.files[0].dropped].count("total") == 1
    for sql in (
        f"SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id",
        "SELECT month_end, client_id, branch_id, rm_id, aum, aum_month_end "
        "FROM client_aum_monthly ORDER BY client_id",
        "SELECT * FROM rms ORDER BY rm_id",
        "SELECT * FROM branches",
    ):
        pd.testing.assert_frame_equal(table(a, sql), table(b, sql))
    clients = table(a, "SELECT count(*) AS n, SUM(aum) AS aum FROM client_aum_monthly")
    with open(SAMPLES / "clients-bom-slash.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert clients["n"].iloc[0] == len(rows) == 30
    assert clients["aum"].iloc[0] == pytest.approx(
        sum(float(r["日均AUM"]) for r in rows), abs=0.005
    )


def test_roster_alone_makes_a_snapshot(tmp_path):
    report = load(tmp_path, f("clients-bom-slash.csv"))
    assert report.ok
    wh = store.open_warehouse(store.current_snapshot(tmp_path))
    assert snapshot.imported_tables(wh) == {"branches", "rms", "clients", "client_aum_monthly"}
    assert snapshot.meta(wh)["source"] == "import"
    assert wh.scalar("SELECT count(*) FROM holdings_monthly") == 0
    # RMs named in the roster exist by their id, the branch by its id
    assert wh.query("SELECT rm_id, name_zh FROM rms ORDER BY 1").values.tolist() == [
        ["R0001", "R0001"], ["R0002", "R0002"], ["R0003", "R0003"],
    ]  # fmt: skip
    wh.close()


BAD = {
    "clients-id-as-number.xlsx": {"id_as_number"},
    "clients-sci-notation.csv": {"id_as_number"},
    "clients-bad-rows.csv": {
        "id_check_digit", "phone_format", "after_as_of", "negative", "duplicate_key",
        "required", "date_format",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_a_faulty_file_is_rejected_and_changes_nothing(tmp_path, name):
    assert load(tmp_path, f("clients-gbk-wan.csv")).ok
    before = state(tmp_path)
    report = load(tmp_path, f(name), as_of=NOV)
    assert not report.ok and set(report.problems["reason"]) == BAD[name]
    assert state(tmp_path) == before
    assert len(store.snapshots(tmp_path)) == 1


def test_bad_rows_are_reported_where_excel_shows_them(tmp_path):
    report = pipeline.check([f("clients-bad-rows.csv")], as_of=OCT, scope=HO, root=tmp_path)
    got = {(r["row"], r["column"], r["reason"]) for r in report.problems.to_dict("records")}
    assert got == {
        (3, "证件号码", "id_check_digit"), (4, "手机号", "phone_format"),
        (5, "出生日期", "after_as_of"), (6, "月日均资产", "negative"),
        (7, "客户号", "duplicate_key"), (32, "客户号", "duplicate_key"),
        (8, "客户号", "required"), (9, "开户日期", "date_format"),
    }  # fmt: skip
    shown = report.problems.set_index("reason")["value"]
    assert shown["id_check_digit"] == "510107********6030"  # personal data masked
    assert shown["phone_format"] == "******1727"


def test_ids_that_excel_made_numbers_are_rejected_not_repaired(tmp_path):
    report = pipeline.check([f("clients-id-as-number.xlsx")], as_of=OCT, scope=HO, root=tmp_path)
    bad = report.problems[report.problems["reason"] == "id_as_number"]
    with open(SAMPLES / "clients-bom-slash.csv", encoding="utf-8-sig") as fh:
        numeric = [r for r in csv.DictReader(fh) if not r["身份证号"].endswith("X")]
    assert len(bad) == len(numeric)  # every ID without a trailing X (those stay text in Excel)
    assert set(bad["column"]) == {"证件号码"}


def test_a_credentials_column_is_refused_and_never_stored(tmp_path):
    assert load(tmp_path, f("clients-gbk-wan.csv")).ok
    before = state(tmp_path)
    report = load(tmp_path, f("clients-with-password.csv"), as_of=NOV)
    assert not report.ok
    assert report.files[0].refused == "credentials_column"
    assert list(report.problems["reason"]) == ["credentials_column"]
    assert report.problems["value"].isna().all()
    assert state(tmp_path) == before
    with open(SAMPLES / "clients-with-password.csv", encoding="utf-8-sig") as fh:
        secrets = [r["交易密码"].encode() for r in csv.DictReader(fh)]
    store.AuditLog(tmp_path / "audit.jsonl").record(store.AuditEvent("t", "import", (), "x"))
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert "交易密码".encode() not in stored
    assert [s for s in secrets if s in stored] == []


def test_holdings_of_unknown_clients_are_rejected(tmp_path):
    report = load(tmp_path, f("clients-gbk-wan.csv"), f("products.csv", "products"),
                  f("holdings-orphan.csv", "holdings_monthly"))  # fmt: skip
    assert not report.ok
    orphan = report.problems[report.problems["reason"] == "unknown_client"]
    assert orphan[["file", "column", "value"]].values.tolist() == [
        ["holdings-orphan.csv", "客户号", "C00000999"]
    ]
    assert store.current_snapshot(tmp_path) is None


def test_full_file_set_and_the_next_month(tmp_path):
    files = [f("clients-gbk-wan.csv"), f("rms.csv", "rms"), f("products.csv", "products"),
             f("holdings.csv", "holdings_monthly"), f("transactions.csv", "transactions")]  # fmt: skip
    first = load(tmp_path, *files)
    assert first.ok, first.problems
    with open(SAMPLES / "holdings.csv", encoding="utf-8-sig") as fh:
        holdings = list(csv.DictReader(fh))
    got = table(tmp_path, "SELECT count(*) AS n, SUM(balance) AS b FROM holdings_monthly")
    assert got["n"].iloc[0] == len(holdings)
    assert float(got["b"].iloc[0]) == pytest.approx(
        sum(float(h["余额"]) for h in holdings), abs=0.01
    )
    rm = table(tmp_path, "SELECT name_zh, title FROM rms WHERE rm_id = 'R0001'")
    assert rm.values.tolist() == [["王芳", "wealth"]]
    # roster AUM is stated, so it wins over the holdings' sum
    oct_aum = table(tmp_path, "SELECT SUM(aum) AS a FROM client_aum_monthly")["a"].iloc[0]

    nov = load(tmp_path, f("clients-2026-11.csv"), as_of=NOV)
    assert nov.ok, nov.problems
    months = table(
        tmp_path, "SELECT month_end, SUM(aum) AS a FROM client_aum_monthly GROUP BY 1 ORDER BY 1"
    )
    assert [d.date() for d in months["month_end"]] == [OCT, NOV]
    assert months["a"].iloc[0] == oct_aum
    with open(SAMPLES / "clients-2026-11.csv", encoding="utf-8-sig") as fh:
        nov_rows = list(csv.DictReader(fh))
    assert float(months["a"].iloc[1]) == pytest.approx(
        sum(float(r["月日均资产"]) for r in nov_rows), abs=0.01
    )
    # the history tables came along: holdings and transactions are still there
    assert table(tmp_path, "SELECT count(*) AS n FROM holdings_monthly")["n"].iloc[0] == len(
        holdings
    )
    wh = store.open_warehouse(store.current_snapshot(tmp_path))
    assert {"holdings_monthly", "transactions", "products"} <= snapshot.imported_tables(wh)
    assert snapshot.meta(wh)["as_of"] == NOV.isoformat()
    wh.close()

    # re-importing November replaces November (the AUM file's values, not twice)
    again = load(tmp_path, f("clients-2026-11.csv"), as_of=NOV)
    assert again.ok
    months2 = table(
        tmp_path, "SELECT month_end, SUM(aum) AS a FROM client_aum_monthly GROUP BY 1 ORDER BY 1"
    )
    pd.testing.assert_frame_equal(months, months2)


def test_a_manager_imports_their_own_branch_only(tmp_path):
    manager = Scope("manager", ("B002",), viewer_id="test:m2")
    report = pipeline.check([f("clients-bom-slash.csv")], as_of=OCT, scope=manager, root=tmp_path)
    assert set(report.problems["reason"]) == {"other_branch"} and len(report.problems) == 30
    with pytest.raises(AccessDenied):
        pipeline.check(
            [f("clients-bom-slash.csv")], as_of=OCT, scope=manager, branch="B001", root=tmp_path
        )
    own = Scope("manager", ("B001",), viewer_id="test:m1")
    assert load(tmp_path, f("clients-bom-slash.csv"), scope=own).ok
    for role in (Scope("rm", ("B001",), "R0001"), Scope("trainer", ("B001",))):
        with pytest.raises(AccessDenied):
            load(tmp_path, f("clients-bom-slash.csv"), scope=role)


def test_a_user_mapping_takes_an_unknown_header(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("客户号,网点,AUM_TOTAL（万）\nK1,B001,1.5\nK2,B001,2\n", encoding="utf-8")
    plain = pipeline.check(
        [pipeline.ImportFile(path, "clients")], as_of=OCT, scope=HO, root=tmp_path
    )
    assert set(plain.problems["reason"]) == {"column_missing"}
    mapping = pipeline.Mapping.from_frame(pd.DataFrame([
        {"table": "clients", "header": "AUM_TOTAL（万）", "column": "aum", "unit": "wan"},
    ]))  # fmt: skip
    report = load(tmp_path / "d", pipeline.ImportFile(path, "clients"), mapping=mapping)
    assert report.ok, report.problems
    got = table(tmp_path / "d", "SELECT client_id, aum FROM client_aum_monthly ORDER BY 1")
    assert got.values.tolist() == [["K1", 15000.0], ["K2", 20000.0]]


def test_derived_birth_date_and_gender_from_the_id(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(
        "客户号,所属机构,证件号码,月日均资产\nK1,B001,11010519491231002X,100\n", encoding="utf-8"
    )
    assert load(tmp_path, pipeline.ImportFile(path, "clients")).ok
    got = table(tmp_path, "SELECT birth_date, gender FROM clients")
    assert got["birth_date"].iloc[0].date() == date(1949, 12, 31) and got["gender"].iloc[0] == "F"


def test_the_published_snapshot_is_checked_like_any_other(tmp_path):
    assert load(tmp_path, f("clients-bom-slash.csv")).ok
    counts = store.verify_snapshot(store.current_snapshot(tmp_path))
    assert counts["clients"] == 30 and counts["client_aum_monthly"] == 30
    con = duckdb.connect(str(store.current_snapshot(tmp_path)), read_only=True)
    assert con.execute("SELECT count(*) FROM clients WHERE name_en IS NULL").fetchone()[0] == 0
    con.close()


def test_full_width_digits_and_report_marks_for_empty_cells(tmp_path):
    path = tmp_path / "fw.csv"
    path.write_text(
        "客户号,所属机构,月日均资产（万元）,开户日期,月收入\n"
        "Ｋ１,B001,１２．５,－,--\n"
        "K2,B001,(0.5),2020年1月5日,N/A\n"
        "K3,B001,−,2021/2/3,8,000\n",
        encoding="utf-8",
    )
    report = pipeline.check(
        [pipeline.ImportFile(path, "clients")], as_of=OCT, scope=HO, root=tmp_path
    )
    # K3's AUM is only a dash: the required value is missing; K2's (0.5)万 is negative
    got = {(r["row"], r["reason"]) for r in report.problems.to_dict("records")}
    assert got == {(4, "required"), (3, "negative"), (4, "extra_values")}  # 8,000 unquoted
    ok = tmp_path / "ok.csv"
    ok.write_text(
        "客户号,所属机构,月日均资产（万元）,开户日期\nＫ１,B001,１２．５,－\n", encoding="utf-8"
    )
    assert load(tmp_path / "d", pipeline.ImportFile(ok, "clients")).ok
    got = table(
        tmp_path / "d",
        "SELECT c.client_id, a.aum, c.open_date FROM clients c JOIN client_aum_monthly a USING (client_id)",
    )
    assert got["client_id"].tolist() == ["K1"] and got["aum"].tolist() == [125000.0]
    assert got["open_date"].isna().all()


def test_saved_mappings_are_used_next_time(tmp_path):
    from analytics.importer import mappings

    ws = store.open_workspace(tmp_path / "workspace.duckdb")
    mappings.save_mapping(
        ws, "clients", [("AUM_TOTAL（万）", "aum", "wan"), ("备注", "", None)], "test:ho"
    )
    saved = mappings.saved_mapping(ws)
    by_index, units, unmapped = pipeline.map_headers(
        "clients", ["客户号", "AUM_TOTAL(万)", "备注"], saved
    )
    assert by_index == {0: "client_id", 1: "aum"} and units["aum"] == "wan" and unmapped == ["备注"]
    ws.close()


def test_an_identical_repeated_row_is_a_note_and_kept_once(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text(
        "客户号,所属机构,月日均资产\nK1,B001,100\nK2,B001,200\nK1,B001,100\n", encoding="utf-8"
    )
    report = load(tmp_path, pipeline.ImportFile(path, "clients"))
    assert report.ok and report.warnings == 1
    assert report.problems[["row", "reason", "severity"]].values.tolist() == [
        [4, "duplicate_same", "warning"]
    ]
    assert table(tmp_path, "SELECT SUM(aum) AS a FROM client_aum_monthly")["a"].iloc[0] == 300


def test_more_values_than_headers_is_an_error_not_a_guess(tmp_path):
    path = tmp_path / "split.csv"
    path.write_text(
        '客户号,所属机构,月日均资产\nK1,B001,1,234.56\nK2,B001,"1,234.56"\n', encoding="utf-8"
    )
    report = pipeline.check(
        [pipeline.ImportFile(path, "clients")], as_of=OCT, scope=HO, root=tmp_path
    )
    assert report.problems[["row", "column", "reason", "value"]].values.tolist() == [
        [2, "月日均资产", "extra_values", "234.56"]
    ]


def test_an_aum_history_file_with_several_months(tmp_path):
    """The AUM-by-month file carries many months at once (how a bank loads its history)."""
    roster = tmp_path / "roster.csv"
    roster.write_text("客户号,所属机构,月日均资产\nK1,B001,300\nK2,B001,400\n", encoding="utf-8")
    history = tmp_path / "aum.csv"
    history.write_text(
        "数据日期,客户号,月日均资产\n2026-08-31,K1,100\n2026-09-30,K1,200\n2026-09-30,K2,250\n",
        encoding="utf-8",
    )
    report = load(tmp_path, pipeline.ImportFile(roster, "clients"),
                  pipeline.ImportFile(history, "client_aum_monthly"))  # fmt: skip
    assert report.ok, report.problems
    got = table(tmp_path, "SELECT month_end, client_id, aum FROM client_aum_monthly ORDER BY 1, 2")
    assert [(d.date().isoformat(), c, a) for d, c, a in got.values.tolist()] == [
        ("2026-08-31", "K1", 100.0), ("2026-09-30", "K1", 200.0), ("2026-09-30", "K2", 250.0),
        ("2026-10-31", "K1", 300.0), ("2026-10-31", "K2", 400.0),
    ]  # fmt: skip
