"""Readers: one bank export file (CSV or XLSX) -> one raw DuckDB table of text cells.

``read()`` finds the header row (title rows, blank rows and merged group labels above it handled),
refuses a file that carries authentication data before a single data row is copied, and loads the
data rows as VARCHAR columns ``c0..c{n-1}`` plus ``_row`` (the row number the user sees in Excel or
a text editor) and ``_extra`` (NULL unless the row has a value to the right of the last header
column, e.g. an unquoted thousands separator that split an amount; then the first such value).
Totals (a row whose first non-empty cell starts with 合计/总计/小计/Total, wherever it is: a 小计
between groups is no client either), notes (one non-empty cell starting 数据来源：, 制表：, 注：…)
and blank rows are dropped and listed (blank rows after the last row are not listed). Everything
after that — mapping headers to columns, units, dates, codes, validation — is the SQL
normalisation's job (``normalize``); a cell is never interpreted here.

Two-row headers: a group label above the header row (客户信息 | | 资产情况(元) | |)
is spread over its merged cells; an empty header cell below it takes the label (merged down), and
a header that spells a better-known header with the label ('资产情况(元)' over '月日均' ->
'月日均资产(元)') takes that text, unit included. XLSX merged ranges are used as such; in a CSV the
label's blanks to the right stand for the merge.

``sniff()`` does the same on the first rows only, for the upload preview: nothing is copied.

CSV: the encoding is decided on the first MiB (BOM; valid UTF-8; else GB18030, a superset of GBK;
else charset-normalizer; a file that is ASCII there and GBK further down is read as GB18030), the
delimiter among , tab ; | by the best header row. DuckDB's ``read_csv`` loads the file in parallel
(insertion order is kept for that statement, whatever the connection's setting); a non-UTF-8 file
is first transcoded, streaming, to a private temporary UTF-8 file that is deleted afterwards.
DuckDB drops empty lines, so when the file has more lines than rows (one fast count tells) its
empty lines are found in one byte scan and ``_row`` is mended with an ASOF join. A quoted field
with a line break inside is read as one value (single-threaded: DuckDB's parallel scanner cannot
do it) and the rows after it keep their true line numbers, except when a quoted value itself holds
an empty line. A lone carriage return inside a line of a LF file is not supported.

XLSX (and legacy XLS) through python-calamine: formulas are never evaluated (the cached value is
read), numeric cells arrive as ``NUMBER_MARK`` + their text so that an ID number Excel turned into a
number is recognised, dates as ISO text. An XLSX is a zip: its central directory is checked against
the size and ratio limits before any parsing (zip bomb), then its sheets are scanned for the cell
grid calamine would allocate (``_check_grid``: a few cells far apart make a huge one). Error cells
(#N/A) read as empty.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import io
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from analytics.importer import contract, normalize
from analytics.importer.normalize import NUMBER_MARK
from analytics.settings import load_settings

MIB = 1024 * 1024
SAMPLE_BYTES = MIB  # what encoding, delimiter and header detection look at
CHUNK_BYTES = 8 * MIB  # streaming unit for transcoding and line scans
BATCH_ROWS = 50_000  # XLSX rows per Arrow batch inserted into DuckDB
DELIMITERS = (",", "\t", ";", "|")  # in order of preference on a tie

# Whitespace that makes a cell "empty" (the ideographic space and NBSP come from Excel re-saves).
_SPACE = " \t\r\n\u3000\xa0"
_CREDENTIAL_RE = re.compile(contract.CREDENTIAL_HEADER, re.I)
# On folded text (NFKC: '：' is ':' and '合　计' is '合 计'): a row whose first cell says so.
_TOTAL_RE = re.compile(r"([合总小]\s*计|(sub|grand)?\s*total\b)", re.I)
# A notes row has one non-empty cell that starts with one of these.
_NOTE_RE = re.compile(
    r"(数据来源|资料来源|来源\s*:|制表|填表|编制|报送|备注|说明|注\s*\d*\s*:|单位\s*:|打印|审核|复核|经办)"
)
# The same tests as cheap prefilters in DuckDB (RE2) before Python confirms them with fold().
_SQL_TOTAL_RE = r"(?i)^[\s\x{3000}\x{a0}]*([合总小][\s\x{3000}]*计|sub|grand|total|[ｔｓｇＴＳＧ])"
_SQL_NOTE_RE = r"^[\s\x{3000}\x{a0}]*(数据|资料|来源|制表|填表|编制|报送|备注|说明|注|单位|打印|审核|复核|经办)"
# The characters a total or notes row can start with (or whitespace before them): a row whose
# first cell starts otherwise is data, a test that costs nothing in Python or DuckDB.
_FIRST_CHARS = _SPACE + "合总小sStTgGｔｓｇＴＳＧ数资来制填编报备说注单打审复经"
_FIRST_CHARS_SQL = ", ".join("'" + ch + "'" for ch in _FIRST_CHARS)
# A unit in brackets, as normalize reads it; kept as written so '(万元)' travels with a header.
_BRACKET_UNIT_RE = re.compile(r"\s*[\(（\[【]\s*(万元|万|元|%|％|百分比|亿元|天)\s*[\)）\]】]\s*")
# Words that make a group label (资产情况, 客户信息); '资产情况' over '月日均' reads '月日均资产'.
_GROUP_SUFFIX_RE = re.compile(r"(情况|信息|明细|数据|类别|类|合计|汇总)$")


class ImportRefused(Exception):
    """The whole file is refused. ``code`` is a short code ('credentials_column', 'too_large',
    'zip_bomb', 'xlsx_grid', 'unreadable', 'no_header', 'no_sheet', 'encoding', 'empty'); ``fields``
    a dict for the message (column=, limit_mb=, encoding=, …). It never carries a data value."""

    def __init__(self, code: str, **fields):
        self.code = code
        self.fields = fields
        detail = ", ".join(f"{k}={v}" for k, v in fields.items())
        super().__init__(f"{code}" + (f" ({detail})" if detail else ""))


@dataclass
class Sheet:
    source: str  # the file's name as the user gave it (not a temp path)
    sheet: str | None  # XLSX sheet name, None for CSV
    encoding: str | None  # the encoding used for a CSV, None for XLSX
    delimiter: str | None
    header_row: int  # 1-based Excel row / text line of the header (the lower of a two-row header)
    headers: list[str]  # one per data column c0..c{n-1}, merged header cells resolved
    title: str  # title rows above the header and notes rows dropped from the data, '\n'-joined
    table: str  # DuckDB table (a plain name): VARCHAR c0..c{n-1}, _row INTEGER, _extra VARCHAR
    rows: int  # data rows kept in the table
    dropped: list[tuple[int, str]] = field(default_factory=list)  # (row, 'total'|'note'|'blank')


@dataclass
class Preview:
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]  # sheet names of an XLSX, [] for a CSV
    header_row: int
    headers: list[str]
    title: str
    rows: list[list[str]]  # first data rows as the table would hold them ('' for empty)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_unpacked_bytes: int
    max_ratio: float
    header_scan_rows: int
    max_cells: int = 20_000_000
    max_sparsity: float = 20.0


def limits(settings: dict | None = None) -> Limits:
    """The reader limits in force: ``[importer]`` in settings.toml, with the documented defaults."""
    s = (settings or load_settings()).get("importer", {})
    return Limits(
        max_file_bytes=int(float(s.get("max_file_mb", 4096)) * MIB),
        max_unpacked_bytes=int(float(s.get("max_xlsx_unpacked_mb", 1024)) * MIB),
        max_ratio=float(s.get("max_xlsx_ratio", 100)),
        header_scan_rows=int(s.get("header_scan_rows", 30)),
        max_cells=int(float(s.get("max_xlsx_cells", 20_000_000))),
        max_sparsity=float(s.get("max_xlsx_sparsity", 20)),
    )


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def sniff(
    data: bytes | Path,
    filename: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    max_rows: int = 10,
) -> Preview:
    """Encoding, delimiter, sheet, header row, headers, title and the first ``max_rows`` data rows
    of an uploaded file (bytes) or a file on disk, read as ``read()`` would read them. Raises
    ``ImportRefused`` for what ``read()`` would refuse before loading (credentials, size, zip bomb,
    no header, undecodable text)."""
    lim = limits()
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        size, head = len(data), data[:SAMPLE_BYTES]
    else:
        data = Path(data)
        size = data.stat().st_size
        with open(data, "rb") as f:
            head = f.read(SAMPLE_BYTES)
    _check_size(size, lim)
    kind = _kind(head, filename)
    if kind in ("xlsx", "xls"):
        src = io.BytesIO(data) if isinstance(data, bytes) else data
        if kind == "xlsx":
            _check_zip(src, lim)
        with _open_workbook(src) as wb:
            name, ws, found = _pick_sheet(wb, sheet, lim)
            rows = []
            for _, cells in _sheet_rows(ws, found.header_index + 1, found):
                if len(rows) >= max_rows:
                    break
                cells, extra = _fit(cells, found.width)
                if _classify(cells + [extra]) is None:
                    rows.append([c or "" for c in cells])
            return Preview(
                encoding=None,
                delimiter=None,
                sheet=name,
                sheets=list(wb.sheet_names),
                header_row=found.header_index + 1,
                headers=found.headers,
                title=found.title,
                rows=rows,
            )
    enc, text = _sample_text(head, encoding, complete=size <= len(head))
    found, delim, lines = _csv_header(text, lim)
    rows = []
    body = "\n".join(lines[found.header_index + 1 :])
    for cells in _parse_lines(body, delim):
        if len(rows) >= max_rows:
            break
        cells, extra = _fit(cells, found.width)
        if _classify(cells + [extra]) is None:
            rows.append([c or "" for c in cells])
    return Preview(
        encoding=enc,
        delimiter=delim,
        sheet=None,
        sheets=[],
        header_row=found.header_index + 1,
        headers=found.headers,
        title=found.title,
        rows=rows,
    )


def read(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    source: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    tmp_dir: Path | None = None,
    temp: bool = False,
) -> Sheet:
    """Load the data rows of a bank export into ``table`` in ``con`` (created or replaced) and say
    how: encoding, delimiter, sheet, header row, headers, title, rows kept and rows dropped.
    ``temp=True`` makes it a TEMP table: a staging table in a file-backed database then skips
    the write to the database file (about half the time for a large CSV; it uses memory up to
    DuckDB's memory_limit, then temp_directory). Raises ``ImportRefused`` with no table and no
    temporary file left behind."""
    path = Path(path)
    source = source or path.name
    lim = limits()
    try:
        try:
            size = path.stat().st_size
        except OSError as e:
            raise ImportRefused("unreadable", reason="missing") from e
        _check_size(size, lim)
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
        kind = _kind(head, source)
        if kind in ("xlsx", "xls"):
            if kind == "xlsx":
                _check_zip(path, lim)
            return _read_xlsx(con, path, table, source, sheet, lim, temp)
        return _read_csv(con, path, size, head, table, source, encoding, lim, tmp_dir, temp)
    except BaseException:
        # A refusal (or any failure) leaves no half-loaded table behind.
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {_ident(table)}")
        raise


def check_xlsx(data: bytes) -> None:
    """The checks ``read()`` makes on an XLSX before anything parses it (size, zip bomb, cell
    grid), for other readers of uploaded workbooks (the corporate view's scorecard upload).
    Raises ``ImportRefused``."""
    lim = limits()
    _check_size(len(data), lim)
    _check_zip(io.BytesIO(data), lim)


# ----------------------------------------------------------------------------------------------
# File kind, size, zip bomb
# ----------------------------------------------------------------------------------------------


def _check_size(size: int, lim: Limits) -> None:
    """Refuse a file over the size limit, or an empty one, before anything is parsed."""
    if size > lim.max_file_bytes:
        raise ImportRefused("too_large", limit_mb=lim.max_file_bytes // MIB, size_mb=size // MIB)
    if size == 0:
        raise ImportRefused("empty")


def _kind(head: bytes, filename: str) -> str:
    """'xlsx' (a zip), 'xls' (an OLE2 compound file) or 'csv' (anything else: text is tried)."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    # Report portals often save an HTML table as '.xls': it is neither a sheet nor a CSV.
    start = head[:512].removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")):
        raise ImportRefused("unreadable", reason="html")
    if start.startswith(b"<?xml"):  # Excel's "XML Spreadsheet 2003"
        raise ImportRefused("unreadable", reason="xml")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportRefused("unreadable", reason="not_xlsx")
    return "csv"


def _check_zip(src: Path | io.BytesIO, lim: Limits) -> None:
    """Refuse a zip whose central directory promises more than the limits allow, before any
    member is decompressed."""
    try:
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ImportRefused("unreadable", reason="bad_zip") from e
    finally:
        if isinstance(src, io.BytesIO):
            src.seek(0)
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    too_dense = any(
        i.file_size > MIB and i.file_size > lim.max_ratio * max(i.compress_size, 1) for i in infos
    )
    if unpacked > lim.max_unpacked_bytes or unpacked > lim.max_ratio * max(packed, 1) or too_dense:
        raise ImportRefused(
            "zip_bomb",
            unpacked_mb=round(unpacked / MIB, 1),
            limit_mb=lim.max_unpacked_bytes // MIB,
            ratio=round(unpacked / max(packed, 1)),
            max_ratio=lim.max_ratio,
        )
    if not any(i.filename == "[Content_Types].xml" for i in infos):
        raise ImportRefused("unreadable", reason="not_xlsx")
    try:
        with zipfile.ZipFile(src) as zf:
            for info in infos:
                _check_grid(zf, info, lim)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as e:
        raise ImportRefused("unreadable", reason="bad_zip") from e
    finally:
        if isinstance(src, io.BytesIO):
            src.seek(0)


# calamine places a sheet's cells in one dense grid from its first to its last cell, 32 bytes a
# cell, before the first row can be read: two cells at A1 and XFD1048576 (a 2 KB file that passes
# the size and ratio checks) ask for 17 billion cells and abort the process. So every member of
# the zip is scanned for cell positions first (streaming; the unpacked size is bounded above):
# a sheet whose grid would exceed ``max_xlsx_cells``, or ``max_xlsx_sparsity`` times the cells
# it holds (above ``_GRID_FLOOR``), is refused. The fast path reads cells written as
# ``<c r="B7"`` (Excel, openpyxl, xlsxwriter: r first) with plain byte counts and searches; any
# other spelling (no r, r elsewhere in the tag, quotes, namespace prefixes) takes a slower scan
# that bounds positional cells as calamine places them (the next row, the next column).
XLSX_MAX_ROWS, XLSX_MAX_COLS = 1_048_576, 16_384
_GRID_FLOOR = 1_000_000  # a grid this small is always accepted (about 32 MB in calamine)
_FAST_REF = b'<c r="'
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|row)[\s/>]")
_FAST_LETTERS = re.compile(rb'<c r="([A-Za-z]{1,3})[0-9]')
_FAST_ROWS = re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{1,7})"')


