"""Import a file set: read -> map headers -> type every cell -> validate everything in one pass ->
(only when nothing is wrong) build a new snapshot file -> verify it -> publish atomically.

DESIGN.md §2 and issue 11. All work happens in DuckDB: a staging database in a private folder
under ``<data>/warehouse`` holds the raw cells and their typed values; the new snapshot is written
to a temporary file next to it and only ``store.publish_snapshot`` (which verifies it) makes it
current. Whatever happens before that switch, ``CURRENT`` still names the previous snapshot, and
the staging folder is removed.

Choices where the issue is silent (written down here and in the README):
- **Months.** A month is identified by its year and month. An import's rows are dated at the date
  they carry (holdings' 数据日期) or else at ``as_of``; within one month only the latest date is
  kept. Importing a month again replaces that month for the branches the import covers; other
  months (the history) come from the current snapshot when it is an import (never from the demo).
- **AUM.** A client's AUM for a month is the roster's 月日均资产 (or 时点资产) when given, else the
  sum over the month's holdings of the average balance (else the balance).
- **Branches covered.** Roster, RM and corporate rows replace the current snapshot's rows of their
  own branches; other branches stay. Products and branches are updated by id. Transactions and
  contacts replace the covered branches' rows inside the dates the file spans.
- **Duplicates.** Rows that repeat a key with identical values are a warning (one is kept); the
  same key with different values is an error.
- **Optional coded columns.** A value that matches no spelling in ``[importer.codes]`` is a
  warning and is left empty; in a required column it is an error.
- **Derived values.** Missing birth date and gender come from a valid resident ID number; a
  missing English name is the Chinese one; a policy's cooling-off period defaults to 15 days.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import store
from analytics.access import AccessDenied, Scope, may
from analytics.importer import contract, readers
from analytics.importer.normalize import (
    column_sql,
    empty_sql,
    folded_sql,
    header_key,
    header_unit,
    q,
    title_unit,
)
from analytics.privacy import PII_MASKERS
from analytics.schema import schema_part, warehouse_table_names
from analytics.settings import load_settings

SQL_TYPE = {
    "key": "VARCHAR", "text": "VARCHAR", "id_number": "VARCHAR", "phone": "VARCHAR",
    "card": "VARCHAR", "code": "VARCHAR", "money": "DECIMAL(18, 2)", "rate": "DOUBLE",
    "int": "BIGINT", "date": "DATE", "bool": "BOOLEAN",
}  # fmt: skip

# Kinds whose unreadable value in an optional column is only a warning (the value is left empty).
_SOFT_KINDS = ("code", "bool")


@dataclass(frozen=True)
class ImportFile:
    """One file of a file set: where it is, which warehouse table it fills, how the user named it."""

    path: Path
    table: str
    source: str = ""  # the name to report (the uploaded file's name); default: the path's name
    encoding: str | None = None
    sheet: str | None = None

    @property
    def name(self) -> str:
        return self.source or self.path.name


@dataclass
class Mapping:
    """The user's corrections to the default header mapping, per table: a header (as in the file)
    -> a canonical column ('' to ignore it), and a unit per money column ('yuan', 'wan', 'yi')."""

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Mapping:
        """From rows of (table, header, column[, unit]), the shape of ``--mapping FILE`` and of the
        workspace table ``import_mappings``."""
        m = cls()
        for row in df.fillna("").to_dict("records"):
            table, header = str(row["table"]).strip(), str(row["header"]).strip()
            column, unit = str(row.get("column", "")).strip(), str(row.get("unit", "")).strip()
            if header:
                m.columns.setdefault(table, {})[header_key(header)] = column
            if unit and column:
                m.units.setdefault(table, {})[column] = unit
        return m

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {"table": t, "header": h, "column": c, "unit": self.units.get(t, {}).get(c, "")}
            for t, cols in self.columns.items()
            for h, c in cols.items()
        ]
        return pd.DataFrame(rows, columns=["table", "header", "column", "unit"])


@dataclass
class FileReport:
    source: str
    table: str
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header as in the file -> column
    units: dict[str, str] = field(default_factory=dict)  # column -> unit used
    unmapped: list[str] = field(default_factory=list)  # headers left out
    dropped: list[tuple[int, str]] = field(default_factory=list)
    refused: str | None = None  # a reason code when the whole file was refused
    refused_fields: dict = field(default_factory=dict)


PROBLEM_COLUMNS = ["file", "row", "column", "reason", "value", "severity"]


@dataclass
class ImportReport:
    """Everything found about a file set. ``problems`` lists each problem (file, row number as
    Excel shows it, column as named in the file, reason code, the offending value masked when it
    is personal data, severity 'error' | 'warning'); ``counts`` counts them all by reason, even
    when the list was cut at ``[importer] report_max_rows``."""

    files: list[FileReport] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    counts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["reason", "severity", "problems"])
    )
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows the snapshot would hold
    snapshot: str | None = None  # the published snapshot's file name

    @property
    def errors(self) -> int:
        c = self.counts
        return int(c.loc[c["severity"] == "error", "problems"].sum()) if len(c) else 0

    @property
    def warnings(self) -> int:
        c = self.counts
        return int(c.loc[c["severity"] == "warning", "problems"].sum()) if len(c) else 0

    @property
    def ok(self) -> bool:
        return self.errors == 0 and not any(f.refused for f in self.files)


class ImportError_(Exception):  # noqa: N801 (not the builtin ImportError)
    """The import cannot run at all (a code for the page or CLI to translate)."""

    def __init__(self, code: str, **fields):
        super().__init__(code)
        self.code, self.fields = code, fields


Progress = Callable[[float, str], None]


def _settings() -> dict:
    return load_settings()["importer"]


# ---------------------------------------------------------------------------- header mapping


def map_headers(
    table: str, headers: list[str], mapping: Mapping | None = None, title: str = ""
) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Which canonical column each header of a file for ``table`` is: ({column index: column},
    {column: unit}, [headers left out]). The user's mapping wins over the defaults; the first
    header that maps to a column takes it; a money column's unit comes from the mapping, else its
    header (余额(万元)), else the title (单位：万元), else yuan."""
    spec = contract.TABLES[table]
    own = (mapping.columns.get(table, {}) if mapping else {}) or {}
    units_by_user = (mapping.units.get(table, {}) if mapping else {}) or {}
    defaults = {}
    for c in spec.columns:
        for h in c.headers:
            defaults.setdefault(header_key(h), c.name)
    by_index: dict[int, str] = {}
    taken: set[str] = set()
    unmapped: list[str] = []
    for i, h in enumerate(headers):
        k = header_key(h or "")
        col = own[k] if k in own else defaults.get(k)
        if not col or col in taken or col not in {c.name for c in spec.columns}:
            if (h or "").strip():
                unmapped.append(h)
            continue
        by_index[i] = col
        taken.add(col)
    units: dict[str, str] = {}
    sheet_unit = title_unit(title or "")
    for i, col in by_index.items():
        kind = spec.column(col).kind
        if kind == "money":
            units[col] = units_by_user.get(col) or header_unit(headers[i]) or sheet_unit or "yuan"
        elif kind == "rate":
            units[col] = units_by_user.get(col) or header_unit(headers[i]) or ""
    return by_index, units, unmapped


