"""Accounts (DESIGN.md §5): who may log in, as whom (role, branch, RM id), with which password.

Where the accounts live
-----------------------
In ``<data>/users.sqlite3``, an SQLite database of its own, not in ``workspace.duckdb``. DuckDB lets
one process at a time open a file read-write, and even a read-only open from another process fails
while a writer holds it ("Could not set lock on file ..."): the running app holds the workspace for
its whole life, so a command-line tool could never add a user while the app runs. SQLite allows
many processes on one file. Every call here opens the file, does its work in one transaction and
closes it; the file is in WAL mode with a busy timeout, so the app and ``python -m analytics.users``
read and write it at the same time and a change made by either is seen by the other's next call
(the app re-reads the logged-in account on every run, so disabling a user ends their session at
their next click). The file is created 0600 (its ``-wal``/``-shm`` files take the same mode) in a
0700 folder. A later move of the workspace to SQLite/PostgreSQL can take this table along as is.

Passwords are hashed with Argon2id (argon2-cffi, parameters in ``[auth]`` of settings.toml) after
NFKC normalisation; they are never stored, returned or logged. A login for an unknown user verifies
against a dummy hash, so it costs the same as one for a known user. Failures are exceptions that
carry a code, never English text: ``LoginRefused``, ``PasswordRejected``, ``UserChangeRefused``.

Every time comes from a ``now`` argument (an aware UTC datetime; default: the clock), so tests need
no sleeping.

Command line (works while the app is running)::

    python -m analytics.users add USER --role ROLE [--branch B] [--rm R] [--name N]
                                       [--password-stdin | --no-password] [--no-must-change]
    python -m analytics.users disable USER
    python -m analytics.users enable USER          # also lifts a lockout
    python -m analytics.users reset USER [--password-stdin] [--no-must-change]
    python -m analytics.users grant USER [--role ROLE] [--branch B] [--rm R] [--name N]
    python -m analytics.users list

``USER`` is the login name, for single sign-on the e-mail the identity provider sends. Without
``--password-stdin`` the password is asked for twice (hidden); ``--no-password`` makes an account
for single sign-on only. A new or reset password must be changed at the next login unless
``--no-must-change``. ``list`` never prints a hash. Each change is written to the audit log (viewer
``cli``) before it is committed; if the record cannot be written nothing changes. ``--file`` names
another accounts file, ``--lang zh|en`` the language of the messages.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import os
import re
import secrets
import sqlite3
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2

from analytics.access import ROLES, Scope, may
from analytics.settings import load_settings

FILE_NAME = "users.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id             TEXT PRIMARY KEY,     -- login name / e-mail, lower case
    display_name        TEXT NOT NULL DEFAULT '',
    role                TEXT NOT NULL,        -- head_office | manager | rm | trainer
    branch_id           TEXT,                 -- manager, rm
    rm_id               TEXT,                 -- rm
    password_hash       TEXT,                 -- Argon2id; NULL: single sign-on only
    disabled            INTEGER NOT NULL DEFAULT 0,
    failed_logins       INTEGER NOT NULL DEFAULT 0,   -- consecutive wrong passwords
    locked_until        TEXT,                 -- ISO UTC; a login before it is refused
    password_changed_at TEXT,                 -- ISO UTC
    must_change         INTEGER NOT NULL DEFAULT 0,   -- set by add/reset: change at next login
    epoch               INTEGER NOT NULL DEFAULT 0,   -- +1 on every change that ends sessions
    last_login_at       TEXT,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    updated_by          TEXT NOT NULL
);
"""

USER_ID = re.compile(r"^[a-z0-9][a-z0-9._@+\-]{0,127}$")

# Words that make a password guessable whatever digits or symbols are put around them (compared
# with the password's letters between its first and last letter, after undoing common letter
# swaps: P@ssw0rd2024! is "password"). Deliberately short: the length and kind rules do most of
# the work.
_COMMON = frozenset(
    {
        "password", "passwd", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbn", "admin",
        "administrator", "root", "welcome", "letmein", "iloveyou", "woaini", "abc", "abcd",
        "abcdef", "abcdefg", "abcdefgh", "test", "changeme", "default", "secret", "branchlens",
        "bank", "qazwsx", "qwe", "asd", "zxc", "aaa", "aaaa", "aaaaaa", "user", "guest", "login",
    }
)  # fmt: skip
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "!": "i", "3": "e", "$": "s",
                       "5": "s", "7": "t"})  # fmt: skip


