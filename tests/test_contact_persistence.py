"""A contact logged in BranchLens survives an app restart and a new warehouse snapshot (issue 6).

Each step runs in its own Python process against the same data directory, the way the app does:
the first logs a contact, then a new snapshot is published and made current, and a fresh process
still finds the contact and shows it in the client's contact history.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from plan_fixtures import MONDAY, TinyWarehouse

from analytics.store import current_snapshot, publish_snapshot

ROOT = Path(__file__).resolve().parent.parent


def run(data: Path, code: str) -> str:
    env = {**os.environ, "BRANCHLENS_DATA": str(data), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def build(path: Path) -> Path:
    tiny = TinyWarehouse(path)
    tiny.client("c1")
    tiny.open().close()
    return path


def test_logged_contact_survives_restart_and_new_snapshot(tmp_path):
    data = tmp_path / "data"
    first = publish_snapshot(build(tmp_path / "a.duckdb"), "demo", data)
    out = run(
        data,
        f"""
        from datetime import date
        from analytics.access import Scope
        from analytics.contact_log import log_contact
        from analytics.store import current_snapshot, open_warehouse, open_workspace
        wh, ws = open_warehouse(current_snapshot()), open_workspace()
        rm = Scope("rm", rm_id="R1", viewer_id="rm:R1")
        print(log_contact(ws, wh, rm, "c1", date.fromisoformat("{MONDAY}"), "visit",
                          "product_discussed", "聊了养老规划", today=date(2026, 11, 23)))
    """,
    )
    assert out == "1"
    second = publish_snapshot(build(tmp_path / "b.duckdb"), "import", data)
    assert current_snapshot(data) == second != first
    out = run(
        data,
        """
        from analytics.access import Scope
        from analytics.client360 import contact_history
        from analytics.contact_log import logged_contacts
        from analytics.store import current_snapshot, open_warehouse, open_workspace
        wh, ws = open_warehouse(current_snapshot()), open_workspace()
        rm = Scope("rm", rm_id="R1")
        logs = logged_contacts(ws, wh, rm, client_id="c1")
        hist = contact_history(wh, rm, "c1", logged=logs)
        top = hist.iloc[0]
        print(len(logs), top.source, top.channel, top.outcome, top.note, top.contact_date)
    """,
    )
    assert out == f"1 branchlens visit product_discussed 聊了养老规划 {MONDAY}"
