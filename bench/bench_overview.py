"""Time the overview's queries (what one page run asks the warehouse) at a given size.

    python -m bench.bench_overview --clients 20000 --branches 1
    python -m bench.bench_overview --clients 1000000 --branches 50 --repeat 5

Builds the snapshot into bench/out/ if it is not there yet (reuses it otherwise), then times each
query uncached for three viewers (head office, the first branch's manager, the first RM) and prints
the median of --repeat runs. Figures go into bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from analytics import demo_data, overview, snapshot, store
from analytics.access import Scope

OUT = Path(__file__).resolve().parent / "out"


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20_000)
    ap.add_argument("--branches", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"bench-{args.clients}-{args.branches}-{args.seed}.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        demo_data.build_snapshot(
            path, clients=args.clients, branches=args.branches, seed=args.seed,
            corporates=max(600, args.clients // 40),
        )  # fmt: skip
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s")
    wh = store.open_warehouse(path)
    month = snapshot.month_ends(wh)[-1]
    branches = snapshot.branches(wh)["branch_id"].tolist()
    first_rm = snapshot.rms(wh)["rm_id"].iloc[0]
    viewers = {
        "head_office": Scope("head_office", tuple(branches)),
        "manager": Scope("manager", (branches[0],)),
        "rm": Scope("rm", (branches[0],), rm_id=first_rm),
    }
    print(f"{args.clients:,} clients, {args.branches} branches; median of {args.repeat} runs (s)")
    print(
        f"{'viewer':<12} {'tier_summary':>13} {'by_category':>12} {'rm_books':>9} {'page total':>11}"
    )
    for name, scope in viewers.items():
        a = timed(lambda s=scope: overview.tier_summary(wh, s), args.repeat)
        b = timed(lambda s=scope: overview.aum_by_category(wh, s, month), args.repeat)
        c = timed(lambda s=scope: overview.rm_books(wh, s, month), args.repeat)
        print(f"{name:<12} {a:>13.3f} {b:>12.3f} {c:>9.3f} {a + b + c:>11.3f}")


if __name__ == "__main__":
    main()
