"""The three stores of DESIGN.md §2: warehouse snapshots, the workspace and the audit log.

- Warehouse snapshots are DuckDB files in ``<data>/warehouse/``. The file named in
  ``<data>/warehouse/CURRENT`` is the one in force; publishing a new snapshot writes the file first
  and then replaces ``CURRENT`` atomically (``os.replace``), so a reader sees either the old or the
  new snapshot, never half of one. The newest ``[stores] keep_snapshots`` files are kept as backup.
- The workspace (``<data>/workspace.duckdb``) holds what users create; a re-import never touches it.
- The audit log (``<data>/audit.jsonl``) is append-only and hash-chained (``analytics/audit.py``).

A ``Database`` wraps one DuckDB connection per file and runs every query on its own cursor, which is
what makes one cached connection safe under concurrent Streamlit sessions.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import filemodes
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

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back (and the
        error raised again) when it raises, so a change and its audit record land together."""
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

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


class SnapshotInvalid(Exception):
    """A snapshot file that must not be made current: ``code`` says why ('unreadable', 'schema',
    'meta', 'integrity', 'empty'); ``detail`` names the table or key (not user data)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


# Key integrity a snapshot must have: (table, column, referenced table, referenced column).
_REFERENCES = (
    ("clients", "branch_id", "branches", "branch_id"),
    ("clients", "rm_id", "rms", "rm_id"),
    ("rms", "branch_id", "branches", "branch_id"),
    ("client_aum_monthly", "client_id", "clients", "client_id"),
    ("holdings_monthly", "client_id", "clients", "client_id"),
    ("holdings_monthly", "product_id", "products", "product_id"),
    ("transactions", "client_id", "clients", "client_id"),
    ("insurance_policies", "client_id", "clients", "client_id"),
    ("corp_clients", "branch_id", "branches", "branch_id"),
    ("corp_accounts", "corp_id", "corp_clients", "corp_id"),
)


@functools.lru_cache(maxsize=1)
def _expected_columns() -> dict[str, list[tuple[str, str]]]:
    """Each warehouse table's (column, type) as schema.sql creates them."""
    con = duckdb.connect()
    try:
        con.execute(schema_part("WAREHOUSE"))
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def verify_snapshot(path: str | os.PathLike) -> dict[str, int]:
    """Check a snapshot file before it may become current and return its row counts per table.

    It must open read-only as DuckDB, have every warehouse table with schema.sql's columns and
    types, a meta table with a valid as_of and a known source, at least one client, and its keys
    must hold (every client's branch and RM exist, every holding's client and product, ...).
    Raises ``SnapshotInvalid`` otherwise. A truncated or foreign file fails here.
    """
    path = Path(path)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as e:  # not a DuckDB file, truncated, or held by a writer
        raise SnapshotInvalid("unreadable", type(e).__name__) from None
    try:
        try:
            found: dict[str, list[tuple[str, str]]] = {}
            for table, column, dtype in con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() ORDER BY table_name, ordinal_position"
            ).fetchall():
                found.setdefault(table, []).append((column, dtype))
        except Exception as e:
            raise SnapshotInvalid("unreadable", type(e).__name__) from None
        for table, columns in _expected_columns().items():
            if found.get(table) != columns:
                raise SnapshotInvalid("schema", table)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        try:
            datetime.fromisoformat(meta.get("as_of", ""))
        except ValueError:
            raise SnapshotInvalid("meta", "as_of") from None
        if meta.get("source") not in ("demo", "import"):
            raise SnapshotInvalid("meta", "source")
        counts = {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # names from schema.sql
            for t in _expected_columns()
        }
        if counts.get("clients", 0) == 0:
            raise SnapshotInvalid("empty", "clients")
        for table, column, ref, ref_col in _REFERENCES:
            bad = con.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ref} r WHERE r.{ref_col} = t.{column})"
            ).fetchone()[0]
            if bad:
                raise SnapshotInvalid("integrity", f"{table}.{column}")
        return counts
    except SnapshotInvalid:
        raise
    except Exception as e:  # a damaged file can fail anywhere while being read
        raise SnapshotInvalid("unreadable", type(e).__name__) from None
    finally:
        con.close()


