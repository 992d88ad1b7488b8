"""The stores: snapshots behind an atomic CURRENT pointer, the workspace, the append-only audit log."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from analytics import store
from analytics.schema import schema_part
from analytics.settings import load_settings


def fake_snapshot(path, as_of="2026-10-31", source="demo"):
    """The smallest snapshot that passes ``store.verify_snapshot``: one branch, one client."""
    con = duckdb.connect(str(path))
    con.execute(schema_part("WAREHOUSE"))
    con.execute("INSERT INTO meta VALUES ('as_of', ?), ('source', ?)", [as_of, source])
    con.execute("INSERT INTO branches VALUES ('B001', '一支行', 'Branch One', NULL)")
    con.execute("INSERT INTO clients (client_id, branch_id) VALUES ('C1', 'B001')")
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


def test_a_truncated_or_foreign_file_is_never_published(tmp_path):
    good = store.publish_snapshot(fake_snapshot(tmp_path / "good.duckdb"), "demo", tmp_path)
    whole = tmp_path / "whole.duckdb"
    fake_snapshot(whole)
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 3])
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database", encoding="utf-8")
    for bad, code in ((truncated, "unreadable"), (foreign, "schema"), (text, "unreadable")):
        with pytest.raises(store.SnapshotInvalid) as e:
            store.publish_snapshot(bad, "import", tmp_path)
        assert e.value.code == code
        assert store.current_snapshot(tmp_path) == good
        assert bad.exists()  # left where it was, never moved into the warehouse
    assert store.snapshots(tmp_path) == [good]


def test_broken_keys_and_an_empty_roster_are_refused(tmp_path):
    orphan = fake_snapshot(tmp_path / "orphan.duckdb")
    con = duckdb.connect(str(orphan))
    con.execute("INSERT INTO client_aum_monthly VALUES ('2026-10-31', 'C404', 'B001', NULL, 1, 1)")
    con.close()
    with pytest.raises(store.SnapshotInvalid) as e:
        store.verify_snapshot(orphan)
    assert (e.value.code, e.value.detail) == ("integrity", "client_aum_monthly.client_id")
    empty = fake_snapshot(tmp_path / "empty.duckdb")
    con = duckdb.connect(str(empty))
    con.execute("DELETE FROM clients")
    con.close()
    with pytest.raises(store.SnapshotInvalid) as e:
        store.verify_snapshot(empty)
    assert e.value.code == "empty"


def test_rollback_and_the_snapshot_list(tmp_path):
    first = store.publish_snapshot(
        fake_snapshot(tmp_path / "a.duckdb", "2026-09-30", "import"), "import", tmp_path
    )
    second = store.publish_snapshot(
        fake_snapshot(tmp_path / "b.duckdb", "2026-10-31", "import"), "import", tmp_path
    )
    listed = store.list_snapshots(tmp_path)
    assert list(listed["name"]) == [second.name, first.name]
    assert list(listed["current"]) == [True, False] and list(listed["as_of"]) == [
        "2026-10-31",
        "2026-09-30",
    ]
    assert store.make_current(first.name, tmp_path) == first
    assert store.current_snapshot(tmp_path) == first
    with pytest.raises(store.SnapshotInvalid):
        store.make_current("../../etc/passwd", tmp_path)
    assert store.current_snapshot(tmp_path) == first


def test_a_bank_folder_never_gets_the_demo(tmp_path, monkeypatch):
    """CURRENT missing, or naming a missing file, on a folder that held imported data: the app
    is told which snapshots are good; the demo is not built."""
    monkeypatch.setattr(
        "analytics.demo_data.build_snapshot", lambda *a, **k: pytest.fail("built the demo")
    )
    good = store.publish_snapshot(
        fake_snapshot(tmp_path / "a.duckdb", source="import"), "import", tmp_path
    )
    pointer = tmp_path / "warehouse" / "CURRENT"
    pointer.write_text("snapshot-gone.duckdb", encoding="utf-8")
    with pytest.raises(store.SnapshotMissing) as e:
        store.ensure_current_snapshot(tmp_path)
    assert e.value.code == "current_missing_file" and e.value.candidates == [good.name]
    pointer.unlink()
    with pytest.raises(store.SnapshotMissing) as e:
        store.ensure_current_snapshot(tmp_path)
    assert e.value.code == "current_missing"
    good.unlink()  # even with every snapshot gone, the marker keeps the demo out
    with pytest.raises(store.SnapshotMissing) as e:
        store.ensure_current_snapshot(tmp_path)
    assert e.value.candidates == []