def guess_table(headers: list[str]) -> str | None:
    """The table whose columns the headers match best (ties: the contract's order), or None."""
    best, best_score = None, 0
    for name, spec in contract.TABLES.items():
        by_index, _, _ = map_headers(name, headers)
        cols = set(by_index.values())
        score = len(cols) + 2 * len(cols & set(spec.required))
        if score > best_score:
            best, best_score = name, score
    return best


# ---------------------------------------------------------------------------- the run


@dataclass
class _Ctx:
    con: duckdb.DuckDBPyConnection
    as_of: date
    scope: Scope
    branch: str | None
    base: Path | None  # the current snapshot to carry history from (an import), or None
    report: ImportReport
    typed: dict[str, list[str]] = field(default_factory=dict)  # table -> typed staging tables
    cols: dict[str, set[str]] = field(default_factory=dict)  # table -> columns given by a file
    unique: set[str] = field(default_factory=set)  # tables whose keys were checked: no repeats


def check(files: Iterable[ImportFile], *, as_of: date, scope: Scope, branch: str | None = None,
          mapping: Mapping | None = None, root: Path | None = None,
          progress: Progress | None = None) -> ImportReport:  # fmt: skip
    """Validate a file set as ``load`` would, without building anything."""
    return _run(list(files), as_of, scope, branch, mapping, root, progress, build=False)[0]


def load(files: Iterable[ImportFile], *, as_of: date, scope: Scope, imported_by: str = "",
         branch: str | None = None, mapping: Mapping | None = None, root: Path | None = None,
         progress: Progress | None = None, fresh: bool = False) -> ImportReport:  # fmt: skip
    """Validate a file set and, when it has no error, build, verify and publish a new snapshot
    (``report.snapshot`` names it). A file set with any error changes nothing."""
    report, _ = _run(list(files), as_of, scope, branch, mapping, root, progress, build=True,
                     imported_by=imported_by, fresh=fresh)  # fmt: skip
    return report


def _run(files, as_of, scope, branch, mapping, root, progress, build, imported_by="", fresh=False):
    if not may(scope, "import" if build else "check_import"):
        raise AccessDenied("import_refused")
    if scope.role == "manager":
        if branch and branch not in scope.branch_ids:
            raise AccessDenied("import_other_branch")
        branch = branch or scope.branch_ids[0]
    unknown = [f.table for f in files if f.table not in contract.TABLES]
    if unknown:
        raise ImportError_("unknown_table", table=unknown[0])
    if not files:
        raise ImportError_("no_files")
    progress = progress or (lambda _f, _s: None)
    s = _settings()
    wdir = store.warehouse_dir(root)
    wdir.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(wdir)
    work = wdir / f".import-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    work.mkdir(mode=0o700)
    report = ImportReport()
    base = None if fresh else _import_base(root)
    try:
        con = duckdb.connect(str(work / "stage.duckdb"))
        try:
            con.execute(f"SET memory_limit = {q(s['memory_limit'])}")
            con.execute(f"SET temp_directory = {q(str(work / 'tmp'))}")
            con.execute("SET preserve_insertion_order = false")
            if base is not None:
                con.execute(f"ATTACH {q(str(base))} AS base (READ_ONLY)")
            ctx = _Ctx(con, as_of, scope, branch, base, report)
            _read_all(ctx, files, mapping, work, progress)
            progress(0.55, "checking")
            _check_tables(ctx)
            _collect(ctx)
            if not build or not report.ok:
                report.rows = _row_counts_preview(ctx) if report.ok else {}
                return report, None
            progress(0.7, "building")
            built = work / "snapshot.duckdb"
            _build(ctx, built, imported_by or _default_user(), files)
            con.close()
            progress(0.9, "publishing")
            target = store.publish_snapshot(built, "import", root)
            report.snapshot = target.name
            report.rows = store.snapshot_rows(target)
            progress(1.0, "done")
            return report, target
        finally:
            with contextlib.suppress(Exception):
                con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _default_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in a container
        return "cli"


def _clean_leftovers(wdir: Path) -> None:
    """Remove staging folders of imports that died (a kill -9 leaves them behind)."""
    for old in wdir.glob(".import-*"):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _import_base(root: Path | None) -> Path | None:
    """The snapshot an import builds on: the current one when it holds imported data."""
    path = store.current_snapshot(root)
    if path is None:
        return None
    try:
        info = store.snapshot_info(path)
    except store.SnapshotInvalid:
        return None
    return path if info.get("source") == "import" else None


# ---------------------------------------------------------------------------- reading and typing


def _read_all(ctx: _Ctx, files: list[ImportFile], mapping, work: Path, progress) -> None:
    spec_counts: dict[str, int] = {}
    for n, f in enumerate(files):
        progress(0.05 + 0.5 * n / len(files), f.name)
        fr = FileReport(source=f.name, table=f.table)
        ctx.report.files.append(fr)
        k = spec_counts[f.table] = spec_counts.get(f.table, 0) + 1
        raw = f"raw_{f.table}_{k}"
        try:
            sheet = readers.read(ctx.con, f.path, raw, source=f.name, encoding=f.encoding,
                                 sheet=f.sheet, tmp_dir=work, temp=True)  # fmt: skip
        except readers.ImportRefused as e:
            fr.refused, fr.refused_fields = e.code, dict(e.fields)
            continue
        fr.encoding, fr.sheet, fr.header_row = sheet.encoding, sheet.sheet, sheet.header_row
        fr.rows, fr.dropped = sheet.rows, list(sheet.dropped)
        by_index, units, fr.unmapped = map_headers(f.table, sheet.headers, mapping, sheet.title)
        fr.columns = {sheet.headers[i]: c for i, c in by_index.items()}
        fr.units = units
        _type_file(ctx, f, len(ctx.report.files) - 1, raw, sheet.headers, by_index, units)


