"""The nightly import job and its helpers, from the command line.

    python -m analytics.importer check --table clients FILE... [--branch ID] [--mapping FILE]
                                       [--as-of YYYY-MM-DD] [--report PATH]
    python -m analytics.importer load --as-of YYYY-MM-DD --clients FILE [--holdings FILE]
                                      [--transactions FILE] [--<table> FILE]... [--branch ID]
                                      [--mapping FILE] [--report PATH] [--fresh]
    python -m analytics.importer list
    python -m analytics.importer rollback SNAPSHOT
    python -m analytics.importer dictionary [--out docs/data-dictionary.md]
    python -m analytics.importer templates --out DIR

``check`` exits 0 when the files would import and 1 when they are rejected; ``load`` exits 0 only
when a new snapshot was published (into ``$BRANCHLENS_DATA``) and prints its name and row counts.
The job runs with head office's reach; ``--branch`` names the branch of files without a branch
column. Messages are in Chinese when ``LANG`` is Chinese (or ``--lang zh``), else English.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from analytics import store
from analytics.access import AccessDenied, Scope
from analytics.importer import contract, docs, pipeline

SYSTEM = Scope("head_office", viewer_id="cli")


def _lang(arg: str | None) -> str:
    if arg in ("zh", "en"):
        return arg
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _t(key: str, lang: str, **fields) -> str:
    """A string of the zh/en table (plain Python, no Streamlit), fields it names but was not
    given left blank."""
    from ui.i18n import TABLES

    text = TABLES[lang].get(key, key)
    return text.format_map(_Blank(fields))


def _mapping(path: str | None) -> pipeline.Mapping | None:
    if not path:
        return None
    p = Path(path)
    df = pd.read_excel(p, dtype=str) if p.suffix.lower() == ".xlsx" else pd.read_csv(p, dtype=str)
    return pipeline.Mapping.from_frame(df)


def print_report(report: pipeline.ImportReport, lang: str, out=sys.stdout) -> None:
    """The report as text: each file read, then each problem, then the counts."""
    for f in report.files:
        if f.refused:
            print(f"{f.source}: {_t('why.' + f.refused, lang, **f.refused_fields)}", file=out)
            continue
        print(f"{f.source} -> {f.table}: {f.rows} rows, header row {f.header_row}, "
              f"encoding {f.encoding or '-'}", file=out)  # fmt: skip
        for header, column in f.columns.items():
            unit = f.units.get(column)
            print(f"    {header} -> {column}" + (f" ({unit})" if unit else ""), file=out)
        if f.unmapped:
            print("    not used: " + ", ".join(f.unmapped), file=out)
    for r in report.problems.to_dict("records"):
        where = f"{r['file']}" + (f":{r['row']}" if pd.notna(r["row"]) else "")
        value = f" [{r['value']}]" if isinstance(r["value"], str) and r["value"] else ""
        print(f"{_t('sev.' + r['severity'], lang)} {where} {r['column']}: "
              f"{_t('why.' + r['reason'], lang, column=r['column'])}{value}",
              file=out)  # fmt: skip
    listed = len(report.problems)
    total = report.errors + report.warnings
    if total > listed:
        print(f"... {total - listed} more problems (all counted below)", file=out)
    for c in report.counts.to_dict("records"):
        print(f"  {c['problems']:>8}  {c['severity']:<7} {c['reason']}", file=out)
    print(f"errors: {report.errors}, warnings: {report.warnings}", file=out)


def write_report(report: pipeline.ImportReport, path: str, lang: str) -> None:
    """The problems as CSV (utf-8-sig, opens right in Chinese Excel) or XLSX, formula cells
    neutralised: the values quoted come from the bank's files (ui/exports.py, no streamlit)."""
    from ui import exports

    df = report_frame(report, lang)
    data = exports.xlsx_bytes(df) if path.lower().endswith(".xlsx") else exports.csv_bytes(df)
    Path(path).write_bytes(data)


