"""Local accounts (analytics/users.py, ui/login.py, pages/users.py): known answers for the login,
the lockout, session expiry, disabled users, the password policy, who may manage whom, the CLI
while another process holds the accounts file open, and the login form in AppTest."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import store, users
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.users import Accounts, LoginRefused, PasswordRejected, UserChangeRefused
from ui.i18n import EN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
AUTH = load_settings()["auth"]
# The real policy and lockout numbers, with a cheap Argon2 cost so the tests run fast.
FAST = {**AUTH, "argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
N = int(AUTH["max_failed_logins"])
LOCK = timedelta(minutes=int(AUTH["lockout_minutes"]))
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PW = "Sunny-Day-2026"  # meets the policy
HEAD = Scope("head_office", viewer_id="boss@bank.cn")
MGR1 = Scope("manager", ("B001",), viewer_id="m1@bank.cn")


@pytest.fixture
def accts(tmp_path):
    return Accounts(tmp_path / "users.sqlite3", settings=FAST)


def rm(accts, user="li@bank.cn", branch="B001", rm_id="R0001", password=PW, **kw):
    kw.setdefault("must_change", False)
    return accts.add(user, "rm", branch_id=branch, rm_id=rm_id, password=password, now=T0, **kw)


def refused(fn, *args, **kw) -> LoginRefused:
    with pytest.raises(LoginRefused) as e:
        fn(*args, **kw)
    return e.value


# ---------------------------------------------------------------------------- logging in


def test_right_password_logs_in_with_the_mapped_scope(accts):
    rm(accts, "Li@Bank.CN ", display_name="李明")
    acc = accts.authenticate("li@bank.cn", PW, now=T0)
    assert acc.scope() == Scope("rm", ("B001",), rm_id="R0001", viewer_id="li@bank.cn")
    assert acc.last_login_at == T0 and acc.failed_logins == 0
    assert accts.authenticate(" LI@bank.cn", PW, now=T0).user_id == "li@bank.cn"  # case, spaces


def test_wrong_password_is_refused_and_counted(accts):
    rm(accts)
    assert refused(accts.authenticate, "li@bank.cn", PW + "x", now=T0).code == "bad_password"
    assert accts.get("li@bank.cn").failed_logins == 1
    assert refused(accts.authenticate, "li@bank.cn", "", now=T0).code == "bad_password"
    assert accts.get("li@bank.cn").failed_logins == 2
    accts.authenticate("li@bank.cn", PW, now=T0)  # a success starts the count again
    assert accts.get("li@bank.cn").failed_logins == 0


def test_unknown_user_is_refused_at_the_same_cost(accts, monkeypatch):
    rm(accts)
    accts.add("sso@bank.cn", "head_office", now=T0)  # single sign-on only: no local password
    calls = []
    real = Accounts._verify
    monkeypatch.setattr(Accounts, "_verify", lambda self, h, p: calls.append(h) or real(self, h, p))
    assert refused(accts.authenticate, "nobody@bank.cn", PW, now=T0).code == "unknown"
    assert refused(accts.authenticate, "sso@bank.cn", PW, now=T0).code == "unknown"
    assert refused(accts.authenticate, "li@bank.cn", "wrong", now=T0).code == "bad_password"
    # exactly one Argon2 verification each: against the dummy hash for the first two
    assert (
        len(calls) == 3
        and calls[0] is None
        and calls[1] is None
        and calls[2].startswith("$argon2id$")
    )


def test_lockout_after_exactly_n_failures_and_release_after_lockout_minutes(accts):
    rm(accts)
    for i in range(N - 1):
        e = refused(accts.authenticate, "li@bank.cn", "wrong", now=T0 + timedelta(seconds=i))
        assert e.code == "bad_password", i
    t_lock = T0 + timedelta(seconds=N)
    e = refused(accts.authenticate, "li@bank.cn", "wrong", now=t_lock)
    assert (e.code, e.just_locked, e.until) == ("locked", True, t_lock + LOCK)
    # while locked even the right password is refused, and nothing more is counted
    e = refused(accts.authenticate, "li@bank.cn", PW, now=t_lock + LOCK - timedelta(seconds=1))
    assert (e.code, e.just_locked) == ("locked", False)
    assert accts.get("li@bank.cn").locked(t_lock + LOCK - timedelta(microseconds=1))
    # released exactly lockout_minutes later, with N fresh tries
    assert accts.authenticate("li@bank.cn", PW, now=t_lock + LOCK).user_id == "li@bank.cn"
    for _ in range(N - 1):
        assert refused(accts.authenticate, "li@bank.cn", "x", now=t_lock + LOCK).code == (
            "bad_password"
        )


def test_enable_and_reset_lift_a_lockout(accts):
    rm(accts)
    for _ in range(N):
        with pytest.raises(LoginRefused):
            accts.authenticate("li@bank.cn", "wrong", now=T0)
    assert accts.get("li@bank.cn").locked(T0)
    accts.set_disabled("li@bank.cn", False, actor=MGR1, now=T0)
    assert accts.authenticate("li@bank.cn", PW, now=T0)


def test_session_expiry():
    cfg = users.AuthSettings.load(FAST)
    idle = timedelta(minutes=cfg.session_minutes)
    assert users.session_expired(T0, T0, T0 + idle - timedelta(seconds=1), cfg) is None
    assert users.session_expired(T0, T0, T0 + idle, cfg) == "idle"
    # in use all the time: over after session_max_hours all the same
    end = T0 + timedelta(hours=cfg.session_max_hours)
    assert (
        users.session_expired(T0, end - timedelta(minutes=1), end - timedelta(seconds=1), cfg)
        is None
    )
    assert users.session_expired(T0, end - timedelta(minutes=1), end, cfg) == "max_age"


def test_disabled_user_is_refused_and_their_session_ends(accts):
    acc = rm(accts)
    epoch = accts.authenticate("li@bank.cn", PW, now=T0).epoch
    assert accts.session_scope("li@bank.cn", epoch) == acc.scope()
    accts.set_disabled("li@bank.cn", True, actor=HEAD, now=T0)
    assert refused(accts.authenticate, "li@bank.cn", PW, now=T0).code == "disabled"
    # a wrong password says nothing about the account and is not counted
    assert refused(accts.authenticate, "li@bank.cn", "wrong", now=T0).code == "bad_password"
    assert accts.get("li@bank.cn").failed_logins == 0
    assert refused(accts.session_scope, "li@bank.cn", epoch).code == "disabled"
    assert refused(accts.sso_scope, "li@bank.cn").code == "disabled"
    accts.set_disabled("li@bank.cn", False, actor=HEAD, now=T0)
    assert accts.authenticate("li@bank.cn", PW, now=T0)
    # a session opened before the disable does not come back: the account changed since
    assert refused(accts.session_scope, "li@bank.cn", epoch).code == "ended"


def test_unmapped_user_sees_nothing(accts, tmp_path):
    assert refused(accts.sso_scope, "nobody@bank.cn").code == "unknown"
    # a row with an incomplete mapping (written by hand) maps to nobody either
    with sqlite3.connect(accts.path) as con:
        con.execute(
            "INSERT INTO users (user_id, role, created_at, created_by, updated_at, updated_by) "
            "VALUES ('odd@bank.cn', 'manager', ?, 'x', ?, 'x')",
            [T0.isoformat(), T0.isoformat()],
        )
    assert refused(accts.sso_scope, "odd@bank.cn").code == "unknown"


def test_new_and_reset_passwords_must_be_changed(accts):
    rm(accts, must_change=True)
    assert refused(accts.authenticate, "li@bank.cn", PW, now=T0).code == "must_change"
    with pytest.raises(PasswordRejected) as e:
        accts.change_password("li@bank.cn", PW, PW, now=T0)
    assert e.value.code == "same_as_old"
    assert refused(accts.change_password, "li@bank.cn", "wrong", "Other-Sky-2027", now=T0).code == (
        "bad_password"
    )
    accts.change_password("li@bank.cn", PW, "Other-Sky-2027", now=T0)
    assert accts.authenticate("li@bank.cn", "Other-Sky-2027", now=T0)
    with pytest.raises(LoginRefused):
        accts.authenticate("li@bank.cn", PW, now=T0)
    accts.reset_password("li@bank.cn", "Temp-Pass-9911", actor=MGR1, now=T0)
    assert refused(accts.authenticate, "li@bank.cn", "Temp-Pass-9911", now=T0).code == (
        "must_change"
    )


def test_password_expires_after_max_age(accts):
    rm(accts)
    age = timedelta(days=int(AUTH["password_max_age_days"]))
    assert accts.authenticate("li@bank.cn", PW, now=T0 + age - timedelta(seconds=1))
    assert refused(accts.authenticate, "li@bank.cn", PW, now=T0 + age).code == "expired"
    accts.change_password("li@bank.cn", PW, "Other-Sky-2027", now=T0 + age)
    assert accts.authenticate("li@bank.cn", "Other-Sky-2027", now=T0 + age)


@pytest.mark.parametrize(
    "password, code",
    [
        ("Aa1-" + "x" * (int(AUTH["password_min_length"]) - 5), "too_short"),
        ("Aa1-" + "x" * (int(AUTH["password_max_length"]) - 3), "too_long"),
        ("alllowercase-letters", "too_few_kinds"),  # two kinds only
        ("ALLUPPER12345", "too_few_kinds"),
        ("Li.Bank-2026x", "contains_user"),  # the user's name, any case
        ("P@ssw0rd2026!", "common"),
        ("Qwerty123456!", "common"),
        ("Welcome@2026", "common"),
        ("Aa1Aa1Aa1Aa1Aa1", "common"),  # two characters, whatever the case
        ("Green-Tea-Hill-7", None),
        ("Tab\there-2026x", "control_char"),
        ("Aa1-" + "x" * (int(AUTH["password_min_length"]) - 4), None),  # exactly the minimum
        ("Aa1-" + "x" * (int(AUTH["password_max_length"]) - 4), None),  # exactly the maximum
        ("月亮代表我的心Moon-1", None),  # any script counts as characters
    ],
)
def test_password_policy_edges(password, code):
    cfg = users.AuthSettings.load(FAST)
    if code is None:
        users.check_password(password, "li.bank@bank.cn", cfg)
    else:
        with pytest.raises(PasswordRejected) as e:
            users.check_password(password, "li.bank@bank.cn", cfg)
        assert e.value.code == code
        assert EN[f"pw.{code}"].format(**e.value.fields)  # every code has its message


def test_unicode_passwords_are_normalised(accts):
    rm(accts, password="Ｓｕｎｎｙ－Ｄａｙ－２０２６")  # full-width, as some input methods type it
    assert accts.authenticate("li@bank.cn", PW, now=T0)


def test_no_password_is_stored_in_clear(accts):
    rm(accts)
    accts.change_password("li@bank.cn", PW, "Other-Sky-2027", now=T0)
    for f in accts.path.parent.iterdir():
        body = f.read_bytes()
        assert PW.encode() not in body and b"Other-Sky-2027" not in body, f
    assert "password_hash" not in accts.get("li@bank.cn").as_row()


def test_raised_argon2_cost_rehashes_at_the_next_login(accts):
    rm(accts)
    stronger = Accounts(accts.path, settings={**FAST, "argon2_time_cost": 2})
    stronger.authenticate("li@bank.cn", PW, now=T0)
    with sqlite3.connect(accts.path) as con:
        (h,) = con.execute("SELECT password_hash FROM users").fetchone()
    assert ",t=2," in h
    assert stronger.authenticate("li@bank.cn", PW, now=T0)


# ---------------------------------------------------------------------------- who manages whom


def test_manager_manages_own_branch_rms_only(accts):
    accts.add("boss@bank.cn", "head_office", password=PW, now=T0)
    accts.add("m1@bank.cn", "manager", branch_id="B001", password=PW, now=T0)
    rm(accts, "li@bank.cn", "B001", "R0001")
    rm(accts, "zhao@bank.cn", "B002", "R0007")
    for role in ("head_office", "manager", "trainer"):
        with pytest.raises(UserChangeRefused) as e:
            accts.add("x@bank.cn", role, branch_id="B001", password=PW, actor=MGR1, now=T0)
        assert e.value.code == "role_not_allowed", role
    with pytest.raises(UserChangeRefused) as e:
        accts.add("x@bank.cn", "rm", branch_id="B002", rm_id="R0008", actor=MGR1, now=T0)
    assert e.value.code == "other_branch"
    for change in (
        lambda u: accts.grant(u, rm_id="R0002", actor=MGR1, now=T0),
        lambda u: accts.set_disabled(u, True, actor=MGR1, now=T0),
        lambda u: accts.reset_password(u, "Temp-Pass-9911", actor=MGR1, now=T0),
    ):
        with pytest.raises(UserChangeRefused) as e:
            change("zhao@bank.cn")
        assert e.value.code == "other_branch"
        with pytest.raises(UserChangeRefused) as e:
            change("boss@bank.cn")
        assert e.value.code == "not_allowed"
    with pytest.raises(UserChangeRefused) as e:  # promoting their RM is not theirs to do
        accts.grant("li@bank.cn", role="manager", actor=MGR1, now=T0)
    assert e.value.code == "role_not_allowed"
    with pytest.raises(UserChangeRefused) as e:  # nor moving them to another branch
        accts.grant("li@bank.cn", branch_id="B002", actor=MGR1, now=T0)
    assert e.value.code == "other_branch"
    # what they may do
    made = accts.add("wu@bank.cn", "rm", branch_id="B001", rm_id="R0003", actor=MGR1, now=T0)
    assert made.created_by == "m1@bank.cn"
    assert accts.grant("li@bank.cn", rm_id="R0002", actor=MGR1, now=T0).rm_id == "R0002"
    assert [a.user_id for a in accts.visible(MGR1)] == ["li@bank.cn", "wu@bank.cn"]
    assert len(accts.visible(HEAD)) == 5 and accts.visible(None) == accts.visible(HEAD)
    assert accts.roles_for(MGR1) == ("rm",)


def test_rms_and_trainers_manage_nobody(accts):
    rm(accts)
    for actor in (Scope("rm", ("B001",), rm_id="R0001", viewer_id="li@bank.cn"),
                  Scope("trainer", viewer_id="t@bank.cn")):  # fmt: skip
        assert accts.visible(actor) == [] and accts.roles_for(actor) == ()
        with pytest.raises(UserChangeRefused) as e:
            accts.add("x@bank.cn", "rm", branch_id="B001", rm_id="R0002", actor=actor, now=T0)
        assert e.value.code == "not_allowed"
        with pytest.raises(UserChangeRefused) as e:
            accts.set_disabled("li@bank.cn", True, actor=actor, now=T0)
        assert e.value.code == "not_allowed"


def test_mapping_checks(accts):
    rms = {"R0001": "B001", "R0007": "B002"}
    cases = [
        (dict(role="boss"), "bad_role"),
        (dict(role="manager"), "branch_needed"),
        (dict(role="rm", branch_id="B001"), "rm_needed"),
        (dict(role="rm", branch_id="B001", rm_id="R9999", rms=rms), "unknown_rm"),
        (dict(role="rm", branch_id="B001", rm_id="R0007", rms=rms), "rm_other_branch"),
    ]
    for kw, code in cases:
        with pytest.raises(UserChangeRefused) as e:
            accts.add("x@bank.cn", now=T0, **kw)
        assert e.value.code == code, kw
    for bad in ("", "has space@bank.cn", "-dash@bank.cn", "x" * 129):
        with pytest.raises(UserChangeRefused) as e:
            accts.add(bad, "trainer", now=T0)
        assert e.value.code == "bad_user_id", bad
    rm(accts)
    with pytest.raises(UserChangeRefused) as e:
        rm(accts, "LI@bank.cn")
    assert e.value.code == "exists"
    # head office and trainers carry no branch or RM id
    assert accts.add("t@bank.cn", "trainer", branch_id="B001", rm_id="R1", now=T0).branch_id is None


def test_head_office_keeps_one_enabled_head_office(accts):
    accts.add("boss@bank.cn", "head_office", password=PW, now=T0)
    for change in (
        lambda: accts.set_disabled("boss@bank.cn", True, now=T0),
        lambda: accts.grant("boss@bank.cn", role="trainer", now=T0),
    ):
        with pytest.raises(UserChangeRefused) as e:
            change()
        assert e.value.code == "last_head_office"
    accts.add("boss2@bank.cn", "head_office", password=PW, now=T0)
    with pytest.raises(UserChangeRefused) as e:
        accts.set_disabled("boss@bank.cn", True, actor=HEAD, now=T0)
    assert e.value.code == "self"
    assert accts.set_disabled("boss@bank.cn", True, now=T0).disabled


def test_a_failed_audit_changes_nothing(accts):
    def broken(detail, branch):
        raise OSError("audit log not writable")

    with pytest.raises(OSError):
        rm(accts, audit=broken)
    assert accts.get("li@bank.cn") is None
    rm(accts)
    with pytest.raises(OSError):
        accts.set_disabled("li@bank.cn", True, audit=broken, now=T0)
    assert not accts.get("li@bank.cn").disabled
    seen = []
    accts.grant("li@bank.cn", rm_id="R0002", audit=lambda d, b: seen.append((d, b)), now=T0)
    assert seen == [("grant user=li@bank.cn role=rm branch=B001 rm=R0002", "B001")]


# ---------------------------------------------------------------------------- the CLI


def cli(data: Path, *args, password: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics.users", "--lang", "en", *args],
        input=None if password is None else password + "\n",
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "BRANCHLENS_DATA": str(data)},
    )  # fmt: skip


def test_cli_add_then_authenticate_and_list_prints_no_hash(tmp_path):
    data = tmp_path / "data"
    r = cli(data, "add", "Li@bank.cn", "--role", "rm", "--branch", "B001", "--rm", "R0001",
            "--name", "李明", "--password-stdin", "--no-must-change", password=PW)  # fmt: skip
    assert r.returncode == 0, r.stderr
    app = Accounts(data / users.FILE_NAME)  # the app's settings (real Argon2 cost)
    assert app.authenticate("li@bank.cn", PW).scope() == Scope(
        "rm", ("B001",), rm_id="R0001", viewer_id="li@bank.cn"
    )
    assert os.stat(data / users.FILE_NAME).st_mode & 0o777 == 0o600
    r = cli(data, "list")
    assert r.returncode == 0 and "li@bank.cn" in r.stdout and "李明" in r.stdout
    r_json = cli(data, "list", "--json")
    assert json.loads(r_json.stdout)[0]["rm_id"] == "R0001"
    for out in (r.stdout, r_json.stdout):
        assert "$argon2" not in out and "hash" not in out.lower() and PW not in out
    # refused with the code's message, nothing changed
    r = cli(data, "add", "x@bank.cn", "--role", "rm", "--branch", "B001", "--password-stdin",
            password=PW)  # fmt: skip
    assert r.returncode == 1 and EN["users.refused.rm_needed"] in r.stderr
    r = cli(data, "add", "y@bank.cn", "--role", "head_office", "--password-stdin", password="short")
    assert r.returncode == 1 and "at least" in r.stderr and app.get("y@bank.cn") is None
    # every change is in the audit log, as the CLI, with the account's branch
    records = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    assert [(x["viewer"], x["action"], x["branch_ids"]) for x in records] == [
        ("cli", "user", ["B001"])
    ]
    assert PW not in (data / "audit.jsonl").read_text()


def test_cli_changes_are_seen_while_the_app_holds_the_file_open(tmp_path):
    data = tmp_path / "data"
    app = Accounts(data / users.FILE_NAME)
    assert app.all() == []
    held = sqlite3.connect(app.path)  # an app-side connection that stays open throughout
    held.execute("BEGIN")
    assert held.execute("SELECT count(*) FROM users").fetchone() == (0,)
    held.execute("COMMIT")
    r = cli(data, "add", "li@bank.cn", "--role", "rm", "--branch", "B001", "--rm", "R0001",
            "--password-stdin", "--no-must-change", password=PW)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert held.execute("SELECT user_id FROM users").fetchall() == [("li@bank.cn",)]
    epoch = app.authenticate("li@bank.cn", PW).epoch
    assert cli(data, "disable", "li@bank.cn").returncode == 0
    assert refused(app.session_scope, "li@bank.cn", epoch).code == "disabled"
    assert cli(data, "enable", "li@bank.cn").returncode == 0
    assert cli(data, "grant", "li@bank.cn", "--rm", "R0002").returncode == 0
    assert app.get("li@bank.cn").rm_id == "R0002"
    assert (
        cli(data, "reset", "li@bank.cn", "--password-stdin", password="Temp-Pass-9911").returncode
        == 0
    )
    assert refused(app.authenticate, "li@bank.cn", "Temp-Pass-9911").code == "must_change"
    for f in data.glob("users.sqlite3*"):  # the WAL files too
        assert f.stat().st_mode & 0o777 == 0o600, f
    held.close()


def test_cli_changes_nothing_when_the_audit_log_cannot_be_written(tmp_path):
    data = tmp_path / "data"
    (data / "audit.jsonl").mkdir(parents=True)  # not a file: every append fails
    r = cli(data, "add", "li@bank.cn", "--role", "trainer", "--password-stdin", password=PW)
    assert r.returncode == 1 and EN["users.cli.not_written"] in r.stderr
    assert Accounts(data / users.FILE_NAME).get("li@bank.cn") is None


# ---------------------------------------------------------------------------- the login form


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def login_env(tmp_path, monkeypatch):
    """A data folder with one RM account, the clock under the test's control."""
    monkeypatch.setenv("BRANCHLENS_DATA", str(tmp_path))
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(users, "utcnow", clock)
    accts = Accounts()
    accts.add("li@bank.cn", "rm", branch_id="B001", rm_id="R0001", password=PW,
              must_change=False, display_name="李明")  # fmt: skip
    return accts, clock, tmp_path


