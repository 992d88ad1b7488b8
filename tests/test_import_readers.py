"""The import readers (analytics/importer/readers.py) on the committed sample files and on small
files made here: known encodings, header rows, headers, row numbers, dropped rows and refusals."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from analytics.demo_data import id_check_char
from analytics.importer import contract, normalize, readers
from analytics.importer.normalize import NUMBER_MARK

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
ROSTER = ["客户号", "客户姓名", "性别", "出生日期", "证件类型", "证件号码", "手机号", "所属机构",
          "所属客户经理", "风险等级", "风评日期", "开户日期"]  # fmt: skip


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def tables(con) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    ]


def rows(con, table="raw", cols="_row, c0, c1") -> list[tuple]:
    return con.execute(f"SELECT {cols} FROM {table} ORDER BY _row").fetchall()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------------------ the samples


def test_gbk_roster_with_title_wan_total_and_note(con):
    s = readers.read(con, SAMPLES / "clients-gbk-wan.csv", "raw")
    assert (s.encoding, s.delimiter, s.sheet, s.header_row) == ("gb18030", ",", None, 3)
    assert s.source == "clients-gbk-wan.csv"
    assert s.headers == ROSTER + ["月日均资产(万元)", "时点资产(万元)"]
    assert [normalize.header_unit(h) for h in s.headers[-2:]] == ["wan", "wan"]
    assert s.rows == 30
    # Title on line 1, blank line 2, header line 3, clients on lines 4..33, 合计 34, 制表 35.
    assert s.dropped == [(34, "total"), (35, "note")]
    assert s.title.splitlines() == [
        "XX支行 客户清单 2026年10月",
        "制表：XX支行个人金融部  数据来源：CRM系统",
    ]
    got = rows(con, cols="_row, c0, c1, c3, c12")
    assert got[0] == (4, "C00000001", "黄军", "1975年9月14日", "4.576469")
    assert got[-1][:2] == (33, "C00000030")
    big = con.execute("SELECT c12 FROM raw WHERE c0 = 'C00000007'").fetchone()[0]
    assert "," in big  # thousands separators where the amount reaches 1,000万


def test_bom_roster_other_spellings_and_a_blank_line(con):
    s = readers.read(con, SAMPLES / "clients-bom-slash.csv", "raw")
    assert (s.encoding, s.header_row, s.title, s.rows) == ("utf-8-sig", 1, "", 30)
    assert s.headers[:2] == ["客户编号", "姓名"]  # the BOM is not part of the first header
    assert s.dropped == [(17, "blank")]  # the empty line after client 15 (line 16)
    got = dict((c0, r) for r, c0, _ in rows(con))
    lines = [got[c] for c in ("C00000001", "C00000015", "C00000016", "C00000030")]
    assert lines == [2, 16, 18, 32]
    index = contract.header_index()
    mapped = {
        h: {c for t, c in index[normalize.header_key(h)] if t == "clients"} for h in s.headers
    }
    assert mapped["日均AUM"] == {"aum"} and mapped["资产余额"] == {"aum_month_end"}
    assert mapped["管户经理"] == {"rm_id"} and mapped["建立关系日期"] == {"open_date"}


def test_title_xlsx_two_row_merged_header(con):
    s = readers.read(con, SAMPLES / "clients-title.xlsx", "raw")
    assert (s.encoding, s.delimiter, s.sheet) == (None, None, "客户清单")
    # Row 1 title, row 2 blank, row 3 group labels 客户信息 / 资产情况(元), row 4 the header.
    assert s.header_row == 4
    assert s.headers == ROSTER + ["月日均资产(元)", "时点资产(元)"]
    index = contract.header_index()
    assert ("clients", "aum") in index[normalize.header_key(s.headers[-2])]
    assert ("clients", "aum_month_end") in index[normalize.header_key(s.headers[-1])]
    assert normalize.header_unit(s.headers[-1]) == "yuan"
    assert s.title.splitlines() == [
        "XX支行 客户清单 2026年10月",
        "数据来源：CRM系统  制表：XX支行个人金融部",
    ]
    assert s.rows == 30 and s.dropped == [(35, "total"), (36, "note")]
    first = con.execute("SELECT * FROM raw WHERE _row = 5").fetchone()
    assert first[0] == "C00000001" and first[5] == "110101197509140997"  # a text cell stays text
    assert first[3] == "1975-09-14"  # a date cell as ISO text
    assert first[12] == NUMBER_MARK + "45764.69" and first[13] == NUMBER_MARK + "46435.19"
    assert first[14:] == (5, None)  # _row, _extra


def test_id_numbers_as_numeric_cells_are_marked(con):
    readers.read(con, SAMPLES / "clients-id-as-number.xlsx", "raw")
    ids = dict(con.execute("SELECT c0, c5 FROM raw").fetchall())
    # 110101197509140997 kept by Excel as 110101197509140000, shown with 15 significant digits.
    assert ids["C00000001"] == NUMBER_MARK + "1.1010119750914e+17"
    assert all(v.startswith(NUMBER_MARK) for v in ids.values() if not v.endswith("X"))


def test_the_three_clean_rosters_list_the_same_clients(con):
    readers.read(con, SAMPLES / "clients-gbk-wan.csv", "a")
    readers.read(con, SAMPLES / "clients-title.xlsx", "b")
    readers.read(con, SAMPLES / "clients-bom-slash.csv", "c")
    a = con.execute("SELECT c0, c1, c5, c6, c8 FROM a ORDER BY c0").fetchall()
    b = con.execute("SELECT c0, c1, c5, c6, c8 FROM b ORDER BY c0").fetchall()
    c = con.execute("SELECT c0, c1, c4, c5, c7 FROM c ORDER BY c0").fetchall()
    assert a == b == c and len(a) == 30
    for _, _, id_number, phone, rm in a:
        assert id_check_char(id_number[:17]) == id_number[17]
        assert len(phone) == 11 and phone[:2] in ("13", "15", "18")
        assert rm in ("R0001", "R0002", "R0003")
    # Amounts: 万元 in the GBK file, yuan elsewhere — the same fen.
    wan = dict(con.execute("SELECT c0, replace(c12, ',', '') FROM a").fetchall())
    yuan = dict(con.execute("SELECT c0, c11 FROM c").fetchall())
    cells = dict(con.execute("SELECT c0, c12 FROM b").fetchall())
    for k, v in yuan.items():
        assert round(float(wan[k]) * 10000, 2) == float(v) == float(cells[k].lstrip(NUMBER_MARK))


def test_other_sample_files_read(con):
    expect = {
        "rms.csv": (["工号", "姓名", "所属网点", "岗位", "入职日期"], 3),
        "products.csv": (["产品代码", "产品名称", "产品类型", "风险等级", "业绩比较基准", "是否在售"], 10),
        "holdings.csv": (["客户号", "产品代码", "产品名称", "产品类型", "余额", "月日均余额", "成本", "到期日"], None),
        "transactions.csv": (["交易日期", "客户号", "摘要", "借贷标志", "交易金额", "交易渠道", "对方行名"], None),
        "clients-2026-11.csv": (None, 30),
        "clients-sci-notation.csv": (None, 30),
        "clients-bad-rows.csv": (None, 31),
        "holdings-orphan.csv": (None, None),
    }  # fmt: skip
    for name, (headers, n) in expect.items():
        s = readers.read(con, SAMPLES / name, "raw")
        assert s.header_row == 1 and s.dropped == [], name
        if headers:
            assert s.headers == headers, name
        if n:
            assert s.rows == n, name
    assert con.execute("SELECT count(*) FROM raw WHERE c0 = 'C00000999'").fetchone()[0] == 1
    readers.read(con, SAMPLES / "clients-sci-notation.csv", "raw")
    assert con.execute("SELECT c4 FROM raw WHERE c0 = 'C00000001'").fetchone()[0] == "1.10101E+17"


def test_bad_rows_sample_has_its_faults_on_the_documented_lines(con):
    readers.read(con, SAMPLES / "clients-bad-rows.csv", "raw")
    line = {r[0]: r[1:] for r in rows(con, cols="_row, c0, c3, c4, c5, c10, c11")}
    assert id_check_char(line[3][2][:17]) != line[3][2][17]
    assert len(line[4][3]) == 10
    assert line[5][1] == "2030-05-01"
    assert line[6][5] == "-1234.56"
    assert line[7][0] == line[32][0] and line[7] != line[32]
    assert line[8][0] is None
    assert line[9][4] == "2019-02-30"


# ------------------------------------------------------------------------------- refusals


def test_credentials_column_refused_with_nothing_left(con, tmp_path):
    data = (SAMPLES / "clients-with-password.csv").read_text(encoding="utf-8").encode("gbk")
    p = write(tmp_path, "pw.csv", data)  # GBK: a transcoded temp file would be needed
    work = tmp_path / "work"
    work.mkdir()
    con.execute("CREATE TABLE raw AS SELECT 1 AS stale")  # a leftover of the same name goes too
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, p, "raw", tmp_dir=work)
    assert e.value.code == "credentials_column" and e.value.fields == {"column": "交易密码"}
    assert tables(con) == [] and list(work.iterdir()) == []
    with pytest.raises(readers.ImportRefused) as e:
        readers.sniff(data, "pw.csv")
    assert e.value.code == "credentials_column"
    for header in ("PIN", "CVV2", "卡片有效期", "查询密码", "Password"):
        f = write(tmp_path, "h.csv", f"客户号,姓名,{header}\nC1,张三,1234\n".encode())
        with pytest.raises(readers.ImportRefused, match="credentials_column"):
            readers.read(con, f, "raw")
        assert tables(con) == []


def test_credentials_column_in_an_xlsx_sheet_refuses_the_workbook(con, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["客户号", "客户姓名"])
    wb.active.append(["C1", "张三"])
    other = wb.create_sheet("卡片")
    other.append(["客户号", "卡号", "交易密码"])
    other.append(["C1", "6222000011112222", "123456"])
    wb.save(tmp_path / "two.xlsx")
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, tmp_path / "two.xlsx", "raw")
    assert (e.value.code, e.value.fields) == ("credentials_column", {"column": "交易密码"})
    assert tables(con) == []


def test_too_large_refused_before_parsing(con, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "load_settings", lambda: {"importer": {"max_file_mb": 0.001}})
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, SAMPLES / "clients-gbk-wan.csv", "raw")
    assert e.value.code == "too_large" and e.value.fields["limit_mb"] == 0
    with pytest.raises(readers.ImportRefused, match="too_large"):
        readers.sniff((SAMPLES / "clients-title.xlsx").read_bytes(), "clients-title.xlsx")
    assert tables(con) == []


def test_zip_bomb_refused_from_the_central_directory(con, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (16 << 20))
    assert len(buf.getvalue()) < 100_000
    p = write(tmp_path, "bomb.xlsx", buf.getvalue())
    start = time.perf_counter()
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, p, "raw")
    elapsed = time.perf_counter() - start
    print(f"zip bomb refused in {elapsed * 1000:.1f} ms")
    assert e.value.code == "zip_bomb" and e.value.fields["ratio"] > 100
    with pytest.raises(readers.ImportRefused, match="zip_bomb"):
        readers.sniff(buf.getvalue(), "bomb.xlsx")


def test_zip_over_the_unpacked_limit(con, tmp_path, monkeypatch):
    monkeypatch.setattr(
        readers, "load_settings", lambda: {"importer": {"max_xlsx_unpacked_mb": 0.001}}
    )
    with pytest.raises(readers.ImportRefused, match="zip_bomb"):
        readers.read(con, SAMPLES / "clients-title.xlsx", "raw")


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("random.csv", bytes(range(256)) * 40, "unreadable"),
        (
            "report.xls",
            b"<html><body><table><tr><td>1</td></tr></table></body></html>",
            "unreadable",
        ),
        ("fake.xlsx", "客户号,姓名\nC1,张三\n".encode(), "unreadable"),
        ("other.zip.xlsx", b"PK\x05\x06" + b"\0" * 18, "unreadable"),
        ("empty.csv", b"", "empty"),
        ("nohead.csv", b"a,b,c\n1,2,3\n", "no_header"),
    ],
)
def test_unreadable_files(con, tmp_path, name, data, code):
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, write(tmp_path, name, data), "raw")
    assert e.value.code == code
    assert tables(con) == []


# ------------------------------------------------------------------------------- encodings


def test_encoding_override(con, tmp_path):
    p = write(tmp_path, "gbk.csv", "客户号,客户姓名\nC1,张三\n".encode("gbk"))
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, p, "raw", encoding="utf-8")
    assert (e.value.code, e.value.fields["encoding"]) == ("encoding", "utf-8")
    with pytest.raises(readers.ImportRefused, match="encoding"):
        readers.read(con, p, "raw", encoding="no-such-codec")
    s = readers.read(con, p, "raw", encoding="GBK")
    assert s.encoding == "gbk" and rows(con) == [(2, "C1", "张三")]
    assert readers.sniff(p.read_bytes(), "gbk.csv").encoding == "gb18030"


def test_utf16_and_tab_delimited(con, tmp_path):
    p = write(
        tmp_path, "u.txt", "客户号\t客户姓名\t手机号\nC1\t张,三\t13800000000\n".encode("utf-16")
    )
    s = readers.read(con, p, "raw", tmp_dir=tmp_path)
    assert (s.encoding, s.delimiter) == ("utf-16", "\t")
    assert rows(con) == [(2, "C1", "张,三")]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["u.txt"]  # the UTF-8 copy is gone


def test_gbk_after_an_ascii_first_mebibyte(con, tmp_path):
    data = "客户号,产品代码\n".encode("gbk") + b"C1,P1\n" * 200_000 + "C2,理财\n".encode("gbk")
    s = readers.read(con, write(tmp_path, "late.csv", data), "raw", tmp_dir=tmp_path)
    assert s.encoding == "gb18030" and s.rows == 200_001
    assert con.execute("SELECT _row, c1 FROM raw WHERE c0 = 'C2'").fetchone() == (200_002, "理财")


def test_semicolon_and_pipe_delimiters(con, tmp_path):
    for delim in (";", "|"):
        p = write(
            tmp_path,
            "d.csv",
            f"客户号{delim}客户姓名{delim}手机号\nC1{delim}张三{delim}1\n".encode(),
        )
        s = readers.read(con, p, "raw")
        assert s.delimiter == delim and rows(con) == [(2, "C1", "张三")]


# ------------------------------------------------------------------------ rows and headers


def test_row_numbers_survive_blank_lines_and_quoted_line_breaks(con, tmp_path):
    data = (
        "客户号,客户姓名\r\n"  # 1
        "C1,张三\r\n"  # 2
        "\r\n"  # 3 empty: DuckDB skips it
        'C2,"李\r\n四"\r\n'  # 4-5 a quoted line break
        "   \r\n"  # 6 spaces only
        ",,\r\n"  # 7 separators only
        "C3,王五\r\n"  # 8
        "\r\n\r\n"  # 9-10 trailing empty lines: not rows
    ).encode()
    s = readers.read(con, write(tmp_path, "b.csv", data), "raw")
    assert rows(con) == [(2, "C1", "张三"), (4, "C2", "李\r\n四"), (8, "C3", "王五")]
    assert s.rows == 3 and s.dropped == [(3, "blank"), (6, "blank"), (7, "blank")]


def test_row_numbers_in_a_parallel_load_without_insertion_order(tmp_path):
    # The import pipeline's staging database: file-backed, insertion order not preserved.
    con = duckdb.connect(str(tmp_path / "stage.duckdb"))
    con.execute("SET threads = 4")
    con.execute("SET preserve_insertion_order = false")
    lines = ["客户号,产品代码,余额"]
    for n in range(2, 1_200_001):
        # Each data line carries its own line number; every 100,000th line is left empty.
        lines.append("" if n % 100_000 == 0 else f"{n},P{n % 97},{n % 1000}.50")
    p = write(tmp_path, "big.csv", ("\n".join(lines) + "\n").encode())
    s = readers.read(con, p, "raw", temp=True)
    assert s.rows == 1_199_999 - 12
    # The last empty line (1,200,000) ends the file: not a row between rows, not listed.
    assert [r for r, _ in s.dropped] == list(range(100_000, 1_200_000, 100_000))
    wrong = con.execute("SELECT count(*) FROM raw WHERE c0::INTEGER <> _row").fetchone()[0]
    assert wrong == 0
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is False
    temp = con.execute("SELECT temporary FROM duckdb_tables() WHERE table_name = 'raw'").fetchone()
    assert temp == (True,)
    con.close()


def test_totals_and_notes_dropped_with_folding(con, tmp_path):
    data = (
        "客户号,客户姓名,月日均资产\n"
        "C1,张三,100\n"
        "小计,,100\n"  # 3 a subtotal between groups
        "C2,李四,200\n"
        "合　计,,300\n"  # 5 an ideographic space inside
        "Ｔｏｔａｌ,,300\n"  # 6 full-width letters
        "注：金额单位为元,,\n"  # 7 a note, one cell
        "说明,本表仅供内部使用,\n"  # 8 two cells: not a note, kept as data
    ).encode()
    s = readers.read(con, write(tmp_path, "t.csv", data), "raw")
    assert s.dropped == [(3, "total"), (5, "total"), (6, "total"), (7, "note")]
    assert [r[0] for r in rows(con)] == [2, 4, 8]
    assert s.title == "注：金额单位为元"


def test_values_beyond_the_header_go_to_extra(con, tmp_path):
    data = "客户号,客户姓名,月日均资产\nC1,张三,1,234.56\nC2,李四,99,\n".encode()
    readers.read(con, write(tmp_path, "x.csv", data), "raw")
    assert rows(con, cols="_row, c2, _extra") == [(2, "1", "234.56"), (3, "99", None)]


def test_csv_two_row_headers(con, tmp_path):
    group = "客户清单 2026年10月\n客户信息,,资产(万元),\n客户号,姓名,月日均,时点\nC1,张三,1.5,2\n"
    s = readers.read(con, write(tmp_path, "g.csv", group.encode()), "raw")
    assert s.header_row == 3 and s.title == "客户清单 2026年10月"
    assert s.headers == ["客户号", "客户姓名", "月日均资产(万元)", "时点资产(万元)"]
    assert rows(con) == [(4, "C1", "张三")]
    # The other layout: single headers merged down, sub-headers only under the group label.
    merged_down = "客户号,客户姓名,资产情况(元),\n,,月日均,时点\nC1,张三,1.5,2\n"
    s = readers.read(con, write(tmp_path, "v.csv", merged_down.encode()), "raw")
    assert s.header_row == 2 and s.title == ""
    assert s.headers == ["客户号", "客户姓名", "月日均资产(元)", "时点资产(元)"]
    assert rows(con) == [(3, "C1", "张三")]


def test_one_column_file(con, tmp_path):
    s = readers.read(con, write(tmp_path, "ids.csv", "客户号\nC1\nC2\n".encode()), "raw")
    assert s.headers == ["客户号"] and rows(con, cols="_row, c0") == [(2, "C1"), (3, "C2")]


def xlsx(tmp_path: Path, build) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    build(wb)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return path


def test_xlsx_vertical_merges_offset_sheet_and_cell_types(con, tmp_path):
    def build(wb):
        ws = wb.active
        ws.title = "说明"
        ws["A1"] = "本工作簿第二页为客户清单"
        ws = wb.create_sheet("清单")
        # Starts at B3: headers merged down over rows 3-4 except the asset group.
        for col, h in zip("BCD", ["客户号", "客户姓名", "所属客户经理"], strict=True):
            ws[f"{col}3"] = h
            ws.merge_cells(f"{col}3:{col}4")
        ws["E3"] = "资产(万元)"
        ws.merge_cells("E3:F3")
        ws["E4"], ws["F4"] = "月日均", "时点"
        ws["G3"] = "开户日期"
        ws.merge_cells("G3:G4")
        ws.append([None, "C1", "张三", "R0001", 12.5, 3, dt.date(2026, 1, 5)])
        ws.append(
            [None, "C2", "李四", None, 1.10101199001011e17, True, dt.datetime(2026, 10, 31, 13, 45)]
        )
        ws.merge_cells("D5:D6")  # one RM cell for two clients

    s = readers.read(con, xlsx(tmp_path, build), "raw")
    assert s.sheet == "清单" and s.header_row == 4
    assert s.headers[:3] == ["客户号", "客户姓名", "所属客户经理"]
    assert s.headers[3:] == ["月日均资产(万元)", "时点资产(万元)", "开户日期"]
    got = con.execute("SELECT _row, c0, c2, c3, c4, c5 FROM raw ORDER BY _row").fetchall()
    m = NUMBER_MARK
    assert got == [
        (5, "C1", "R0001", m + "12.5", m + "3", "2026-01-05"),
        (6, "C2", "R0001", m + "1.10101199001011e+17", "TRUE", "2026-10-31 13:45:00"),
    ]


def test_xlsx_sheet_choice(con, tmp_path):
    def build(wb):
        wb.active.title = "A"
        wb.active.append(["客户号", "客户姓名"])
        wb.active.append(["C1", "张三"])
        b = wb.create_sheet("B")
        b.append(["产品代码", "产品名称"])
        b.append(["P1", "理财"])
        hidden = wb.create_sheet("H", 0)
        hidden.append(["客户号", "客户姓名"])
        hidden.sheet_state = "hidden"

    p = xlsx(tmp_path, build)
    assert readers.read(con, p, "raw").sheet == "A"  # the hidden first sheet is passed over
    s = readers.read(con, p, "raw", sheet="B")
    assert s.sheet == "B" and rows(con) == [(2, "P1", "理财")]
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, p, "raw", sheet="C")
    assert e.value.code == "no_sheet" and e.value.fields["sheets"] == ["H", "A", "B"]
    preview = readers.sniff(p, "t.xlsx", sheet="B")
    assert preview.sheets == ["H", "A", "B"] and preview.sheet == "B"


# ------------------------------------------------------------------------------------ sniff


def test_sniff_preview_csv_and_xlsx():
    p = readers.sniff(
        (SAMPLES / "clients-gbk-wan.csv").read_bytes(), "clients-gbk-wan.csv", max_rows=3
    )
    assert (p.encoding, p.delimiter, p.sheet, p.sheets) == ("gb18030", ",", None, [])
    assert p.header_row == 3
    assert p.headers[-1] == "时点资产(万元)" and p.title == "XX支行 客户清单 2026年10月"
    assert len(p.rows) == 3 and p.rows[0][:2] == ["C00000001", "黄军"]
    p = readers.sniff(SAMPLES / "clients-title.xlsx", "clients-title.xlsx", max_rows=50)
    assert (p.encoding, p.sheet, p.sheets, p.header_row) == (None, "客户清单", ["客户清单"], 4)
    assert len(p.rows) == 30  # the 合计 and notes rows are not data
    assert p.rows[0][12] == NUMBER_MARK + "45764.69" and p.rows[0][5] == "110101197509140997"


# ------------------------------------------------------------------ XLSX cell grid (zip bombs)

_CT = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(
    rows_xml: str, worksheet: str = f"<worksheet {_NS}><sheetData>{{}}</sheetData></worksheet>"
) -> bytes:
    """A minimal valid XLSX (one sheet 'S') whose sheetData is ``rows_xml``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", worksheet.format(rows_xml))
    return buf.getvalue()