def report_frame(report: pipeline.ImportReport, lang: str) -> pd.DataFrame:
    """The problem list with the reason in words, for a download."""
    df = report.problems.copy()
    df["reason_text"] = [
        _t("why." + r, lang, column=c) for r, c in zip(df["reason"], df["column"], strict=True)
    ]
    return df[["file", "row", "column", "reason", "reason_text", "value", "severity"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analytics.importer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--branch", help="branch id for files without a branch column")
    common.add_argument("--mapping", help="CSV/XLSX of table,header,column[,unit] corrections")
    common.add_argument("--report", help="write the problems to this CSV or XLSX file")
    common.add_argument("--lang", choices=["zh", "en"])
    common.add_argument("--encoding", help="the CSV files' encoding when detection is wrong")
    c = sub.add_parser("check", parents=[common], help="validate files, change nothing")
    c.add_argument("--table", required=True, choices=list(contract.TABLES))
    c.add_argument("--as-of", type=date.fromisoformat, help="default: today")
    c.add_argument("files", nargs="+")
    ld = sub.add_parser("load", parents=[common], help="validate, build and publish a snapshot")
    ld.add_argument("--as-of", type=date.fromisoformat, required=True)
    ld.add_argument(
        "--fresh", action="store_true", help="do not carry the current import's history"
    )
    for name, spec in contract.TABLES.items():
        flags = [f"--{name}"] + ([spec.cli] if spec.cli and spec.cli != f"--{name}" else [])
        ld.add_argument(*flags, dest=f"t_{name}", nargs="+", metavar="FILE", default=[])
    sub.add_parser("list", help="the kept snapshots")
    rb = sub.add_parser("rollback", help="make a kept snapshot current again")
    rb.add_argument("snapshot")
    d = sub.add_parser("dictionary", help="write the data dictionary (Markdown)")
    d.add_argument("--out")
    tp = sub.add_parser("templates", help="write blank CSV and XLSX templates")
    tp.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    lang = _lang(getattr(args, "lang", None))

    if args.cmd == "dictionary":
        text = docs.data_dictionary()
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if args.cmd == "templates":
        for p in docs.write_templates(Path(args.out)):
            print(p)
        return 0
    if args.cmd == "list":
        df = store.list_snapshots()
        print(df.to_string(index=False) if len(df) else "no snapshots")
        return 0
    if args.cmd == "rollback":
        try:
            path = store.make_current(args.snapshot)
        except store.SnapshotInvalid as e:
            print(_t("snap." + e.code, lang, detail=e.detail), file=sys.stderr)
            return 1
        store.AuditLog().record(store.AuditEvent("cli", "rollback", (), path.name))
        print(path.name)
        return 0

    if args.cmd == "check":
        files = [
            pipeline.ImportFile(Path(f), args.table, encoding=args.encoding) for f in args.files
        ]
        as_of = args.as_of or datetime.now().date()  # the calendar date, as for imported data
    else:
        files = [
            pipeline.ImportFile(Path(f), name, encoding=args.encoding)
            for name in contract.TABLES
            for f in getattr(args, f"t_{name}")
        ]
        as_of = args.as_of
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        mapping = _mapping(args.mapping)
        if args.cmd == "check":
            report = pipeline.check(files, as_of=as_of, scope=SYSTEM, branch=args.branch,
                                    mapping=mapping)  # fmt: skip
        else:
            report = pipeline.load(files, as_of=as_of, scope=SYSTEM, branch=args.branch,
                                   mapping=mapping, fresh=args.fresh)  # fmt: skip
    except pipeline.ImportError_ as e:
        print(_t("imp." + e.code, lang, **e.fields), file=sys.stderr)
        return 2
    except AccessDenied as e:
        print(_t("imp." + str(e), lang), file=sys.stderr)
        return 2
    except store.SnapshotInvalid as e:  # the built file failed the check: nothing was published
        print(_t("snap." + e.code, lang, detail=e.detail), file=sys.stderr)
        return 1
    print_report(report, lang)
    if args.report:
        write_report(report, args.report, lang)
    if not report.ok:
        return 1
    if args.cmd == "load":
        detail = f"{report.snapshot}: " + ", ".join(f.source for f in report.files)
        store.AuditLog().record(store.AuditEvent("cli", "import", (), detail))
        print(report.snapshot)
        for table, n in report.rows.items():
            print(f"  {table}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
