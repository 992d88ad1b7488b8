"""The data view's pieces (数据管理): one uploaded file's preview and header mapping, the import
report, the snapshot list. Streamlit only; the work is in ``analytics.importer``."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import filemodes, store
from analytics.importer import contract, docs, pipeline, readers
from ui import audit_guard, exports
from ui.shell import Viewer

UNITS = ("yuan", "wan", "yi")


SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@dataclass(frozen=True)
class SampleFile:
    """A committed sample file offered like an upload (a trainer demos an import with it)."""

    name: str
    path: Path

    def getvalue(self) -> bytes:
        return self.path.read_bytes()


def sample_files() -> list[str]:
    """The sample files of data/samples that a user may pick instead of uploading."""
    return sorted(p.name for p in SAMPLES.glob("*") if p.suffix.lower() in (".csv", ".xlsx"))


def sample(name: str) -> SampleFile:
    return SampleFile(name, SAMPLES / name)


@dataclass
class Chosen:
    """What the user chose for one uploaded file."""

    name: str
    data: bytes
    table: str | None
    encoding: str | None
    sheet: str | None
    mapping_rows: list[tuple[str, str, str | None]]  # (header, column or '', unit)
    refused: str | None = None
    refused_fields: dict | None = None


@st.cache_data(max_entries=32, show_spinner=False)
def _sniff(name: str, digest: str, _data: bytes, encoding: str | None, sheet: str | None):
    """The first rows of an uploaded file (cached by its content)."""
    return readers.sniff(_data, name, encoding=encoding, sheet=sheet)


def _label(viewer: Viewer, table: str) -> str:
    t = contract.TABLES[table]
    return f"{t.zh if viewer.lang == 'zh' else t.en} ({table})"


def file_panel(viewer: Viewer, upload, saved: pipeline.Mapping, n: int) -> Chosen:
    """Preview one uploaded file: the detected encoding (with an override), sheet, header row, the
    table it fills, and its header mapping as an editable table."""
    tr = viewer.t
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    key = f"imp_{n}_{digest[:12]}"
    with st.expander(f"{upload.name}", expanded=True):
        a, b, c = st.columns(3)
        enc = a.selectbox(tr("imp.encoding"), ["auto", "utf-8", "utf-8-sig", "gb18030", "gbk"],
                          key=f"{key}_enc", format_func=lambda e: tr("imp.auto") if e == "auto" else e)  # fmt: skip
        encoding = None if enc == "auto" else enc
        try:
            preview = _sniff(
                upload.name, digest, data, encoding, st.session_state.get(f"{key}_sheet")
            )
        except readers.ImportRefused as e:
            st.error(tr(f"why.{e.code}", **_fields(e.fields)))
            return Chosen(upload.name, data, None, encoding, None, [], e.code, dict(e.fields))
        sheet = None
        if preview.sheets:
            sheet = b.selectbox(tr("imp.sheet"), preview.sheets, key=f"{key}_sheet")
        guess = pipeline.guess_table(preview.headers) or "clients"
        tables = list(contract.TABLES)
        table = c.selectbox(tr("imp.table"), tables, index=tables.index(guess), key=f"{key}_table",
                            format_func=lambda t: _label(viewer, t))  # fmt: skip
        st.caption(tr("imp.detected", encoding=preview.encoding or "XLSX", row=preview.header_row,
                      n=len(preview.headers)))  # fmt: skip
        by_index, units, _ = pipeline.map_headers(table, preview.headers, saved, preview.title)
        spec = contract.TABLES[table]
        options = [""] + [col.name for col in spec.columns]
        names = {col.name: (col.zh if viewer.lang == "zh" else col.en) for col in spec.columns}
        frame = pd.DataFrame({
            "header": preview.headers,
            "column": [by_index.get(i, "") for i in range(len(preview.headers))],
            "unit": [units.get(by_index[i], "") if i in by_index and spec.column(by_index[i]).kind == "money"
                     else "" for i in range(len(preview.headers))],
        })  # fmt: skip
        edited = st.data_editor(
            frame, hide_index=True, key=f"{key}_map", disabled=["header"],
            column_config={
                "header": st.column_config.TextColumn(tr("imp.header")),
                "column": st.column_config.SelectboxColumn(
                    tr("imp.column"), options=options,
                    format_func=lambda c: f"{names[c]} ({c})" if c else tr("imp.ignore")),
                "unit": st.column_config.SelectboxColumn(
                    tr("imp.unit"), options=["", *UNITS], format_func=lambda u: tr(f"imp.unit.{u}") if u else ""),
            },
        )  # fmt: skip
        missing = [names[c] for c in spec.required if c not in set(edited["column"])]
        if missing:
            st.warning(tr("imp.required_missing", columns="、".join(missing)))
        if preview.rows:
            st.caption(tr("imp.first_rows"))
            st.dataframe(_masked_preview(preview, edited, spec), hide_index=True)
        rows = [
            (h, col or "", u or None)
            for h, col, u in edited[["header", "column", "unit"]].itertuples(index=False)
        ]
    return Chosen(upload.name, data, table, encoding, sheet, rows)


def _fields(fields: dict) -> dict:
    out = {"column": "", "limit_mb": "", "rows": "", "encoding": ""}
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def _masked_preview(preview, edited: pd.DataFrame, spec: contract.Table) -> pd.DataFrame:
    """The first rows with personal-data columns masked (as mapped just now)."""
    from analytics.privacy import PII_MASKERS, mask_name

    width = len(preview.headers)
    rows = [list(r)[:width] + [""] * (width - len(r)) for r in preview.rows]
    df = pd.DataFrame(rows, columns=[f"{i + 1}. {h}" for i, h in enumerate(preview.headers)])
    for i, col in enumerate(edited["column"]):
        if not col:
            continue
        c = spec.column(col)
        if c.pii or c.kind in ("id_number", "phone", "card"):
            masker = PII_MASKERS.get(col, mask_name)
            df.iloc[:, i] = [masker(str(v).replace("\x01", "")) if v else v for v in df.iloc[:, i]]
    return df.map(lambda v: str(v).replace("\x01", "") if v is not None else "")


def mapping_of(chosen: list[Chosen]) -> pipeline.Mapping:
    """The mapping as edited in every file's panel."""
    rows = [
        {"table": c.table, "header": h, "column": col, "unit": unit or ""}
        for c in chosen
        if c.table
        for h, col, unit in c.mapping_rows
    ]
    return pipeline.Mapping.from_frame(
        pd.DataFrame(rows, columns=["table", "header", "column", "unit"])
    )