class LoginRefused(Exception):
    """A login (or an open session) is refused. ``code``: unknown | bad_password | locked |
    disabled | must_change | expired | ended. ``until``: when a lockout ends; ``just_locked``:
    this very attempt locked the account (audit it as a lockout)."""

    def __init__(self, code: str, until: datetime | None = None, just_locked: bool = False):
        super().__init__(code)
        self.code, self.until, self.just_locked = code, until, just_locked


class PasswordRejected(Exception):
    """A new password breaks the policy. ``code``: too_short | too_long | too_few_kinds |
    control_char | contains_user | common | same_as_old; ``fields`` fill the message."""

    def __init__(self, code: str, **fields):
        super().__init__(code)
        self.code, self.fields = code, fields


class UserChangeRefused(Exception):
    """An account change that may not or cannot be made. ``code``: not_allowed | other_branch |
    role_not_allowed | exists | unknown | bad_user_id | bad_role | branch_needed | rm_needed |
    unknown_rm | rm_other_branch | self | last_head_office | demo (a demo-mode viewer, who is
    whoever the URL says, may change no real account)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class AuthSettings:
    """The ``[auth]`` section of settings.toml."""

    max_failed_logins: int
    lockout_minutes: int
    session_minutes: int
    session_max_hours: int
    password_min_length: int
    password_max_length: int
    password_min_kinds: int
    password_max_age_days: int
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int

    @classmethod
    def load(cls, section: Mapping | None = None) -> AuthSettings:
        s = load_settings()["auth"] if section is None else section
        return cls(**{f: int(s[f]) for f in cls.__dataclass_fields__})


@functools.lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
        type=argon2.Type.ID,
    )  # fmt: skip


@functools.lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash of a random secret: what a login for an unknown user is verified against."""
    return _hasher(time_cost, memory_kib, parallelism).hash(secrets.token_urlsafe(24))


# ---------------------------------------------------------------------------- values


def utcnow() -> datetime:
    return datetime.now(UTC)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat(timespec="microseconds")


def _when(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def normalize_user_id(user_id: str) -> str:
    """The stored form of a login name: trimmed and lower case (e-mails compare that way)."""
    return unicodedata.normalize("NFKC", str(user_id or "")).strip().lower()


def _norm_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _kinds(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_password(password: str, user_id: str, cfg: AuthSettings) -> None:
    """Raise ``PasswordRejected`` unless ``password`` meets the policy of ``[auth]``."""
    pw = _norm_password(password)
    if any(unicodedata.category(c).startswith("C") for c in pw):
        raise PasswordRejected("control_char")
    if len(pw) < cfg.password_min_length:
        raise PasswordRejected("too_short", min=cfg.password_min_length)
    if len(pw) > cfg.password_max_length:
        raise PasswordRejected("too_long", max=cfg.password_max_length)
    if _kinds(pw) < cfg.password_min_kinds:
        raise PasswordRejected("too_few_kinds", kinds=cfg.password_min_kinds)
    lowered = pw.lower()
    name = normalize_user_id(user_id).split("@")[0]
    if len(name) >= 3 and name in lowered:
        raise PasswordRejected("contains_user")
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered).translate(_LEET)
    if core in _COMMON or len(set(lowered)) <= 2:
        raise PasswordRejected("common")


@dataclass(frozen=True)
class Account:
    """One account as shown to the program (never with its hash)."""

    user_id: str
    display_name: str
    role: str
    branch_id: str | None
    rm_id: str | None
    has_password: bool
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    password_changed_at: datetime | None
    must_change: bool
    epoch: int
    last_login_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and _now(now) < self.locked_until

    def scope(self) -> Scope | None:
        """The viewer's scope, or None for an account whose mapping is incomplete."""
        if self.role not in ROLES:
            return None
        try:
            return Scope(
                self.role, (self.branch_id,) if self.branch_id else (), rm_id=self.rm_id,
                viewer_id=self.user_id,
            )  # fmt: skip
        except ValueError:
            return None

    def as_row(self) -> dict:
        """A plain dict for listings (datetimes as ISO text)."""
        row = asdict(self)
        for k, v in row.items():
            if isinstance(v, datetime):
                row[k] = _iso(v)
        return row


_COLUMNS = (
    "user_id, display_name, role, branch_id, rm_id, password_hash IS NOT NULL, disabled, "
    "failed_logins, locked_until, password_changed_at, must_change, epoch, last_login_at, "
    "created_at, created_by, updated_at, updated_by"
)


def _account(row) -> Account:
    return Account(
        row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), int(row[7]),
        _when(row[8]), _when(row[9]), bool(row[10]), int(row[11]), _when(row[12]),
        _when(row[13]), row[14], _when(row[15]), row[16],
    )  # fmt: skip


