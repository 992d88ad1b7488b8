"""The audit log (issue 12, point 3): hash chain and verify, 0600, concurrent appends, reading by
scope; in AppTest a scripted session gives exactly one record per action, an audit write failure
blocks the first and every later run, and downloads are recorded before the file is made."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analytics import audit, store
from analytics.access import AccessDenied, Scope
from analytics.privacy import mask_name
from ui.formats import md
from ui.i18n import EN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def fill(log: audit.AuditLog, n: int, branch: str = "B001") -> None:
    for i in range(n):
        log.record(audit.AuditEvent(f"u{i}", "view", (f"C{i:08d}",), "client360", role="rm",
                                    branch_ids=(branch,)))  # fmt: skip


# ---------------------------------------------------------------------------- the file


def test_each_record_chains_the_one_before(tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    fill(log, 3)
    lines = [json.loads(x) for x in log.path.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["prev"] == audit.GENESIS
    assert [r["prev"] for r in lines[1:]] == [r["hash"] for r in lines[:-1]]
    for r in lines:
        assert set(r) == set(audit.COLUMNS) and r["outcome"] == "ok" and r["role"] == "rm"
        assert r["hash"] == audit.record_hash(r)
    assert log.verify() is None and log.check().records == 3


@pytest.mark.parametrize(
    "tamper",
    [
        lambda rec: {**rec, "detail": "nothing to see"},  # content changed, hash kept
        lambda rec: {**rec, "viewer": "someone", "hash": audit.record_hash({**rec, "viewer": "someone"})},
    ],  # the second also recomputes its own hash: the next line's prev no longer matches
)  # fmt: skip
def test_editing_one_line_makes_verify_fail_at_that_line(tmp_path, tamper):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    fill(log, 6)
    lines = log.path.read_text(encoding="utf-8").splitlines()
    lines[3] = audit.canonical(tamper(json.loads(lines[3])))
    log.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a plain edit fails at the edited line; an edit that also recomputes the line's own hash
    # (sha256 needs no secret) still breaks the chain, at the line after it
    assert log.verify() == (4 if "nothing" in lines[3] else 5)


def test_verify_reports_removed_inserted_and_reformatted_lines(tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    fill(log, 5)
    good = log.path.read_text(encoding="utf-8").splitlines()
    cases = {
        2: good[:1] + good[2:],  # line 2 removed: the old line 3 (now 2) does not chain
        3: good[:2] + ["{}"] + good[2:],  # a line slipped in
        4: good[:3] + [json.dumps(json.loads(good[3]), indent=1).replace("\n", "")] + good[4:],
        5: good[:4] + [""] + good[4:],  # a blank line
    }
    for line, text in cases.items():
        log.path.write_text("\n".join(text) + "\n", encoding="utf-8")
        assert log.verify() == line, line


def test_verify_command_exits_1_with_the_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path)
    fill(log, 4)
    assert audit.main(["verify", "--file", str(path), "--lang", "en"]) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("client360", "client361")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "analytics.audit", "verify", "--file", str(path), "--lang", "en"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert "line 2 " in run.stderr and str(path) in run.stderr


def test_the_log_is_created_0600_and_narrowed_to_it(tmp_path):
    old = os.umask(0)
    try:
        log = audit.AuditLog(tmp_path / "new" / "audit.jsonl")
        fill(log, 1)
        assert log.path.stat().st_mode & 0o777 == 0o600
        wide = tmp_path / "old.jsonl"
        wide.write_text("")
        wide.chmod(0o644)
        fill(audit.AuditLog(wide), 1)
        assert wide.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def _append_many(path: str, who: str, n: int) -> None:
    log = audit.AuditLog(path)
    for i in range(n):
        log.record(audit.AuditEvent(who, "view", (f"C{i}",), "client360"))


def test_two_processes_appending_at_once_keep_the_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, who, 150)) for who in ("a", "b")]
    for p in procs:
        p.start()
    _append_many(path, "main", 50)  # and this process's own appends in between
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    log = audit.AuditLog(path)
    assert log.verify() is None
    assert log.read()["viewer"].value_counts().to_dict() == {"a": 150, "b": 150, "main": 50}


def test_a_damaged_tail_is_flagged_and_the_next_record_starts_a_new_line(tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    fill(log, 2)
    with open(log.path, "a", encoding="utf-8") as f:
        f.write('{"at": "half a rec')  # a crash in the middle of a write
    fill(log, 1)
    assert log.verify() == 3
    assert len(log.read()) == 3  # the readable records are still read


def test_unwritable_log_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.mkdir()  # not a file: fails for root too (unlike chmod)
    log = audit.AuditLog(path)
    assert not log.writable()
    with pytest.raises(OSError):
        fill(log, 1)


# ---------------------------------------------------------------------------- reading by scope


def test_a_manager_reads_their_branch_head_office_all_an_rm_nothing(tmp_path, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    b2_client = wh.scalar("SELECT MIN(client_id) FROM clients WHERE branch_id = 'B002'")
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    fill(log, 2, "B001")
    fill(log, 3, "B002")
    log.record(audit.AuditEvent("someone", "login", outcome="failed"))  # no branch: head office
    log.record(audit.AuditEvent("cli", "view", (b2_client,), "legacy"))  # branch from the client
    assert len(log.read(Scope("head_office", ("B001", "B002")))) == 7
    b1 = log.read(Scope("manager", ("B001",)), wh)
    assert len(b1) == 2 and all(b == ["B001"] for b in b1["branch_ids"])
    b2 = log.read(Scope("manager", ("B002",)), wh)
    assert len(b2) == 4 and "legacy" in set(b2["detail"])
    for scope in (Scope("rm", ("B001",), rm_id="R0001"), Scope("trainer")):
        with pytest.raises(AccessDenied):
            log.read(scope)


def test_branches_of_a_record_are_the_clients_and_the_actors(demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    b2_client = wh.scalar("SELECT MIN(client_id) FROM clients WHERE branch_id = 'B002'")
    corp = wh.scalar("SELECT MIN(corp_id) FROM corp_clients WHERE branch_id = 'B001'")
    rm = Scope("rm", ("B001",), rm_id="R0001")
    assert audit.branches_for(wh, rm, [b2_client]) == ("B001", "B002")
    assert audit.branches_for(wh, Scope("head_office", ("B001", "B002")), [corp]) == ("B001",)
    assert audit.branches_for(wh, Scope("head_office"), ["NO-SUCH"]) == ()


def test_the_table_toolbar_download_is_switched_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


# ---------------------------------------------------------------------------- in the app


@pytest.fixture
def folder(demo_db_path, tmp_path, monkeypatch):
    """A data folder of its own (its own audit log) with the small demo snapshot current."""
    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", tmp_path)
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    yield tmp_path
    st.cache_resource.clear()  # the workspace connection belongs to this folder


@pytest.fixture
def deferred(monkeypatch):
    """The files of the download buttons as the browser gets them: Streamlit runs a button's
    deferred callable when the browser asks for the file after a click; AppTest has no browser, so
    the test calls the callable (file name -> callable, the latest run's)."""
    made: dict = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, fn, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = fn
        return original(self, fn, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def clients(demo_db_path) -> tuple[str, str, str]:
    """A client of R0001, its name, and a client of another RM of the same branch."""
    wh = store.open_warehouse(demo_db_path)
    mine = wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = 'R0001'")
    name = wh.scalar("SELECT name_en FROM clients WHERE client_id = ?", [mine])
    other = wh.scalar(
        "SELECT MIN(client_id) FROM clients WHERE rm_id <> 'R0001' AND branch_id = "
        "(SELECT branch_id FROM rms WHERE rm_id = 'R0001')"
    )
    return mine, name, other


def session(role: str, page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"as": role, "lang": "en", **params})
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def counts(log: audit.AuditLog) -> dict[tuple[str, str, str], int]:
    rows = log.read()
    return rows.groupby(["action", "detail", "outcome"]).size().to_dict()


def test_a_scripted_session_gives_one_record_per_action(folder, demo_db_path, deferred):
    mine, name, other = clients(demo_db_path)
    log = audit.AuditLog()
    at = session("rm:R0001", "pages/client.py", client=mine)  # open a client
    at.run()  # reruns of the same view add nothing
    at.toggle[0].set_value(True).run()  # unmask
    assert name in at.markdown[0].value
    at.run()
    at.query_params["client"] = other  # out of the RM's book: refused
    at.text_input[0].set_value(other).run()
    assert at.error[0].value == EN["client.refused"]
    at.run()

    at.switch_page("pages/allocation.py")  # the three-balance check of the client
    at.query_params["client"] = mine
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.run()
    sheet = next(d for d in at.get("download_button") if d.proto.label == EN["al.sheet"])
    sheet.click().run()  # the click itself records nothing: the file is made when fetched
    assert ("export", "meeting-sheet.html", "ok") not in counts(log)
    html = deferred["meeting-sheet.html"]().decode("utf-8")  # the browser fetches the file
    assert mine in html and name not in html  # masked

    at.button(key="al_list_export").click().run()  # prepare a client list export
    # the list shown first: the first finding kind with clients in the RM's book
    listed = next(k for k in deferred if k.startswith("allocation-") and k.endswith(".csv"))
    assert ("export", listed, "ok") not in counts(log)  # nothing handed out yet
    csv = deferred[listed]()
    assert csv and not at.exception

    assert counts(log) == {
        ("view", "client360", "ok"): 1,
        ("unmask", "client360", "ok"): 1,
        ("view", "client360", "refused"): 1,
        ("view", "allocation", "ok"): 1,
        ("export", "meeting-sheet.html", "ok"): 1,
        ("export", listed, "ok"): 1,
    }
    rows = log.read().set_index(["action", "detail", "outcome"])
    assert set(rows["viewer"]) == {"demo:rm:R0001"} and set(rows["role"]) == {"rm"}
    assert rows.loc[("view", "client360", "refused"), "client_ids"] == [other]
    for what in (("view", "allocation", "ok"), ("export", "meeting-sheet.html", "ok")):
        assert rows.loc[what, "client_ids"] == [mine] and rows.loc[what, "branch_ids"] == ["B001"]
    assert len(rows.loc[("export", listed, "ok"), "client_ids"]) >= 1
    assert log.verify() is None
    assert log.path.stat().st_mode & 0o777 == 0o600

    # leaving the client and coming back is a new view
    at.switch_page("pages/overview.py")
    at.run()
    at.switch_page("pages/client.py")
    at.query_params["client"] = mine
    at.run()
    assert counts(log)[("view", "client360", "ok")] == 2


def _break(path: Path) -> Path:
    """Make the audit log unwritable (a directory in its place: fails for root too)."""
    aside = path.with_suffix(".aside")
    if path.exists():
        path.rename(aside)
    path.mkdir()
    return aside


def _mend(path: Path, aside: Path) -> None:
    path.rmdir()
    if aside.exists():
        aside.rename(path)


def _shows_client(at: AppTest, client_id: str, name: str) -> bool:
    texts = [e.value for e in (*at.markdown, *at.caption, *at.info)]
    return any(
        client_id in str(x) or name in str(x) or md(mask_name(name)) in str(x) for x in texts
    )


def test_an_audit_failure_blocks_the_first_and_every_later_run(folder, demo_db_path):
    mine, name, _ = clients(demo_db_path)
    path = folder / "audit.jsonl"
    aside = _break(path)
    at = session("rm:R0001", "pages/client.py", client=mine)
    assert at.error and at.error[-1].value == EN["audit.failed"]
    assert not _shows_client(at, mine, name) and not at.dataframe and not at.toggle
    at.run()  # the next rerun: still nothing (the old code showed the client here)
    assert at.error[-1].value == EN["audit.failed"]
    assert not _shows_client(at, mine, name) and not at.dataframe
    at.switch_page("pages/overview.py")  # any other page of the session: stopped at the top
    at.run()
    assert [e.value for e in at.error] == [EN["audit.failed"]] and not at.metric and not at.title

    _mend(path, aside)  # writable again: the session goes on, and the view is recorded first
    at.switch_page("pages/client.py")
    at.query_params["client"] = mine
    at.run()
    assert not at.error and _shows_client(at, mine, name)
    assert counts(audit.AuditLog()) == {("view", "client360", "ok"): 1}


def test_a_download_whose_record_fails_hands_out_nothing_and_blocks_the_session(
    folder, demo_db_path, deferred
):
    mine, name, _ = clients(demo_db_path)
    at = session("rm:R0001", "pages/allocation.py", client=mine)
    aside = _break(folder / "audit.jsonl")
    with pytest.raises(audit.AuditUnavailable):
        deferred["meeting-sheet.html"]()  # Streamlit answers the browser "download failed"
    at.run()
    assert [e.value for e in at.error] == [EN["audit.failed"]]
    assert not at.get("download_button") and not at.dataframe
    _mend(folder / "audit.jsonl", aside)
    at.run()
    assert not at.error and at.get("download_button")


AUDIT_VIEW = """
import streamlit as st
from datetime import date
from analytics.access import Scope
from ui import audit_view, shell

scope = Scope({role!r}, ("B001",), rm_id={rm!r}, viewer_id={who!r})
st.session_state["_in_app"] = True
shell.audit_gate()
audit_view.show(shell.Viewer(scope, "en", True, {path!r}, date(2026, 1, 1), "demo",
                             date(2026, 1, 4)))
"""


def audit_view(role: str, who: str, path: str, rm: str | None = None) -> AppTest:
    at = AppTest.from_string(AUDIT_VIEW.format(role=role, rm=rm, who=who, path=path))
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_audit_view_shows_the_readers_scope_and_records_the_reading(folder):
    path = str(store.current_snapshot(folder))
    log = audit.AuditLog()
    fill(log, 2, "B001")
    fill(log, 3, "B002")
    at = audit_view("manager", "demo:manager:B001", path)
    shown = at.dataframe[0].value
    assert len(shown) == 3  # B001's two records and the manager's own reading, newest first
    assert shown[EN["audit.col.action"]].iloc[0] == EN["audit.action.read_audit"]
    assert EN["audit.intact"].format(n=6) in [s.value for s in at.success]
    at.run()
    assert (log.read()["action"] == "read_audit").sum() == 1  # once while it stays on screen

    rm = audit_view("rm", "demo:rm:R0001", path, rm="R0001")
    assert not rm.dataframe and rm.info[0].value == EN["audit.readers_only"]
    refused = log.read().iloc[-1]
    assert (refused["action"], refused["outcome"], refused["viewer"]) == (
        "read_audit", "refused", "demo:rm:R0001"
    )  # fmt: skip

    lines = log.path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("client360", "edited")
    log.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    head = audit_view("head_office", "demo:head_office", path)
    assert head.error[0].value == EN["audit.broken"].format(line=2, why=EN["audit.why.hash"])


def test_a_trainer_refused_a_banks_data_is_recorded(demo_db_path, tmp_path, monkeypatch):
    import duckdb
    import logins

    copy = tmp_path / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE meta SET value = 'import' WHERE key = 'source'")
    con.close()
    store.publish_snapshot(copy, "import", tmp_path)
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    who = logins.log_in(at, "trainer")
    at.query_params["lang"] = "en"
    at.run()
    at.run()
    assert [e.value for e in at.error] == [EN["access.trainer_demo_only"]]
    rows = audit.AuditLog().read()
    refused = rows[rows["action"] == "page"]
    assert refused[["viewer", "detail", "outcome"]].values.tolist() == [
        [who, "trainer_demo_only", "refused"]
    ]
    st.cache_resource.clear()
