"""Views on data that was not imported (issue 11, minimum import): say which file is missing.

A bank may import only its client roster with month-average AUM. A view, tab or section that needs
another table asks first::

    if needs.require(viewer, "holdings"):        # a part of analytics.coverage.NEEDS, or a table
        ...draw the product mix...

``require`` returns True when the snapshot has the data; otherwise it shows an ``st.info`` naming
the files to import (their names from the import contract, ``analytics/importer/contract.py``, in
the viewer's language) and where (the Data view, 数据管理), and returns False, so nothing shows
zeros as facts. ``has`` asks without showing anything; ``note`` shows the message for a part that
only enriches a view that works anyway (e.g. maturing money next to an upgrade gap).
``require_column`` does the same for an optional roster column (birth dates for ages).

What a snapshot was given is read once per snapshot file (cached like ``shell.snapshot_facts``).
"""

from __future__ import annotations

import streamlit as st

from analytics import access, coverage
from analytics.importer.contract import TABLES
from ui import shell
from ui.shell import Viewer


@st.cache_data(max_entries=8, show_spinner=False)
def _imported(path: str) -> frozenset[str]:
    return coverage.imported(shell.warehouse(path))


@st.cache_data(max_entries=8, show_spinner=False)
def _filled(path: str) -> frozenset[str]:
    return coverage.filled_columns(shell.warehouse(path))


def missing(viewer: Viewer, *parts: str) -> tuple[str, ...]:
    """The tables the ``parts`` (``coverage.NEEDS`` keys or table names) need that the viewer's
    snapshot was not given."""
    have = _imported(viewer.snapshot_path)
    return tuple(t for t in coverage.tables_of(*parts) if t not in have)


def has(viewer: Viewer, *parts: str) -> bool:
    """Whether the snapshot has every table the ``parts`` need (nothing is shown)."""
    return not missing(viewer, *parts)


def file_name(viewer: Viewer, table: str) -> str:
    """What the bank calls a table's file, in the viewer's language: 资产余额表 / Holdings."""
    t = TABLES.get(table)
    if t is None:
        return table
    return t.zh if viewer.lang == "zh" else t.en


def message(
    viewer: Viewer, tables: tuple[str, ...], what: str | None = None, partial: bool = False
) -> str:
    """The sentence naming the files to import (``what``: an i18n key for the part's name;
    ``partial``: the part is shown, without what those files would add)."""
    files = viewer.t("common.list_sep").join(
        viewer.t("needs.file", name=file_name(viewer, t)) for t in tables
    )
    subject = viewer.t(what) if what else viewer.t("needs.this_part")
    where = "needs.where_import" if access.may(viewer.scope, "import") else "needs.where_ask"
    key = "needs.partial" if partial else "needs.missing"
    return _sentences(viewer, viewer.t(key, what=subject, files=files), viewer.t(where))


def _sentences(viewer: Viewer, *parts: str) -> str:
    return ("" if viewer.lang == "zh" else " ").join(parts)


def require(
    viewer: Viewer, *parts: str, what: str | None = None, columns: tuple[str, ...] = ()
) -> bool:
    """True when the data is there; else an ``st.info`` naming the missing files, and False.
    ``columns`` (``coverage.COLUMN_NEEDS`` keys) are roster columns the part also reads."""
    gone = missing(viewer, *parts)
    if gone:
        st.info(message(viewer, gone, what), icon=":material/upload_file:")
        return False
    return all(require_column(viewer, c, what) for c in columns)


def note(viewer: Viewer, *parts: str, what: str | None = None, partial: bool = True) -> None:
    """The message for a part that only adds to a view (the view is shown anyway): what is shown
    does not include those files (``partial``), or ``what`` needs them."""
    gone = missing(viewer, *parts)
    if gone:
        st.info(message(viewer, gone, what, partial=partial), icon=":material/upload_file:")


def has_column(viewer: Viewer, part: str) -> bool:
    """Whether the roster column a part of ``coverage.COLUMN_NEEDS`` reads holds any value."""
    _, column = coverage.COLUMN_NEEDS[part]
    return column in _filled(viewer.snapshot_path)


def require_column(viewer: Viewer, part: str, what: str | None = None) -> bool:
    """True when the roster column of ``part`` holds values; else an ``st.info`` naming the column
    and its file (客户清单 · 出生日期), and False."""
    if has_column(viewer, part):
        return True
    table, column = coverage.COLUMN_NEEDS[part]
    col = TABLES[table].column(column)
    zh = viewer.lang == "zh"
    name = col.zh if zh else col.en
    hint = col.note_zh if zh else col.note_en
    subject = viewer.t(what) if what else viewer.t("needs.this_part")
    where = "needs.where_import" if access.may(viewer.scope, "import") else "needs.where_ask"
    text = viewer.t(
        "needs.column",
        what=subject,
        column=name,
        hint=viewer.t("needs.column_hint", hint=hint) if hint else "",
        file=file_name(viewer, table),
    )
    st.info(_sentences(viewer, text, viewer.t(where)), icon=":material/upload_file:")
    return False


def require_months(viewer: Viewer, months: list, n: int = 2, what: str | None = None) -> bool:
    """True when the snapshot has at least ``n`` month-ends of AUM; else an ``st.info`` asking
    for earlier months of the AUM file (a roster import has its one date), and False."""
    if len(months) >= n:
        return True
    subject = viewer.t(what) if what else viewer.t("needs.this_part")
    where = "needs.where_import" if access.may(viewer.scope, "import") else "needs.where_ask"
    text = viewer.t(
        "needs.months", what=subject, n=n, have=len(months),
        file=file_name(viewer, "client_aum_monthly"),
    )  # fmt: skip
    st.info(_sentences(viewer, text, viewer.t(where)), icon=":material/upload_file:")
    return False


@st.cache_data(max_entries=8, show_spinner=False)
def _tags(path: str) -> tuple[str, ...]:
    from analytics.tags import available_tags

    return available_tags(shell.warehouse(path))


def available_tags(viewer: Viewer) -> tuple[str, ...]:
    """The client tags the snapshot has the data for (``analytics.tags.available_tags``)."""
    return _tags(viewer.snapshot_path)