@contextmanager
def spooled(chosen: list[Chosen]):
    """The uploaded files written to a private folder (0700), each file 0600, for the importer;
    removed after."""
    folder = store.warehouse_dir() / f".upload-{uuid.uuid4().hex}"
    folder.mkdir(parents=True, mode=0o700)
    try:
        files = []
        for n, c in enumerate(chosen):
            if c.table is None or c.refused:
                continue
            path = folder / f"{n}{Path(c.name).suffix.lower()}"
            filemodes.write_private(path, c.data)  # 0600: a bank's client file
            files.append(pipeline.ImportFile(path, c.table, c.name, c.encoding, c.sheet))
        yield files
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report_frame(viewer: Viewer, report: pipeline.ImportReport) -> pd.DataFrame:
    """The problem list as the viewer reads and downloads it: row numbers as numbers."""
    tr = viewer.t
    p = report.problems
    return pd.DataFrame({
        tr("imp.col.file"): p["file"],
        tr("imp.col.row"): p["row"],
        tr("imp.col.column"): p["column"],
        tr("imp.col.reason"): [tr(f"why.{r}", **_fields({"column": c})) for r, c in zip(p["reason"], p["column"], strict=True)],
        tr("imp.col.value"): p["value"],
        tr("imp.col.severity"): [tr(f"sev.{s}") for s in p["severity"]],
    })  # fmt: skip


def show_report(viewer: Viewer, report: pipeline.ImportReport) -> None:
    """The outcome of a check or an import: what was read, the counts and every problem listed."""
    tr = viewer.t
    for f in report.files:
        if f.refused:
            st.error(f"{f.source}: " + tr(f"why.{f.refused}", **_fields(f.refused_fields)))
        else:
            st.caption(tr("imp.read", file=f.source, table=_label(viewer, f.table), rows=f.rows,
                          row=f.header_row, dropped=len(f.dropped)))  # fmt: skip
    if report.ok:
        st.success(tr("imp.ok", warnings=report.warnings))
    else:
        st.error(tr("imp.rejected", errors=report.errors, warnings=report.warnings))
    if len(report.counts):
        st.dataframe(pd.DataFrame({
            tr("imp.col.reason"): [tr(f"why.{r}", **_fields({})) for r in report.counts["reason"]],
            tr("imp.col.severity"): [tr(f"sev.{s}") for s in report.counts["severity"]],
            tr("imp.col.count"): report.counts["problems"],
        }), hide_index=True)  # fmt: skip
    if len(report.problems):
        df = report_frame(viewer, report)
        st.dataframe(df, hide_index=True, height=min(400, 40 + 35 * len(df)))
        a, b = st.columns(2)
        # the report quotes the files' rows (client data): each download is audited first
        audit_guard.download_button(viewer, tr("imp.report_csv"), lambda: exports.csv_bytes(df),
                                    "import-report.csv", "text/csv", key="imp_report_csv", where=a)  # fmt: skip
        audit_guard.download_button(viewer, tr("imp.report_xlsx"), lambda: exports.xlsx_bytes(df, tr("imp.report")),
                                    "import-report.xlsx", key="imp_report_xlsx", where=b)  # fmt: skip