def text_cell(value: str, ref: str | None = None, attrs: str = "") -> str:
    r = f' r="{ref}"' if ref else ""
    return f'<c{r}{attrs} t="inlineStr"><is><t>{value}</t></is></c>'


HEADER = (
    '<row r="1">'
    + "".join(text_cell(h, f"{c}1") for h, c in zip(ROSTER[:3], "ABC", strict=True))
    + "</row>"
)


def _ratio(data: bytes) -> float:
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    return sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)


def test_a_sparse_xlsx_of_246_kb_is_refused_before_parsing(con, tmp_path):
    """A workbook that passes the size and ratio checks but spreads one cell per row over a
    million rows and 702 columns: calamine would allocate the whole grid (700 million cells,
    over 20 GB) before the first row could be read. The scan refuses it in milliseconds."""
    body = "".join(
        f'<row r="{r}"><c r="ZZ{r}"><v>{r % 997}</v></c></row>' for r in range(2, 1_048_576, 28)
    )
    data = workbook(HEADER + body)
    assert 200_000 < len(data) < 300_000 and _ratio(data) < 100  # the older checks let it pass
    p = write(tmp_path, "bomb.xlsx", data)
    start = time.perf_counter()
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, p, "raw")
    elapsed = time.perf_counter() - start
    print(f"{len(data) // 1024} KB sparse XLSX refused in {elapsed * 1000:.1f} ms: {e.value}")
    assert e.value.code == "xlsx_grid" and e.value.fields["cols"] == 702
    assert tables(con) == []
    with pytest.raises(readers.ImportRefused, match="xlsx_grid"):
        readers.sniff(data, "bomb.xlsx")