def _login_script():
    import streamlit as st

    from ui import login

    scope = login.login_form("en")
    st.markdown(f"scope {scope.role} {scope.rm_id} {scope.viewer_id}")
    with st.sidebar:
        login.logout_button("en")


def login_app() -> AppTest:
    at = AppTest.from_function(_login_script, default_timeout=30)
    at.run()
    return at


def log_in(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    at.button[0].click()  # the form's submit button
    return at.run()


def shown(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.error, *at.info, *at.title])


def audit_lines(data: Path) -> list[tuple[str, str, str, str]]:
    path = data / "audit.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [(r["viewer"], r["action"], r["detail"], r["outcome"]) for r in rows]


def test_form_right_password_wrong_password_and_logout(login_env):
    accts, clock, data = login_env
    at = login_app()
    assert at.title[0].value == EN["login.title"] and "scope" not in shown(at)
    log_in(at, "li@bank.cn", "wrong")
    assert at.error[0].value == EN["login.refused.bad_password"] and "scope" not in shown(at)
    log_in(at, "nobody@bank.cn", PW)
    assert at.error[0].value == EN["login.refused.bad_password"]  # the same words: no hint
    log_in(at, "li@bank.cn", PW)
    assert not at.exception
    assert "scope rm R0001 li@bank.cn" in shown(at)
    assert PW not in repr([at.session_state[k] for k in at.session_state])  # never kept
    at.sidebar.button[0].click()  # log out
    at.run()
    assert "scope" not in shown(at) and EN["login.logged_out"] in shown(at)
    assert audit_lines(data) == [
        ("li@bank.cn", "login", "bad_password", "failed"),
        ("unknown", "login", "unknown", "failed"),
        ("li@bank.cn", "login", "local", "ok"),
        ("li@bank.cn", "logout", "logout", "ok"),
    ]


