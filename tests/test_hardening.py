"""Hardening (issue 12, item 6): error details never reach the user (a reference id on screen, the
traceback in the server log), data files are created 0600 in 0700 folders, secrets.toml is
git-ignored, the upload limit is one number in settings and config, and an XLSX bomb sent to the
corporate scorecard upload is refused before it is parsed. (No request leaves the server:
tests/test_offline.py. XLSX bombs in the importer: tests/test_import_readers.py.)"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import stat
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import filemodes, store
from analytics.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SECRET = "boom at /srv/branchlens/secret_path.py pid 4242"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def server_log():
    """What ui.errors writes to the server log."""
    handler = Captured()
    logger = logging.getLogger("ui.errors")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def shown_text(at: AppTest) -> str:
    """Every text the page put on screen (markdown, alerts, captions, code, exceptions...)."""
    parts = []
    for kind in ("markdown", "error", "warning", "info", "success", "caption", "code", "title",
                 "header", "subheader", "text", "exception", "json"):  # fmt: skip
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "")))
            parts.append(str(getattr(el, "message", "")))
            parts.append("\n".join(getattr(el, "stack_trace", []) or []))
    return "\n".join(parts)


# ---------------------------------------------------------------------------- error details


def _raising_script():
    import streamlit as st

    from ui import errors

    st.title("before")
    with errors.guard("en"):
        raise RuntimeError("boom at /srv/branchlens/secret_path.py pid 4242")
    st.caption("after")


def _control_flow_script():
    import streamlit as st

    from ui import errors

    with errors.guard("zh"):
        st.caption("shown")
        st.stop()
    st.caption("never")


@pytest.mark.page_errors
def test_guard_shows_a_reference_and_logs_the_traceback(server_log):
    at = AppTest.from_function(_raising_script).run()
    assert not at.exception
    text = shown_text(at)
    assert "secret_path" not in text and "4242" not in text and "RuntimeError" not in text
    (message,) = [e.value for e in at.error]
    ref = re.search(r"\b[0-9A-F]{8}\b", message).group()
    assert message == (
        "Something went wrong and it has been logged on the server. "
        f"Give your administrator the reference {ref}."
    )
    assert [c.value for c in at.caption] == ["after"]  # the rest of the page still renders
    (record,) = server_log
    assert ref in record.getMessage() and record.levelno == logging.ERROR
    assert record.exc_info and SECRET in str(record.exc_info[1])


def test_guard_lets_st_stop_and_rerun_through(server_log):
    at = AppTest.from_function(_control_flow_script).run()
    assert not at.exception and not at.error and not server_log
    assert [c.value for c in at.caption] == ["shown"]


def test_config_hides_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.page_errors
def test_an_error_in_a_page_shows_only_a_reference(app_folder, server_log, monkeypatch):
    """Through the real app: the rules page fails inside; the user sees the reference."""
    import analytics.settings

    def broken(*_args, **_kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(analytics.settings, "tier_lines", broken)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"as": "trainer", "lang": "zh"})
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, "the traceback reached the page (ui.errors.guard not around it?)"
    text = shown_text(at)
    assert "secret_path" not in text and "4242" not in text and "Traceback" not in text
    refs = [re.search(r"参考号 ([0-9A-F]{8})", e.value) for e in at.error]
    refs = [m.group(1) for m in refs if m]
    assert len(refs) == 1
    assert any(refs[0] in r.getMessage() and r.exc_info for r in server_log)


# ---------------------------------------------------------------------------- file modes


@pytest.fixture
def app_folder(demo_db_path, tmp_path, monkeypatch):
    copy = tmp_path / "in.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", tmp_path / "data")
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_filemodes_helpers(tmp_path):
    folder = filemodes.private_dir(tmp_path / "a" / "b")
    assert mode(folder) == 0o700
    loose = tmp_path / "loose.txt"
    loose.write_text("x")
    os.chmod(loose, 0o644)
    filemodes.write_private(loose, b"data")
    assert mode(loose) == 0o600 and loose.read_bytes() == b"data"
    with filemodes.open_private(tmp_path / "log.jsonl") as f:
        f.write("{}\n")
    assert mode(tmp_path / "log.jsonl") == 0o600


def test_snapshots_are_private(app_folder):
    (snap,) = store.snapshots(app_folder)
    assert mode(snap) == 0o600
    assert mode(store.warehouse_dir(app_folder)) == 0o700


def test_workspace_database_and_folder_are_private(tmp_path):
    """store.open_workspace makes the workspace 0600 and its folder 0700 (DuckDB recreates the
    .wal with the umask's mode at each checkpoint: the folder is what keeps it private)."""
    ws = store.open_workspace(tmp_path / "data" / "workspace.duckdb")
    try:
        ws.execute("CREATE TABLE IF NOT EXISTS _probe (x INTEGER)")
        ws.execute("INSERT INTO _probe VALUES (1)")
        assert mode(tmp_path / "data" / "workspace.duckdb") == 0o600
        assert mode(tmp_path / "data") == 0o700
    finally:
        ws.close()


def test_spooled_uploads_are_private(app_folder):
    from ui import import_view

    chosen = [import_view.Chosen("名单.csv", "客户号\nK1\n".encode(), "clients", None, None, [])]
    with import_view.spooled(chosen) as files:
        (f,) = files
        assert mode(f.path) == 0o600
        assert mode(f.path.parent) == 0o700
    assert not f.path.exists()


# ---------------------------------------------------------------------------- repository


def test_secrets_toml_is_git_ignored():
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".streamlit/secrets.toml" in [line.strip() for line in lines]


def test_upload_limit_is_the_same_in_settings_and_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == load_settings()["importer"]["max_upload_mb"]


# ---------------------------------------------------------------------------- XLSX uploads


def _sparse_workbook(last_cell: str) -> bytes:
    """A valid XLSX with a header at A1 and one cell far away (a few KB)."""
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>bad</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
        f'<row r="{last_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{last_cell}"><v>1</v></c>'
        "</row></sheetData></worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_scorecard_upload_refuses_a_grid_bomb_before_parsing():
    """The corporate view's credit-history upload read XLSX with no check at all; a 2 KB file
    with a cell at XFD1048576 would ask calamine for 17 billion cells and abort the server."""
    from ui import corporate_view

    data = _sparse_workbook("XFD1048576")
    start = time.perf_counter()
    with pytest.raises(corporate_view.UploadError) as e:
        corporate_view.read_upload("history.xlsx", data)
    print(f"{len(data)} B grid bomb refused in {(time.perf_counter() - start) * 1000:.1f} ms")
    assert e.value.code == "too_large"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_contact_not_saved_says_why_in_words_not_the_exception(lang):
    """Each refusal of ``contact_log`` reads as a sentence of the string table; the exception's
    own (English, developer) text never reaches the page."""
    from analytics.access import AccessDenied
    from analytics.contact_log import NOTE_MAX_CHARS, ContactLogError
    from ui import errors
    from ui.i18n import TABLES

    table = TABLES[lang]
    cases = {
        "note": ContactLogError("note", "note longer than 500 characters"),
        "date": ContactLogError("date", "a contact cannot be dated in the future"),
        "channel": ContactLogError("channel", "unknown channel 'fax'"),
        "outcome": ContactLogError("outcome", "unknown outcome 'x'"),
        "access": AccessDenied("this client is not in your book"),
    }
    for code, error in cases.items():
        shown = errors.contact_not_saved(error, lang)
        reason = table[f"log_error.{code}"].format(max=NOTE_MAX_CHARS)
        assert shown == table["plan.log_failed"].format(reason=reason)
        assert str(error) not in shown
