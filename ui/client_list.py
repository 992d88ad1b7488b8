"""The one client-list component every view uses: top N from the database, server-side sort, masked
names, tier and value score, a row opens the client, and a masked export (audited)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics import client_lists, tags, value
from analytics.settings import load_settings
from ui import audit_guard, exports, formats, needs, shell
from ui.shell import Viewer

# Columns where smaller is better (an ``ease`` or campaign ``rank``: 1 = first); everything else
# sorts largest first.
ASCENDING = frozenset({"ease", "rank"})


@dataclass(frozen=True)
class Column:
    """An extra column from the view's ``members`` frame: its label key and how to show it
    (money, pct, count, date, text, yes_no, or ``code:<prefix>`` to translate a code)."""

    label: str
    kind: str = "text"


def _show(values: pd.Series, kind: str, viewer: Viewer) -> list:
    if kind == "money":
        return [formats.money(v, viewer.lang) for v in values]
    if kind == "pct":
        return [formats.pct(v) for v in values]
    if kind == "date":
        return [
            formats.day(pd.Timestamp(v).date(), viewer.lang) if pd.notna(v) else "" for v in values
        ]
    if kind == "yes_no":
        return [viewer.t("common.yes") if bool(v) else viewer.t("common.no") for v in values]
    if kind.startswith("code:"):
        prefix = kind.split(":", 1)[1]
        return [viewer.t(f"{prefix}.{v}") if pd.notna(v) else "" for v in values]
    return list(values)


def table(viewer: Viewer, rows: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
    """The list as the viewer reads it (and exports it): translated headers and values."""
    zh = viewer.lang == "zh"
    out = {
        viewer.t("col.client_id"): rows["client_id"],
        viewer.t("col.name"): rows["name_zh" if zh else "name_en"],
        viewer.t("col.rm"): rows["rm_zh" if zh else "rm_en"].fillna(viewer.t("client.no_rm")),
        viewer.t("col.age"): rows["age"],
        viewer.t("col.tier"): [viewer.t(f"tier.{x}") for x in rows["tier"]],
        viewer.t("col.aum"): [formats.money(v, viewer.lang) for v in rows["aum"]],
    }
    if "value_tier" in rows:
        out[viewer.t("client.value_tier")] = _show(rows["value_tier"], "code:vt", viewer)
        out[viewer.t("client.value_score")] = [
            None if pd.isna(v) else round(float(v)) for v in rows["value_score"]
        ]
    for col, spec in columns.items():
        out[viewer.t(spec.label)] = _show(rows[col], spec.kind, viewer)
    return pd.DataFrame(out)


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
    """The list's export: the rows as shown, up to ``[client_lists] export_max``."""
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
        return rows["client_id"].tolist(), table(viewer, rows, columns), {}

    downloads(viewer, key, name, signature, build)


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(viewer: Viewer, key: str, name: str, signature, build) -> None:
    """A two-step export: the button prepares the file (who is on it, as shown, masked); the
    downloads are then offered without another rerun, and each download writes its record in the
    audit log (who exported which clients into which file) before the file is made.

    ``build()`` returns (client_ids, table, extra) where ``extra`` maps a button label to
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
