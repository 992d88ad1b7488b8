"""Time corporate client value (analytics/corporate.py) at a given number of corporate clients.

    python -m bench.bench_corporate                       # 600, 2,000 and 100,000 corporates
    python -m bench.bench_corporate --sizes 600 --repeat 5

Each size is a demo snapshot built into bench/out/ (reused when already there): 600 corporates
(the size issue 7 asks for) and 2,000 (the default demo) in 1 branch with 20,000 clients; 100,000
corporates use few retail clients (20,000) in 10 branches, i.e. 10,000 corporates per branch. For each, the median of --repeat runs in
seconds of corporate_rfm, corporate_clv and social_value for head office and the first branch's
manager, and of the two model fits alone (fit_bgnbd + fit_gamma_gamma) on every client with
settlement history and on one branch's. Figures go into bench/README.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from analytics import corporate, demo_data, store
from analytics.access import Scope
from analytics.settings import load_settings
from bench.bench_views import OUT, timed

# corporates -> (retail clients, branches)
SHAPES = {600: (20_000, 1), 2_000: (20_000, 1), 100_000: (20_000, 10)}


def snapshot(corporates: int, seed: int) -> Path:
    clients, branches = SHAPES.get(corporates, (20_000, max(1, corporates // 10_000)))
    path = OUT / f"bench-corp-{clients}-{branches}-{corporates}-{seed}.duckdb"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        demo_data.build_snapshot(
            path, clients=clients, branches=branches, corporates=corporates, seed=seed
        )
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s")
    return path


def model_inputs(wh, scope: Scope) -> tuple[np.ndarray, ...]:
    """(frequency, recency, T, settlement days, value per settlement) as corporate_clv fits them."""
    settings = load_settings()
    c = settings["corporate"]
    df = corporate._clv_history(wh, scope, corporate._as_of(wh, None), settings)
    df = df[df["settlement_days"] > 0]
    gross = (
        df["avg_daily_deposit"] * c["deposit_spread"]
        + df["loan_interest_12m"] * c["loan_margin_share"]
        + df["fee_income_12m"]
    )
    days = df["settlement_days"].to_numpy(float)
    value = np.maximum(gross.to_numpy(float) / days, c["min_value_per_settlement"])
    recency = df["recency_days"].to_numpy(float) / corporate.DAYS_PER_WEEK
    age = np.maximum(df["age_days"].to_numpy(float), 1.0) / corporate.DAYS_PER_WEEK
    return days - 1, recency, age, days, value


def fit_both(x, t_x, big_t, days, value) -> None:
    corporate.fit_bgnbd(x, t_x, big_t)
    corporate.fit_gamma_gamma(days, value)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="600,2000,100000", help="numbers of corporate clients")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    for corporates in (int(s) for s in args.sizes.split(",")):
        wh = store.open_warehouse(snapshot(corporates, args.seed))
        first = wh.scalar("SELECT MIN(branch_id) FROM corp_clients")
        viewers = {
            "head office": Scope("head_office", viewer_id="bench"),
            "manager": Scope("manager", (first,), viewer_id="bench"),
        }
        n_txn = wh.scalar("SELECT COUNT(*) FROM corp_transactions")
        print(f"\n### {corporates:,} corporate clients ({n_txn:,} settlements)\n")
        print("| call | head office | manager |")
        print("| --- | --- | --- |")
        calls = {
            "corporate_rfm": corporate.corporate_rfm,
            "corporate_clv": corporate.corporate_clv,
            "social_value": corporate.social_value,
        }
        for name, fn in calls.items():
            cells = [
                f"{timed(lambda fn=fn, wh=wh, s=s: fn(wh, s), args.repeat):.3f}"
                for s in viewers.values()
            ]
            print(f"| {name} | {' | '.join(cells)} |")
        whole = model_inputs(wh, viewers["head office"])
        branch = model_inputs(wh, viewers["manager"])
        cells = [f"{timed(lambda a=a: fit_both(*a), args.repeat):.3f}" for a in (whole, branch)]
        print(
            f"| fit_bgnbd + fit_gamma_gamma ({len(whole[0]):,} / {len(branch[0]):,} clients"
            f" with history) | {' | '.join(cells)} |"
        )
        clv = corporate.corporate_clv(wh, viewers["head office"])
        models = {b: m["value_model"] for b, m in clv.attrs["models"].items()}
        print(f"\nvalue model per branch: {sorted(set(models.values()))}")
        wh.close()


if __name__ == "__main__":
    main()
