"""The three stores of DESIGN.md §2: warehouse snapshots, the workspace and the audit log.

- Warehouse snapshots are DuckDB files in ``<data>/warehouse/``. The file named in
  ``<data>/warehouse/CURRENT`` is the one in force; publishing a new snapshot writes the file first
  and then replaces ``CURRENT`` atomically (``os.replace``), so a reader sees either the old or the
  new snapshot, never half of one. The newest ``[stores] keep_snapshots`` files are kept as backup.
- The workspace (``<data>/workspace.duckdb``) holds what users create; a re-import never touches it.
- The audit log (``<data>/audit.jsonl``) is append-only: one JSON object per line.

A ``Database`` wraps one DuckDB connection per file and runs every query on its own cursor, which is
what makes one cached connection safe under concurrent Streamlit sessions.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics.schema import schema_part
from analytics.settings import ROOT, load_settings

CURRENT = "CURRENT"


def data_dir() -> Path:
    """The data folder: ``$BRANCHLENS_DATA`` if set (tests use a temporary one), else ``./data``."""
    return Path(os.environ.get("BRANCHLENS_DATA", ROOT / "data"))


class Database:
    """One DuckDB connection to one file; each query runs on a fresh cursor."""

    def __init__(self, path: str | os.PathLike, read_only: bool):
        self.path = Path(path)
        self.read_only = read_only
        self._con = duckdb.connect(str(self.path), read_only=read_only)

    @property
    def version(self) -> str:
        """Identifies the file's contents for cache keys: the snapshot's file name."""
        return self.path.name

    def query(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        """Run a parameterised query and return its rows as a DataFrame."""
        with self.cursor() as cur:
            return cur.execute(sql, list(params)).df()

    def scalar(self, sql: str, params: Sequence = ()):
        """Run a parameterised query and return the first column of its first row (or None)."""
        with self.cursor() as cur:
            row = cur.execute(sql, list(params)).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Sequence = ()) -> None:
        """Run a parameterised statement (writes: workspace only)."""
        with self.cursor() as cur:
            cur.execute(sql, list(params))

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()


# ---------------------------------------------------------------------------- warehouse snapshots


def warehouse_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / "warehouse"


def current_snapshot(root: Path | None = None) -> Path | None:
    """The snapshot file in force, or None when no snapshot has been published yet."""
    wdir = warehouse_dir(root)
    try:
        name = (wdir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = wdir / name
    return path if name and path.exists() else None


def snapshots(root: Path | None = None) -> list[Path]:
    """All snapshot files kept, oldest first."""
    return sorted(warehouse_dir(root).glob("snapshot-*.duckdb"))


def publish_snapshot(built: Path, label: str, root: Path | None = None) -> Path:
    """Move a fully written snapshot file into the warehouse and make it current.

    The file is renamed into place, then ``CURRENT`` is replaced atomically. Older snapshots beyond
    ``[stores] keep_snapshots`` are deleted (never the current one).
    """
    wdir = warehouse_dir(root)
    wdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = wdir / f"snapshot-{stamp}-{label}.duckdb"
    os.replace(built, target)
    pointer_tmp = wdir / f".{CURRENT}.tmp"
    pointer_tmp.write_text(target.name, encoding="utf-8")
    os.replace(pointer_tmp, wdir / CURRENT)
    keep = int(load_settings()["stores"]["keep_snapshots"])
    for old in snapshots(root)[:-keep]:
        if old != target:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


@contextlib.contextmanager
def _build_lock(root: Path | None) -> Iterator[None]:
    """An exclusive file lock so that two app processes never build the demo at once."""
    wdir = warehouse_dir(root)
    wdir.mkdir(parents=True, exist_ok=True)
    with open(wdir / ".build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_current_snapshot(root: Path | None = None) -> Path:
    """Return the current snapshot, building and publishing the default demo one if there is none.

    The demo's size and seed come from ``[demo]`` in settings.toml.
    """
    found = current_snapshot(root)
    if found is not None:
        return found
    from analytics import demo_data  # the generator is only needed on first start

    with _build_lock(root):
        found = current_snapshot(root)  # another process may have built it while we waited
        if found is not None:
            return found
        demo = load_settings()["demo"]
        built = warehouse_dir(root) / "demo-build.duckdb"
        demo_data.build_snapshot(
            built,
            clients=int(demo["clients"]),
            branches=int(demo["branches"]),
            months=int(demo["months"]),
            seed=int(demo["seed"]),
            rms_per_branch=int(demo["rms_per_branch"]),
            corporates=int(demo["corporates_per_branch"]) * int(demo["branches"]),
        )
        return publish_snapshot(built, "demo", root)


def open_warehouse(path: str | os.PathLike) -> Database:
    """Open a snapshot read-only (the app never writes to the warehouse)."""
    return Database(path, read_only=True)


# ---------------------------------------------------------------------------- workspace


def open_workspace(path: str | os.PathLike | None = None) -> Database:
    """Open (creating if needed) the read-write workspace database and its tables."""
    path = Path(path or data_dir() / "workspace.duckdb")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path, read_only=False)
    with db.cursor() as cur:
        cur.execute(schema_part("WORKSPACE"))
    return db


# ---------------------------------------------------------------------------- audit log


@dataclass(frozen=True)
class AuditEvent:
    viewer: str
    action: str  # view | unmask | export | assign | ...
    client_ids: tuple[str, ...] = ()
    detail: str = ""


class AuditLog:
    """Append-only JSON-lines file: who viewed, unmasked or exported which client's data, when."""

    _lock = threading.Lock()

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path or data_dir() / "audit.jsonl")

    def record(self, event: AuditEvent) -> None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "viewer": event.viewer,
                "action": event.action,
                "client_ids": list(event.client_ids),
                "detail": event.detail,
            },
            ensure_ascii=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def read(self) -> pd.DataFrame:
        cols = ["at", "viewer", "action", "client_ids", "detail"]
        if not self.path.exists():
            return pd.DataFrame(columns=cols)
        with open(self.path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return pd.DataFrame(rows, columns=cols)