def test_two_cells_in_opposite_corners_are_refused():
    """1.6 KB that used to abort the whole process (calamine: 'memory allocation failed')."""
    data = workbook(HEADER + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    with pytest.raises(readers.ImportRefused) as e:
        readers.sniff(data, "corner.xlsx")
    assert e.value.code == "xlsx_grid"
    assert (e.value.fields["rows"], e.value.fields["cols"]) == (1_048_576, 16_384)


FAR = "XFD1048576"


@pytest.mark.parametrize(
    "rows_xml",
    [
        HEADER + f'<row><c t="s" r="{FAR}"><v>0</v></c></row>',  # r not the first attribute
        HEADER + f'<row><c foo=">" r="{FAR}"><v>1</v></c></row>',  # a '>' in a quoted value
        HEADER + f"<row><c r = '{FAR}'><v>1</v></c></row>",  # spaces and single quotes
        HEADER + f'<row><c r="{FAR.lower()}"><v>1</v></c></row>',  # lower case
        HEADER + '<row><c r="XFD0001048576"><v>1</v></c></row>',  # leading zeros
        HEADER
        + "<row>"
        + "".join(f"<c><v>{i}</v></c>" for i in range(16_000))
        + "</row>"
        + "".join(f"<row><c><v>{i}</v></c></row>" for i in range(5_000)),
        # cells placed by position only: one row 16,000 wide, then 5,000 rows of one cell
    ],
    ids=["r-later", "quoted-gt", "spaces-quotes", "lower-case", "leading-zeros", "positional"],
)
def test_far_cells_written_any_way_are_refused(rows_xml):
    with pytest.raises(readers.ImportRefused, match="xlsx_grid"):
        readers.sniff(workbook(rows_xml), "far.xlsx")


def test_a_namespace_prefix_does_not_hide_cells():
    sheet = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<x:sheetData>{}</x:sheetData></x:worksheet>"
    )
    rows_xml = (
        f'<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="{FAR}"><x:v>1</x:v></x:c></x:row>'
    )
    with pytest.raises(readers.ImportRefused, match="xlsx_grid"):
        readers.sniff(workbook(rows_xml, sheet), "prefixed.xlsx")


def test_a_workbook_without_cell_references_still_reads(con, tmp_path):
    """Some exporters write cells by position only (no r): the slower scan accepts them."""
    header = "<row>" + "".join(text_cell(h) for h in ROSTER[:3]) + "</row>"
    body = "".join(
        "<row>" + text_cell(f"K{i}") + text_cell("张三") + text_cell("男") + "</row>"
        for i in range(1, 51)
    )
    s = readers.read(con, write(tmp_path, "positional.xlsx", workbook(header + body)), "raw")
    assert (s.rows, s.headers) == (50, ROSTER[:3])
    assert rows(con)[0] == (2, "K1", "张三")


def test_the_grid_limit_comes_from_settings(con, monkeypatch):
    monkeypatch.setattr(readers, "load_settings", lambda: {"importer": {"max_xlsx_cells": 100}})
    with pytest.raises(readers.ImportRefused) as e:
        readers.read(con, SAMPLES / "clients-title.xlsx", "raw")
    assert e.value.code == "xlsx_grid" and e.value.fields["limit"] == 100
