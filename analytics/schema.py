"""Access to ``analytics/schema.sql`` by part.

The schema file is split into named parts by marker lines of the form ``-- @@NAME`` (today
``WAREHOUSE`` and ``WORKSPACE``). ``schema_part("warehouse")`` returns the SQL text between the
``-- @@WAREHOUSE`` line and the next marker (or the end of the file), ready for
``con.execute(...)``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.sql"

_MARKER = re.compile(r"^--\s*@@(\w+)\s*$")


@lru_cache(maxsize=4)
def _parts(path: str) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _MARKER.match(line.strip())
        if m:
            name = m.group(1).upper()
            if name in parts:
                raise ValueError(f"schema part {name!r} appears twice in {path}")
            current = parts[name] = []
            continue
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() + "\n" for name, lines in parts.items()}


def part_names(path: str | Path | None = None) -> list[str]:
    """Names of the parts in the schema file, in file order (upper case)."""
    return list(_parts(str(path or SCHEMA_PATH)))


def schema_part(name: str, path: str | Path | None = None) -> str:
    """SQL text of the part ``name`` (case-insensitive) of the schema file.

    Raises ``KeyError`` for an unknown part.
    """
    parts = _parts(str(path or SCHEMA_PATH))
    key = name.upper()
    if key not in parts:
        raise KeyError(f"no schema part {name!r}; known parts: {', '.join(parts)}")
    return parts[key]


def warehouse_table_names(path: str | Path | None = None) -> list[str]:
    """Table names created by the WAREHOUSE part, in file order."""
    sql = schema_part("WAREHOUSE", path)
    return re.findall(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", sql, flags=re.I)