def test_form_lockout(login_env):
    accts, clock, data = login_env
    at = login_app()
    for _ in range(N - 1):
        log_in(at, "li@bank.cn", "wrong")
        assert at.error[0].value == EN["login.refused.bad_password"]
    log_in(at, "li@bank.cn", "wrong")
    minutes = int(AUTH["lockout_minutes"])
    assert at.error[0].value == EN["login.refused.locked"].format(minutes=minutes)
    log_in(at, "li@bank.cn", PW)
    assert "scope" not in shown(at)
    assert audit_lines(data)[N - 1][1] == "lockout" and audit_lines(data)[N][2] == "locked"
    clock.now += LOCK
    log_in(at, "li@bank.cn", PW)
    assert "scope rm R0001" in shown(at)


def test_form_session_expires_after_session_minutes_idle(login_env):
    accts, clock, data = login_env
    at = log_in(login_app(), "li@bank.cn", PW)
    idle = timedelta(minutes=int(AUTH["session_minutes"]))
    clock.now += idle - timedelta(seconds=1)
    at.run()
    assert "scope rm" in shown(at)  # used just in time: the idle clock starts again
    clock.now += idle - timedelta(seconds=1)
    at.run()
    assert "scope rm" in shown(at)
    clock.now += idle
    at.run()
    assert "scope" not in shown(at)
    assert EN["login.session.idle"].format(minutes=int(AUTH["session_minutes"])) in shown(at)
    assert audit_lines(data)[-1] == ("li@bank.cn", "logout", "idle", "ok")


