"""A tiny hand-made warehouse for the contact planner and contact-log tests.

``TinyWarehouse`` writes the full warehouse schema (analytics/schema.sql) and lets a test add
clients with only the facts it cares about; everything else gets a quiet default (no birthday or
pay day near the plan, a fresh risk assessment, a recent CRM contact), so a client is in the plan
only for the trigger the test gives it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from analytics.schema import schema_part
from analytics.store import Database

AS_OF = date(2026, 10, 31)
MONTHS = (date(2026, 8, 31), date(2026, 9, 30), AS_OF)
MONDAY = date(2026, 11, 23)  # a working day; the plan tests start here
RMS = {"R1": "B001", "R2": "B001", "R9": "B002"}
PRODUCTS = {
    "P_TD": ("time_deposit", "R1"),
    "P_EQ": ("equity_fund", "R4"),
    "P_DEP": ("current_deposit", "R1"),
    "P_ANN": ("annuity_insurance", "R2"),
}


class TinyWarehouse:
    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute(schema_part("WAREHOUSE"))
        self.con.execute("INSERT INTO meta VALUES ('as_of', ?), ('source', 'demo')", [str(AS_OF)])
        self.con.execute(
            "INSERT INTO branches VALUES ('B001', '一支行', 'One', '北京'), "
            "('B002', '二支行', 'Two', '北京')"
        )
        for rm, branch in RMS.items():
            self.con.execute(
                "INSERT INTO rms VALUES (?, ?, ?, ?, 'wealth', '2020-01-01')",
                [rm, branch, rm, rm],
            )
        for pid, (cat, risk) in PRODUCTS.items():
            self.con.execute(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?, 'T+1', 0.02, NULL, TRUE)",
                [pid, pid, pid, cat, risk],
            )
        self.n = 0

    def client(
        self,
        cid: str,
        rm: str = "R1",
        aum: float | list[float] = 100_000,
        birth: date = date(1970, 6, 15),
        pay_day: int | None = None,
        pension: bool = False,
        mobile: bool = True,
        risk_on: date = date(2026, 9, 1),
        last_contact: date | None = date(2026, 11, 10),
    ) -> str:
        """Add a client of ``rm`` with monthly AUM (a current deposit) and a CRM contact."""
        branch = RMS[rm]
        self.n += 1
        self.con.execute(
            """
            INSERT INTO clients VALUES (?, ?, ?, '张三', 'Zhang San', 'M', ?, ?, '13800000000',
                '北京市', ?, 'office', 'married', 10000, 5000, 'C3', ?, ?, ?, ?, NULL, ?, ?)
            """,
            [cid, branch, rm, birth, f"11010119700101{self.n:04d}",
             f"62220000000000{self.n:05d}", risk_on, pay_day is not None and not pension,
             pension, pay_day, mobile, date(2015, 1, 1)],
        )  # fmt: skip
        values = aum if isinstance(aum, list) else [aum] * len(MONTHS)
        for month, v in zip(MONTHS, values, strict=True):
            self.con.execute(
                "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
                [month, cid, branch, rm, v, v],
            )
            self.con.execute(
                "INSERT INTO holdings_monthly VALUES (?, ?, 'P_DEP', ?, ?, ?, NULL)",
                [month, cid, v, v, v],
            )
        if last_contact is not None:
            self.contact(cid, last_contact, rm)
        return cid

    def contact(self, cid: str, day: date, rm: str = "R1", topic: str = "service") -> None:
        self.con.execute(
            "INSERT INTO contact_history VALUES (?, ?, ?, 'call', ?, 'reached')",
            [cid, rm, day, topic],
        )

    def holding(
        self, cid: str, product: str, balance: float, cost: float, maturity=None, month=AS_OF
    ):
        self.con.execute(
            "INSERT INTO holdings_monthly VALUES (?, ?, ?, ?, ?, ?, ?)",
            [month, cid, product, balance, balance, cost, maturity],
        )

    def policy(self, cid: str, start: date, cooling_off_days: int = 15):
        self.con.execute(
            "INSERT INTO insurance_policies VALUES (?, ?, 'P_ANN', ?, 10000, 5, 0.03, 0.025, ?)",
            [f"POL-{cid}-{start}", cid, start, start + timedelta(days=cooling_off_days)],
        )

    def open(self) -> Database:
        self.con.close()
        return Database(self.path, read_only=True)