def _type_file(ctx: _Ctx, f: ImportFile, file_no: int, raw: str, headers, by_index, units) -> None:
    """Create ``typed_<table>_<n>``: every canonical column typed, plus the problems of each row.

    One pass over the raw cells, in three steps so that nothing is computed twice: each cell is
    folded once (``f<i>``), typed once (the canonical column), and its problem derived from the
    typed value (``_p<i>``); the list of a row's problems is only built for rows that have one."""
    spec = contract.TABLES[f.table]
    codes = load_settings()["importer"]["codes"]
    given = {col: i for i, col in by_index.items()}
    folds = [f"{folded_sql(f'c{i}')} AS f{i}" for i in sorted(by_index)]
    values, reasons, structs, outs = [], [], [], []
    for c in spec.columns:
        if c.name not in given:
            outs.append(f"CAST(NULL AS {SQL_TYPE[c.kind]}) AS {c.name}")
            continue
        i = given[c.name]
        id_type = f"c{given['id_type']}" if c.kind == "id_number" and "id_type" in given else None
        value, problem = column_sql(c.kind, f"c{i}", unit=units.get(c.name), codes=codes.get(c.codes),
                                    id_type=id_type, folded=f"f{i}", value_ref=c.name)  # fmt: skip
        values.append(f"CAST({value} AS {SQL_TYPE[c.kind]}) AS {c.name}")
        outs.append(c.name)
        required = c.required and not _alternative(f.table, c.name, given, ctx.branch)
        soft = c.kind in _SOFT_KINDS and not c.required
        reasons.append(
            f"CASE WHEN {empty_sql(c.kind, f'c{i}', f'f{i}')} THEN "
            f"{q('required') if required else 'NULL'} ELSE {problem} END AS _p{i}"
        )
        pii = "true" if c.pii or c.kind in ("id_number", "phone", "card") else "false"
        structs.append(
            f"{{'col': {q(headers[i])}, 'reason': _p{i}, 'raw': c{i}, "
            f"'severity': {q('warning' if soft else 'error')}, 'pii': {pii}, 'kind': {q(c.name)}}}"
        )
    # a row with more values than headers (an unquoted 1,234.56 split in two): never guess
    reasons.append("CASE WHEN _extra IS NOT NULL THEN 'extra_values' END AS _px")
    structs.append(
        f"{{'col': {q(headers[-1] if headers else '')}, 'reason': _px, 'raw': _extra, "
        f"'severity': 'error', 'pii': false, 'kind': ''}}"
    )
    flags = ", ".join(r.rsplit(" AS ", 1)[1] for r in reasons)
    plist = (
        f"CASE WHEN COALESCE({flags}) IS NOT NULL THEN "
        f"list_filter([{', '.join(structs)}], lambda p: p.reason IS NOT NULL) END"
    )
    name = f"typed_{raw[4:]}"
    l1 = f"SELECT *{''.join(', ' + x for x in folds)} FROM {raw}"
    l2 = f"SELECT *{''.join(', ' + x for x in values)} FROM ({l1})"
    l3 = f"SELECT *, {', '.join(reasons)} FROM ({l2})"
    ctx.con.execute(
        f"CREATE TABLE {name} AS SELECT {file_no} AS _file, _row, {', '.join(outs)}, "
        f"{plist} AS _problems FROM ({l3})"
    )
    ctx.con.execute(f"DROP TABLE {raw}")
    ctx.typed.setdefault(f.table, []).append(name)
    ctx.cols.setdefault(f.table, set()).update(given)
    missing = [c for c in spec.columns if c.required and c.name not in given
               and not _alternative(f.table, c.name, given, ctx.branch)]  # fmt: skip
    for c in missing:
        _file_problem(ctx, file_no, None, f"{c.zh} / {c.en}", "column_missing")


def _alternative(table: str, column: str, given: dict, branch: str | None) -> bool:
    """A required column that may be absent because something else stands in for it."""
    if column == "branch_id" and table in ("clients", "rms", "corp_clients"):
        return branch is not None
    if table == "clients" and column == "aum":
        return "aum_month_end" in given
    return False


def _file_problem(ctx: _Ctx, file_no, row, column, reason, value=None, severity="error"):
    ctx.con.execute("CREATE TABLE IF NOT EXISTS problems (file INTEGER, row INTEGER, "
                    "column_name VARCHAR, reason VARCHAR, value VARCHAR, severity VARCHAR, "
                    "pii BOOLEAN, kind VARCHAR)")  # fmt: skip
    ctx.con.execute("INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, FALSE, '')",
                    [file_no, row, column, reason, value, severity])  # fmt: skip


def _union(ctx: _Ctx, table: str) -> str | None:
    """SQL of all typed rows of a table over its files (a subquery), or None if not imported."""
    names = ctx.typed.get(table)
    if not names:
        return None
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM {n}" for n in names) + ")"


# ---------------------------------------------------------------------------- table-level checks


def _header_of(ctx: _Ctx, table: str, column: str) -> str:
    """A column's header as the files name it (for the report), else its template name."""
    for fr in ctx.report.files:
        if fr.table == table:
            for h, c in fr.columns.items():
                if c == column:
                    return h
    c = contract.TABLES[table].column(column)
    return c.zh


def _row_problems(ctx: _Ctx, table: str, where: str, column: str, reason: str,
                  value_sql: str = "NULL", severity: str = "error", src: str | None = None) -> None:  # fmt: skip
    """Record a problem for every typed row of ``table`` where ``where`` holds."""
    src = src or _union(ctx, table)
    if src is None:
        return
    _file_problem(ctx, None, None, "", "init")  # make sure the table exists
    ctx.con.execute("DELETE FROM problems WHERE reason = 'init'")
    spec = contract.TABLES[table]
    pii = column in PII_MASKERS or spec.column(column).pii
    ctx.con.execute(
        f"INSERT INTO problems SELECT _file, _row, ?, ?, CAST({value_sql} AS VARCHAR), ?, ?, ? "
        f"FROM {src} t WHERE {where}",
        [_header_of(ctx, table, column), reason, severity, pii, column],
    )