def test_form_disabled_user(login_env):
    accts, clock, data = login_env
    at = log_in(login_app(), "li@bank.cn", PW)
    assert "scope rm" in shown(at)
    accts.set_disabled("li@bank.cn", True)  # by the CLI or another session
    at.run()
    assert "scope" not in shown(at) and EN["login.refused.disabled"] in shown(at)
    log_in(at, "li@bank.cn", PW)
    assert at.error[0].value == EN["login.refused.disabled"] and "scope" not in shown(at)


def test_form_must_change_password_first(login_env):
    accts, clock, data = login_env
    accts.reset_password("li@bank.cn", "Temp-Pass-9911")
    at = log_in(login_app(), "li@bank.cn", "Temp-Pass-9911")
    assert "scope" not in shown(at) and EN["login.refused.must_change"] in shown(at)
    at.text_input(key="login_old").input("Temp-Pass-9911")
    at.text_input(key="login_new").input("short")
    at.text_input(key="login_again").input("short")
    at.button[0].click()
    at.run()
    assert at.error[0].value == EN["pw.too_short"].format(min=int(AUTH["password_min_length"]))
    at.text_input(key="login_old").input("Temp-Pass-9911")
    at.text_input(key="login_new").input("Other-Sky-2027")
    at.text_input(key="login_again").input("Other-Sky-2027")
    at.button[0].click()
    at.run()
    assert "scope rm R0001" in shown(at)
    assert accts.authenticate("li@bank.cn", "Other-Sky-2027")