def session_expired(
    logged_in_at: datetime, last_seen: datetime, now: datetime | None, cfg: AuthSettings
) -> str | None:
    """Why a session is over: 'idle' after ``session_minutes`` without use, 'max_age' after
    ``session_max_hours`` since the login; None while it is still good."""
    now = _now(now)
    if now - last_seen >= timedelta(minutes=cfg.session_minutes):
        return "idle"
    if now - logged_in_at >= timedelta(hours=cfg.session_max_hours):
        return "max_age"
    return None


# ---------------------------------------------------------------------------- the accounts file

Audit = Callable[[str, str | None], None]  # (detail, branch of the account) -> None, or raise


_READY: set[str] = set()  # files whose schema this process has made sure of


def default_path() -> Path:
    from analytics.store import data_dir

    return data_dir() / FILE_NAME


class Accounts:
    """The accounts file. Cheap to create: every method opens the file for its own transaction.

    Management methods take ``actor``: the viewer's ``Scope`` on the users page, or None for the
    server's administrator at the command line (no role limits). ``audit(detail, branch_id)`` is
    called inside the transaction, after the change and before the commit: if it raises (the
    audit log cannot be written) nothing changes.
    """

    def __init__(self, path: str | os.PathLike | None = None, settings: Mapping | None = None):
        self.path = Path(path) if path else default_path()
        self.cfg = AuthSettings.load(settings)

    # -- plumbing

    @property
    def _ph(self) -> argon2.PasswordHasher:
        c = self.cfg
        return _hasher(c.argon2_time_cost, c.argon2_memory_kib, c.argon2_parallelism)

    def _dummy(self) -> str:
        c = self.cfg
        return _dummy_hash(c.argon2_time_cost, c.argon2_memory_kib, c.argon2_parallelism)

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction (``BEGIN IMMEDIATE`` for writes): committed when the
        block ends, rolled back when anything (an audit stop too) leaves it."""
        key = str(self.path.resolve())
        fresh = key not in _READY or not self.path.exists()
        if fresh:
            self._create()
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 15000")
            if fresh:
                con.execute("PRAGMA journal_mode = WAL")
                con.executescript(SCHEMA)
                _READY.add(key)
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @staticmethod
    def _get(con: sqlite3.Connection, user_id: str) -> Account | None:
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", [user_id]).fetchone()
        return None if row is None else _account(row)

    def get(self, user_id: str) -> Account | None:
        with self._db() as con:
            return self._get(con, normalize_user_id(user_id))

    def all(self) -> list[Account]:
        with self._db() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM users ORDER BY user_id").fetchall()
        return [_account(r) for r in rows]

    # -- logging in

    def _verify(self, password_hash: str | None, password: str) -> bool:
        """Constant-time check through argon2's verify; a missing hash costs the same."""
        try:
            return self._ph.verify(password_hash or self._dummy(), _norm_password(password))
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            return False

    def _check(self, user_id: str, password: str, now: datetime) -> tuple[Account, str | None]:
        """Verify a password, counting failures and locking; returns the account and the
        password's state: None (good), 'must_change' or 'expired'."""
        uid = normalize_user_id(user_id)
        with self._db() as con:
            row = con.execute("SELECT password_hash FROM users WHERE user_id = ?", [uid]).fetchone()
            acc = self._get(con, uid)
        stored = row[0] if row else None
        if acc is None or stored is None:
            self._verify(None, password)
            raise LoginRefused("unknown")
        if acc.locked(now):
            self._verify(None, password)
            raise LoginRefused("locked", until=acc.locked_until)
        if not self._verify(stored, password):
            if acc.disabled:  # says nothing about the account; not counted
                raise LoginRefused("bad_password")
            self._failed(uid, now)
        if acc.disabled:
            raise LoginRefused("disabled")
        with self._db(write=True) as con:
            con.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? "
                "WHERE user_id = ?",
                [_iso(now), uid],
            )
            if self._ph.check_needs_rehash(stored):  # [auth] argon2 parameters were raised
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE user_id = ?",
                    [self._ph.hash(_norm_password(password)), uid],
                )
            acc = self._get(con, uid)
        if acc.must_change:
            return acc, "must_change"
        age = self.cfg.password_max_age_days
        changed = acc.password_changed_at
        if age > 0 and changed is not None and now - changed >= timedelta(days=age):
            return acc, "expired"
        return acc, None

    def _failed(self, uid: str, now: datetime) -> None:
        """Count a wrong password; the ``max_failed_logins``-th in a row locks the account."""
        with self._db(write=True) as con:
            (n,) = con.execute(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE user_id = ? "
                "RETURNING failed_logins",
                [uid],
            ).fetchone()
            if n < self.cfg.max_failed_logins:
                until = None
            else:
                until = now + timedelta(minutes=self.cfg.lockout_minutes)
                con.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = ? WHERE user_id = ?",
                    [_iso(until), uid],
                )
        if until is not None:
            raise LoginRefused("locked", until=until, just_locked=True)
        raise LoginRefused("bad_password")

    def authenticate(self, user_id: str, password: str, now: datetime | None = None) -> Account:
        """The account for a right password; else ``LoginRefused``. A right password that must be
        changed first (after add/reset, or older than ``password_max_age_days``) is refused with
        'must_change' or 'expired': then ``change_password`` with the same password."""
        acc, state = self._check(user_id, password, _now(now))
        if state is not None:
            raise LoginRefused(state)
        return acc

    def change_password(
        self, user_id: str, old_password: str, new_password: str, now: datetime | None = None
    ) -> Account:
        """The user's own change: the old password is checked as a login is (failures count)."""
        now = _now(now)
        acc, _ = self._check(user_id, old_password, now)
        check_password(new_password, acc.user_id, self.cfg)
        if _norm_password(new_password) == _norm_password(old_password):
            raise PasswordRejected("same_as_old")
        with self._db(write=True) as con:
            self._set_password(con, acc.user_id, new_password, False, now, acc.user_id)
            return self._get(con, acc.user_id)

    def session_scope(self, user_id: str, epoch: int) -> Scope:
        """The scope of an open session, read afresh on every run: ``LoginRefused`` 'unknown',
        'disabled' or 'ended' (an administrator changed the account since the login)."""
        acc = self.get(user_id)
        if acc is None or acc.scope() is None:
            raise LoginRefused("unknown")
        if acc.disabled:
            raise LoginRefused("disabled")
        if acc.epoch != epoch:
            raise LoginRefused("ended")
        return acc.scope()

    def sso_scope(self, user_id: str) -> Scope:
        """The scope of a user logged in by single sign-on: ``LoginRefused`` 'unknown' (no account
        or an incomplete mapping) or 'disabled'."""
        acc = self.get(user_id)
        if acc is None or acc.scope() is None:
            raise LoginRefused("unknown")
        if acc.disabled:
            raise LoginRefused("disabled")
        return acc.scope()

    # -- managing

    def _set_password(self, con, uid, password, must_change, now, by) -> None:
        con.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change = ?, "
            "failed_logins = 0, locked_until = NULL, epoch = epoch + 1, updated_at = ?, "
            "updated_by = ? WHERE user_id = ?",
            [self._ph.hash(_norm_password(password)), _iso(now), int(must_change), _iso(now),
             by, uid],
        )  # fmt: skip

    @staticmethod
    def _mapping(role, branch_id, rm_id, rms: Mapping[str, str] | None):
        if role not in ROLES:
            raise UserChangeRefused("bad_role")
        branch_id = (branch_id or "").strip() or None
        rm_id = (rm_id or "").strip() or None
        if role in ("head_office", "trainer"):
            return None, None
        if not branch_id:
            raise UserChangeRefused("branch_needed")
        if role == "manager":
            return branch_id, None
        if not rm_id:
            raise UserChangeRefused("rm_needed")
        if rms is not None:
            if rm_id not in rms:
                raise UserChangeRefused("unknown_rm")
            if rms[rm_id] != branch_id:
                raise UserChangeRefused("rm_other_branch")
        return branch_id, rm_id

    @staticmethod
    def may_manage(actor: Scope | None, acc: Account) -> bool:
        """Whether ``actor`` may change this account: head office (and the command line) every
        account, a branch manager the RMs of their own branch, nobody else anything."""
        if actor is None or actor.role == "head_office":
            return True
        return actor.role == "manager" and acc.role == "rm" and acc.branch_id in actor.branch_ids

    @staticmethod
    def roles_for(actor: Scope | None) -> tuple[str, ...]:
        """The roles ``actor`` may give an account."""
        if actor is None or actor.role == "head_office":
            return ROLES
        return ("rm",) if actor.role == "manager" else ()

    @staticmethod
    def _not_demo(actor: Scope | None) -> None:
        if actor is not None and actor.viewer_id.startswith("demo:"):
            raise UserChangeRefused("demo")

    def _allowed(self, actor, role, branch_id) -> None:
        if actor is None or actor.role == "head_office":
            return
        if actor.role != "manager":
            raise UserChangeRefused("not_allowed")
        if role != "rm":
            raise UserChangeRefused("role_not_allowed")
        if branch_id not in actor.branch_ids:
            raise UserChangeRefused("other_branch")

    def _target(self, con, actor, user_id) -> Account:
        self._not_demo(actor)
        if actor is not None and not may(actor, "manage_users"):
            raise UserChangeRefused("not_allowed")
        acc = self._get(con, normalize_user_id(user_id))
        if acc is None:
            raise UserChangeRefused("unknown")
        if not self.may_manage(actor, acc):
            raise UserChangeRefused("other_branch" if acc.role == "rm" else "not_allowed")
        return acc

    @staticmethod
    def _keeps_head_office(con, acc: Account, role_after: str, disabled_after: bool) -> None:
        """Refuse a change that would leave no enabled head-office account."""
        if acc.role != "head_office" or acc.disabled:
            return
        if role_after == "head_office" and not disabled_after:
            return
        (n,) = con.execute(
            "SELECT count(*) FROM users WHERE role = 'head_office' AND disabled = 0 "
            "AND user_id <> ?",
            [acc.user_id],
        ).fetchone()
        if n == 0:
            raise UserChangeRefused("last_head_office")

    def visible(self, actor: Scope | None) -> list[Account]:
        """The accounts ``actor`` may see and manage (the users page, ``list``); none for a
        demo-mode viewer."""
        if actor is not None and actor.viewer_id.startswith("demo:"):
            return []
        return [a for a in self.all() if self.may_manage(actor, a)]

    def add(
        self,
        user_id: str,
        role: str,
        *,
        branch_id: str | None = None,
        rm_id: str | None = None,
        display_name: str = "",
        password: str | None = None,
        must_change: bool = True,
        actor: Scope | None = None,
        rms: Mapping[str, str] | None = None,
        audit: Audit | None = None,
        now: datetime | None = None,
    ) -> Account:
        """A new account. ``password`` None: single sign-on only. ``rms`` (RM id -> branch), when
        given, checks the RM id against the snapshot's RMs."""
        now = _now(now)
        uid = normalize_user_id(user_id)
        self._not_demo(actor)
        if not USER_ID.match(uid):
            raise UserChangeRefused("bad_user_id")
        if actor is not None and not may(actor, "manage_users"):
            raise UserChangeRefused("not_allowed")
        branch_id, rm_id = self._mapping(role, branch_id, rm_id, rms)
        self._allowed(actor, role, branch_id)
        if password is not None:
            check_password(password, uid, self.cfg)
        by = "cli" if actor is None else actor.viewer_id
        with self._db(write=True) as con:
            if self._get(con, uid) is not None:
                raise UserChangeRefused("exists")
            con.execute(
                "INSERT INTO users (user_id, display_name, role, branch_id, rm_id, created_at, "
                "created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [uid, (display_name or "").strip(), role, branch_id, rm_id, _iso(now), by,
                 _iso(now), by],
            )  # fmt: skip
            if password is not None:
                self._set_password(con, uid, password, must_change, now, by)
            if audit:
                audit(_detail("add", uid, role, branch_id, rm_id, password is not None), branch_id)
            return self._get(con, uid)

    def grant(
        self,
        user_id: str,
        *,
        role: str | None = None,
        branch_id: str | None = None,
        rm_id: str | None = None,
        display_name: str | None = None,
        actor: Scope | None = None,
        rms: Mapping[str, str] | None = None,
        audit: Audit | None = None,
        now: datetime | None = None,
    ) -> Account:
        """Change an account's role, branch, RM id or name (None: keep). Ends its sessions."""
        now = _now(now)
        with self._db(write=True) as con:
            acc = self._target(con, actor, user_id)
            role = role or acc.role
            new_branch = acc.branch_id if branch_id is None else branch_id
            new_rm = acc.rm_id if rm_id is None else rm_id
            new_branch, new_rm = self._mapping(role, new_branch, new_rm, rms)
            self._allowed(actor, role, new_branch)
            if actor is not None and acc.user_id == actor.viewer_id and role != acc.role:
                raise UserChangeRefused("self")
            self._keeps_head_office(con, acc, role, acc.disabled)
            name = acc.display_name if display_name is None else display_name.strip()
            by = "cli" if actor is None else actor.viewer_id
            con.execute(
                "UPDATE users SET role = ?, branch_id = ?, rm_id = ?, display_name = ?, "
                "epoch = epoch + 1, updated_at = ?, updated_by = ? WHERE user_id = ?",
                [role, new_branch, new_rm, name, _iso(now), by, acc.user_id],
            )
            if audit:
                audit(_detail("grant", acc.user_id, role, new_branch, new_rm), new_branch)
            return self._get(con, acc.user_id)

    def set_disabled(
        self,
        user_id: str,
        disabled: bool,
        *,
        actor: Scope | None = None,
        audit: Audit | None = None,
        now: datetime | None = None,
    ) -> Account:
        """Disable (ends its sessions at their next run) or enable (also lifts a lockout)."""
        now = _now(now)
        with self._db(write=True) as con:
            acc = self._target(con, actor, user_id)
            if disabled and actor is not None and acc.user_id == actor.viewer_id:
                raise UserChangeRefused("self")
            if disabled:
                self._keeps_head_office(con, acc, acc.role, True)
            by = "cli" if actor is None else actor.viewer_id
            con.execute(
                "UPDATE users SET disabled = ?, failed_logins = 0, locked_until = NULL, "
                "epoch = epoch + ?, updated_at = ?, updated_by = ? WHERE user_id = ?",
                [int(disabled), int(disabled), _iso(now), by, acc.user_id],
            )
            if audit:
                audit(f"{'disable' if disabled else 'enable'} user={acc.user_id}", acc.branch_id)
            return self._get(con, acc.user_id)

    def reset_password(
        self,
        user_id: str,
        password: str,
        *,
        must_change: bool = True,
        actor: Scope | None = None,
        audit: Audit | None = None,
        now: datetime | None = None,
    ) -> Account:
        """Set a new password for someone (lifts a lockout, ends their sessions); by default it
        must be changed at the next login."""
        now = _now(now)
        with self._db(write=True) as con:
            acc = self._target(con, actor, user_id)
            check_password(password, acc.user_id, self.cfg)
            by = "cli" if actor is None else actor.viewer_id
            self._set_password(con, acc.user_id, password, must_change, now, by)
            if audit:
                audit(f"reset user={acc.user_id} must_change={int(must_change)}", acc.branch_id)
            return self._get(con, acc.user_id)


