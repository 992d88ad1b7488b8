"""The stores: snapshots behind an atomic CURRENT pointer, the workspace, the append-only audit log."""

from __future__ import annotations

import shutil

import duckdb

from analytics import store
from analytics.settings import load_settings


def fake_snapshot(path, as_of="2026-10-31"):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('as_of', ?), ('source', 'demo')", [as_of])
    con.close()
    return path


def test_publish_switches_current_and_keeps_backups(tmp_path):
    assert store.current_snapshot(tmp_path) is None
    keep = int(load_settings()["stores"]["keep_snapshots"])
    published = []
    for i in range(keep + 2):
        published.append(
            store.publish_snapshot(fake_snapshot(tmp_path / f"in{i}.duckdb"), "demo", tmp_path)
        )
        assert store.current_snapshot(tmp_path) == published[-1]
    kept = store.snapshots(tmp_path)
    assert len(kept) == keep and kept[-1] == published[-1]
    assert not (tmp_path / "warehouse" / ".CURRENT.tmp").exists()


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_published(tmp_path):
    first = store.publish_snapshot(
        fake_snapshot(tmp_path / "a.duckdb", "2026-09-30"), "demo", tmp_path
    )
    reader = store.open_warehouse(first)
    store.publish_snapshot(fake_snapshot(tmp_path / "b.duckdb", "2026-10-31"), "demo", tmp_path)
    assert reader.scalar("SELECT value FROM meta WHERE key = 'as_of'") == "2026-09-30"
    now = store.open_warehouse(store.current_snapshot(tmp_path))
    assert now.scalar("SELECT value FROM meta WHERE key = 'as_of'") == "2026-10-31"


def test_first_start_builds_the_demo_once(tmp_path, demo_db_path, monkeypatch):
    calls = []

    def fake_build(path, **kwargs):
        calls.append(kwargs)
        shutil.copy(demo_db_path, path)

    monkeypatch.setattr("analytics.demo_data.build_snapshot", fake_build)
    path = store.ensure_current_snapshot(tmp_path)
    assert store.ensure_current_snapshot(tmp_path) == path
    assert len(calls) == 1 and calls[0]["clients"] == load_settings()["demo"]["clients"]


def test_workspace_survives_a_new_snapshot(tmp_path):
    ws = store.open_workspace(tmp_path / "workspace.duckdb")
    ws.execute(
        "INSERT INTO client_notes (client_id, author, note) VALUES ('C1', 'demo:rm:R0001', '想了解养老规划')"
    )
    ws.close()
    store.publish_snapshot(fake_snapshot(tmp_path / "a.duckdb"), "demo", tmp_path)
    again = store.open_workspace(tmp_path / "workspace.duckdb")  # reopening re-runs the DDL safely
    assert again.scalar("SELECT note FROM client_notes WHERE client_id = 'C1'") == "想了解养老规划"


def test_audit_log_appends(tmp_path):
    log = store.AuditLog(tmp_path / "audit.jsonl")
    log.record(store.AuditEvent("demo:rm:R0001", "view", ("C1",), "client360"))
    log.record(store.AuditEvent("demo:rm:R0001", "export", ("C1", "C2"), "segment"))
    rows = log.read()
    assert list(rows["action"]) == ["view", "export"]
    assert rows["client_ids"].iloc[1] == ["C1", "C2"]
    assert len((tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()) == 2