def _known(ctx: _Ctx, table: str, key: str) -> str:
    """SQL set of a key column's values known to this import: the file set's rows, plus the base
    snapshot's."""
    parts = []
    src = _union(ctx, table)
    if src is not None:
        parts.append(f"SELECT {key} AS k FROM {src} WHERE {key} IS NOT NULL")
    if ctx.base is not None:
        parts.append(f"SELECT {key} AS k FROM base.{table}")
    return "(" + (" UNION ".join(parts) if parts else "SELECT NULL AS k WHERE FALSE") + ")"


def _client_branch_sql(ctx: _Ctx) -> str:
    """client_id -> branch_id over the file set's roster, else the base snapshot's."""
    parts = []
    src = _union(ctx, "clients")
    if src is not None:
        parts.append(
            f"SELECT client_id, COALESCE(branch_id, {q(ctx.branch) if ctx.branch else 'NULL'}) "
            f"AS branch_id FROM {src} WHERE client_id IS NOT NULL"
        )
    if ctx.base is not None:
        cond = (
            f"WHERE client_id NOT IN (SELECT client_id FROM {src} WHERE client_id IS NOT NULL)"
            if src is not None
            else ""
        )
        parts.append(f"SELECT client_id, branch_id FROM base.clients {cond}")
    return "(" + (" UNION ALL ".join(parts) or "SELECT NULL AS client_id, NULL AS branch_id WHERE FALSE") + ")"  # fmt: skip


def _check_tables(ctx: _Ctx) -> None:
    """Checks across rows and tables: duplicate keys, references, scope, plausibility."""
    _file_problem(ctx, None, None, "", "init")
    ctx.con.execute("DELETE FROM problems WHERE reason = 'init'")
    as_of = q(ctx.as_of.isoformat())
    branch_sql = q(ctx.branch) if ctx.branch else "NULL"
    for name, spec in contract.TABLES.items():
        src = _union(ctx, name)
        if src is None:
            continue
        # duplicate keys: identical rows are a warning, differing ones an error
        key = [k for k in spec.key if spec.column(k).required]
        if spec.key and all(k in ctx.cols[name] for k in key):
            kcols = ", ".join(f"_k_{k}" for k in spec.key)
            kexpr = ", ".join(f"COALESCE(CAST({k} AS VARCHAR), '') AS _k_{k}" for k in spec.key)
            data_cols = ", ".join(c.name for c in spec.columns)
            present = " AND ".join(f"{k} IS NOT NULL" for k in key) or "TRUE"
            # the repeated keys first (one cheap aggregate), then only their rows are compared
            ctx.con.execute(f"""
                CREATE OR REPLACE TEMP TABLE dupkeys AS
                SELECT {kcols}, count(*) AS n FROM (SELECT {kexpr} FROM {src} WHERE {present})
                GROUP BY ALL HAVING count(*) > 1""")  # fmt: skip
            if not ctx.con.execute("SELECT count(*) FROM dupkeys").fetchone()[0]:
                # every key is unique: the build need not rank (40M) rows to drop repeats
                ctx.unique.add(name)
            else:
                ctx.con.execute(f"""
                    CREATE OR REPLACE TEMP TABLE dup AS
                    SELECT _file, _row, {", ".join(spec.key)}, n,
                           count(DISTINCT md5(CAST(({data_cols}) AS VARCHAR))) OVER w AS variants,
                           row_number() OVER (w ORDER BY _file, _row) AS nth
                    FROM (SELECT *, {kexpr} FROM {src} WHERE {present}) t JOIN dupkeys USING ({kcols})
                    WINDOW w AS (PARTITION BY {kcols})""")  # fmt: skip
                kcol = next(k for k in key if k != "month_end")
                _row_problems(ctx, name, "n > 1 AND variants > 1", kcol, "duplicate_key",
                              kcol, src="dup")  # fmt: skip
                _row_problems(ctx, name, "n > 1 AND variants = 1 AND nth > 1", kcol,
                              "duplicate_same", kcol, severity="warning", src="dup")  # fmt: skip
        # branch of each row, for the scope check
        if "branch_id" in {c.name for c in spec.columns}:
            bexpr = f"COALESCE(t.branch_id, {branch_sql})"
            if ctx.scope.role == "manager":
                _row_problems(ctx, name, f"{bexpr} NOT IN ({', '.join(q(b) for b in ctx.scope.branch_ids)})",
                              "branch_id", "other_branch", bexpr)  # fmt: skip
            if "branches" in ctx.typed:
                _row_problems(ctx, name, f"{bexpr} NOT IN {_known(ctx, 'branches', 'branch_id')}",
                              "branch_id", "unknown_branch", bexpr)  # fmt: skip
        if name in ("clients", "corp_clients") and "rms" in ctx.typed:
            _row_problems(ctx, name, f"t.rm_id IS NOT NULL AND t.rm_id NOT IN {_known(ctx, 'rms', 'rm_id')}",
                          "rm_id", "unknown_rm", "t.rm_id")  # fmt: skip
        # rows of a client must name a known client (of the viewer's branch for a manager)
        if "client_id" in {c.name for c in spec.columns} and name != "clients":
            cb = _client_branch_sql(ctx)
            _row_problems(ctx, name, f"t.client_id IS NOT NULL AND t.client_id NOT IN (SELECT client_id FROM {cb})",
                          "client_id", "unknown_client", "t.client_id")  # fmt: skip
            if ctx.scope.role == "manager":
                own = ", ".join(q(b) for b in ctx.scope.branch_ids)
                _row_problems(ctx, name, f"t.client_id IN (SELECT client_id FROM {cb} WHERE branch_id NOT IN ({own}))",
                              "client_id", "other_branch", "t.client_id")  # fmt: skip
        if name in ("holdings_monthly", "insurance_policies", "transactions"):
            cond = "t.product_id IS NOT NULL AND t.product_id NOT IN " + _known(
                ctx, "products", "product_id"
            )
            if name == "holdings_monthly":
                cond += " AND t.category IS NULL"  # a holding with a category creates its product
            elif name == "transactions":
                cond = "FALSE"  # a transaction's product is informative only
            _row_problems(ctx, name, cond, "product_id", "unknown_product", "t.product_id")
        if name in ("corp_accounts",):
            _row_problems(ctx, name, f"t.corp_id NOT IN {_known(ctx, 'corp_clients', 'corp_id')}",
                          "corp_id", "unknown_client", "t.corp_id")  # fmt: skip
        if name == "corp_transactions":
            known = _known(ctx, "corp_clients", "corp_id")
            for col in ("payer_id", "payee_id"):
                _row_problems(
                    ctx, name, f"t.{col} NOT IN {known}", col, "unknown_client", f"t.{col}"
                )
        # plausibility
        for c in spec.columns:
            if (
                c.kind == "date"
                and c.name in ctx.cols[name]
                and c.name not in ("maturity_date", "cooling_off_end")
            ):
                _row_problems(ctx, name, f"t.{c.name} > CAST({as_of} AS DATE)", c.name,
                              "after_as_of", f"t.{c.name}")  # fmt: skip
            if c.kind == "date" and c.name == "birth_date" and c.name in ctx.cols[name]:
                _row_problems(ctx, name, f"t.birth_date < CAST({as_of} AS DATE) - INTERVAL 120 YEAR",
                              c.name, "implausible_age", "t.birth_date")  # fmt: skip
            if c.name in ("aum", "aum_month_end", "balance", "annual_premium", "avg_daily_deposit") \
                    and c.name in ctx.cols[name]:  # fmt: skip
                _row_problems(ctx, name, f"t.{c.name} < 0", c.name, "negative", f"t.{c.name}")
        if name == "holdings_monthly" and "products" not in ctx.typed and ctx.base is None:
            _row_problems(ctx, name, "t.category IS NULL AND t.product_id IS NOT NULL",
                          "category", "category_needed", "t.product_id")  # fmt: skip