@functools.lru_cache(maxsize=8)
def _fast_odd(digits: int) -> re.Pattern:
    """A '<c' that is neither a longer name (<col>, <cfRule>) nor a plain <c r="B7" whose row
    has at most ``digits`` digits."""
    return re.compile(rb'<c(?![A-Za-z]| r="[A-Za-z]{1,3}[0-9]{1,%d}")' % digits)


_TAG_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_ATTRS = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""  # attributes, a quoted value as one unit
_R_ATTR = rb"(?<![\w:.-])r\s*=\s*"
_ANY_REF = re.compile(_R_ATTR + rb"""["']([A-Za-z]*)([0-9]+)["']""")
_ANY_CELL = re.compile(_TAG_PREFIX + rb"c[\s/>]")
_ANY_ROW = re.compile(_TAG_PREFIX + rb"row[\s/>]")
_CELL_WITH_R = re.compile(_TAG_PREFIX + rb"c\s" + _ATTRS + _R_ATTR)
_ROW_WITH_R = re.compile(_TAG_PREFIX + rb"row\s" + _ATTRS + _R_ATTR)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _pieces(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes in pieces that each end just before a '<', so no tag is split."""
    carry = b""
    with zf.open(info) as f:
        while chunk := f.read(CHUNK_BYTES):
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut <= 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
    if carry:
        yield carry


def _grid_limit(cells: int, lim: Limits) -> int:
    return min(lim.max_cells, max(_GRID_FLOOR, int(lim.max_sparsity * cells)))


def _refuse_grid(rows: int, cols: int, cells: int, lim: Limits) -> None:
    raise ImportRefused(
        "xlsx_grid", rows=rows, cols=cols, cells=cells, limit=lim.max_cells,
        sparsity=lim.max_sparsity,
    )  # fmt: skip


def _check_grid(zf: zipfile.ZipFile, info: zipfile.ZipInfo, lim: Limits) -> None:
    """Refuse the workbook if this member, read as a sheet, makes too large a grid.

    One pass: cells counted, columns found exactly, rows bounded by the digits of the last cell's
    row in each piece (rows ascend in files as written; a longer row number elsewhere in the piece
    is found by the same search that validates the cells, and that piece's rows are then read one
    by one). Only when that bound is over the limit are the rows read exactly, in a second pass."""
    if info.is_dir() or info.file_size == 0:
        return
    cells = max_col = row_bound = 0
    for piece in _pieces(zf, info):
        prefixed = b":c" in piece or b":row" in piece
        if b"<c" not in piece and not prefixed:
            continue
        if prefixed and _PREFIXED.search(piece):
            return _check_grid_slow(zf, info, lim)
        last = piece.rfind(_FAST_REF)
        last_row = _FAST_ROWS.match(piece, last) if last >= 0 else None
        digits = len(last_row.group(1)) if last_row else 7
        if _fast_odd(digits).search(piece):
            if digits == 7 or _fast_odd(7).search(piece):  # not a plain cell: the slow scan
                return _check_grid_slow(zf, info, lim)
            row_bound = max(row_bound, *(int(x) for x in _FAST_ROWS.findall(piece)))
        elif last_row:
            row_bound = max(row_bound, 10**digits - 1)
        if last_row:
            cells += piece.count(_FAST_REF)
            max_col = max(max_col, *(_col_number(x) for x in set(_FAST_LETTERS.findall(piece))))
    if not cells:
        return
    limit = _grid_limit(cells, lim)
    if max_col > XLSX_MAX_COLS:
        _refuse_grid(row_bound, max_col, cells, lim)
    if row_bound * max_col <= limit:
        return
    max_row = max(
        (int(x) for piece in _pieces(zf, info) for x in _FAST_ROWS.findall(piece)), default=0
    )
    if max_row > XLSX_MAX_ROWS or max_row * max_col > limit:
        _refuse_grid(max_row, max_col, cells, lim)


def _check_grid_slow(zf: zipfile.ZipFile, info: zipfile.ZipInfo, lim: Limits) -> None:
    """``_check_grid`` for cells written any other way: every r attribute, and an upper bound
    for the cells and rows placed by position (calamine: the next column, the next row)."""
    cells = cells_r = rows = rows_r = 0
    max_row = max_col = widest = 0
    in_row = 0  # cells so far in the row that the last piece ended in
    for piece in _pieces(zf, info):
        for letters, digits in _ANY_REF.findall(piece):
            row = int(digits) if len(digits) <= 8 else XLSX_MAX_ROWS + 1
            max_row = max(max_row, row)
            if letters:
                max_col = max(max_col, _col_number(letters) if len(letters) <= 4 else 10**6)
        cells += len(_ANY_CELL.findall(piece))
        cells_r += len(_CELL_WITH_R.findall(piece))
        rows_r += len(_ROW_WITH_R.findall(piece))
        segments = _ANY_ROW.split(piece)
        rows += len(segments) - 1
        counts = [len(_ANY_CELL.findall(seg)) for seg in segments]
        counts[0] += in_row
        widest = max(widest, *counts)
        in_row = counts[-1]
    if cells == 0:
        return
    col_bound = max_col + (widest if cells > cells_r else 0)
    row_bound = max_row + (rows if rows > rows_r else 0)
    if (
        max_row > XLSX_MAX_ROWS
        or max_col > XLSX_MAX_COLS
        or row_bound * col_bound > _grid_limit(cells, lim)
    ):
        _refuse_grid(row_bound, col_bound, cells, lim)


# ----------------------------------------------------------------------------------------------
# Header detection (shared by CSV and XLSX)
# ----------------------------------------------------------------------------------------------


@dataclass
class _Header:
    header_index: int  # 0-based row of the header within the scanned rows (= file row - 1)
    upper_index: int | None  # the group-label row above it, when used
    headers: list[str]
    width: int
    title: str


def _key_maps(text: str, index: dict) -> bool:
    """Whether a header text maps to some contract column by default."""
    return bool(text) and normalize.header_key(text) in index


def _nonempty(c: str | None) -> bool:
    return c is not None and bool(c.strip(_SPACE))


def _hits(row: list[str], index: dict) -> int:
    """How many cells of a row are known header names."""
    return sum(1 for c in row if _key_maps(c, index))


def _ffill(row: list[str]) -> list[str]:
    """A group-label row with its merged cells spread to the right (merges leave blanks)."""
    out, last = [], ""
    for c in row:
        last = c if c else last
        out.append(last)
    return out


def _split_unit(text: str) -> tuple[str, str]:
    """'资产情况(元)' -> ('资产情况', '(元)'); a header without a bracketed unit -> (text, '')."""
    m = _BRACKET_UNIT_RE.search(text)
    if not m:
        return text.strip(), ""
    return (text[: m.start()] + text[m.end() :]).strip(), m.group(0).strip()


def _combine(upper: str, own: str, index: dict) -> str | None:
    """The header that a group label ``upper`` and the cell below it ``own`` spell together, when
    it maps: own+upper ('月日均'+'资产'), upper+own ('客户经理'+'姓名'), also with the group word
    dropped ('资产情况' -> '资产'); the unit of either travels along."""
    own_base, own_unit = _split_unit(own)
    up_base, up_unit = _split_unit(upper)
    unit = own_unit or up_unit
    cores = [up_base]
    core = _GROUP_SUFFIX_RE.sub("", up_base)
    if core and core != up_base:
        cores.append(core)
    for ub in cores:
        for text in (own_base + ub, ub + own_base):
            if _key_maps(text, index):
                return text + unit
    return None


def _resolve(upper: list[str] | None, lower: list[str], index: dict) -> list[str]:
    """One header per column from the header row and, when given, the (spread) group row above."""
    if upper is None:
        return list(lower)
    out = []
    for j, own in enumerate(lower):
        up = upper[j] if j < len(upper) else ""
        if not own:
            out.append(up)  # a header merged down over two rows
        elif not up or up == own:
            out.append(own)
        else:
            combined = _combine(up, own, index)
            if combined:
                out.append(combined)
            else:
                _, up_unit = _split_unit(up)
                out.append(own + up_unit if up_unit and not _split_unit(own)[1] else own)
    return out


def _is_group_row(upper: list[str], lower: list[str], index: dict) -> bool:
    """The row above a header row is part of the header when one of its (spread) cells maps by
    itself or spells a mapped header with the cell below."""
    spread = _ffill(upper)
    for j, up in enumerate(spread):
        if not up:
            continue
        own = lower[j] if j < len(lower) else ""
        if _key_maps(up, index) or (own and _combine(up, own, index)):
            return True
    return False


def _is_subheader(row: list[str], below: list[str], index: dict) -> bool:
    """``below`` holds only sub-headers under group labels of ``row`` (资产情况 over 月日均/时点),
    as a CSV shows a two-row header whose other headers were merged down."""
    spread = _ffill(row)
    seen = False
    for j, own in enumerate(below):
        if not own:
            continue
        up = spread[j] if j < len(spread) else ""
        if not up or _key_maps(up, index):
            return False
        if not (_key_maps(own, index) or _combine(up, own, index)):
            return False
        seen = True
    return seen


def _row_text(row: Iterable[str | None]) -> str:
    """The non-empty cells of a title or notes row, as one line."""
    return " ".join(c.replace(NUMBER_MARK, "").strip() for c in row if _nonempty(c))


def _locate_header(grid: list[list[str]], raw: list[list[str]] | None = None) -> _Header:
    """The header among the scanned rows: most cells that map to a contract header (at least 2,
    or 1 in a one-column file); a two-row header resolves to its lower row. ``raw`` is the grid
    before merged cells were filled (for the title text)."""
    index = contract.header_index()
    raw = raw if raw is not None else grid
    scores = [_hits(r, index) for r in grid]
    best = max(scores, default=0)
    width_all = max((_width(r) for r in grid), default=0)
    if best < 2 and not (best == 1 and width_all == 1):
        raise ImportRefused("no_header")
    h = scores.index(best)
    if h + 1 < len(grid) and scores[h + 1] == best:
        h += 1  # both rows name the columns (merged down): the lower one sits on the data
    elif h + 1 < len(grid) and _is_subheader(grid[h], grid[h + 1], index):
        h += 1
    upper = h - 1 if h > 0 and _is_group_row(grid[h - 1], grid[h], index) else None
    lower = [_name(c) for c in grid[h]]
    spread = [_name(c) for c in _ffill(grid[upper])] if upper is not None else None
    headers = _resolve(spread, lower, index)
    width = _width(headers)
    headers = headers[:width]
    checked = list(grid[h]) + (list(grid[upper]) if upper is not None else []) + headers
    _check_credentials(checked)
    title_rows = [_row_text(r) for r in raw[: upper if upper is not None else h]]
    return _Header(h, upper, headers, width, "\n".join(t for t in title_rows if t))


def _name(cell: str | None) -> str:
    """A header cell as a name (a numeric header cell loses its number mark)."""
    return (cell or "").replace(NUMBER_MARK, "").strip()


def _width(row: list[str | None]) -> int:
    """1 + the index of the last non-empty cell (0 for an empty row)."""
    for j in range(len(row) - 1, -1, -1):
        if _nonempty(row[j]):
            return j + 1
    return 0


def _check_credentials(cells: Iterable[str | None]) -> None:
    """Refuse the file when a header names authentication data (password, PIN, CVV, track)."""
    for c in cells:
        if c and _CREDENTIAL_RE.search(normalize.fold(c)):
            raise ImportRefused("credentials_column", column=c.replace(NUMBER_MARK, "").strip())


# ----------------------------------------------------------------------------------------------
# Dropped rows
# ----------------------------------------------------------------------------------------------


def _classify_first(first: str | None, nonempty: int) -> str | None:
    """A row's drop reason from its first non-empty cell and its count of non-empty cells."""
    if nonempty == 0 or first is None:
        return "blank"
    text = normalize.fold(first.replace(NUMBER_MARK, ""))
    if _TOTAL_RE.match(text):
        return "total"
    if nonempty == 1 and _NOTE_RE.match(text):
        return "note"
    return None


def _classify(cells: list[str | None]) -> str | None:
    """'blank', 'total', 'note' or None (a data row)."""
    if cells and cells[0] and cells[0][0] not in _FIRST_CHARS:
        return None
    ne = [c for c in cells if _nonempty(c)]
    return _classify_first(ne[0] if ne else None, len(ne))


def _fit(cells: list[str | None], width: int) -> tuple[list[str | None], str | None]:
    """Cells padded or cut to ``width``, and the first non-empty value beyond it."""
    if len(cells) <= width:
        return cells + [None] * (width - len(cells)), None
    extra = next((c for c in cells[width:] if _nonempty(c)), None)
    return cells[:width], extra


# ----------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------


def _decode_head(head: bytes, encoding: str | None, *, complete: bool) -> tuple[str, str]:
    """(encoding, text of the first MiB) — the override, or the detected encoding."""
    if encoding:
        try:
            enc = codecs.lookup(encoding).name
        except LookupError as e:
            raise ImportRefused("encoding", encoding=encoding) from e
        try:
            text = codecs.getincrementaldecoder(enc)().decode(head, final=complete)
        except UnicodeDecodeError as e:
            raise ImportRefused("encoding", encoding=enc) from e
        return enc, _sane(text, enc)
    enc = _detect_encoding(head, complete=complete)
    text = codecs.getincrementaldecoder(enc)().decode(head, final=complete)
    return enc, _sane(text, enc)


def _sample_text(head: bytes, encoding: str | None, *, complete: bool) -> tuple[str, str]:
    """(encoding, complete lines of the first MiB)."""
    enc, text = _decode_head(head, encoding, complete=complete)
    if not complete:
        text = text[: max(text.rfind("\n"), text.rfind("\r"), 0)]  # the last line may be cut
    return enc, text


def _sane(text: str, enc: str) -> str:
    """Text that looks like text: a binary file decoded by chance is unreadable."""
    text = text.lstrip("\ufeff")
    controls = sum(1 for ch in text[:100_000] if ord(ch) < 32 and ch not in "\t\r\n\f\x1a")
    if not text.strip():
        raise ImportRefused("empty")
    if controls > max(10, len(text[:100_000]) // 100):
        raise ImportRefused("unreadable", reason="binary", encoding=enc)
    return text


def _detect_encoding(head: bytes, *, complete: bool) -> str:
    """Deterministic and bank-aware: BOM, valid UTF-8, GB18030 (⊇ GBK), then charset-normalizer."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" not in head:
        for enc in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(enc)().decode(head, final=complete)
                return enc
            except UnicodeDecodeError:
                pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise ImportRefused("unreadable", reason="not_text")
    return codecs.lookup(best.encoding).name


def _split_lines(text: str) -> list[str]:
    """Physical lines (LF, CRLF or CR-only), numbered as a text editor numbers them."""
    nl = "\n" if "\n" in text else "\r"
    return [ln[:-1] if nl == "\n" and ln.endswith("\r") else ln for ln in text.split(nl)]


def _split_line(line: str, delim: str) -> list[str]:
    """One line's cells (quotes honoured), trimmed, for header detection."""
    try:
        cells = next(csv.reader([line], delimiter=delim, quotechar='"'), [])
    except csv.Error:
        cells = line.split(delim)
    return [c.strip() for c in cells]


def _parse_lines(body: str, delim: str) -> Iterator[list[str | None]]:
    """Rows of a CSV body as DuckDB reads them: empty lines skipped, empty cells None."""
    for row in csv.reader(io.StringIO(body, newline=""), delimiter=delim, quotechar='"'):
        if row:
            yield [c if c != "" else None for c in row]


def _csv_header(text: str, lim: Limits) -> tuple[_Header, str, list[str]]:
    """Header, delimiter and the complete lines of the sample."""
    lines = _split_lines(text)
    scan = lines[: lim.header_scan_rows]
    best: tuple[int, _Header, str] | None = None
    refusal: ImportRefused | None = None
    for delim in DELIMITERS:
        grid = [_split_line(ln, delim) for ln in scan]
        try:
            found = _locate_header(grid)
        except ImportRefused as e:
            if e.code != "no_header":
                refusal = refusal or e
            continue
        score = _hits(grid[found.header_index], contract.header_index())
        if best is None or score > best[0]:
            best = (score, found, delim)
    if refusal is not None:
        raise refusal  # a credentials header under any reading of the file refuses it
    if best is None:
        raise ImportRefused("no_header")
    return best[1], best[2], lines


class _NotUtf8(Exception):
    """DuckDB found bytes that are not UTF-8 (at ``line``, as it counts)."""

    def __init__(self, line):
        self.line = line


def _read_csv(
    con, path: Path, size: int, head: bytes, table: str, source: str, encoding, lim, tmp_dir, temp
) -> Sheet:
    """``read()`` for a text file: header from the first MiB, then DuckDB loads the rest."""
    enc, text = _sample_text(head, encoding, complete=size <= len(head))
    found, delim, _ = _csv_header(text, lim)
    skip = found.header_index + 1  # lines before the first data line
    nl = b"\n" if b"\n" in head else b"\r"
    tmp: Path | None = None
    try:
        if enc in ("utf-8", "utf-8-sig"):
            src = path
        else:
            tmp = _transcode(path, enc, tmp_dir)
            src = tmp
        try:
            _load_csv(con, src, table, found.width, delim, skip, temp)
        except _NotUtf8 as e:
            # Only the first MiB was checked: a file whose sample was plain ASCII may still be
            # GBK further down. A sample with UTF-8 Chinese in it is a mixed file: refused.
            if encoding or enc != "utf-8" or tmp is not None or not text.isascii():
                raise ImportRefused("encoding", encoding=enc, line=e.line) from None
            enc = "gb18030"
            tmp = _transcode(path, enc, tmp_dir)
            src = tmp
            _load_csv(con, src, table, found.width, delim, skip, temp)
        blanks = _number_rows(con, table, found.width, src, skip, nl)
        dropped, notes = _drop_rows_sql(con, table, found.width)
        rows, last = con.execute(f"SELECT count(*), max(_row) FROM {_ident(table)}").fetchone()
        # Blank rows count only between rows (a file's trailing empty lines are not rows to a user).
        last = max([r for r, why in dropped if why != "blank"] + [last or 0])
        blank_rows = {r for r, why in dropped if why == "blank"} | set(blanks)
        dropped = [d for d in dropped if d[1] != "blank"] + [
            (b, "blank") for b in blank_rows if b < last
        ]
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    title = "\n".join(t for t in [found.title, *notes] if t)
    return Sheet(source, None, enc, delim, skip, found.headers, title, table, rows, sorted(dropped))


def _transcode(path: Path, enc: str, tmp_dir: Path | None) -> Path:
    """A private temporary UTF-8 copy of a text file in another encoding, written in chunks."""
    fd, name = tempfile.mkstemp(prefix="branchlens-import-", suffix=".csv", dir=tmp_dir)
    out = Path(name)
    decoder = codecs.getincrementaldecoder(enc)()
    offset = 0
    try:
        with open(path, "rb") as f, os.fdopen(fd, "wb") as w:
            first = True
            while chunk := f.read(CHUNK_BYTES):
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    raise ImportRefused("encoding", encoding=enc, offset=offset + e.start) from None
                if first:
                    # The utf-16 codec consumes its BOM; a BOM written into other text is dropped.
                    text = text.lstrip("\ufeff")
                    first = False
                w.write(text.encode("utf-8"))
                offset += len(chunk)
            try:
                w.write(decoder.decode(b"", final=True).encode("utf-8"))
            except UnicodeDecodeError:
                raise ImportRefused("encoding", encoding=enc, offset=offset) from None
    except BaseException:
        with contextlib.suppress(OSError):
            out.unlink()
        raise
    return out


def _load_csv(con, src: Path, table: str, width: int, delim: str, skip: int, temp: bool) -> None:
    """CREATE OR REPLACE ``table`` from the UTF-8 file ``src``: c0..c{width-1}, _row (the line
    number if the file has no empty lines; ``_number_rows`` mends it), _extra (the first field
    beyond the header, if any). A streaming row_number() keeps the file's order and costs less
    than a second pass over the table."""
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width + 1)) + "}"
    select = ", ".join(f"c{i}" for i in range(width))
    # Without it DuckDB may number the rows in any order; the caller's setting comes back after.
    ordered = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    if not ordered:
        con.execute("SET preserve_insertion_order = true")
    try:
        _load_csv_ordered(con, src, table, width, delim, skip, temp, cols, select)
    finally:
        if not ordered:
            con.execute("SET preserve_insertion_order = false")