def snapshot_frame(viewer: Viewer, df: pd.DataFrame) -> pd.DataFrame:
    """The kept snapshots as the viewer reads them."""
    tr = viewer.t
    return pd.DataFrame({
        tr("snap.col.current"): ["●" if c else "" for c in df["current"]],
        tr("snap.col.as_of"): df["as_of"],
        tr("snap.col.source"): [tr(f"snap.source.{s}") if s in ("demo", "import") else tr("snap.invalid")
                                for s in df["source"]],
        tr("snap.col.clients"): df["clients"],
        tr("snap.col.holdings"): df["holdings"],
        tr("snap.col.transactions"): df["transactions"],
        tr("snap.col.by"): df["imported_by"],
        tr("snap.col.created"): [str(c or "")[:19].replace("T", " ") for c in df["created_at"]],
        tr("snap.col.name"): df["name"],
    })  # fmt: skip


def table_names(viewer: Viewer, tables) -> str:
    """The files a snapshot's tables came from, as the bank calls them, in the contract's order and
    the viewer's language (客户清单、资产余额表 / Client roster, Holdings); a table outside the
    import contract (the snapshot's own ``meta``) is not a file and is left out."""
    names = [
        t.zh if viewer.lang == "zh" else t.en for n, t in contract.TABLES.items() if n in tables
    ]
    return viewer.t("common.list_sep").join(names)


def templates(viewer: Viewer) -> None:
    """Blank templates to download and the data dictionary."""
    tr = viewer.t
    st.caption(tr("imp.templates_help"))
    for name, t in contract.TABLES.items():
        a, b, c = st.columns([3, 1, 1])
        req = tr("common.list_sep").join(
            (col.zh if viewer.lang == "zh" else col.en) for col in t.columns if col.required
        )
        a.markdown(f"**{t.zh if viewer.lang == 'zh' else t.en}** · {tr('imp.required')}: {req}")
        b.download_button("CSV", docs.template_csv(name), f"{name}.csv", "text/csv",
                          on_click="ignore", key=f"tpl_csv_{name}")  # fmt: skip
        c.download_button("XLSX", docs.template_xlsx(name), f"{name}.xlsx", on_click="ignore",
                          key=f"tpl_xlsx_{name}")  # fmt: skip
    with st.expander(tr("imp.dictionary")):
        dictionary(viewer)


def dictionary_frame(viewer: Viewer, table: str) -> pd.DataFrame:
    """One file's columns for the data dictionary in the viewer's language: the warehouse column,
    the template header, required, the kind, the other header spellings the importer recognises
    (as they are written in banks' files, whatever the language) and the notes."""
    tr, zh = viewer.t, viewer.lang == "zh"
    rows = []
    for c in contract.TABLES[table].columns:
        kind = tr(f"imp.kind.{c.kind}", codes=c.codes or "")
        if c.pii or c.kind in ("id_number", "phone", "card"):
            kind += f" · {tr('imp.dict.pii')}"
        rows.append({
            tr("imp.dict.col.column"): c.name,
            tr("imp.dict.col.header"): c.zh if zh else c.en,
            tr("imp.dict.col.required"): "✓" if c.required else "",
            tr("imp.dict.col.kind"): kind,
            tr("imp.dict.col.spellings"): tr("common.list_sep").join(c.aliases),
            tr("imp.dict.col.notes"): c.note_zh if zh else c.note_en,
        })  # fmt: skip
    return pd.DataFrame(rows)


def dictionary(viewer: Viewer) -> None:
    """The data dictionary in the viewer's language, made from the import contract like
    ``docs/data-dictionary.md`` (which holds both languages, for the bank's IT)."""
    tr, zh = viewer.t, viewer.lang == "zh"
    st.markdown(tr("imp.dict.intro"))
    st.markdown(tr("imp.dict.refused"))
    sep = tr("common.list_sep")
    for name, t in contract.TABLES.items():
        about = [tr("imp.dict.cli", cli=t.cli)] if t.cli else []
        if t.key:
            about.append(tr("imp.dict.key", columns=sep.join(f"`{k}`" for k in t.key)))
        if t.needs:
            about.append(tr("imp.dict.refers", tables=table_names(viewer, t.needs)))
        st.markdown(f"**{t.zh if zh else t.en}** (`{name}`) · {t.grain_zh if zh else t.grain_en}")
        st.caption(" · ".join(about))
        st.dataframe(dictionary_frame(viewer, name), hide_index=True)
