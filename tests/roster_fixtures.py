"""A roster-only warehouse snapshot, as the importer builds it from a client roster (客户清单) with
each client's month-average AUM and nothing else (issue 11, "minimum import").

``build_roster_snapshot`` writes the WAREHOUSE schema and fills only branches (made from the
roster's branch ids), rms (made from its RM ids), clients and client_aum_monthly; every other table
is empty and ``meta.tables`` says so. Variants:

- ``partial=True``: a few optional client columns (birth date, gender, risk level, phone, ID
  number) are given for some clients and NULL for the others;
- ``history=True``: two earlier month-ends of AUM before the as-of row;
- ``holdings=True``: a holdings file too (each client's AUM in one current deposit, on a one-product
  shelf), to check what the holdings-based views do with the roster's unknowns.

The clients and their AUM are fixed (``ROSTER``), so tests can check known numbers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from analytics.schema import schema_part

AS_OF = date(2026, 11, 20)  # an import's as-of: the date the files describe, not a month-end
HISTORY = (date(2026, 9, 30), date(2026, 10, 31))
TABLES = "branches,rms,clients,client_aum_monthly"

# client_id -> (branch, rm, month-average AUM at AS_OF). Chosen to land in every tier, with
# upgrade near-misses just under 5万, 20万, 50万 and 200万, and clients without an RM.
ROSTER: dict[str, tuple[str, str | None, float]] = {
    "K0001": ("B001", "M01", 12_000.00),
    "K0002": ("B001", "M01", 47_500.00),  # near Potential (5万)
    "K0003": ("B001", "M01", 150_000.00),
    "K0004": ("B001", "M01", 190_000.00),  # near Gold (20万)
    "K0005": ("B001", "M01", 480_000.00),  # near Platinum (50万)
    "K0006": ("B001", "M01", 520_000.00),
    "K0007": ("B001", "M02", 3_000.00),
    "K0008": ("B001", "M02", 1_900_000.00),  # near Diamond (200万)
    "K0009": ("B001", "M02", 2_500_000.00),
    "K0010": ("B001", "M02", 7_000_000.00),
    "K0011": ("B001", None, 60_000.00),
    "K0012": ("B001", None, 650_000.00),  # high-end without an RM
    "K0013": ("B002", "M03", 8_000.00),
    "K0014": ("B002", "M03", 46_000.00),  # near Potential
    "K0015": ("B002", "M03", 210_000.00),
    "K0016": ("B002", "M03", 455_000.00),  # near Platinum
    "K0017": ("B002", "M04", 900_000.00),
    "K0018": ("B002", "M04", 35_000.00),
    "K0019": ("B002", None, 0.00),
    "K0020": ("B002", "M04", 120_000.50),
}
RMS = {"M01": "B001", "M02": "B001", "M03": "B002", "M04": "B002"}
NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许"

# The optional columns given for some clients in the partial variant (the others stay NULL).
PARTIAL = {
    "K0001": dict(gender="F", birth_date=date(1950, 3, 1), risk_level="C2", phone="13812345678",
                  id_number="110101195003011234"),
    "K0005": dict(gender="M", birth_date=date(1970, 7, 9), risk_level="C4"),
    "K0008": dict(birth_date=date(1962, 1, 20), phone="13987654321"),
    "K0014": dict(gender="F", risk_level="C3", id_number="11010119800101123X"),
    "K0017": dict(birth_date=date(1958, 12, 31)),
}  # fmt: skip


def build_roster_snapshot(
    path: Path, partial: bool = False, history: bool = False, holdings: bool = False
) -> Path:
    """Write a roster-only snapshot file at ``path`` (a fresh file) and return the path."""
    con = duckdb.connect(str(path))
    try:
        con.execute(schema_part("WAREHOUSE"))
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ["as_of", AS_OF.isoformat()],
                ["source", "import"],
                ["tables", TABLES + (",products,holdings_monthly" if holdings else "")],
                ["created_at", "2026-11-21T02:00:00+00:00"],
            ],
        )
        con.executemany(
            "INSERT INTO branches VALUES (?, ?, ?, NULL)", [[b, b, b] for b in ("B001", "B002")]
        )
        con.executemany(
            "INSERT INTO rms (rm_id, branch_id, name_zh, name_en, title, hire_date) "
            "VALUES (?, ?, ?, ?, 'client', NULL)",
            [[rm, branch, rm, rm] for rm, branch in RMS.items()],
        )
        for i, (cid, (branch, rm, aum)) in enumerate(ROSTER.items()):
            name = NAMES[i] + "某"
            extra = PARTIAL.get(cid, {}) if partial else {}
            con.execute(
                "INSERT INTO clients (client_id, branch_id, rm_id, name_zh, name_en, gender, "
                "birth_date, id_number, phone, risk_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [cid, branch, rm, name, name, extra.get("gender"), extra.get("birth_date"),
                 extra.get("id_number"), extra.get("phone"), extra.get("risk_level")],
            )  # fmt: skip
            rows = [[AS_OF, cid, branch, rm, aum, aum]]
            if history:
                # earlier months: a little less, so that some clients cross a line upwards
                rows = [[m, cid, branch, rm, round(aum * f, 2), round(aum * f, 2)]
                        for m, f in zip(HISTORY, (0.9, 0.95), strict=True)] + rows  # fmt: skip
            con.executemany("INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)", rows)
            if holdings:
                con.executemany(
                    "INSERT INTO holdings_monthly VALUES (?, ?, 'P_DEP', ?, ?, ?, NULL)",
                    [[m, c, a, a, a] for m, c, _, _, a, _ in rows],
                )
        if holdings:
            con.execute(
                "INSERT INTO products VALUES ('P_DEP', '活期存款', 'Current deposit', "
                "'current_deposit', 'R1', 'T+0', 0.001, NULL, TRUE)"
            )
    finally:
        con.close()
    return path
