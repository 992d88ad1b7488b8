"""The one client-list component every view uses: top N from the database, server-side sort, masked
names, tier and value score, a row opens the client, and a masked export (audited)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics import client_lists, tags, value
from analytics.settings import load_settings
from ui import audit_guard, exports, needs, shell
from ui.shell import Viewer

# Columns where smaller is better (an ``ease`` or campaign ``rank``: 1 = first); everything else
# sorts largest first.
ASCENDING = frozenset({"ease", "rank"})


@dataclass(frozen=True)
class Column:
    """An extra column from the view's ``members`` frame: its label key and its kind: one of
    ``exports.KINDS`` (money, pct, count, date, text: shown formatted, exported as data), yes_no,
    or ``code:<prefix>`` to translate a code (both text in words, on screen and in the file)."""

    label: str
    kind: str = "text"


def _column(viewer: Viewer, header: str, values: pd.Series, kind: str) -> exports.Col:
    if kind == "yes_no":
        words = [viewer.t("common.yes") if bool(v) else viewer.t("common.no") for v in values]
        return exports.Col(header, exports.TEXT, words)
    if kind.startswith("code:"):
        prefix = kind.split(":", 1)[1]
        words = [viewer.t(f"{prefix}.{v}") if pd.notna(v) else "" for v in values]
        return exports.Col(header, exports.TEXT, words)
    return exports.Col(header, kind, values)


def columns_of(viewer: Viewer, rows: pd.DataFrame, columns: dict[str, Column]) -> list[exports.Col]:
    """The list's columns (``exports.Col``): translated headers, AUM and money in yuan, shares as
    fractions, dates as dates, codes in words, names masked (``client_lists`` masks them)."""
    zh, tr = viewer.lang == "zh", viewer.t
    out = [
        exports.Col(tr("col.client_id"), exports.TEXT, rows["client_id"]),
        exports.Col(tr("col.name"), exports.TEXT, rows["name_zh" if zh else "name_en"]),
        exports.Col(tr("col.rm"), exports.TEXT,
                    rows["rm_zh" if zh else "rm_en"].fillna(tr("client.no_rm"))),
        exports.Col(tr("col.age"), exports.COUNT, rows["age"]),
        exports.Col(tr("col.tier"), exports.TEXT, [tr(f"tier.{x}") for x in rows["tier"]]),
        exports.Col(tr("col.aum"), exports.MONEY, rows["aum"]),
    ]  # fmt: skip
    if "value_tier" in rows:
        out.append(_column(viewer, tr("client.value_tier"), rows["value_tier"], "code:vt"))
        scores = [None if pd.isna(v) else round(float(v)) for v in rows["value_score"]]
        out.append(exports.Col(tr("client.value_score"), exports.COUNT, scores))
    for col, spec in columns.items():
        out.append(_column(viewer, tr(spec.label), rows[col], spec.kind))
    return out


def table(viewer: Viewer, rows: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
    """The list as the viewer reads it: translated headers and values (money as 万/¥)."""
    return exports.shown(columns_of(viewer, rows, columns), viewer.lang)


def export_table(viewer: Viewer, rows: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
    """The list as its CSV/XLSX holds it (``exports.frame``): the same columns, money in yuan
    with the unit in the header, counts and shares as numbers, dates as dates, names masked."""
    return exports.frame(columns_of(viewer, rows, columns), viewer.lang)


def show(
    viewer: Viewer,
    members: pd.DataFrame | None,
    key: str,
    columns: dict[str, Column] | None = None,
    sort_by: str = "aum",
    export_name: str = "clients",
) -> None:
    """Render a client list. ``members`` (client_id + the view's columns) says who is on it; None
    lists every client in scope. A selected row opens the client view."""
    columns = columns or {}
    scores = shell.cached(value.client_scores, viewer)
    if scores.empty:  # no value scores for this snapshot (no holdings imported): no such columns
        scores = None
    options = {"aum": "col.aum"} | ({} if scores is None else {"value_score": "client.value_score"})
    options |= {c: s.label for c, s in columns.items() if s.kind in ("money", "pct", "count")}
    if sort_by not in options:
        options = {sort_by: columns[sort_by].label} | options if sort_by in columns else options
    members = _tag_filter(viewer, members, key)
    left, right = st.columns([1, 3])
    sort_by = left.selectbox(
        viewer.t("list.sort"),
        list(options),
        index=list(options).index(sort_by) if sort_by in options else 0,
        format_func=lambda c: viewer.t(options[c]),
        key=f"{key}_sort",
    )
    top_n = int(load_settings()["client_lists"]["top_n"])
    listed = client_lists.client_list(
        shell.warehouse(viewer.snapshot_path), viewer.scope, members, scores,
        sort_by=sort_by, descending=sort_by not in ASCENDING, limit=top_n,
    )  # fmt: skip
    if listed.total == 0:
        st.info(viewer.t("list.empty"))
        return
    right.caption(viewer.t("list.caption", shown=len(listed.rows), total=listed.total))
    shown = table(viewer, listed.rows, columns)
    event = st.dataframe(
        shown, hide_index=True, on_select="rerun", selection_mode="single-row", key=f"{key}_table"
    )
    if event.selection.rows:
        client_id = listed.rows["client_id"].iloc[event.selection.rows[0]]
        st.switch_page(
            "pages/client.py",
            query_params={"client": client_id, "lang": viewer.lang, **_as_param(viewer)},
        )
    _export(viewer, members, scores, columns, sort_by, key, export_name)


def _tag_filter(viewer: Viewer, members: pd.DataFrame | None, key: str) -> pd.DataFrame | None:
    """Narrow the list to clients holding all (or any) of the tags picked above it."""
    a, b = st.columns([3, 1])
    wanted = a.multiselect(
        viewer.t("list.tags"), list(needs.available_tags(viewer)),
        format_func=lambda c: viewer.t(f"tag.{c}"),
        key=f"{key}_tags", placeholder=viewer.t("list.tags_placeholder"),
    )  # fmt: skip
    mode = b.radio(
        viewer.t("list.tags_mode"), list(tags.MODES), horizontal=True,
        format_func=lambda m: viewer.t(f"list.tags_{m}"), key=f"{key}_tags_mode",
    )  # fmt: skip
    if not wanted:
        return members
    tagged = tags.filter_by_tags(shell.cached(tags.client_tags, viewer, viewer.today), wanted, mode)
    if members is None:
        return tagged
    return members[members["client_id"].isin(tagged["client_id"])]


def _as_param(viewer: Viewer) -> dict:
    return {"as": st.query_params["as"]} if viewer.demo_mode and "as" in st.query_params else {}


def _export(viewer, members, scores, columns, sort_by, key, name) -> None:
    """The list's export: the rows as listed, up to ``[client_lists] export_max``, as data
    (``export_table``)."""
    signature = (
        sort_by,
        viewer.lang,
        0 if members is None else int(pd.util.hash_pandas_object(members, index=False).sum()),
    )

    def build():
        limit = int(load_settings()["client_lists"]["export_max"])
        rows = client_lists.client_list(
            shell.warehouse(viewer.snapshot_path), viewer.scope, members, scores,
            sort_by=sort_by, descending=sort_by not in ASCENDING, limit=limit,
        ).rows  # fmt: skip
        return rows["client_id"].tolist(), export_table(viewer, rows, columns), {}

    downloads(viewer, key, name, signature, build)


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(viewer: Viewer, key: str, name: str, signature, build) -> None:
    """A two-step export: the button prepares the file (who is on it, as data, masked); the
    downloads are then offered without another rerun, and each download writes its record in the
    audit log (who exported which clients into which file) before the file is made.

    ``build()`` returns (client_ids, table, extra) where ``table`` is an ``exports.frame``
    (numbers as numbers, kinds kept for the XLSX formats) and ``extra`` maps a button label to
    (bytes, file name, MIME type) for files besides the table's CSV and XLSX (e.g. an .ics).
    ``signature`` identifies what is exported, so a file prepared for other rows is not offered.
    """
    if st.button(viewer.t("list.export"), key=f"{key}_export"):
        client_ids, ready, extra = build()
        event = audit_guard.event_for(viewer, "export", client_ids, name)  # branches looked up once
        st.session_state[f"{key}_file"] = (signature, ready, extra, event)
    prepared = st.session_state.get(f"{key}_file")
    if prepared is None or prepared[0] != signature:
        return
    _, ready, extra, event = prepared
    files = {
        "CSV": (lambda: exports.csv_bytes(ready), f"{name}.csv", "text/csv"),
        "XLSX": (lambda: exports.xlsx_bytes(ready), f"{name}.xlsx", XLSX_MIME),
        **extra,
    }
    for col, (label, (data, file_name, mime)) in zip(
        st.columns([1] * len(files) + [max(1, 6 - len(files))]), files.items(), strict=False
    ):
        audit_guard.download_button(
            viewer, label, data, file_name, mime, key=f"{key}_{label.lower()}", event=event,
            where=col,
        )  # fmt: skip
