"""Downloads (DESIGN.md §6): CSV in utf-8-sig, which Chinese Excel opens correctly, and .xlsx."""

from __future__ import annotations

import io

import pandas as pd


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as CSV with a byte-order mark, so Excel on a Chinese Windows reads it as UTF-8."""
    return df.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "BranchLens") -> bytes:
    """The table as an Excel workbook (openpyxl), one sheet, header row frozen."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        df.to_excel(xl, index=False, sheet_name=sheet[:31])
        xl.sheets[sheet[:31]].freeze_panes = "A2"
    return buf.getvalue()