def _detail(verb, uid, role, branch_id, rm_id, password: bool | None = None) -> str:
    """The audit detail of an account change: who, mapped to what; never a password."""
    parts = [verb, f"user={uid}", f"role={role}"]
    if branch_id:
        parts.append(f"branch={branch_id}")
    if rm_id:
        parts.append(f"rm={rm_id}")
    if password is not None:
        parts.append(f"password={'local' if password else 'sso'}")
    return " ".join(parts)


# ---------------------------------------------------------------------------- command line


def _t(key: str, lang: str, **fields) -> str:
    from ui.i18n import TABLES  # plain dicts; no Streamlit

    text = TABLES[lang][key]
    return text.format(**fields) if fields else text


def _cli_audit(detail: str, branch_id: str | None) -> None:
    from analytics.audit import AuditEvent, AuditLog

    AuditLog().record(
        AuditEvent("cli", "user", detail=detail, branch_ids=(branch_id,) if branch_id else ())
    )


def _read_password(args, lang: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise SystemExit(_t("users.cli.no_password_given", lang))
        return line.rstrip("\r\n")
    first = getpass.getpass(_t("users.cli.password_prompt", lang))
    if getpass.getpass(_t("users.cli.password_again", lang)) != first:
        raise SystemExit(_t("users.cli.password_mismatch", lang))
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.users")
    parser.add_argument("--file", help=f"the accounts file (default: $BRANCHLENS_DATA/{FILE_NAME})")
    parser.add_argument("--lang", choices=("zh", "en"))
    sub = parser.add_subparsers(dest="cmd", required=True)

    def mapping(p, required: bool):
        p.add_argument("--role", choices=ROLES, required=required)
        p.add_argument("--branch", help="branch id (manager, rm)")
        p.add_argument("--rm", help="RM id (rm)")
        p.add_argument("--name", help="display name")

    add = sub.add_parser("add", help="add an account")
    add.add_argument("user")
    mapping(add, True)
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--no-password", action="store_true", help="single sign-on only")
    add.add_argument("--no-must-change", action="store_true")
    for cmd in ("disable", "enable"):
        sub.add_parser(cmd, help=f"{cmd} an account").add_argument("user")
    reset = sub.add_parser("reset", help="set a new password")
    reset.add_argument("user")
    reset.add_argument("--password-stdin", action="store_true")
    reset.add_argument("--no-must-change", action="store_true")
    grant = sub.add_parser("grant", help="change role, branch, RM id or name")
    grant.add_argument("user")
    mapping(grant, False)
    sub.add_parser("list", help="list the accounts (never a hash)").add_argument(
        "--json", action="store_true"
    )
    args = parser.parse_args(argv)
    lang = args.lang or ("zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en")
    accounts = Accounts(args.file)
    try:
        if args.cmd == "list":
            rows = [a.as_row() for a in accounts.all()]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=1))
            else:
                _print_table(rows, lang)
            return 0
        if args.cmd == "add":
            password = None if args.no_password else _read_password(args, lang)
            acc = accounts.add(
                args.user, args.role, branch_id=args.branch, rm_id=args.rm,
                display_name=args.name or "", password=password,
                must_change=not args.no_must_change, audit=_cli_audit,
            )  # fmt: skip
        elif args.cmd in ("disable", "enable"):
            acc = accounts.set_disabled(args.user, args.cmd == "disable", audit=_cli_audit)
        elif args.cmd == "reset":
            acc = accounts.reset_password(
                args.user, _read_password(args, lang), must_change=not args.no_must_change,
                audit=_cli_audit,
            )  # fmt: skip
        else:
            acc = accounts.grant(
                args.user, role=args.role, branch_id=args.branch, rm_id=args.rm,
                display_name=args.name, audit=_cli_audit,
            )  # fmt: skip
    except UserChangeRefused as e:
        print(_t(f"users.refused.{e.code}", lang), file=sys.stderr)
        return 1
    except PasswordRejected as e:
        print(_t(f"pw.{e.code}", lang, **e.fields), file=sys.stderr)
        return 1
    except OSError:  # the audit log (or the accounts file) cannot be written: nothing changed
        print(_t("users.cli.not_written", lang), file=sys.stderr)
        return 1
    print(_t(f"users.cli.done_{args.cmd}", lang, user=acc.user_id))
    return 0


def _print_table(rows: list[dict], lang: str) -> None:
    cols = ("user_id", "display_name", "role", "branch_id", "rm_id", "state", "last_login_at")
    now = utcnow()
    lines = [[_t(f"users.col.{c}", lang) for c in cols]]
    for r in rows:
        locked = r["locked_until"] and datetime.fromisoformat(r["locked_until"]) > now
        state = "disabled" if r["disabled"] else "locked" if locked else "active"
        if not r["has_password"]:
            state += "/sso"
        lines.append(
            [r["user_id"], r["display_name"], r["role"], r["branch_id"] or "", r["rm_id"] or "",
             _t(f"users.state.{state.split('/')[0]}", lang) + ("/SSO" if "/" in state else ""),
             (r["last_login_at"] or "")[:16]]
        )  # fmt: skip
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(cols))]
    for line in lines:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
