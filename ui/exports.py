"""Downloads (DESIGN.md §6): CSV in utf-8-sig, which Chinese Excel opens correctly, and .xlsx.

Every table a user downloads goes through ``csv_bytes`` or ``xlsx_bytes``, which neutralise
spreadsheet formulas (CSV/formula injection, the OWASP rule): a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return (also after leading spaces, and the full-width
``＝ ＋ － ＠`` that Excel in a Chinese locale reads the same way) gets a single quote in front, so
that Excel and WPS show it as text and never evaluate it. ``=HYPERLINK(...)`` in an RM's name
therefore arrives as the text ``'=HYPERLINK(...)``. Numbers stay numbers (a numeric -1 is a number,
not text); only strings (and other objects written as text) are touched. Column headers are text
and get the same treatment.

The XLSX is written cell by cell with openpyxl, every string cell with data type ``'s'``: openpyxl
would otherwise store any string starting with ``=`` as a formula (``data_type 'f'``), which is
what ``DataFrame.to_excel`` does. No cell of a download is ever a formula. Control characters
that XML 1.0 cannot hold are dropped (openpyxl would refuse the whole file otherwise).

Typed exports (issue 14): a table that is both shown and downloaded is described once, as a list
of ``Col`` (header, kind, values as data). ``shown`` makes the screen's table from it (money as
万/¥, shares as 12.3%, dates in words); ``frame`` makes the download's: money as float yuan with
the unit in the header ("AUM（元）" / "AUM (yuan)"), counts as whole numbers, shares as fractions
(0.123), dates as dates, text (masked names and phones included) as it is. ``frame`` records each
column's kind in ``DataFrame.attrs``, and ``xlsx_bytes`` gives those cells their number format
(``#,##0.00`` yuan, ``0.0%`` shares, ``yyyy-mm-dd`` dates); the CSV writes the same numbers
unquoted and dates as ISO ``yyyy-mm-dd``.

No streamlit here: the import CLI writes its report with these functions too.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ui import formats
from ui.i18n import t

# First characters that make Excel, LibreOffice or WPS read a cell as a formula (OWASP), and the
# full-width forms an IME types in a Chinese locale.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# What is stripped before looking at the first character: Excel ignores leading blanks there.
_LEADING_BLANKS = " \u3000\xa0\n"
# Characters XML 1.0 forbids (openpyxl raises IllegalCharacterError on them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Column kinds of a typed table, and the XLSX number format of each (text keeps General).
MONEY, COUNT, PCT, DATE, TEXT = "money", "count", "pct", "date", "text"
KINDS = (MONEY, COUNT, PCT, DATE, TEXT)
NUMBER_FORMATS = {MONEY: "#,##0.00", COUNT: "0", PCT: "0.0%", DATE: "yyyy-mm-dd"}
# Where ``frame`` keeps {header: kind} for ``xlsx_bytes``.
KINDS_ATTR = "branchlens_kinds"


@dataclass(frozen=True)
class Col:
    """One column of a table that is shown and downloaded: its translated header (without a
    unit), its kind (``KINDS``) and its values as data: yuan, fractions, dates, whole numbers;
    text already in words (a code translated, a name masked)."""

    header: str
    kind: str
    values: Sequence | pd.Series

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def _missing(value) -> bool:
    return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _positional(values) -> list:
    return (
        values.tolist() if isinstance(values, (pd.Series, pd.Index, np.ndarray)) else list(values)
    )


def _display(col: Col, lang: str) -> list:
    values = _positional(col.values)
    if col.kind == MONEY:
        return [formats.money(None if _missing(v) else float(v), lang) for v in values]
    if col.kind == PCT:
        return [formats.pct(None if _missing(v) else float(v)) for v in values]
    if col.kind == DATE:
        return ["" if _missing(v) else formats.day(pd.Timestamp(v).date(), lang) for v in values]
    return values


def shown(columns: Iterable[Col], lang: str) -> pd.DataFrame:
    """The table as the screen shows it: money as ``formats.money``, shares as ``formats.pct``,
    dates as ``formats.day`` ('' when unknown), counts and text as they are. A header given twice
    keeps its first place and its last values."""
    return pd.DataFrame({c.header: _display(c, lang) for c in columns})


def _typed(col: Col):
    values = _positional(col.values)
    if col.kind == MONEY:  # yuan to the fen
        return np.array([np.nan if _missing(v) else round(float(v), 2) for v in values], float)
    if col.kind == PCT:  # to a ten-thousandth of a percent: no float noise in the file
        return np.array([np.nan if _missing(v) else round(float(v), 6) for v in values], float)
    if col.kind == COUNT:
        return pd.array([None if _missing(v) else round(float(v)) for v in values], "Int64")
    if col.kind == DATE:
        return np.array([None if _missing(v) else pd.Timestamp(v).date() for v in values], object)
    return values


def header(col: Col, lang: str) -> str:
    """A column's header in a download: money gets its unit, "AUM（元）" / "AUM (yuan)"."""
    return t("export.yuan", lang, label=col.header) if col.kind == MONEY else col.header


