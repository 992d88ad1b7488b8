"""Benchmark the demo snapshot generator (analytics/demo_data.build_snapshot).

Times a build at 20k clients (1 branch, the default demo) and at 1M clients (50 branches), each
in a fresh Python process, and prints the median wall time, the peak resident memory (the build
process and, separately, its largest generator worker) and the file size. The snapshots are
written to a temporary directory and deleted afterwards.

    python bench/bench_generate.py                  # 20k x3 and 1M x1
    python bench/bench_generate.py --sizes 20k --repeat 5
    python bench/bench_generate.py --sizes 1m --repeat 3 --dir /tmp
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIZES = {
    "20k": dict(clients=20_000, branches=1),
    "1m": dict(clients=1_000_000, branches=50),
}
DEFAULT_REPEAT = {"20k": 3, "1m": 1}

# Runs in a child process: one build, then its own figures as JSON on the last line of stdout.
_CHILD = """
import json, resource, sys, time
from pathlib import Path
from analytics import demo_data
args = json.loads(sys.argv[1])
out = Path(args.pop("out"))
t0 = time.perf_counter()
demo_data.build_snapshot(out, **args)
seconds = time.perf_counter() - t0
rows = demo_data.table_counts(out)
size = out.stat().st_size
out.unlink()
print(json.dumps({
    "seconds": seconds,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "file_mb": size / 1e6,
    "rows": rows,
}))
"""


def run_once(size: str, directory: Path, seed: int | None) -> dict:
    args = dict(SIZES[size], out=str(directory / f"bench_{size}.duckdb"))
    if seed is not None:
        args["seed"] = seed
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"build {size} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="20k,1m", help="comma-separated: 20k, 1m")
    ap.add_argument(
        "--repeat", type=int, default=None, help="runs per size (default 3 for 20k, 1 for 1m)"
    )
    ap.add_argument(
        "--dir", default=None, help="where to write the snapshots (default: a temp dir)"
    )
    ap.add_argument("--seed", type=int, default=None, help="default: settings demo.seed")
    a = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        for size in [s.strip().lower() for s in a.sizes.split(",") if s.strip()]:
            if size not in SIZES:
                raise SystemExit(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
            repeat = a.repeat or DEFAULT_REPEAT[size]
            runs = [run_once(size, Path(tmp), a.seed) for _ in range(repeat)]
            secs = [r["seconds"] for r in runs]
            spec = SIZES[size]
            print(
                f"{size}: {spec['clients']:,} clients, {spec['branches']} branch(es), {repeat} run(s)"
            )
            print(
                f"  median {statistics.median(secs):.1f} s  (runs: {', '.join(f'{s:.1f}' for s in secs)})"
            )
            print(f"  peak RSS {max(r['rss_mb'] for r in runs):,.0f} MB in the build process, "
                  f"{max(r['worker_rss_mb'] for r in runs):,.0f} MB in its largest worker")  # fmt: skip
            print(f"  file {runs[-1]['file_mb']:,.0f} MB")
            for table, count in runs[-1]["rows"].items():
                print(f"    {table:<20} {count:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
