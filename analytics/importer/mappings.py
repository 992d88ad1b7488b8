"""Header mappings saved in the workspace: what a user corrected in the data view is used for
every later import of files with the same headers (DESIGN.md §2: the workspace survives every
re-import)."""

from __future__ import annotations

from analytics.importer.normalize import header_key
from analytics.importer.pipeline import Mapping
from analytics.store import Database


def saved_mapping(ws: Database) -> Mapping:
    """Every saved correction as a ``Mapping``."""
    df = ws.query(
        'SELECT table_name AS "table", header, column_name AS "column", unit FROM import_mappings'
    )
    return Mapping.from_frame(df)


def save_mapping(ws: Database, table: str, rows: list[tuple[str, str, str | None]], by: str) -> int:
    """Store (header, column, unit) corrections for ``table``, replacing earlier ones for the same
    headers; return how many were saved. A column of '' means 'leave this header out'."""
    with ws.cursor() as cur:
        for header, column, unit in rows:
            key = header_key(header)
            if not key:
                continue
            cur.execute(
                "INSERT OR REPLACE INTO import_mappings (table_name, header, column_name, unit, "
                "saved_by) VALUES (?, ?, ?, ?, ?)",
                [table, key, column or "", unit or None, by],
            )
    return len(rows)
