"""The import contract written out for people: the data dictionary (docs/data-dictionary.md) and
blank templates with Chinese headers (CSV and XLSX), both made from ``contract.py`` so they never
drift from what the importer accepts."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from analytics.importer import contract

KIND_TEXT = {
    "key": ("编号（文本）", "identifier (text)"),
    "text": ("文本", "text"),
    "id_number": ("18 位身份证号（校验位）", "18-character resident ID (check digit)"),
    "phone": ("11 位手机号", "11-digit mobile"),
    "card": ("12–19 位卡号/账号（文本）", "12-19 digit card/account number (text)"),
    "money": ("金额：元，或表头/标题注明万元", "amount: yuan, or 万元 when the header/title says so"),
    "rate": ("比率：3.25% 或 0.0325", "rate: 3.25% or 0.0325"),
    "int": ("整数", "whole number"),
    "date": ("日期：2024-01-05、2024/1/5、20240105、2024年1月5日、Excel 日期", "date: 2024-01-05, 2024/1/5, 20240105, 2024年1月5日, Excel date"),
    "bool": ("是/否", "yes/no"),
    "code": ("代码（见 settings.toml [importer.codes.{codes}]）", "code (see settings.toml [importer.codes.{codes}])"),
}  # fmt: skip


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def data_dictionary() -> str:
    """Markdown: every importable table with its columns, in Chinese and English."""
    out = io.StringIO()
    w = out.write
    w("# 数据字典 Data dictionary\n\n")
    w(
        "由 `python -m analytics.importer dictionary` 从 `analytics/importer/contract.py` 生成，请勿手改。\n"
    )
    w("Generated from `analytics/importer/contract.py` by `python -m analytics.importer dictionary`; "
      "do not edit by hand.\n\n")  # fmt: skip
    w("最少只需一份**客户清单**（客户号 + 月日均资产，以及所属机构或 `--branch`）。"
      "表头可用下列任一写法（不区分全角半角、大小写、空格，单位写在括号里，如 `月日均资产(万元)`）；"
      "认不出的表头可在数据管理页面或 `--mapping` 文件中指定。\n\n")  # fmt: skip
    w("The minimum import is a **client roster** (client ID + month-average AUM, and the branch or "
      "`--branch`). Any of the header spellings below is recognised (full-width, case and spaces "
      "do not matter; a unit goes in brackets, e.g. `月日均资产(万元)`); other headers can be "
      "mapped in the data view or with a `--mapping` file.\n\n")  # fmt: skip
    w(
        "Files that carry passwords, PINs, CVV or track data (JR/T 0171-2020 C3) are refused whole.\n\n"
    )
    for t in contract.TABLES.values():
        w(f"## {t.zh} — {t.en} (`{t.name}`)\n\n")
        w(f"{t.grain_zh} / {t.grain_en}. CLI: `{t.cli}`")
        if t.key:
            w(f" · key 唯一键: {', '.join(t.key)}")
        if t.needs:
            w(f" · refers to 引用: {', '.join(t.needs)}")
        w(
            "\n\n| 列 column | 中文表头 | English header | 必填 required | 类型 kind | 其他写法 other spellings | 说明 notes |\n"
        )
        w("| --- | --- | --- | --- | --- | --- | --- |\n")
        for c in t.columns:
            kz, ke = KIND_TEXT[c.kind]
            kind = f"{kz.format(codes=c.codes)} / {ke.format(codes=c.codes)}"
            if c.pii or c.kind in ("id_number", "phone", "card"):
                kind += " · PII 个人信息（脱敏显示）"
            notes = " / ".join(x for x in (c.note_zh, c.note_en) if x)
            w(f"| `{c.name}` | {_cell(c.zh)} | {_cell(c.en)} | {'是 yes' if c.required else ''} | "
              f"{_cell(kind)} | {_cell('、'.join(c.aliases))} | {_cell(notes)} |\n")  # fmt: skip
        w("\n")
    return out.getvalue()


def template_frame(table: str) -> pd.DataFrame:
    """An empty frame with the table's Chinese template headers, required columns first."""
    t = contract.TABLES[table]
    cols = [c for c in t.columns if c.required] + [c for c in t.columns if not c.required]
    return pd.DataFrame(columns=[c.zh for c in cols])


def template_csv(table: str) -> bytes:
    """A blank template as CSV in UTF-8 with BOM (opens right in Chinese Excel)."""
    return template_frame(table).to_csv(index=False).encode("utf-8-sig")


def template_xlsx(table: str) -> bytes:
    """A blank template as XLSX, every column formatted as text so that Excel keeps ID numbers."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = contract.TABLES[table].zh
    for i, header in enumerate(template_frame(table).columns, start=1):
        ws.cell(row=1, column=i, value=header)
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(12, 2 * len(header) + 2)
        for r in range(2, 201):  # text format for the rows a user fills, so IDs stay text
            ws.cell(row=r, column=i).number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_templates(folder: Path) -> list[Path]:
    """Write every table's CSV and XLSX template into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in contract.TABLES:
        for ext, data in (("csv", template_csv(name)), ("xlsx", template_xlsx(name))):
            p = folder / f"{name}.{ext}"
            p.write_bytes(data)
            out.append(p)
    return out