def _collect(ctx: _Ctx) -> None:
    """Gather the per-cell problems and the table checks into the report (values masked)."""
    con = ctx.con
    for names in ctx.typed.values():
        for n in names:
            con.execute(f"""INSERT INTO problems
                SELECT _file, _row, p.col, p.reason, p.raw, p.severity, p.pii, p.kind
                FROM (SELECT _file, _row, unnest(_problems) AS p FROM {n})""")  # fmt: skip
    counts = con.execute(
        "SELECT reason, severity, count(*) AS problems FROM problems GROUP BY ALL "
        "ORDER BY severity, problems DESC, reason"
    ).df()
    limit = int(_settings()["report_max_rows"])
    df = con.execute(
        "SELECT file, row, column_name, reason, value, severity, pii, kind FROM problems "
        "ORDER BY severity, file NULLS FIRST, row NULLS FIRST, column_name LIMIT ?",
        [limit],
    ).df()
    names = [f.source for f in ctx.report.files]
    rows = []
    for r in df.to_dict("records"):
        file_no = r["file"]
        rows.append({
            "file": names[int(file_no)] if pd.notna(file_no) else "",
            "row": None if pd.isna(r["row"]) else int(r["row"]),
            "column": r["column_name"],
            "reason": r["reason"],
            "value": _shown_value(r["value"], bool(r["pii"]), r["kind"]),
            "severity": r["severity"],
        })  # fmt: skip
    for fr in ctx.report.files:
        if fr.refused:
            rows.insert(0, {"file": fr.source, "row": None, "column": fr.refused_fields.get("column", ""),
                            "reason": fr.refused, "value": None, "severity": "error"})  # fmt: skip
            counts = pd.concat([pd.DataFrame([{"reason": fr.refused, "severity": "error", "problems": 1}]),
                                counts], ignore_index=True)  # fmt: skip
    ctx.report.problems = pd.DataFrame(rows, columns=PROBLEM_COLUMNS).astype({"row": "Int64"})
    ctx.report.counts = counts