def _load_csv_ordered(con, src, table, width, delim, skip, temp, cols, select) -> None:
    """The load itself: parallel first, single-threaded when the file has quoted line breaks."""
    kind = "TEMP TABLE" if temp else "TABLE"
    for parallel in ("true", "false"):
        sql = (
            f"CREATE OR REPLACE {kind} {_ident(table)} AS SELECT {select}, "
            f"(row_number() OVER () + {skip})::INTEGER AS _row, "
            f"c{width} AS _extra FROM read_csv(?, header=false, skip=?, delim=?, quote='\"', "
            f"escape='\"', auto_detect=false, columns={cols}, all_varchar=true, "
            f"null_padding=true, strict_mode=false, parallel={parallel})"
        )
        try:
            con.execute(sql, [str(src), skip, delim])
            return
        except duckdb.InvalidInputException as e:
            msg = str(e)
            if "Invalid unicode" in msg:
                m = re.search(r"Line:\s*(\d+)", msg)
                raise _NotUtf8(int(m.group(1)) if m else None) from None
            raise ImportRefused("unreadable", reason="csv") from None  # e.g. a line over 2 MB
        except duckdb.Error as e:
            # Quoted line breaks with null_padding need the single-threaded scanner. Anything
            # else (out of memory, disk full) is not the file's fault: it propagates.
            if "parallel" not in str(e) or parallel == "false":
                raise