# ---------------------------------------------------------------------------- the whole app


@pytest.fixture
def local_app_data(demo_db_path, tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    monkeypatch.setenv("BRANCHLENS_DATA", str(root))
    accts = Accounts()
    accts.add("boss@bank.cn", "head_office", password=PW, must_change=False)
    accts.add("m1@bank.cn", "manager", branch_id="B001", password=PW, must_change=False)
    accts.add("li@bank.cn", "rm", branch_id="B001", rm_id="R0001", password=PW, must_change=False)
    return accts


def app_test(lang: str = "en", **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["branchlens"] = {"login": "local"}
    at.query_params["lang"] = lang
    for k, v in params.items():
        at.query_params[k] = v
    return at


def test_local_login_in_the_app_ignores_as(local_app_data):
    at = app_test(**{"as": "head_office"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == EN["login.title"]
    assert not at.selectbox and not at.sidebar.selectbox  # no role switcher
    log_in(at, "li@bank.cn", PW)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == EN["page.overview"]
    assert "as" not in at.query_params
    # the RM's own book, whatever the URL said
    wh = store.open_warehouse(store.current_snapshot())
    rm_clients = wh.scalar(
        "SELECT count(DISTINCT client_id) FROM client_aum_monthly WHERE rm_id = 'R0001' "
        "AND month_end = (SELECT max(month_end) FROM client_aum_monthly)"
    )
    wh.close()
    assert at.metric[0].value == f"{int(rm_clients):,}"


users_page = pytest.mark.skipif(
    "users" not in __import__("ui.shell", fromlist=["PAGES_BY_ID"]).PAGES_BY_ID,
    reason="ui/shell.py has no PageSpec for pages/users.py yet",
)


@users_page
@pytest.mark.parametrize("who", ["boss@bank.cn", "m1@bank.cn"])
def test_users_page_lists_what_the_viewer_manages(local_app_data, who):
    at = app_test()
    at.run()
    log_in(at, who, PW)
    at.switch_page("pages/users.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == EN["users.title"]
    listed = list(at.dataframe[0].value[EN["users.col.user_id"]])
    assert listed == (["boss@bank.cn", "li@bank.cn", "m1@bank.cn"] if who.startswith("boss")
                      else ["li@bank.cn"])  # fmt: skip


@users_page
def test_users_page_manager_adds_an_rm_and_it_is_audited(local_app_data):
    at = app_test()
    at.run()
    log_in(at, "m1@bank.cn", PW)
    at.switch_page("pages/users.py")
    at.run()
    at.text_input(key="ua_id").input("wu@bank.cn")
    at.text_input(key="ua_pw").input("Temp-Pass-9911")
    at.button(key="ua_save").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    acc = local_app_data.get("wu@bank.cn")
    assert (acc.role, acc.branch_id, acc.must_change) == ("rm", "B001", True)
    records = audit_lines(Path(os.environ["BRANCHLENS_DATA"]))
    assert ("m1@bank.cn", "user") in [(v, a) for v, a, _, _ in records]


@users_page
@pytest.mark.parametrize("who", ["li@bank.cn", "t@bank.cn"])
def test_users_page_refused_to_rms_and_trainers(local_app_data, who):
    from ui.shell import PAGES_BY_ID

    assert PAGES_BY_ID["users"].roles == ("head_office", "manager")
    if who.startswith("t@"):
        local_app_data.add(who, "trainer", password=PW, must_change=False)
    at = app_test()
    at.run()
    log_in(at, who, PW)
    with pytest.raises(ValueError):  # not in their navigation at all
        at.switch_page("pages/users.py")
    # and the page's own guard refuses them when its script runs (an URL opened directly)
    page = AppTest.from_file(str(ROOT / "pages" / "users.py"), default_timeout=60)
    page.secrets["branchlens"] = {"login": "local"}
    page.session_state["_login"] = at.session_state["_login"]
    page.session_state["_in_app"] = True
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    assert [e.value for e in page.error] == [EN["access.page_refused"]]
    assert not page.dataframe


def test_demo_mode_viewers_change_no_real_account(accts):
    rm(accts)
    demo_head = Scope("head_office", viewer_id="demo:head_office")
    assert accts.visible(demo_head) == []
    for change in (
        lambda: accts.add("x@bank.cn", "head_office", password=PW, actor=demo_head, now=T0),
        lambda: accts.set_disabled("li@bank.cn", True, actor=demo_head, now=T0),
        lambda: accts.reset_password("li@bank.cn", "Temp-Pass-9911", actor=demo_head, now=T0),
        lambda: accts.grant("li@bank.cn", role="head_office", actor=demo_head, now=T0),
    ):
        with pytest.raises(UserChangeRefused) as e:
            change()
        assert e.value.code == "demo"
    assert accts.get("x@bank.cn") is None and accts.get("li@bank.cn").role == "rm"


@users_page
def test_users_page_in_demo_mode_shows_no_account(local_app_data):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["as"] = "head_office"
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/users.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [i.value for i in at.info] == [EN["users.demo_mode"]]
    assert not at.dataframe and not at.text_input