def _shown_value(value, pii: bool, column: str) -> str | None:
    """The offending value as the report shows it: personal data masked (by the column's own
    masker, a name's otherwise), long text cut."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).replace("\x01", "")
    if pii:
        text = PII_MASKERS.get(column, PII_MASKERS["name_zh"])(text)
    return text[:60]


def _row_counts_preview(ctx: _Ctx) -> dict[str, int]:
    return {
        t: int(ctx.con.execute(f"SELECT count(*) FROM {_union(ctx, t)}").fetchone()[0])
        for t in ctx.typed
    }


# ---------------------------------------------------------------------------- the new snapshot

_MONTH_TABLES = ("client_aum_monthly", "holdings_monthly", "digital_activity")


def _dedup(ctx: _Ctx, table: str) -> str | None:
    """The typed rows of a table with repeated keys reduced to their first row (identical
    duplicates are only a warning; differing ones stopped the import before this)."""
    src = _union(ctx, table)
    if src is None:
        return None
    spec = contract.TABLES[table]
    if not spec.key or table in ctx.unique:
        return f"(SELECT * EXCLUDE (_problems) FROM {src})"
    part = ", ".join(spec.key)
    return (
        f"(SELECT * EXCLUDE (_problems) FROM {src} "
        f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY _file, _row) = 1)"
    )


def _build(ctx: _Ctx, path: Path, imported_by: str, files: list[ImportFile]) -> None:
    """Write the new snapshot: the file set's rows merged over the base snapshot's (see the module
    docstring for the rules), the derived AUM table and meta. Runs in the staging connection with
    the new file attached as ``snap``."""
    con, as_of = ctx.con, q(ctx.as_of.isoformat())
    branch = q(ctx.branch) if ctx.branch else "NULL"
    has_base = ctx.base is not None
    con.execute(f"ATTACH {q(str(path))} AS snap")
    con.execute("USE snap")
    con.execute(schema_part("WAREHOUSE"))
    con.execute("USE stage")

    def new(table: str) -> str | None:
        return _dedup(ctx, table)

    def empty(table: str) -> str:
        """A typed source with no rows in the shape of a file set's table (when none was given)."""
        cols = ", ".join(
            f"CAST(NULL AS {SQL_TYPE[c.kind]}) AS {c.name}" for c in contract.TABLES[table].columns
        )
        return f"(SELECT 0 AS _file, 0 AS _row, {cols} WHERE FALSE)"

    def base(table: str) -> str:
        return f"base.{table}" if has_base else f"(SELECT * FROM snap.{table} WHERE FALSE)"

    # -- the month each dated row belongs to, and the one date that month is stored under
    dated = []
    if new("clients"):
        dated.append(f"SELECT CAST({as_of} AS DATE) AS d")
    for t in _MONTH_TABLES:
        if new(t):
            dated.append(f"SELECT COALESCE(month_end, CAST({as_of} AS DATE)) AS d FROM {new(t)}")
    con.execute(
        "CREATE TEMP TABLE months AS SELECT date_trunc('month', d) AS _m, max(d) AS _d FROM ("
        + (" UNION ALL ".join(dated) or "SELECT CAST(NULL AS DATE) AS d WHERE FALSE")
        + ") GROUP BY 1"
    )

    def month_date(expr: str) -> str:
        # the months' columns are _m/_d so that an outer column named d is not captured
        return f"(SELECT _d FROM months WHERE _m = date_trunc('month', {expr}))"

    # -- branches and RMs named anywhere
    nb = new("branches")
    con.execute(f"""CREATE TEMP TABLE f_branches AS
        SELECT branch_id, name_zh, COALESCE(name_en, name_zh) AS name_en, city FROM {nb or empty('branches')}
        UNION ALL BY NAME
        SELECT * FROM {base('branches')} WHERE branch_id NOT IN (SELECT branch_id FROM {nb or empty('branches')})
    """)  # fmt: skip
    nr = new("rms")
    con.execute(f"""CREATE TEMP TABLE f_rms AS
        SELECT rm_id, COALESCE(branch_id, {branch}) AS branch_id, COALESCE(name_zh, rm_id) AS name_zh,
               COALESCE(name_en, name_zh, rm_id) AS name_en, COALESCE(title, 'client') AS title, hire_date
        FROM {nr or empty('rms')}
    """)  # fmt: skip
    con.execute(f"""INSERT INTO f_rms BY NAME SELECT * FROM {base('rms')} r
        WHERE r.rm_id NOT IN (SELECT rm_id FROM f_rms)
          AND r.branch_id NOT IN (SELECT DISTINCT branch_id FROM f_rms)""")  # fmt: skip

    # -- clients: the file set's rows replace the base's rows of the branches they cover
    nc = new("clients")
    if nc:
        con.execute(f"""CREATE TEMP TABLE n_clients AS SELECT *,
            COALESCE(branch_id, {branch}) AS _branch,
            regexp_matches(COALESCE(id_number, ''), '^[0-9]{{17}}[0-9X]$') AS _resident
            FROM {nc}""")  # fmt: skip
        con.execute(f"""CREATE TEMP TABLE f_clients AS
            SELECT client_id, _branch AS branch_id, rm_id, name_zh, COALESCE(name_en, name_zh) AS name_en,
                   COALESCE(gender, CASE WHEN _resident THEN CASE WHEN CAST(substr(id_number, 17, 1) AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END END) AS gender,
                   COALESCE(birth_date, CASE WHEN _resident THEN CAST(try_strptime(substr(id_number, 7, 8), '%Y%m%d') AS DATE) END) AS birth_date,
                   id_number, phone, address, card_number, occupation, marital_status, monthly_income,
                   monthly_spending, risk_level, risk_assessed_on, payroll_flag, pension_flag,
                   CAST(pay_day AS INTEGER) AS pay_day, employer_corp_id, mobile_banking, open_date
            FROM n_clients
            UNION ALL BY NAME
            SELECT * FROM {base('clients')} WHERE client_id NOT IN (SELECT client_id FROM n_clients)
              AND branch_id NOT IN (SELECT DISTINCT _branch FROM n_clients)""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_clients AS SELECT * FROM {base('clients')}")

    # -- products: by id; a holding of an unknown product with a category creates it (off shelf)
    np_ = new("products")
    con.execute(f"""CREATE TEMP TABLE f_products AS
        SELECT product_id, name_zh, COALESCE(name_en, name_zh) AS name_en, category, risk_level,
               liquidity, CAST(expected_return AS DECIMAL(8, 4)) AS expected_return,
               CAST(term_days AS INTEGER) AS term_days, COALESCE(on_shelf, TRUE) AS on_shelf
        FROM {np_ or empty('products')}
    """)  # fmt: skip
    con.execute(f"""INSERT INTO f_products BY NAME SELECT * FROM {base('products')}
        WHERE product_id NOT IN (SELECT product_id FROM f_products)""")  # fmt: skip
    nh = new("holdings_monthly")
    if nh:
        con.execute(f"""INSERT INTO f_products BY NAME
            SELECT product_id, COALESCE(first(product_name ORDER BY _file, _row), product_id) AS name_zh,
                   COALESCE(first(product_name ORDER BY _file, _row), product_id) AS name_en,
                   first(category ORDER BY _file, _row) AS category, FALSE AS on_shelf
            FROM {nh} WHERE product_id NOT IN (SELECT product_id FROM f_products)
            GROUP BY product_id""")  # fmt: skip

    def covered(src_sql: str) -> str:
        """Clients of the branches that ``src_sql``'s client rows belong to."""
        return (
            "(SELECT client_id FROM f_clients WHERE branch_id IN (SELECT DISTINCT c.branch_id "
            f"FROM {src_sql} s JOIN f_clients c USING (client_id)))"
        )

    # -- holdings, written straight into the snapshot (40M rows: no staging copy)
    if nh:
        con.execute(f"""INSERT INTO snap.holdings_monthly BY NAME
            SELECT {month_date(f'COALESCE(month_end, CAST({as_of} AS DATE))')} AS month_end, client_id,
                   product_id, balance, avg_balance, COALESCE(cost, balance - pnl) AS cost, maturity_date
            FROM {nh}""")  # fmt: skip
        con.execute(f"""INSERT INTO snap.holdings_monthly BY NAME
            SELECT COALESCE({month_date('h.month_end')}, h.month_end) AS month_end, h.client_id,
                   h.product_id, h.balance, h.avg_balance, h.cost, h.maturity_date
            FROM {base('holdings_monthly')} h
            WHERE NOT (date_trunc('month', h.month_end) IN (SELECT _m FROM months)
                       AND h.client_id IN {covered('snap.holdings_monthly')})""")  # fmt: skip
    else:
        con.execute(
            f"INSERT INTO snap.holdings_monthly BY NAME SELECT * FROM {base('holdings_monthly')}"
        )

    # -- AUM per client and month: stated (roster, AUM file) wins over holdings-derived
    stated = []
    if nc:
        stated.append(f"SELECT client_id, CAST({as_of} AS DATE) AS d, aum, aum_month_end FROM {nc}")
    na = new("client_aum_monthly")
    if na:
        stated.append(f"SELECT client_id, month_end AS d, aum, aum_month_end FROM {na}")
    parts = []
    if stated:
        parts.append(
            f"SELECT client_id, {month_date('d')} AS month_end, COALESCE(aum, aum_month_end) AS aum, "
            f"COALESCE(aum_month_end, aum) AS aum_month_end, 0 AS pri FROM ({' UNION ALL '.join(stated)}) "
            "WHERE COALESCE(aum, aum_month_end) IS NOT NULL"
        )
    if nh:
        parts.append(
            "SELECT client_id, month_end, SUM(COALESCE(avg_balance, balance)) AS aum, "
            "SUM(balance) AS aum_month_end, 1 AS pri FROM snap.holdings_monthly "
            "WHERE date_trunc('month', month_end) IN (SELECT _m FROM months) GROUP BY ALL"
        )
    if parts:
        con.execute(f"""CREATE TEMP TABLE n_aum AS SELECT client_id, month_end, aum, aum_month_end
            FROM ({' UNION ALL '.join(parts)})
            QUALIFY row_number() OVER (PARTITION BY client_id, month_end ORDER BY pri) = 1""")  # fmt: skip
        con.execute(f"""CREATE TEMP TABLE f_aum AS
            SELECT a.month_end, a.client_id, c.branch_id, c.rm_id, CAST(a.aum AS DECIMAL(18, 2)) AS aum,
                   CAST(a.aum_month_end AS DECIMAL(18, 2)) AS aum_month_end
            FROM n_aum a JOIN f_clients c USING (client_id)
            UNION ALL BY NAME
            SELECT COALESCE({month_date('b.month_end')}, b.month_end) AS month_end, b.client_id,
                   b.branch_id, b.rm_id, b.aum, b.aum_month_end
            FROM {base('client_aum_monthly')} b
            WHERE NOT (date_trunc('month', b.month_end) IN (SELECT _m FROM months)
                       AND b.client_id IN {covered('n_aum')})""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_aum AS SELECT * FROM {base('client_aum_monthly')}")

    # -- dated event tables: the covered clients' rows inside the file's dates are replaced
    nt = new("transactions")
    if nt:
        con.execute(f"""CREATE TEMP TABLE n_txn AS SELECT *,
            CASE WHEN txn_type IN ('deposit', 'withdrawal') OR txn_type IS NULL THEN
                 CASE WHEN COALESCE(direction, CASE WHEN amount < 0 THEN 'out' END,
                                    CASE WHEN txn_type = 'withdrawal' THEN 'out' END, 'in') = 'out'
                      THEN CASE WHEN counterparty_bank IS NOT NULL THEN 'transfer_out' ELSE 'withdrawal' END
                      ELSE CASE WHEN counterparty_bank IS NOT NULL THEN 'transfer_in' ELSE 'deposit' END END
                 ELSE txn_type END AS _type
            FROM {nt}""")  # fmt: skip
        start = "(SELECT COALESCE(max(txn_id), 0) FROM " + base("transactions") + ")"
        con.execute(f"""CREATE TEMP TABLE f_txn AS
            SELECT {start} + row_number() OVER (ORDER BY _file, _row) AS txn_id, client_id, txn_date,
                   _type AS txn_type, CAST(abs(amount) AS DECIMAL(18, 2)) AS amount, channel, product_id,
                   counterparty_bank,
                   _type NOT IN ('payroll', 'pension') AND COALESCE(channel, '') <> 'system' AS client_initiated
            FROM n_txn
            UNION ALL BY NAME
            SELECT * FROM {base('transactions')} b
            WHERE NOT (b.txn_date BETWEEN (SELECT min(txn_date) FROM n_txn) AND (SELECT max(txn_date) FROM n_txn)
                       AND b.client_id IN {covered('n_txn')})""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_txn AS SELECT * FROM {base('transactions')}")

    nch = new("contact_history")
    if nch:
        con.execute(f"CREATE TEMP TABLE n_contacts AS SELECT * FROM {nch}")
        con.execute(f"""CREATE TEMP TABLE f_contacts AS
            SELECT client_id, rm_id, contact_date, COALESCE(channel, 'call') AS channel,
                   COALESCE(topic, 'service') AS topic, COALESCE(outcome, 'reached') AS outcome
            FROM n_contacts
            UNION ALL BY NAME
            SELECT * FROM {base('contact_history')} b
            WHERE NOT (b.contact_date BETWEEN (SELECT min(contact_date) FROM n_contacts)
                                          AND (SELECT max(contact_date) FROM n_contacts)
                       AND b.client_id IN {covered('n_contacts')})""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_contacts AS SELECT * FROM {base('contact_history')}")

    # RMs named by clients or contacts but not in any RM list are created by their id
    con.execute("""INSERT INTO f_rms BY NAME
        SELECT rm_id, first(branch_id ORDER BY n DESC, branch_id) AS branch_id, rm_id AS name_zh,
               rm_id AS name_en, 'client' AS title
        FROM (SELECT rm_id, branch_id, count(*) AS n FROM f_clients WHERE rm_id IS NOT NULL GROUP BY ALL)
        WHERE rm_id NOT IN (SELECT rm_id FROM f_rms) GROUP BY rm_id""")  # fmt: skip

    npol = new("insurance_policies")
    con.execute(f"""CREATE TEMP TABLE f_policies AS
        SELECT policy_id, client_id, product_id, start_date, annual_premium,
               CAST(premium_years AS INTEGER) AS premium_years,
               CAST(illustrated_yield AS DECIMAL(8, 4)) AS illustrated_yield,
               CAST(actual_yield AS DECIMAL(8, 4)) AS actual_yield,
               COALESCE(cooling_off_end, start_date + INTERVAL 15 DAY) AS cooling_off_end
        FROM {npol or empty('insurance_policies')}
        UNION ALL BY NAME
        SELECT * FROM {base('insurance_policies')} WHERE policy_id NOT IN
            (SELECT policy_id FROM {npol or empty('insurance_policies')})""")  # fmt: skip

    nd = new("digital_activity")
    if nd:
        con.execute(f"""CREATE TEMP TABLE f_digital AS
            SELECT {month_date('month_end')} AS month_end, client_id, CAST(mobile_logins AS INTEGER) AS mobile_logins
            FROM {nd}""")  # fmt: skip
        con.execute(f"""INSERT INTO f_digital BY NAME
            SELECT COALESCE({month_date('b.month_end')}, b.month_end) AS month_end, b.client_id, b.mobile_logins
            FROM {base('digital_activity')} b
            WHERE NOT (date_trunc('month', b.month_end) IN (SELECT date_trunc('month', month_end) FROM f_digital)
                       AND b.client_id IN {covered('f_digital')})""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_digital AS SELECT * FROM {base('digital_activity')}")

    nf = new("family_members")
    con.execute(f"""CREATE TEMP TABLE f_family AS
        SELECT client_id, relation, birth_date FROM {nf or empty('family_members')}
        UNION ALL BY NAME
        SELECT * FROM {base('family_members')} WHERE client_id NOT IN
            (SELECT client_id FROM {nf or empty('family_members')})""")  # fmt: skip

    ncc = new("corp_clients")
    if ncc:
        con.execute(
            f"CREATE TEMP TABLE n_corp AS SELECT *, COALESCE(branch_id, {branch}) AS _branch FROM {ncc}"
        )
        con.execute(f"""CREATE TEMP TABLE f_corp AS
            SELECT corp_id, _branch AS branch_id, rm_id, name_zh, COALESCE(name_en, name_zh) AS name_en,
                   industry, size, founded_on, registered_capital, CAST(employees AS INTEGER) AS employees,
                   CAST(payroll_headcount AS INTEGER) AS payroll_headcount, annual_revenue, debt_ratio,
                   overdue_tax, has_guarantor, open_date
            FROM n_corp
            UNION ALL BY NAME
            SELECT * FROM {base('corp_clients')} WHERE corp_id NOT IN (SELECT corp_id FROM n_corp)
              AND branch_id NOT IN (SELECT DISTINCT _branch FROM n_corp)""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_corp AS SELECT * FROM {base('corp_clients')}")
    nca = new("corp_accounts")
    con.execute(f"""CREATE TEMP TABLE f_corp_acc AS
        SELECT corp_id, avg_daily_deposit, loan_balance, loan_interest_12m, fee_income_12m,
               CAST(max_overdue_days AS INTEGER) AS max_overdue_days, default_flag
        FROM {nca or empty('corp_accounts')}
        UNION ALL BY NAME
        SELECT * FROM {base('corp_accounts')} WHERE corp_id NOT IN
            (SELECT corp_id FROM {nca or empty('corp_accounts')})""")  # fmt: skip
    nct = new("corp_transactions")
    if nct:
        con.execute(f"CREATE TEMP TABLE n_ctx AS SELECT * FROM {nct}")
        start = "(SELECT COALESCE(max(txn_id), 0) FROM " + base("corp_transactions") + ")"
        con.execute(f"""CREATE TEMP TABLE f_ctx AS
            SELECT {start} + row_number() OVER (ORDER BY _file, _row) AS txn_id, payer_id, payee_id,
                   txn_date, amount FROM n_ctx
            UNION ALL BY NAME
            SELECT * FROM {base('corp_transactions')} WHERE NOT (txn_date BETWEEN
                (SELECT min(txn_date) FROM n_ctx) AND (SELECT max(txn_date) FROM n_ctx))""")  # fmt: skip
    else:
        con.execute(f"CREATE TEMP TABLE f_ctx AS SELECT * FROM {base('corp_transactions')}")

    # corporate RMs and every branch named anywhere exist too
    con.execute("""INSERT INTO f_rms BY NAME
        SELECT rm_id, first(branch_id ORDER BY branch_id) AS branch_id, rm_id AS name_zh,
               rm_id AS name_en, 'client' AS title
        FROM f_corp WHERE rm_id IS NOT NULL AND rm_id NOT IN (SELECT rm_id FROM f_rms) GROUP BY rm_id""")  # fmt: skip
    con.execute("""INSERT INTO f_branches BY NAME
        SELECT DISTINCT branch_id, branch_id AS name_zh, branch_id AS name_en FROM (
            SELECT branch_id FROM f_clients UNION SELECT branch_id FROM f_rms
            UNION SELECT branch_id FROM f_corp)
        WHERE branch_id NOT IN (SELECT branch_id FROM f_branches)""")  # fmt: skip

    final = {
        "branches": "f_branches", "rms": "f_rms", "clients": "f_clients", "products": "f_products",
        "client_aum_monthly": "f_aum", "transactions": "f_txn",
        "insurance_policies": "f_policies", "digital_activity": "f_digital",
        "contact_history": "f_contacts", "family_members": "f_family", "corp_clients": "f_corp",
        "corp_accounts": "f_corp_acc", "corp_transactions": "f_ctx",
    }  # fmt: skip
    for table, src in final.items():
        con.execute(f"INSERT INTO snap.{table} BY NAME SELECT * FROM {src}")

    tables = set(ctx.typed) | {"branches", "rms"}
    if tables & {"clients", "holdings_monthly", "client_aum_monthly"}:
        tables.add("client_aum_monthly")
    if has_base:
        tables |= set(_base_meta(con).get("tables", "").split(","))
    tables.discard("")
    base_as_of = _base_meta(con).get("as_of") if has_base else None
    as_of_final = max(ctx.as_of.isoformat(), base_as_of or "")
    rows = {
        t: int(con.execute(f"SELECT count(*) FROM snap.{t}").fetchone()[0])
        for t in [*final, "holdings_monthly"]
    }
    meta = {
        "as_of": as_of_final,
        "source": "import",
        "tables": ",".join(t for t in warehouse_table_names() if t in tables),
        "imported_by": imported_by,
        "files": json.dumps(
            [{"file": f.name, "table": f.table} for f in files], ensure_ascii=False
        ),
        "rows": json.dumps(rows),
        "base": ctx.base.name if ctx.base else "",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    con.executemany("INSERT INTO snap.meta VALUES (?, ?)", list(meta.items()))
    con.execute("CHECKPOINT snap")
    con.execute("DETACH snap")


def _base_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM base.meta").fetchall())
