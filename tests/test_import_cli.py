"""The nightly import CLI as a bank runs it, in a subprocess on a temporary data folder, and a
``kill -9`` in the middle of an import."""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics import store
from analytics.demo_data import id_check_char

ROOT = Path(__file__).resolve().parent.parent


def cli(data: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "BRANCHLENS_DATA": str(data), "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "analytics.importer", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def resident_id(n: int) -> str:
    first17 = f"110105198001{(n % 28) + 1:02d}{n % 1000:03d}"[:17].ljust(17, "0")
    return first17 + id_check_char(first17)


def write_roster(path: Path, n: int, branch: str = "B001", aum_wan: float = 12.5) -> Path:
    """A roster of ``n`` clients in the shape a branch exports (GBK, 万元)."""
    with open(path, "w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["客户号", "客户姓名", "证件号码", "所属机构", "管户客户经理", "月日均资产(万元)"]
        )
        for i in range(n):
            w.writerow(
                [f"K{i:07d}", "张三", resident_id(i), branch, f"R{i % 5:03d}", aum_wan + i % 7]
            )
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_and_load_as_written(tmp_path):
    roster = write_roster(tmp_path / "roster.csv", 50)
    ok = cli(tmp_path / "data", "check", "--table", "clients", str(roster))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "errors: 0" in ok.stdout
    assert not store.snapshots(tmp_path / "data")  # a check builds nothing

    bad = tmp_path / "bad.csv"
    bad.write_text("客户号,所属机构,月日均资产\nK1,B001,abc\n,B001,5\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    rejected = cli(
        tmp_path / "data", "check", "--table", "clients", str(bad), "--report", str(report)
    )
    assert rejected.returncode == 1
    with open(report, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert {(r["row"], r["column"], r["reason"]) for r in rows} == {
        ("2", "月日均资产", "not_a_number"),
        ("3", "客户号", "required"),
    }

    loaded = cli(tmp_path / "data", "load", "--as-of", "2026-10-31", "--clients", str(roster))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    current = store.current_snapshot(tmp_path / "data")
    assert current.name in loaded.stdout and "clients: 50" in loaded.stdout
    wh = store.open_warehouse(current)
    assert wh.scalar("SELECT SUM(aum) FROM client_aum_monthly") == sum(
        round((12.5 + i % 7) * 10000, 2) for i in range(50)
    )
    assert wh.scalar("SELECT value FROM meta WHERE key = 'source'") == "import"

    # a rejected load changes nothing
    before = digest(current)
    again = cli(tmp_path / "data", "load", "--as-of", "2026-11-30", "--clients", str(bad))
    assert again.returncode == 1
    assert store.current_snapshot(tmp_path / "data") == current and digest(current) == before


def test_branch_option_for_a_roster_without_a_branch(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("客户号,日均AUM\nK1,1000\nK2,2000\n", encoding="utf-8-sig")
    out = cli(tmp_path / "data", "load", "--as-of", "2026-10-31", "--clients", str(roster))
    assert out.returncode == 1 and "a required column is missing" in out.stdout
    out = cli(tmp_path / "data", "load", "--as-of", "2026-10-31", "--clients", str(roster),
              "--branch", "B009")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    wh = store.open_warehouse(store.current_snapshot(tmp_path / "data"))
    assert wh.query("SELECT DISTINCT branch_id FROM clients")["branch_id"].tolist() == ["B009"]


def test_kill_9_during_an_import_leaves_the_previous_snapshot(tmp_path):
    data = tmp_path / "data"
    small = write_roster(tmp_path / "small.csv", 20)
    assert cli(data, "load", "--as-of", "2026-09-30", "--clients", str(small)).returncode == 0
    current = store.current_snapshot(data)
    before = digest(current)
    big = write_roster(tmp_path / "big.csv", 400_000)
    env = {**os.environ, "BRANCHLENS_DATA": str(data)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "analytics.importer", "load", "--as-of", "2026-10-31",
         "--clients", str(big)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wdir = data / "warehouse"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(wdir.glob(".import-*/stage.duckdb")):
        time.sleep(0.05)
    assert any(wdir.glob(".import-*/stage.duckdb")), "the import never started staging"
    time.sleep(1.0)  # well into reading and typing the 400k rows
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert store.current_snapshot(data) == current and digest(current) == before
    assert store.verify_snapshot(current)["clients"] == 20
    # the next import clears what the killed one left behind and succeeds
    assert cli(data, "load", "--as-of", "2026-10-31", "--clients", str(small)).returncode == 0
    assert not any(wdir.glob(".import-*"))


@pytest.mark.parametrize("flag", ["--holdings", "--holdings_monthly"])
def test_table_options_by_both_names(tmp_path, flag):
    roster = write_roster(tmp_path / "roster.csv", 3)
    holdings = tmp_path / "holdings.csv"
    holdings.write_text(
        "客户号,产品代码,产品名称,产品类型,余额\n"
        "K0000000,P1,活期储蓄,活期,1000\nK0000001,P2,三年定期,定期存款,50000\n",
        encoding="utf-8",
    )
    out = cli(tmp_path / "data", "load", "--as-of", "2026-10-31", "--clients", str(roster),
              flag, str(holdings))  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    wh = store.open_warehouse(store.current_snapshot(tmp_path / "data"))
    got = wh.query("SELECT product_id, category FROM products ORDER BY 1")
    assert got.values.tolist() == [["P1", "current_deposit"], ["P2", "time_deposit"]]
    tables = wh.scalar("SELECT value FROM meta WHERE key = 'tables'")
    assert "holdings_monthly" in tables.split(",") and "products" not in tables.split(",")
