"""Benchmark the import of a bank's export files (analytics/importer, issue 11 point 8).

    python -m bench.bench_import                              # 1M clients, 50 branches, 13 months
    python -m bench.bench_import --clients 20000 --branches 1 --runs 3   # the quick figure
    python -m bench.bench_import --snapshot bench/out/bench-1000000-50-1.duckdb --timeout 1800

Makes the files a bank would send from a demo snapshot (built with ``python -m analytics.demo_data``
into bench/out/ unless --snapshot names one; reused when it is there, and shared with
bench_views): 客户清单 (clients.csv, with the latest month's 月日均资产), 客户月日均资产表
(client_aum_monthly.csv, every month), 资产余额表 (holdings.csv, every month) and 产品货架
(products.csv), UTF-8 CSV with the Chinese template headers of ``contract.py``, written by DuckDB
``COPY`` and cached in bench/out/import-<snapshot>/. The demo's holdings are purchase lots (a
client may hold the same fund twice in one month); a 资产余额表 has one row per client, product,
date and maturity, the import contract's key, so the lots are summed.

Then imports them --runs times with the nightly CLI (``python -m analytics.importer load --fresh``)
in a fresh temporary BRANCHLENS_DATA, each in its own process (under ``/usr/bin/time -v`` when
there), and prints the median wall time, the peak RSS and the rows per table of the published
snapshot. Then once through ``pipeline.load`` with a progress callback (in a child process, so that
--timeout can stop it): the time and peak RSS of each phase (each file read and typed, checking,
building, publishing) and the slowest DuckDB statements of the pipeline. An import still running
after --timeout seconds is stopped, and the phase and statement it was in are printed.
Figures go into bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from unittest import mock

import duckdb

from analytics.importer import contract

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
EXPORT_VERSION = 1  # bump when the exported files change shape (invalidates the cache)
TARGET_SECONDS, TARGET_GB = 180, 4.0  # issue 11 point 8, at 1M clients

# The demo's product categories as a bank's shelf names them (mapped back by
# [importer.codes.category]; the import must give the demo's codes again).
CATEGORY_ZH = {
    "current_deposit": "活期存款",
    "time_deposit": "定期存款",
    "large_cd": "大额存单",
    "savings_bond": "储蓄国债",
    "wealth": "理财",
    "money_fund": "货币基金",
    "bond_fund": "债券基金",
    "mixed_fund": "混合基金",
    "equity_fund": "股票基金",
    "protection_insurance": "保障型保险",
    "annuity_insurance": "年金保险",
    "precious_metal": "贵金属",
    "trust": "信托",
}

# (file, table, CLI option, {column: SQL over the snapshot}, FROM ..., ORDER BY ...). Headers are
# the template's Chinese names (contract.py); the files carry no other column.
_LATEST_AUM = (
    "(SELECT client_id, aum FROM client_aum_monthly "
    "WHERE month_end = (SELECT max(month_end) FROM client_aum_monthly))"
)
_CATEGORY = "CASE category " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CATEGORY_ZH.items()) + " END"  # fmt: skip
EXPORTS = [
    ("clients.csv", "clients", "--clients", {
        "client_id": "c.client_id", "name_zh": "c.name_zh", "id_number": "c.id_number",
        "phone": "c.phone", "branch_id": "c.branch_id", "rm_id": "c.rm_id",
        "gender": "CASE c.gender WHEN 'M' THEN '男' WHEN 'F' THEN '女' END",
        "birth_date": "c.birth_date", "risk_level": "c.risk_level", "open_date": "c.open_date",
        "aum": "COALESCE(a.aum, 0)",
    }, f"clients c LEFT JOIN {_LATEST_AUM} a USING (client_id)", "c.client_id"),
    ("client_aum_monthly.csv", "client_aum_monthly", "--client_aum_monthly", {
        "month_end": "month_end", "client_id": "client_id", "aum": "aum",
        "aum_month_end": "aum_month_end",
    }, "client_aum_monthly", "month_end, client_id"),
    ("holdings.csv", "holdings_monthly", "--holdings", {
        "month_end": "month_end", "client_id": "client_id", "product_id": "product_id",
        "balance": "SUM(balance)", "avg_balance": "SUM(avg_balance)", "cost": "SUM(cost)",
        "maturity_date": "maturity_date",
    }, "holdings_monthly GROUP BY month_end, client_id, product_id, maturity_date",
       "month_end, client_id, product_id, maturity_date"),
    ("products.csv", "products", "--products", {
        "product_id": "product_id", "name_zh": "name_zh", "category": _CATEGORY,
        "risk_level": "risk_level", "on_shelf": "CASE WHEN on_shelf THEN '是' ELSE '否' END",
    }, "products", "product_id"),
]  # fmt: skip


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select(table: str, columns: dict[str, str]) -> str:
    spec = contract.TABLES[table]
    return ", ".join(f'{sql} AS "{spec.column(col).zh}"' for col, sql in columns.items())


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _one_line(sql: str, width: int = 150) -> str:
    text = " ".join(str(sql).split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------- the files


def snapshot_path(args) -> Path:
    if args.snapshot:
        return args.snapshot
    # bench_views' name when the month count is the demo's, so the two share one build
    tail = "" if args.months == 13 else f"-{args.months}m"
    path = OUT / f"bench-{args.clients}-{args.branches}-{args.seed}{tail}.duckdb"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "analytics.demo_data", "--clients", str(args.clients),
               "--branches", str(args.branches), "--months", str(args.months),
               "--seed", str(args.seed), "--corporates", str(max(600, args.clients // 40)),
               "--out", str(path)]  # fmt: skip
        print("building", path.name, "…", flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            n += chunk.count(b"\n")
    return n


def export_files(snapshot: Path) -> dict:
    """Write (or reuse) the export files of ``snapshot``; the manifest: as_of, files, rows."""
    folder = OUT / f"import-{snapshot.stem}"
    manifest_path = folder / "manifest.json"
    st = snapshot.stat()
    key = {"version": EXPORT_VERSION, "snapshot": str(snapshot.resolve()),
           "size": st.st_size, "mtime": int(st.st_mtime)}  # fmt: skip
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("key") == key and all((folder / f).exists() for f in manifest["files"]):
            print(f"reusing the export files in {folder.relative_to(ROOT)}")
            return manifest | {"folder": str(folder)}
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path.unlink(missing_ok=True)
    con = duckdb.connect(str(snapshot), read_only=True)
    as_of = con.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchone()[0]
    files, rows = {}, {}
    t_all = time.perf_counter()
    for name, table, _, columns, source, order in EXPORTS:
        t0 = time.perf_counter()
        sql = f"SELECT {_select(table, columns)} FROM {source}"
        expected = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        path = folder / name
        con.execute(f"COPY ({sql} ORDER BY {order}) TO {_q(str(path))} (FORMAT csv, HEADER)")
        lines = _count_lines(path) - 1  # the header
        if lines != expected:
            raise SystemExit(f"{name}: {lines:,} data lines written, {expected:,} expected")
        files[name], rows[name] = table, expected
        print(f"  wrote {name:<24} {expected:>12,} rows  {path.stat().st_size / 1e6:>8,.0f} MB"
              f"  {time.perf_counter() - t0:6.1f} s", flush=True)  # fmt: skip
    lots = con.execute("SELECT count(*) FROM holdings_monthly").fetchone()[0]
    con.close()
    print(f"  exported in {time.perf_counter() - t_all:.1f} s; holdings: {lots:,} demo lots "
          f"summed to {rows['holdings.csv']:,} rows (one per client, product, date, maturity)")  # fmt: skip
    manifest = {"key": key, "as_of": as_of, "files": files, "rows": rows, "lots": lots}
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest | {"folder": str(folder)}


# ---------------------------------------------------------------------------- child processes


def _session_peak_mb(sid: int) -> float:
    """The largest VmHWM among the live processes of session ``sid`` (the ones we started)."""
    peak = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getsid(int(d.name)) != sid:
                continue
            for line in (d / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            continue
    return peak


class _Child:
    """A child process in its own session: its stdout lines as they come, its peak RSS sampled
    every second, and a deadline after which the whole session is killed (by its id)."""

    def __init__(self, cmd: list[str], env: dict, timeout: float | None):
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        self.timeout, self.timed_out, self.peak_mb = timeout, False, 0.0
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(
            target=self._pump, args=(self.proc.stdout, self.lines), daemon=True
        ).start()
        threading.Thread(target=self._drain, daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def __iter__(self):
        last_sample = 0.0
        while True:
            now = time.perf_counter()
            if now - last_sample >= 1.0:
                self.peak_mb = max(self.peak_mb, _session_peak_mb(self.proc.pid))
                last_sample = now
            if self.timeout and now - self.t0 > self.timeout and not self.timed_out:
                self.timed_out = True
                os.killpg(self.proc.pid, signal.SIGKILL)
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            yield line
        self.proc.wait()
        self.seconds = time.perf_counter() - self.t0


# ---------------------------------------------------------------------------- the CLI runs


def _cli_args(manifest: dict) -> list[str]:
    folder = Path(manifest["folder"])
    args = ["load", "--as-of", manifest["as_of"], "--fresh"]
    for name, _, option, *_ in EXPORTS:
        args += [option, str(folder / name)]
    return args


def _time_v(stderr: list[str]) -> dict:
    text = "\n".join(stderr)

    def grab(label: str) -> str | None:
        m = re.search(rf"^\s*{re.escape(label)}:\s*(.+)$", text, re.M)
        return m.group(1).strip() if m else None

    out = {}
    if (v := grab("Maximum resident set size (kbytes)")) is not None:
        out["rss_mb"] = int(v) / 1024
    for key, label in (("user", "User time (seconds)"), ("sys", "System time (seconds)")):
        if (v := grab(label)) is not None:
            out[key] = float(v)
    return out


def run_cli(manifest: dict, work_dir: str | None, timeout: float | None, keep: bool) -> dict:
    """One import in a fresh process and a fresh data folder: wall time, peak RSS, rows."""
    time_bin = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    data = tempfile.mkdtemp(prefix="bench-import-", dir=work_dir)
    try:
        cmd = [sys.executable, "-m", "analytics.importer", *_cli_args(manifest)]
        if time_bin:
            cmd = [time_bin, "-v", *cmd]
        child = _Child(cmd, dict(os.environ, BRANCHLENS_DATA=data), timeout)
        lines = list(child)
        stats = _time_v(child.stderr) if time_bin else {}
        stats["rss_mb"] = max(stats.get("rss_mb", 0.0), child.peak_mb)
        rows = {}
        for line in lines:
            if m := re.match(r"^  (\w+): (\d+)$", line):
                rows[m.group(1)] = int(m.group(2))
        ok = child.proc.returncode == 0 and not child.timed_out
        if child.timed_out:
            print(f"  stopped after {child.seconds:.0f} s (--timeout {timeout:.0f})")
        elif not ok:
            err = [x for x in child.stderr if not x.startswith("\t")]
            print(f"  import FAILED (exit {child.proc.returncode}) after {child.seconds:.1f} s")
            for x in lines[-25:] + err[-15:]:
                print("   |", x)
        snap = next((x for x in lines if x.endswith(".duckdb")), "")
        return {"ok": ok, "timed_out": child.timed_out, "seconds": child.seconds, "rows": rows,
                "snapshot": snap, "data": data, **stats}  # fmt: skip
    finally:
        if not keep:
            shutil.rmtree(data, ignore_errors=True)


# ---------------------------------------------------------------------------- the phases

# The phase run's child process prints one JSON object per line, prefixed with this.
_TAG = "@bench "


def _emit(kind: str, **fields) -> None:
    print(_TAG + json.dumps({"kind": kind, **fields}, ensure_ascii=False), flush=True)


def _status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux), so that each phase's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _TimedConnection:
    """A DuckDB connection that reports each statement (the pipeline's own SQL) and its time."""

    def __init__(self, con):
        self._con = con

    def _timed(self, method, sql, *a, **kw):
        _emit("begin", sql=_one_line(sql, 400))
        t0 = time.perf_counter()
        error = None
        try:
            return getattr(self._con, method)(sql, *a, **kw)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
            raise
        finally:
            _emit("sql", seconds=time.perf_counter() - t0, sql=_one_line(sql, 400), error=error)

    def execute(self, sql, *a, **kw):
        return self._timed("execute", sql, *a, **kw)

    def executemany(self, sql, *a, **kw):
        return self._timed("executemany", sql, *a, **kw)

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._con.close()


class _DuckDB:
    """Stands in for the ``duckdb`` module inside pipeline.py: ``connect`` returns a timed one."""

    def connect(self, *a, **kw):
        return _TimedConnection(duckdb.connect(*a, **kw))

    def __getattr__(self, name):
        return getattr(duckdb, name)


def phase_child(manifest_path: str, data: str) -> int:
    """In the child: pipeline.load on the export files, reporting progress and statements."""
    os.environ["BRANCHLENS_DATA"] = data
    from analytics.access import Scope
    from analytics.importer import pipeline

    manifest = json.loads(Path(manifest_path).read_text())
    folder = Path(manifest_path).parent
    files = [pipeline.ImportFile(folder / name, table) for name, table, *_ in EXPORTS]
    can_reset = _reset_peak()

    def progress(fraction: float, step: str) -> None:
        _emit("mark", step=step, hwm=_status_mb("VmHWM") if can_reset else None)
        if can_reset:
            _reset_peak()

    _emit("mark", step="start", hwm=None)
    try:
        with mock.patch.object(pipeline, "duckdb", _DuckDB()):
            report = pipeline.load(files, as_of=date.fromisoformat(manifest["as_of"]),
                                   scope=Scope("head_office", viewer_id="bench"),
                                   root=Path(data), progress=progress, fresh=True,
                                   imported_by="bench")  # fmt: skip
    except Exception as e:
        _emit("end", step="failed", hwm=_status_mb("VmHWM"), error=f"{type(e).__name__}: {e}")
        return 1
    _emit("end", step="end", hwm=_status_mb("VmHWM"), ok=report.ok, errors=report.errors,
          warnings=report.warnings, counts=report.counts.to_dict("records"), rows=report.rows)  # fmt: skip
    return 0


def run_phases(manifest: dict, work_dir: str | None, timeout: float | None, trace: bool) -> dict:
    data = tempfile.mkdtemp(prefix="bench-import-", dir=work_dir)
    try:
        cmd = [sys.executable, "-m", "bench.bench_import", "--phase-child",
               str(Path(manifest["folder"]) / "manifest.json"), data]  # fmt: skip
        child = _Child(cmd, dict(os.environ), timeout)
        marks, stmts, running, end = [], [], None, None
        phase = "start"
        for line in child:
            if not line.startswith(_TAG):
                continue
            m = json.loads(line[len(_TAG) :])
            t = time.perf_counter() - child.t0
            if m["kind"] == "mark":
                marks.append((t, m["step"], m["hwm"]))
                phase = m["step"]
            elif m["kind"] == "begin":
                running = (t, phase, m["sql"])
            elif m["kind"] == "sql":
                stmts.append((m["seconds"], phase, m["sql"], m["error"]))
                running = None
                if trace:
                    print(f"    [{m['seconds']:8.2f} s] {_one_line(m['sql'], 120)}", flush=True)
            elif m["kind"] == "end":
                end = m
                marks.append((t, "end", m["hwm"]))
        if child.timed_out:
            marks.append((child.seconds, "end", None))
        elif end is None:
            print("  the phase run died:", *child.stderr[-10:], sep="\n   | ")
            marks.append((child.seconds, "end", None))
        # each phase runs from its mark to the next; the peak is read at the next mark
        phases = [
            (step, t2 - t1, hwm2)
            for (t1, step, _), (t2, _, hwm2) in zip(marks, marks[1:], strict=False)
        ]
        return {"seconds": child.seconds, "phases": phases, "statements": stmts, "end": end,
                "timed_out": child.timed_out, "running": running, "peak_mb": child.peak_mb}  # fmt: skip
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _phase_name(step: str) -> str:
    if step == "start":
        return "setup (staging database)"
    if step.endswith(".csv"):
        return f"read + type {step}"
    return step


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1_000_000)
    ap.add_argument("--branches", type=int, default=50)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--snapshot", type=Path, help="an existing demo snapshot to export from")
    ap.add_argument("--runs", type=int, default=1, help="CLI imports; the median is printed")
    ap.add_argument("--timeout", type=float, default=None,
                    help="stop an import still running after this many seconds")  # fmt: skip
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI runs")
    ap.add_argument("--no-phases", action="store_true", help="skip the phase run")
    ap.add_argument("--trace", action="store_true", help="print each statement of the phase run")
    ap.add_argument("--top", type=int, default=12, help="slowest statements to list")
    ap.add_argument("--dir", help="where the temporary data folders go (default: the temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the last CLI run's data folder (the imported snapshot)")  # fmt: skip
    ap.add_argument("--phase-child", nargs=2, metavar=("MANIFEST", "DATA"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.phase_child:
        return phase_child(*a.phase_child)

    print(f"load average before: {_loadavg()}  ({os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"DuckDB {duckdb.__version__})", flush=True)  # fmt: skip
    snapshot = snapshot_path(a)
    manifest = export_files(snapshot)
    sizes = {n: (Path(manifest["folder"]) / n).stat().st_size for n in manifest["files"]}
    print(f"{snapshot.name}: as of {manifest['as_of']}, files "
          f"{sum(sizes.values()) / 1e9:.2f} GB")  # fmt: skip
    for name, n in manifest["rows"].items():
        print(f"    {name:<24} {n:>12,} rows  {sizes[name] / 1e6:>8,.0f} MB")

    runs = []
    if not a.no_cli:
        print(f"\nCLI import (python -m analytics.importer {' '.join(_cli_args(manifest)[:4])} …), "
              f"{a.runs} run(s)", flush=True)  # fmt: skip
        for i in range(a.runs):
            r = run_cli(manifest, a.dir, a.timeout, keep=a.keep and i == a.runs - 1)
            runs.append(r)
            cpu = f", cpu {r['user'] + r['sys']:.0f} s" if "user" in r else ""
            state = "" if r["ok"] else ("  NOT FINISHED" if r["timed_out"] else "  FAILED")
            print(f"  run {i + 1}: {r['seconds']:.1f} s, peak RSS {r['rss_mb']:,.0f} MB{cpu}{state}"
                  f"  (load {_loadavg()})", flush=True)  # fmt: skip
        secs = [r["seconds"] for r in runs]
        good = [r for r in runs if r["ok"]]
        print(f"  median {statistics.median(secs):.1f} s  "
              f"(runs: {', '.join(f'{s:.1f}' for s in secs)})")  # fmt: skip
        print(f"  peak RSS {max(r['rss_mb'] for r in runs):,.0f} MB (largest run)")
        if good:
            print(f"  published {good[-1]['snapshot']}, rows:")
            for table, n in good[-1]["rows"].items():
                print(f"    {table:<20} {n:>12,}")
            expected = {t: manifest["rows"][f] for f, t in manifest["files"].items()}
            off = {t: (good[-1]["rows"].get(t), n) for t, n in expected.items()
                   if good[-1]["rows"].get(t) != n}  # fmt: skip
            print("  rows as exported" if not off else f"  rows NOT as exported: {off}")
        if a.clients >= 1_000_000 or a.snapshot:
            met = (len(good) == len(runs) and statistics.median(secs) <= TARGET_SECONDS
                   and max(r["rss_mb"] for r in runs) <= TARGET_GB * 1024)  # fmt: skip
            print(f"  target (issue 11: {TARGET_SECONDS} s and {TARGET_GB:.0f} GB at 1M clients): "
                  f"{'met' if met else 'NOT met'}")  # fmt: skip

    if not a.no_phases:
        print("\nPhases: pipeline.load with a progress callback (one run)", flush=True)
        p = run_phases(manifest, a.dir, a.timeout, a.trace)
        end = p["end"] or {}
        if p["timed_out"]:
            print(f"  stopped after {p['seconds']:.0f} s (--timeout)")
        elif end.get("error"):
            print(f"  FAILED after {p['seconds']:.1f} s: {end['error'].splitlines()[0]}")
        else:
            print(f"  total {p['seconds']:.1f} s, {'published' if end.get('ok') else 'REJECTED'}; "
                  f"errors {end.get('errors')}, warnings {end.get('warnings')}")  # fmt: skip
        for c in end.get("counts", []):
            print(f"    {c['problems']:>10,}  {c['severity']:<7} {c['reason']}")
        if end.get("rows"):
            expected = {t: manifest["rows"][f] for f, t in manifest["files"].items()}
            off = {t: (end["rows"].get(t), n) for t, n in expected.items()
                   if end["rows"].get(t) != n}  # fmt: skip
            print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in end["rows"].items() if n))
            print("  rows as exported" if not off else f"  rows NOT as exported: {off}")
        print(f"  {'phase':<40} {'seconds':>8} {'share':>6} {'peak RSS':>10}")
        for step, s, hwm in p["phases"]:
            peak = f"{hwm:,.0f} MB" if hwm else ""
            print(f"  {_phase_name(step):<40} {s:>8.1f} {s / p['seconds']:>6.0%} {peak:>10}")
        print(f"  peak RSS of the run {p['peak_mb']:,.0f} MB (sampled each second)")
        if p["running"]:
            t, step, sql = p["running"]
            print(f"  still running when stopped, for {p['seconds'] - t:.0f} s, in "
                  f"[{_phase_name(step)}]: {_one_line(sql, 300)}")  # fmt: skip
        failed = [s for s in p["statements"] if s[3]]
        if failed:
            print(
                f"  failed statement [{_phase_name(failed[-1][1])}]: {failed[-1][3].splitlines()[0]}"
            )
            print(f"    {_one_line(failed[-1][2], 300)}")
        stmts = sorted(p["statements"], key=lambda x: -x[0])
        print(
            f"  {len(stmts)} statements, {sum(s[0] for s in stmts):.1f} s in DuckDB; the slowest:"
        )
        for s, step, sql, _ in stmts[: a.top]:
            print(f"    {s:8.1f} s  [{_phase_name(step)}]  {_one_line(sql)}")

    if a.keep and runs:
        print(f"\nkept the last import's data folder: BRANCHLENS_DATA={runs[-1]['data']}")
    print(f"\nload average after: {_loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