def snapshot_info(path: str | os.PathLike) -> dict[str, str]:
    """A snapshot file's meta table (read-only); ``SnapshotInvalid`` if it cannot be read."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as e:
        raise SnapshotInvalid("unreadable", type(e).__name__) from None
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    except Exception as e:
        raise SnapshotInvalid("unreadable", type(e).__name__) from None
    finally:
        con.close()


def snapshot_rows(path: str | os.PathLike) -> dict[str, int]:
    """Rows per warehouse table of a (valid) snapshot file."""
    return verify_snapshot(path)


def _write_current(wdir: Path, name: str) -> None:
    pointer_tmp = wdir / f".{CURRENT}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, wdir / CURRENT)


IMPORTED = "IMPORTED"  # marker: this data folder has held a bank's imported data


def publish_snapshot(built: Path, label: str, root: Path | None = None) -> Path:
    """Verify a fully written snapshot file, move it into the warehouse and make it current.

    ``verify_snapshot`` runs first: a file that fails it is left where it is and nothing changes
    (``SnapshotInvalid``). Then the file is renamed into place and ``CURRENT`` replaced atomically.
    Older snapshots beyond ``[stores] keep_snapshots`` are deleted (never the current one).
    """
    verify_snapshot(built)
    wdir = warehouse_dir(root)
    filemodes.private_dir(wdir.parent)  # the data folder: snapshots, workspace, accounts, audit
    filemodes.private_dir(wdir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = wdir / f"snapshot-{stamp}-{label}.duckdb"
    os.replace(built, target)
    filemodes.private_file(target)  # snapshots hold personal data
    if label == "import":
        (wdir / IMPORTED).touch()
    _write_current(wdir, target.name)
    keep = int(load_settings()["stores"]["keep_snapshots"])
    for old in snapshots(root)[:-keep]:
        if old != target:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


def make_current(name: str, root: Path | None = None) -> Path:
    """Make a kept snapshot current again (rollback). It is verified first; an unknown name or a
    file that fails the check changes nothing (``SnapshotInvalid``)."""
    wdir = warehouse_dir(root)
    path = wdir / name
    if path.parent != wdir or not path.name.startswith("snapshot-") or not path.exists():
        raise SnapshotInvalid("unknown", name)
    verify_snapshot(path)
    _write_current(wdir, path.name)
    return path


def list_snapshots(root: Path | None = None) -> pd.DataFrame:
    """Every kept snapshot, newest first: name, as_of, source, created_at, imported_by, clients,
    holdings (rows), current (bool), valid (bool)."""
    current = current_snapshot(root)
    rows = []
    for path in reversed(snapshots(root)):
        row = {"name": path.name, "current": current is not None and path == current}
        try:
            info = snapshot_info(path)
            rows_json = json.loads(info.get("rows") or "{}")
            if not rows_json:
                rows_json = verify_snapshot(path)
            row.update(
                as_of=info.get("as_of"), source=info.get("source"),
                created_at=info.get("created_at"), imported_by=info.get("imported_by", ""),
                clients=rows_json.get("clients"), holdings=rows_json.get("holdings_monthly"),
                transactions=rows_json.get("transactions"), valid=True,
            )  # fmt: skip
        except (SnapshotInvalid, ValueError):
            row.update(valid=False)
        rows.append(row)
    cols = ["name", "as_of", "source", "created_at", "imported_by", "clients", "holdings",
            "transactions", "current", "valid"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


class SnapshotMissing(Exception):
    """``CURRENT`` is missing or names a missing or damaged file on a data folder that holds a
    bank's data: the app must not build the demo over it. ``candidates`` are the kept snapshots
    that pass the check, newest first."""

    def __init__(self, code: str, candidates: list[str]):
        super().__init__(code)
        self.code, self.candidates = code, candidates


def good_snapshots(root: Path | None = None) -> list[str]:
    """Names of kept snapshots that pass ``verify_snapshot``, newest first."""
    out = []
    for path in reversed(snapshots(root)):
        try:
            verify_snapshot(path)
        except SnapshotInvalid:
            continue
        out.append(path.name)
    return out


def holds_bank_data(root: Path | None = None) -> bool:
    """Whether this data folder has ever held imported data (then the demo is never built here)."""
    wdir = warehouse_dir(root)
    return (wdir / IMPORTED).exists() or any(
        p.name.endswith("-import.duckdb") for p in snapshots(root)
    )


@contextlib.contextmanager
def build_lock(root: Path | None) -> Iterator[None]:
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

    On a data folder that holds a bank's imported data a missing or damaged current snapshot is
    never replaced by the demo: ``SnapshotMissing`` carries the kept snapshots that pass the check,
    so the app can say so and offer the last good one. The demo's size and seed come from
    ``[demo]`` in settings.toml.
    """
    found = current_snapshot(root)
    if found is not None:
        return found
    if holds_bank_data(root):
        pointer = warehouse_dir(root) / CURRENT
        code = "current_missing_file" if pointer.exists() else "current_missing"
        raise SnapshotMissing(code, good_snapshots(root))
    from analytics import demo_data  # the generator is only needed on first start

    with build_lock(root):
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
    # DuckDB recreates the .wal with the umask's mode at each checkpoint: the 0700 folder is what
    # keeps it private; the files themselves are made 0600 too
    filemodes.private_dir(path.parent)
    db = Database(path, read_only=False)
    with db.cursor() as cur:
        cur.execute(schema_part("WORKSPACE"))
        cur.execute("CHECKPOINT")
    filemodes.private_duckdb(path)
    return db


# ---------------------------------------------------------------------------- audit log

# The hash-chained audit log lives in analytics/audit.py; these names stay importable from here.
from analytics.audit import AuditEvent, AuditLog  # noqa: E402, F401
