"""The audit log (DESIGN.md §2, item 3): who viewed, unmasked or exported which client's data,
imported or rolled back what, changed a user, logged in or was refused, when, and the outcome.

The log is ``<data>/audit.jsonl``, one JSON object per line, with these fields:

- ``at``: UTC time (ISO 8601, microseconds); ``viewer``: the person's login (``demo:rm:R0001`` in
  demo mode, ``cli`` for the command-line jobs); ``role``: head_office | manager | rm | trainer
  (empty for someone not yet logged in);
- ``action``: view | unmask | export | import | rollback | assign | user | login | lockout |
  read_audit | page (a page refused to the role) | ...; ``detail``: what was viewed or which file
  (``client360``, ``allocation``, ``meeting-sheet.html``, a snapshot name, a page id ...);
- ``client_ids``: the clients concerned; ``branch_ids``: the branches the record is about, which is
  how a branch manager's reading is limited: the branches of the clients concerned (looked up in
  the warehouse by the caller) plus the acting person's own branch when they are a branch manager
  or an RM. A record with no branch (a failed login of an unknown user, a CLI job of head office)
  is read by head office only;
- ``outcome``: ``ok`` | ``refused`` (an access attempt that was turned down) | ``failed`` (e.g. a
  wrong password);
- ``prev``: the ``hash`` of the line before (``GENESIS`` for the first line) and ``hash``: the
  SHA-256 of the record's canonical JSON without ``hash`` (keys sorted, no spaces, UTF-8), so
  ``prev`` is covered too. Each line is written in that canonical form, so changing any byte of a
  line, or removing or inserting one, breaks the chain at that line (``verify``). A truncated
  tail (the last lines cut off) is not visible to a chain alone: back the log up (docs/deploy.md).

Appends are serialised across threads and processes with an exclusive ``flock`` on the log file
itself (opened ``O_APPEND``); the last line is read under that lock to chain the new one, and each
record is ``fsync``-ed before ``record`` returns, so a caller may show data once it returned. The
file is created with mode 0600 (and narrowed to 0600 if found wider).

Command line::

    python -m analytics.audit verify [--file PATH] [--lang zh|en]

exits 0 when the chain is intact and 1 naming the first broken line.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analytics.access import AccessDenied, Scope, may

GENESIS = "0" * 64
OUTCOMES = ("ok", "refused", "failed")
COLUMNS = [
    "at", "viewer", "role", "action", "client_ids", "branch_ids", "detail", "outcome", "prev",
    "hash",
]  # fmt: skip


@dataclass(frozen=True)
class AuditEvent:
    """One thing to record. The first four fields keep their historical order."""

    viewer: str
    action: str
    client_ids: tuple[str, ...] = ()
    detail: str = ""
    role: str = ""
    outcome: str = "ok"
    branch_ids: tuple[str, ...] = ()

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")


class AuditUnavailable(Exception):
    """The audit log cannot be written; whatever was to be recorded must not happen. The message
    names no path (it may reach a user through a framework)."""


def canonical(record: dict) -> str:
    """The one serialisation that is hashed and written."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_hash(record: dict) -> str:
    """SHA-256 over the canonical JSON of the record without its ``hash`` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Check:
    """What ``AuditLog.check`` found: the records read and the first broken line (1-based)."""

    records: int
    broken: int | None = None
    reason: str = ""  # not_json | not_canonical | hash | chain | blank


def _tail(fd: int) -> tuple[bytes, bool]:
    """The file's last line (without its newline) and whether the file ends with a newline."""
    size = os.fstat(fd).st_size
    if size == 0:
        return b"", True
    ends = os.pread(fd, 1, size - 1) == b"\n"
    end = size - 1 if ends else size
    buf, pos = b"", end
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        cut = buf.rfind(b"\n")
        if cut >= 0:
            return buf[cut + 1 :], ends
    return buf, ends


def _prev_of(line: bytes) -> str:
    """The hash to chain onto: the last record's ``hash``; for a line that is no chained record
    (an old unchained log, a damaged tail) the SHA-256 of its bytes, so verify still flags it."""
    if not line:
        return GENESIS
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        last = json.loads(line.decode("utf-8"))
        if isinstance(last, dict) and isinstance(last.get("hash"), str):
            return last["hash"]
    return hashlib.sha256(line).hexdigest()


