"""The demo's realism figures next to their targets (issue 13 point 5): the numbers a trainer will
quote, computed by plain SQL on a snapshot, each beside what published Chinese retail-bank figures
suggest. It prints; it asserts nothing (the demo generator is what has to meet them).

    python -m bench.demo_realism                      # the default demo ([demo] in settings.toml)
    python -m bench.demo_realism --snapshot data/warehouse/snapshot-....duckdb

Targets (issue 13 point 5): the top ~2.5% of clients hold ~80% of AUM; a quarter to a third of
clients made no client-initiated transaction in 12 months; time deposits (定期 and 大额存单) are
~70% of deposits; seniors hold a larger share of AUM than of clients; 2–3% of corporate borrowers
default; the default demo has three branches.

It also prints what the corporate lifetime-value models make of the demo's settlement history
(issue 13 point 4): BG/NBD's dropout parameter a and the share of companies with history whose
probability of still being active is below 50% (a ≈ 1e-6 and 0% meant the history had no churn),
Gamma-Gamma's q and the value model used (q ≤ 1: the observed value per settlement, the
documented fallback), the companies without settlement history, and the share on the CLV
matrix's diagonal.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from analytics import corporate, demo_data, store
from analytics.access import Scope
from analytics.settings import load_settings

# (name, SQL giving one number, target text, test of the number)
FIGURES = [
    (
        "AUM share of the top 2.5% of clients",
        """WITH a AS (SELECT aum, row_number() OVER (ORDER BY aum DESC) AS r, count(*) OVER () AS n
                    FROM client_aum_monthly WHERE month_end = (SELECT max(month_end) FROM client_aum_monthly))
           SELECT sum(aum) FILTER (WHERE r <= ceil(n * 0.025)) / sum(aum) FROM a""",
        "≈ 80% (75–85%)",
        lambda v: 0.75 <= v <= 0.85,
    ),
    (
        "clients with no client-initiated transaction in 12 months",
        """SELECT 1 - count(DISTINCT t.client_id)::DOUBLE / (SELECT count(*) FROM clients)
           FROM transactions t WHERE t.client_initiated
             AND t.txn_date > (SELECT max(month_end) FROM client_aum_monthly) - INTERVAL 12 MONTH""",
        "25–33%",
        lambda v: 0.25 <= v <= 0.34,
    ),
    (
        "time deposits (定期 + 大额存单) as a share of deposits",
        """SELECT sum(h.balance) FILTER (WHERE p.category IN ('time_deposit', 'large_cd'))
                  / sum(h.balance)
           FROM holdings_monthly h JOIN products p USING (product_id)
           WHERE h.month_end = (SELECT max(month_end) FROM holdings_monthly)
             AND p.category IN ('current_deposit', 'time_deposit', 'large_cd')""",
        "≈ 70% (65–75%)",
        lambda v: 0.65 <= v <= 0.75,
    ),
    (
        "seniors' AUM share minus their client share (percentage points)",
        """WITH a AS (SELECT a.aum, date_diff('year', c.birth_date, a.month_end) >= ? AS senior
                    FROM client_aum_monthly a JOIN clients c USING (client_id)
                    WHERE a.month_end = (SELECT max(month_end) FROM client_aum_monthly))
           SELECT sum(aum) FILTER (WHERE senior) / sum(aum) - avg(senior::INTEGER) FROM a""",
        "> 0",
        lambda v: v > 0,
    ),
    (
        "default rate of corporate borrowers",
        """SELECT avg(default_flag::INTEGER) FROM corp_accounts WHERE loan_balance > 0""",
        "2–3%",
        lambda v: 0.02 <= v <= 0.03,
    ),
    ("branches", "SELECT count(*) FROM branches", "3 (the default demo)", lambda v: v == 3),
]


def figures(path: Path) -> list[tuple[str, float, str, bool]]:
    """(name, value, target, met) of each figure on the snapshot at ``path``."""
    senior_age = int(load_settings()["cohorts"]["senior_min_age"])
    wh = store.open_warehouse(path)
    try:
        out = []
        for name, sql, target, ok in FIGURES:
            value = wh.scalar(sql, [senior_age] if "?" in sql else [])
            value = float(value) if value is not None else float("nan")
            out.append((name, value, target, bool(ok(value))))
        return out
    finally:
        wh.close()


def model_figures(path: Path) -> list[str]:
    """One line per branch on the corporate lifetime-value models of the snapshot at ``path``."""
    wh = store.open_warehouse(path)
    try:
        clv = corporate.corporate_clv(wh, Scope("head_office"))
    finally:
        wh.close()
    out = []
    for branch, m in clv.attrs["models"].items():
        g = clv[clv["branch_id"] == branch]
        h = g[g["future_value_code"] == "modelled"]
        out.append(
            f"  {branch}: BG/NBD a = {m['bgnbd']['a']:.3f}, p_alive < 50% for "
            f"{(h['p_alive'] < 0.5).mean():.1%} of {len(h)} companies with history; "
            f"Gamma-Gamma q = {m['gamma_gamma']['q']:.2f} -> {m['value_model']}; "
            f"{len(g) - len(h)} without settlement history"
        )
    diagonal = clv["quadrant"].isin(["high_high", "low_low"]).mean()
    out.append(
        f"  CLV matrix diagonal (high-high + low-low): {diagonal:.1%} of {len(clv)} companies"
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--snapshot", type=Path, help="a snapshot file (default: build the default demo)"
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = a.snapshot
        if path is None:
            d = load_settings()["demo"]
            path = Path(tmp) / "demo.duckdb"
            demo_data.build_snapshot(
                path, clients=int(d["clients"]), branches=int(d["branches"]),
                months=int(d["months"]), seed=int(d["seed"]),
                rms_per_branch=int(d["rms_per_branch"]),
                corporates=int(d["corporates_per_branch"]) * int(d["branches"]),
            )  # fmt: skip
        print(f"{path.name}")
        print(f"  {'figure':<66} {'value':>9}  {'target':<22} met")
        for name, value, target, met in figures(path):
            if name == "branches":
                shown = f"{value:.0f}"
            elif "percentage points" in name:
                shown = f"{value * 100:+.1f} pp"
            else:
                shown = f"{value:.1%}"
            print(f"  {name:<66} {shown:>9}  {target:<22} {'yes' if met else 'NO'}")
        print("corporate lifetime-value models (issue 13 point 4)")
        print("\n".join(model_figures(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
