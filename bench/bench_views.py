"""Time what each view asks the warehouse, uncached, at a given size.

    python -m bench.bench_views --clients 20000 --branches 1 --repeat 5
    python -m bench.bench_views --clients 1000000 --branches 50 --repeat 3
    python -m bench.bench_views --db /path/to/snapshot.duckdb --repeat 3

Builds the snapshot into bench/out/ if it is not there yet (reuses it otherwise), then times each
analytics call for three viewers (head office, the first branch's manager, the first RM) and prints
the median of --repeat runs in seconds. Figures go into bench/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import timedelta
from pathlib import Path

from analytics import (
    client_lists,
    clusters,
    contact_plan,
    demo_data,
    invitations,
    migration,
    overview,
    rfm,
    segments,
    snapshot,
    store,
    threshold,
    value,
    workdays,
)
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
    ap.add_argument("--db", type=Path, help="an existing snapshot instead of building one")
    ap.add_argument("--views", default="overview,segmentation,threshold")
    ap.add_argument("--viewers", default="head_office,manager,rm")
    args = ap.parse_args()
    path = args.db
    if path is None:
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
    months = snapshot.month_ends(wh)
    month = months[-1]
    branches = snapshot.branches(wh)["branch_id"].tolist()
    first_rm = snapshot.rms(wh)["rm_id"].iloc[0]
    n = wh.scalar("SELECT COUNT(*) FROM clients")
    all_viewers = {
        "head_office": Scope("head_office", tuple(branches)),
        "manager": Scope("manager", (branches[0],)),
        "rm": Scope("rm", (branches[0],), rm_id=first_rm),
    }
    viewers = {k: all_viewers[k] for k in args.viewers.split(",")}
    week = workdays.next_working_days(month + timedelta(days=1), 5)
    calls = {
        "overview": {
            "tier_summary": lambda s: overview.tier_summary(wh, s),
            "aum_by_category": lambda s: overview.aum_by_category(wh, s, month),
            "rm_books": lambda s: overview.rm_books(wh, s, month),
        },
        "segmentation": {
            "value_tiers": lambda s: value.value_tiers(wh, s),
            "value_scores": lambda s: value.value_scores(wh, s),
            "retail_rfm": lambda s: rfm.retail_rfm(wh, s),
            "clusters": lambda s: clusters.behaviour_clusters(wh, s),
            "migration": lambda s: migration.tier_migration(wh, s, months[0], month),
            "client_segments": lambda s: segments.client_segments(wh, s),
            "client_list": lambda s: client_lists.client_list(wh, s),
        },
        "threshold": {
            "threshold_clients": lambda s: threshold.threshold_clients(wh, s),
            "contacted_recently": lambda s: threshold.contacted_recently(wh, s),
        },
        # issue 6: a week's 5-20-30 plan for every RM in the viewer's scope, in one pass
        "contact_plan": {
            "contact_plans_week": lambda s: contact_plan.contact_plans(wh, s, week),
            "contact_plan_day": lambda s: contact_plan.contact_plans(wh, s, week[:1]),
            "coverage_by_rm": lambda s: contact_plan.coverage(wh, s, week[0], by_rm=True),
        },
        # issue 6: the invitation view's summary and its four ranked lists (value scores included)
        "invitations": {
            "campaign_summary": lambda s: invitations.campaign_summary(wh, s),
            **{
                f"members_{c}": lambda s, c=c: invitations.campaign_members(wh, s, c)
                for c in invitations.CAMPAIGNS
            },
        },
    }
    print(f"{n:,} clients, {len(branches)} branches; {platform.processor() or platform.machine()}, "
          f"median of {args.repeat} runs, seconds, uncached")  # fmt: skip
    for view in args.views.split(","):
        print(f"\n[{view}]")
        print(f"{'call':<20}" + "".join(f"{v:>13}" for v in viewers))
        for name, fn in calls[view].items():
            row = [timed(lambda f=fn, s=scope: f(s), args.repeat) for scope in viewers.values()]
            print(f"{name:<20}" + "".join(f"{t:>13.3f}" for t in row), flush=True)


if __name__ == "__main__":
    main()