class AuditLog:
    """Append-only, hash-chained JSON lines (see the module docstring)."""

    _lock = threading.Lock()  # flock serialises processes; this keeps one process's threads tidy

    def __init__(self, path: str | os.PathLike | None = None):
        if path is None:
            from analytics.store import data_dir  # store imports this module

            path = data_dir() / "audit.jsonl"
        self.path = Path(path)

    @contextlib.contextmanager
    def _open(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:  # an older log created world-readable
                with contextlib.suppress(PermissionError):
                    os.fchmod(fd, 0o600)
            yield fd
        finally:
            os.close(fd)

    def record(self, event: AuditEvent) -> dict:
        """Append one record and return it (with ``prev`` and ``hash``). Raises ``OSError`` when
        the log cannot be written: the caller must then not show or hand out the data."""
        with self._lock, self._open() as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                last, ends = _tail(fd)
                rec = {
                    "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "viewer": event.viewer,
                    "role": event.role,
                    "action": event.action,
                    "client_ids": list(event.client_ids),
                    "branch_ids": sorted(set(event.branch_ids)),
                    "detail": event.detail,
                    "outcome": event.outcome,
                    "prev": _prev_of(last),
                }
                rec["hash"] = record_hash(rec)
                data = ("" if ends else "\n") + canonical(rec) + "\n"
                os.write(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return rec

    def writable(self) -> bool:
        """Whether a record could be appended now (opens the log for appending, writes nothing)."""
        try:
            with self._open():
                return True
        except OSError:
            return False

    def _lines(self) -> Iterator[bytes]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for raw in f:
                yield raw[:-1] if raw.endswith(b"\n") else raw

    def check(self) -> Check:
        """Walk the chain: the first line that is not canonical JSON, whose hash does not match its
        content, or whose ``prev`` is not the hash of the line before."""
        prev, n = GENESIS, 0
        for n, raw in enumerate(self._lines(), start=1):
            if not raw.strip():
                return Check(n - 1, n, "blank")
            try:
                text = raw.decode("utf-8")
                rec = json.loads(text)
            except (UnicodeDecodeError, ValueError):
                return Check(n - 1, n, "not_json")
            if not isinstance(rec, dict) or canonical(rec) != text:
                return Check(n - 1, n, "not_canonical")
            if rec.get("hash") != record_hash(rec):
                return Check(n - 1, n, "hash")
            if rec.get("prev") != prev:
                return Check(n - 1, n, "chain")
            prev = rec["hash"]
        return Check(n)

    def verify(self) -> int | None:
        """The first broken line (1-based), or None when the whole chain holds."""
        return self.check().broken

    def read(self, scope: Scope | None = None, db=None) -> pd.DataFrame:
        """The records, oldest first. With a ``scope``: what that viewer may read: head office
        everything, a branch manager the records about their branch (``branch_ids``; for an older
        record without them, the branches of its clients looked up in ``db`` when given), anyone
        else ``AccessDenied``. Without a scope: everything (server-side callers and tests)."""
        if scope is not None and not may(scope, "read_audit"):  # never RMs (nor trainers)
            raise AccessDenied("audit")
        rows = []
        for raw in self._lines():
            with contextlib.suppress(UnicodeDecodeError, ValueError):
                rec = json.loads(raw.decode("utf-8"))
                if isinstance(rec, dict):
                    rows.append(rec)
        df = pd.DataFrame(rows, columns=COLUMNS)
        for col in ("client_ids", "branch_ids"):
            df[col] = [list(v) if isinstance(v, list) else [] for v in df[col]]
        for col in ("role", "detail", "outcome", "prev", "hash"):
            df[col] = df[col].fillna("")
        if scope is None or scope.role == "head_office":
            return df
        mine = set(scope.branch_ids)
        unknown = {c for b, ids in zip(df["branch_ids"], df["client_ids"], strict=True) if not b
                   for c in ids}  # fmt: skip
        looked_up = client_branches(db, sorted(unknown)) if db is not None and unknown else {}
        keep = [
            bool(mine & set(b or [looked_up.get(c) for c in ids]))
            for b, ids in zip(df["branch_ids"], df["client_ids"], strict=True)
        ]
        return df[keep].reset_index(drop=True)


def client_branches(db, client_ids: Sequence[str]) -> dict[str, str]:
    """Each known client's (retail or corporate) branch, from a warehouse snapshot."""
    if not client_ids:
        return {}
    ids = list(dict.fromkeys(str(c) for c in client_ids))
    tables = set(db.query("SELECT table_name FROM duckdb_tables()")["table_name"])
    out: dict[str, str] = {}
    for table, key in (("clients", "client_id"), ("corp_clients", "corp_id")):
        if table in tables:
            found = db.query(
                f"SELECT {key} AS id, branch_id FROM {table} WHERE {key} IN (SELECT UNNEST(?))",
                [ids],
            )
            out.update(zip(found["id"], found["branch_id"], strict=True))
    return out


def branches_for(db, scope: Scope | None, client_ids: Iterable[str]) -> tuple[str, ...]:
    """The ``branch_ids`` of a record: the clients' branches and, for a branch manager or an RM,
    their own branch."""
    found = set(client_branches(db, list(client_ids)).values()) if db is not None else set()
    if scope is not None and scope.role in ("manager", "rm"):
        found |= set(scope.branch_ids)
    return tuple(sorted(b for b in found if b))


# ---------------------------------------------------------------------------- command line


def _t(key: str, lang: str, **fields) -> str:
    from ui.i18n import TABLES  # plain dicts; no Streamlit

    return TABLES[lang][key].format(**fields)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.audit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    verify = sub.add_parser("verify", help="check the hash chain; exit 1 at the first broken line")
    verify.add_argument("--file", help="the log (default: $BRANCHLENS_DATA/audit.jsonl)")
    verify.add_argument("--lang", choices=("zh", "en"))
    args = parser.parse_args(argv)
    lang = args.lang or ("zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en")
    log = AuditLog(args.file)
    if not log.path.exists():
        print(_t("audit.cli_missing", lang, file=log.path), file=sys.stderr)
        return 1
    found = log.check()
    if found.broken is None:
        print(_t("audit.cli_ok", lang, file=log.path, n=found.records))
        return 0
    why = _t(f"audit.why.{found.reason}", lang)
    print(_t("audit.cli_broken", lang, file=log.path, line=found.broken, why=why), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
