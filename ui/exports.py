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

No streamlit here: the import CLI writes its report with these functions too.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import numbers
import re

import numpy as np
import pandas as pd

# First characters that make Excel, LibreOffice or WPS read a cell as a formula (OWASP), and the
# full-width forms an IME types in a Chinese locale.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# What is stripped before looking at the first character: Excel ignores leading blanks there.
_LEADING_BLANKS = " \u3000\xa0\n"
# Characters XML 1.0 forbids (openpyxl raises IllegalCharacterError on them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    neutralised and every text cell stored as text (data type 's'), never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(sheet))
    ws.freeze_panes = "A2"

    def row(values) -> list:
        cells = []
        for v in values:
            cell = WriteOnlyCell(ws, value=_xlsx_value(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl infers 'f' for a string starting with '='
            cells.append(cell)
        return cells

    ws.append(row(df.columns))
    for values in df.itertuples(index=False, name=None):
        ws.append(row(values))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