def _count_lines(src: Path, nl: bytes) -> int:
    """Lines in a file (a last line without a newline counts), counted in chunks."""
    total, last = 0, b""
    with open(src, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            total += chunk.count(nl)
            last = chunk[-1:]
    return total + (1 if last and last != nl else 0)


def _blank_lines(src: Path, skip: int, nl: bytes) -> list[int]:
    """Line numbers (1-based) of the empty lines after the first ``skip`` lines, in one pass
    over the bytes in chunks."""
    pats = (nl + nl, nl + b"\r" + nl) if nl == b"\n" else (nl + nl,)
    blanks: list[int] = []
    total = 0  # newlines before the current chunk
    carry = b""  # the previous chunk's last two bytes: a pattern may straddle the boundary
    with open(src, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            buf = carry + chunk
            found = []
            for pat in pats:
                pos = buf.find(pat)
                while pos >= 0:
                    if pos + len(pat) > len(carry):  # not already seen in the previous chunk
                        found.append(pos)
                    pos = buf.find(pat, pos + 1)
            found.sort()
            upto, count = 0, total - carry.count(nl)  # newlines before buf[0]
            for pos in found:
                count += buf.count(nl, upto, pos + 1)
                upto = pos + 1
                if count + 1 > skip:  # the empty line starts after the newline at pos
                    blanks.append(count + 1)
            total += chunk.count(nl)
            carry = buf[-2:]
    return sorted(set(blanks))


def _number_rows(con, table: str, width: int, src: Path, skip: int, nl: bytes) -> list[int]:
    """Mend ``_row`` into each row's line number and return the empty lines' numbers. DuckDB
    skipped empty lines and reads a quoted line break as part of a value, so the row number from
    the load is the line only when the file has as many lines as rows (one fast count)."""
    t = _ident(table)
    rows = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    if rows == _count_lines(src, nl) - skip:
        return []
    blanks = _blank_lines(src, skip, nl)
    nl_chr = "chr(10)" if nl == b"\n" else "chr(13)"
    # Line breaks inside quoted values: each row moves down by the breaks in the rows above.
    cols = [f"c{i}" for i in range(width)] + ["_extra"]
    e = " + ".join(f"coalesce(length({c}) - length(replace({c}, {nl_chr}, '')), 0)" for c in cols)
    # _row is still first line + the row's place in the file (rowid need not be in file order).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _readers_nl AS SELECT src + 1 AS s, "
        "sum(e) OVER (ORDER BY src) AS cum FROM "
        f"(SELECT _row AS src, {e} AS e FROM {t}) WHERE e > 0"
    )
    con.execute(
        f"UPDATE {t} SET _row = ({t}._row + x.cum)::INTEGER FROM (SELECT r.rowid AS rid, "
        f"n.cum FROM {t} r ASOF JOIN _readers_nl n ON r._row >= n.s) x "
        f"WHERE {t}.rowid = x.rid"
    )
    con.execute("DROP TABLE IF EXISTS _readers_nl")
    if blanks:
        # Blank k (0-based) at line b sits before every row whose line without blanks is >= b - k.
        steps: dict[int, int] = {}
        for k, b in enumerate(blanks):
            steps[b - k] = k + 1
        con.execute("CREATE OR REPLACE TEMP TABLE _readers_blanks (s INTEGER, n INTEGER)")
        con.executemany("INSERT INTO _readers_blanks VALUES (?, ?)", list(steps.items()))
        con.execute(
            f"UPDATE {t} SET _row = ({t}._row + x.n)::INTEGER FROM (SELECT r.rowid AS rid, b.n "
            f"FROM {t} r ASOF JOIN _readers_blanks b ON r._row >= b.s) x WHERE {t}.rowid = x.rid"
        )
        con.execute("DROP TABLE IF EXISTS _readers_blanks")
    return blanks


def _drop_rows_sql(con, table: str, width: int) -> tuple[list[tuple[int, str]], list[str]]:
    """Delete blank, total and notes rows from ``table``: (row, reason) of each, and the notes."""
    t = _ident(table)
    cols = [f"c{i}" for i in range(width)] + ["_extra"]
    sp = _SPACE.replace("'", "''")
    ne = [f"({c} IS NOT NULL AND trim({c}, '{sp}') <> '')" for c in cols]
    cnt = " + ".join(f"{x}::INTEGER" for x in ne)
    first = (
        "coalesce("
        + ", ".join(f"CASE WHEN {x} THEN {c} END" for x, c in zip(ne, cols, strict=True))
        + ")"
    )
    # Most rows have a first cell that is neither empty nor one of the words: one cheap test on
    # c0 rules them out before the per-cell expressions run on the few that are left.
    cand = con.execute(
        f"SELECT _row, cnt, first FROM (SELECT _row, {cnt} AS cnt, {first} AS first FROM {t} "
        f"WHERE c0 IS NULL OR left(c0, 1) IN ({_FIRST_CHARS_SQL})) "
        "WHERE cnt = 0 OR regexp_matches(first, ?) OR (cnt = 1 AND regexp_matches(first, ?))",
        [_SQL_TOTAL_RE, _SQL_NOTE_RE],
    ).fetchall()
    dropped, notes = [], []
    for row, n, first_val in cand:
        why = _classify_first(first_val, n)
        if why:
            dropped.append((row, why))
            if why == "note":
                notes.append((row, first_val.strip(_SPACE)))
    if dropped:
        con.execute("CREATE OR REPLACE TEMP TABLE _readers_drop (r INTEGER)")
        con.executemany("INSERT INTO _readers_drop VALUES (?)", [(r,) for r, _ in dropped])
        con.execute(f"DELETE FROM {t} WHERE _row IN (SELECT r FROM _readers_drop)")
        con.execute("DROP TABLE IF EXISTS _readers_drop")
    return dropped, [text for _, text in sorted(notes)]


# ----------------------------------------------------------------------------------------------
# XLSX
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_workbook(src):
    """A calamine workbook from a path or bytes, closed afterwards; unreadable -> refused."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = (
            CalamineWorkbook.from_filelike(src)
            if isinstance(src, io.BytesIO)
            else CalamineWorkbook.from_path(str(src))
        )
    except (CalamineError, OSError, ValueError) as e:
        raise ImportRefused("unreadable", reason=type(e).__name__) from e
    try:
        yield wb
    finally:
        wb.close()


def _cell_text(v) -> str | None:
    """A calamine cell as text: numbers marked, dates ISO, empty as None."""
    t = type(v)  # exact types first: this runs once per cell
    if t is str:
        return v if v != "" else None
    if t is float:
        # Integral values without '.0'; past 15 digits Excel has already rounded, and 15
        # significant digits show such an ID as what it became (1.10101199001011e+17).
        if v.is_integer() and -1e15 < v < 1e15:
            return NUMBER_MARK + str(int(v))
        return NUMBER_MARK + format(v, ".15g")
    if t is dt.date:
        return v.isoformat()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return NUMBER_MARK + str(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat(timespec="seconds")
    if isinstance(v, dt.timedelta):
        secs = int(v.total_seconds())
        return f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return None if v is None else str(v)


@dataclass
class _XHeader(_Header):
    col0: int = 0  # first column (0-based, absolute) that calamine's rows start at
    merges: list = field(default_factory=list)  # ((r1, c1), (r2, c2)) relative to col0


def _scan_sheet(ws, lim: Limits) -> _XHeader:
    """The header of one worksheet, from its first ``header_scan_rows`` rows."""
    start = ws.start
    col0 = start[1] if start else 0
    merges = [
        ((r1, c1 - col0), (r2, c2 - col0)) for (r1, c1), (r2, c2) in ws.merged_cell_ranges or []
    ]
    raw: list[list[str]] = []
    for i, row in enumerate(ws.iter_rows()):
        if i >= lim.header_scan_rows:
            break
        raw.append([_cell_text(v) or "" for v in row])
    if not raw:
        raise ImportRefused("no_header")
    grid = [list(r) for r in raw]
    # Merged header cells hold their text in the top-left cell only: spread it over the range.
    for (r1, c1), (r2, c2) in merges:
        if r1 >= len(grid) or c1 < 0:
            continue
        value = raw[r1][c1] if c1 < len(raw[r1]) else ""
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            for c in range(c1, c2 + 1):
                if c < len(grid[r]) and not grid[r][c]:
                    grid[r][c] = value
    found = _locate_header(grid, raw)
    return _XHeader(**vars(found), col0=col0, merges=merges)


def _pick_sheet(wb, sheet: str | None, lim: Limits) -> tuple[str, object, _XHeader]:
    """The sheet asked for, or the first visible one with a recognisable header. Every sheet with
    a header is checked for credentials columns: the whole file is refused for one."""
    from python_calamine import CalamineError, SheetVisibleEnum

    names = list(wb.sheet_names)
    if sheet is not None and sheet not in names:
        raise ImportRefused("no_sheet", sheet=sheet, sheets=names)
    visible = {m.name: m.visible == SheetVisibleEnum.Visible for m in wb.sheets_metadata}
    chosen = None
    for name in names:
        try:
            ws = wb.get_sheet_by_name(name)
            found = _scan_sheet(ws, lim)
        except ImportRefused as e:
            if e.code != "no_header":
                raise
            if name == sheet:
                raise
            continue
        except CalamineError as e:
            raise ImportRefused("unreadable", reason=type(e).__name__) from e
        if chosen is None and (name == sheet or (sheet is None and visible.get(name, True))):
            chosen = (name, ws, found)
    if chosen is None:
        raise ImportRefused("no_header")
    return chosen


def _sheet_rows(ws, start_index: int, found: _XHeader) -> Iterator[tuple[int, list[str | None]]]:
    """(Excel row, cells) of the rows from ``start_index`` (0-based) on, vertical merges of one
    column filled down (a merged 客户经理 cell belongs to every row it spans)."""
    fills_from: dict[int, list[tuple[int, int]]] = {}
    for (r1, c1), (r2, c2) in found.merges:
        if r1 >= start_index and r2 > r1 and c1 == c2 and c1 >= 0:
            fills_from.setdefault(r1, []).append((c1, r2))
    active: dict[int, tuple[str | None, int]] = {}
    for i, row in enumerate(ws.iter_rows()):
        if i < start_index:
            continue
        cells = [v if type(v) is str and v else _cell_text(v) for v in row]  # strings: as they are
        if active:
            for c, (value, until) in list(active.items()):
                if i > until:
                    del active[c]
                elif c < len(cells) and cells[c] is None:
                    cells[c] = value
        for c, r2 in fills_from.get(i, ()):
            if c < len(cells):
                active[c] = (cells[c], r2)
        yield i + 1, cells


def _read_xlsx(
    con, path: Path, table: str, source: str, sheet: str | None, lim: Limits, temp: bool = False
) -> Sheet:
    """``read()`` for a workbook: rows converted cell by cell, inserted in Arrow batches."""
    t = _ident(table)
    with _open_workbook(path) as wb:
        name, ws, found = _pick_sheet(wb, sheet, lim)
        width = found.width
        cols = [f"c{i}" for i in range(width)]
        con.execute(
            f"CREATE OR REPLACE {'TEMP TABLE' if temp else 'TABLE'} {t} ("
            + "".join(f"{c} VARCHAR, " for c in cols)
            + "_row INTEGER, _extra VARCHAR)"
        )
        schema = pa.schema(
            [(c, pa.string()) for c in cols] + [("_row", pa.int32()), ("_extra", pa.string())]
        )
        batch: list[list] = [[] for _ in range(width + 2)]
        dropped: list[tuple[int, str]] = []
        blanks: list[int] = []
        notes: list[str] = []
        kept = 0

        def flush():
            if not batch[width]:
                return
            tbl = pa.Table.from_arrays(
                [pa.array(col, type=f.type) for col, f in zip(batch, schema, strict=True)],
                schema=schema,
            )
            con.register("_readers_batch", tbl)
            try:
                con.execute(f"INSERT INTO {t} SELECT * FROM _readers_batch")
            finally:
                con.unregister("_readers_batch")
            for col in batch:
                col.clear()

        for excel_row, cells in _sheet_rows(ws, found.header_index + 1, found):
            cells, extra = _fit(cells, width)
            why = _classify(cells + [extra])
            if why == "blank":
                blanks.append(excel_row)  # listed only when something follows
                continue
            if blanks:
                dropped += [(b, "blank") for b in blanks]
                blanks.clear()
            if why:
                dropped.append((excel_row, why))
                if why == "note":
                    notes.append(_row_text(cells + [extra]))
                continue
            for j, c in enumerate(cells):
                batch[j].append(c)
            batch[width].append(excel_row)
            batch[width + 1].append(extra)
            kept += 1
            if len(batch[width]) >= BATCH_ROWS:
                flush()
        flush()
    title = "\n".join(x for x in [found.title, *notes] if x)
    return Sheet(
        source, name, None, None, found.header_index + 1, found.headers, title, table, kept, dropped
    )


def _ident(name: str) -> str:
    """A table name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'