def frame(columns: Iterable[Col], lang: str) -> pd.DataFrame:
    """The table as a download holds it: money in yuan (float, to the fen) with the unit in its
    header, counts as whole numbers (Int64), shares as fractions (to 6 decimals), dates as
    ``datetime.date``, text as given. Each column's kind is kept in ``attrs[KINDS_ATTR]`` for
    ``xlsx_bytes``. A header given twice keeps its first place and its last values (as
    ``shown``)."""
    data, kinds = {}, {}
    for c in columns:
        data[header(c, lang)] = _typed(c)
        kinds[header(c, lang)] = c.kind
    out = pd.DataFrame(data)
    out.attrs[KINDS_ATTR] = kinds
    return out


def neutralise(value):
    """``value`` as it may go into a spreadsheet cell: text that a spreadsheet would read as a
    formula gets a leading ``'``; numbers, booleans, dates and missing values are returned as
    they are; any other object is written as its text (neutralised the same way)."""
    if _is_plain(value):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(_LEADING_BLANKS).startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _is_plain(value) -> bool:
    """True for what a spreadsheet stores as a typed value, never as a formula."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return True
    if isinstance(value, (numbers.Number, decimal.Decimal, dt.date, dt.time, np.datetime64)):
        return True  # int, float, numpy numbers, pd.Timestamp (a datetime), ...
    if isinstance(value, str):
        return False
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))  # pd.NA, NaT
    except (TypeError, ValueError):
        return False


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with headers and text cells neutralised; numeric, boolean and datetime
    columns are kept as they are (their values cannot be formulas)."""
    out = df.copy()
    out.columns = [neutralise(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if (
            pd.api.types.is_numeric_dtype(col.dtype)
            or pd.api.types.is_bool_dtype(col.dtype)
            or pd.api.types.is_datetime64_any_dtype(col.dtype)
        ):
            continue
        out.isetitem(i, col.astype(object).map(neutralise))
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as CSV with a byte-order mark, so Excel on a Chinese Windows reads it as UTF-8;
    formula cells neutralised. Every text field is quoted (numbers are not): a carriage return
    inside a field must not end the row, or what follows it would start a new, unneutralised
    cell."""
    return safe_frame(df).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def _sheet_title(sheet: str) -> str:
    title = re.sub(r"[\[\]:*?/\\]", " ", str(sheet)).strip().strip("'")[:31]
    return title or "BranchLens"


def _xlsx_value(value):
    """A neutralised value as openpyxl can store it: text without XML-illegal characters, numpy
    scalars as Python ones, missing as an empty cell."""
    value = neutralise(value)
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones
    return value


def xlsx_bytes(df: pd.DataFrame, sheet: str = "BranchLens") -> bytes:
    """The table as an Excel workbook (openpyxl), one sheet, header row frozen, formula cells
    neutralised and every text cell stored as text (data type 's'), never as a formula. A table
    made by ``frame`` gets each kind's number format (``NUMBER_FORMATS``) on its cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(sheet))
    ws.freeze_panes = "A2"
    kinds = df.attrs.get(KINDS_ATTR, {})
    number_formats = [NUMBER_FORMATS.get(kinds.get(c)) for c in df.columns]

    def row(values, number_formats) -> list:
        cells = []
        for v, number_format in zip(values, number_formats, strict=True):
            cell = WriteOnlyCell(ws, value=_xlsx_value(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl infers 'f' for a string starting with '='
            elif number_format and cell.value is not None:
                cell.number_format = number_format
            cells.append(cell)
        return cells

    ws.append(row(df.columns, [None] * len(df.columns)))
    for values in df.itertuples(index=False, name=None):
        ws.append(row(values, number_formats))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
