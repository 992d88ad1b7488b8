"""Three-balance check (analytics/allocation.py): scores against hand-computed values, every finding
at and just beyond its line, moves (never above the client's level, never more findings), edge
cases (empty, single product, no risk assessment), editor validation, and the branch picture."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import pandas as pd
import pytest

from analytics import allocation as al
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

A = load_settings()["allocation"]
VALID_DAYS = int(load_settings()["kyc"]["risk_assessment_valid_days"])
AS_OF = date(2026, 10, 31)


def pf(*rows) -> pd.DataFrame:
    """rows: (category, risk_level, amount[, product_id]); names are unique."""
    out = []
    for i, r in enumerate(rows):
        cat, risk, amount = r[:3]
        pid = r[3] if len(r) > 3 else None
        out.append(dict(category=cat, product_id=pid, name=f"{cat}-{i}", risk_level=risk,
                        amount=amount))  # fmt: skip
    return pd.DataFrame(out, columns=al.PORTFOLIO_COLUMNS)


def kyc(level="C3", spending=None, children=0, assessed=AS_OF - timedelta(days=30)):
    return al.KYC(level, assessed, spending, children, AS_OF)


def codes(portfolio, k) -> list[str]:
    return [f.code for f in al.findings(portfolio, k)]


# ---------------------------------------------------------------------------- scores and pockets


def test_scores_equal_hand_computed():
    # current deposit (5,5,1) 100k + equity fund (2,4,4) 100k + wealth R3 (3,3,3) 200k
    p = pf(
        ("current_deposit", None, 100_000),
        ("equity_fund", "R4", 100_000),
        ("wealth", "R3", 200_000),
    )
    s = al.scores(p)
    assert s["safety"] == pytest.approx(1300 / 400)
    assert s["liquidity"] == pytest.approx(1500 / 400)
    assert s["return_"] == pytest.approx(1100 / 400)
    # wealth by risk level: R1 return 2, R2 return 2.5 (both preserve)
    s2 = al.scores(pf(("wealth", "R1", 1), ("wealth", "R2", 3)))
    assert s2 == pytest.approx({"safety": 4.0, "liquidity": 3.0, "return_": (2 + 7.5) / 4})


def test_pockets_against_targets():
    p = pf(("current_deposit", None, 100), ("protection_insurance", "R1", 100),
           ("mixed_fund", "R3", 300), ("time_deposit", None, 500))  # fmt: skip
    pk = al.pockets(p).set_index("pocket")
    assert list(pk.index) == ["spend", "protect", "grow", "preserve"]
    assert pk["amount"].tolist() == [100, 100, 300, 500]
    assert pk["share"].tolist() == pytest.approx([0.1, 0.1, 0.3, 0.5])
    assert pk["target"].tolist() == [A["pocket_targets"][p] for p in al.POCKETS]
    assert pk.loc["protect", "gap"] == pytest.approx(A["pocket_targets"]["protect"] * 1000 - 100)
    assert pk.loc["preserve", "gap"] == pytest.approx(A["pocket_targets"]["preserve"] * 1000 - 500)


def test_target_band_open_sides():
    assert al.target_band("C1")["return_"] == {"min": None, "max": 2.0}
    assert al.target_band("C5")["safety"] == {"min": None, "max": None}
    assert al.target_band(None)["liquidity"] == {"min": None, "max": None}


# ---------------------------------------------------------------------------- findings at lines


def test_concentration_at_and_above_line():
    thr = A["concentration_max_share"]
    at = pf(("bond_fund", "R2", thr * 1000), ("time_deposit", None, (1 - thr) * 1000))
    above = pf(("bond_fund", "R2", thr * 1000 + 1), ("time_deposit", None, (1 - thr) * 1000 - 1))
    assert "concentration" not in codes(at, kyc())
    assert codes(above, kyc()).count("concentration") == 1
    # deposits are exempt (over-saving covers them)
    assert "concentration" not in codes(pf(("time_deposit", None, 1000)), kyc())


def test_over_saving_at_and_above_line():
    thr = A["over_saving_max_share"]
    at = pf(("time_deposit", None, thr * 1000), ("savings_bond", "R1", (1 - thr) * 1000))
    above = pf(("large_cd", None, thr * 1000 + 1), ("savings_bond", "R1", (1 - thr) * 1000 - 1))
    assert "over_saving" not in codes(at, kyc())
    assert "over_saving" in codes(above, kyc())


def test_liquidity_cover_at_and_below_line():
    months = A["liquidity_min_months"]
    at = pf(("current_deposit", None, months * 10_000), ("savings_bond", "R1", 500_000))
    below = pf(("money_fund", "R1", months * 10_000 - 1), ("savings_bond", "R1", 500_000))
    assert "liquidity_cover" not in codes(at, kyc(spending=10_000))
    f = [x for x in al.findings(below, kyc(spending=10_000)) if x.code == "liquidity_cover"]
    assert len(f) == 1 and f[0].fields["shortfall"] == pytest.approx(1)
    assert "liquidity_cover" not in codes(below, kyc(spending=None))


def test_stale_assessment_at_and_after_line():
    p = pf(("time_deposit", None, 1000))
    assert "stale_risk_assessment" not in codes(p, kyc(assessed=AS_OF - timedelta(VALID_DAYS)))
    assert "stale_risk_assessment" in codes(p, kyc(assessed=AS_OF - timedelta(VALID_DAYS + 1)))


def test_suitability_one_per_product_above_level():
    p = pf(("mixed_fund", "R3", 100), ("equity_fund", "R4", 100), ("trust", "R5", 100))
    assert codes(p, kyc("C4")).count("suitability") == 1
    assert codes(p, kyc("C3")).count("suitability") == 2
    assert codes(p, kyc("C5")).count("suitability") == 0


def test_protection_gap():
    p = pf(("time_deposit", None, 1000))
    n = A["protection_min_children"]
    assert "protection_gap" in codes(p, kyc(children=n))
    assert "protection_gap" not in codes(p, kyc(children=n - 1))
    covered = pf(("time_deposit", None, 1000), ("protection_insurance", "R1", 10))
    assert "protection_gap" not in codes(covered, kyc(children=n))


def test_score_findings_at_and_beyond_band():
    # C3 band (defaults): safety >= 3.5, return 2.5-3.3, liquidity >= 2.5
    band = al.target_band("C3")
    assert band["safety"]["min"] == 3.5 and band["return_"] == {"min": 2.5, "max": 3.3}
    # safety: equity fund R3 (2) + time deposit (5) half-half = 3.5
    assert "safety_low" not in codes(
        pf(("equity_fund", "R3", 50), ("time_deposit", None, 50)), kyc()
    )
    assert "safety_low" in codes(pf(("equity_fund", "R3", 51), ("time_deposit", None, 49)), kyc())
    # return: mixed fund (3.5) 60% + wealth R3 (3) 40% = 3.3
    assert "return_high" not in codes(pf(("mixed_fund", "R3", 60), ("wealth", "R3", 40)), kyc())
    assert "return_high" in codes(pf(("mixed_fund", "R3", 61), ("wealth", "R3", 39)), kyc())
    # return: wealth R2 alone = 2.5
    assert "return_low" not in codes(pf(("wealth", "R2", 100)), kyc())
    assert "return_low" in codes(pf(("wealth", "R2", 99), ("current_deposit", None, 1)), kyc())
    # liquidity: current deposit (5) 1/6 + time deposit (2) 5/6 = 2.5
    assert "liquidity_low" not in codes(
        pf(("current_deposit", None, 100), ("time_deposit", None, 500)), kyc()
    )
    assert "liquidity_low" in codes(
        pf(("current_deposit", None, 99), ("time_deposit", None, 501)), kyc()
    )


def test_severities_from_settings():
    for f in al.findings(*al.example_household(AS_OF)):
        assert f.severity == A["severity"][f.code] and f.severity in ("high", "medium", "low")


# ---------------------------------------------------------------------------- edge cases


def test_empty_portfolio_gives_findings_not_errors():
    p, k = al.blank_household(AS_OF)
    got = codes(p, k)
    assert "empty_portfolio" in got and "missing_risk_assessment" in got
    assert al.scores(p) == {"safety": None, "liquidity": None, "return_": None}
    assert al.pockets(p)["amount"].sum() == 0
    # nothing to move: re-assess first, then find out where the household's money is
    steps = al.propose_moves(p, k, _shelf())
    assert [(m.kind, m.reason) for m in steps] == [
        ("reassess", "missing_risk_assessment"),
        ("gather", "empty_portfolio"),
    ]
    assert "empty_portfolio" in codes(pf(("time_deposit", None, 0)), kyc())


def test_single_product_portfolio():
    p = pf(("bond_fund", "R2", 200_000))
    got = codes(p, kyc(spending=5_000))
    assert "concentration" in got and "liquidity_cover" in got
    assert al.scores(p) == {"safety": 4.0, "liquidity": 4.0, "return_": 2.5}


def test_missing_risk_assessment_skips_level_rules():
    p = pf(("equity_fund", "R5", 100), ("time_deposit", None, 100))
    for k in (kyc(level=None), kyc(assessed=None)):
        got = codes(p, k)
        assert "missing_risk_assessment" in got
        assert "suitability" not in got and "stale_risk_assessment" not in got
    moves = al.propose_moves(p, kyc(level=None), _shelf())
    unknown = int(A["unknown_client_level"][1:])
    assert moves[0].kind == "reassess" and moves[0].level == A["unknown_client_level"]
    assert all(int(m.to_risk_level[1:]) <= unknown for m in moves[1:])


def test_validate_portfolio_refuses_negative_and_non_numbers():
    p = pd.DataFrame(
        {"category": ["time_deposit", "bond_fund", "wealth", "gold_bars", "mixed_fund"],
         "product_id": None, "name": list("abcde"), "risk_level": None,
         "amount": [100, -5, "abc", 10, None]}
    )  # fmt: skip
    errs = al.validate_portfolio(p)
    assert "amount_negative:1" in errs and "amount_not_number:2" in errs
    assert "amount_not_number:4" in errs and "category_unknown:3" in errs
    assert not any(e.endswith(":0") for e in errs)
    assert al.validate_portfolio(al.example_household(AS_OF)[0]) == []


# ---------------------------------------------------------------------------- moves


def _shelf() -> pd.DataFrame:
    rows = [
        ("S01", "current_deposit", "R1"), ("S02", "money_fund", "R1"), ("S03", "time_deposit", "R1"),
        ("S04", "large_cd", "R1"), ("S05", "savings_bond", "R1"), ("S06", "wealth", "R1"),
        ("S07", "wealth", "R2"), ("S08", "wealth", "R3"), ("S09", "bond_fund", "R2"),
        ("S10", "mixed_fund", "R3"), ("S11", "equity_fund", "R4"), ("S12", "trust", "R5"),
        ("S13", "protection_insurance", "R1"), ("S14", "precious_metal", "R3"),
        ("S15", "wealth", "R4"), ("S16", "equity_fund", "R4"),
    ]  # fmt: skip
    return pd.DataFrame(
        [(pid, f"产品{pid}", f"Product {pid}", c, r) for pid, c, r in rows],
        columns=["product_id", "name_zh", "name_en", "category", "risk_level"],
    )


def test_example_household_moves_fix_findings():
    p, k = al.example_household(AS_OF)
    before = al.findings(p, k)
    assert {"suitability", "over_saving", "liquidity_cover", "protection_gap"} <= {
        f.code for f in before
    }
    moves = al.propose_moves(p, k, _shelf())
    assert {m.reason for m in moves} >= {"suitability", "over_saving", "liquidity_cover"}
    after = al.apply_moves(p, moves)
    assert after["amount"].sum() == pytest.approx(p["amount"].sum())
    got = codes(after, k)
    assert len(got) < len(before)
    assert not {"suitability", "over_saving", "liquidity_cover"} & set(got)


def test_concentration_move_cuts_to_line():
    p = pf(("mixed_fund", "R3", 800_000, "S10"), ("time_deposit", None, 200_000))
    moves = al.propose_moves(p, kyc("C4"), _shelf())
    # 80% in one fund is also 80% in the grow pocket: the pocket move comes after the cut
    assert [m.reason for m in moves] == ["concentration", "concentration", "pocket_imbalance"]
    cut = al.apply_moves(p, moves[:2])
    assert cut.set_index("name").loc["mixed_fund-0", "amount"] == pytest.approx(
        A["concentration_max_share"] * 1_000_000
    )
    after = al.apply_moves(p, moves)
    assert "concentration" not in codes(after, kyc("C4"))
    assert len(codes(after, kyc("C4"))) <= len(codes(p, kyc("C4")))


def test_moves_never_above_level_nor_more_findings():
    shelf = _shelf()
    rng = random.Random(5)
    cats = shelf[["product_id", "category", "risk_level"]].to_records(index=False).tolist()
    for _ in range(60):
        rows = [
            (c, r, rng.choice([0, 1_000, 20_000, 100_000, 500_000]), pid)
            for pid, c, r in rng.sample(cats, rng.randint(1, 6))
        ]
        p = pf(*rows)
        level = rng.choice(["C1", "C2", "C3", "C4", "C5", None])
        k = kyc(level, spending=rng.choice([None, 3_000.0, 20_000.0]), children=rng.randint(0, 2))
        moves = al.propose_moves(p, k, shelf)
        cap = int((level or A["unknown_client_level"])[1:])
        switches = [m for m in moves if m.kind == "switch"]
        assert all(int(m.to_risk_level[1:]) <= cap for m in switches)
        assert all(m.amount >= A["min_move_amount"] for m in switches)
        assert all(m.amount == 0 for m in moves if m.kind != "switch")
        after = al.apply_moves(p, moves)
        assert after["amount"].sum() == pytest.approx(p["amount"].sum())
        assert len(al.findings(after, k)) <= len(al.findings(p, k))


# ---------------------------------------------------------------------------- branch picture


@pytest.fixture(scope="module")
def wh(demo_db_path):
    return Database(demo_db_path, read_only=True)


def test_branch_findings_match_members(wh):
    scope = Scope("head_office")
    t = time.perf_counter()
    bf = al.branch_findings(wh, scope)
    assert time.perf_counter() - t < 10
    assert list(bf["code"]) == list(al.FINDING_CODES)
    assert bf["clients"].sum() > 0
    for code in ("suitability", "concentration", "over_saving", "liquidity_cover",
                 "stale_risk_assessment", "protection_gap", "pocket_imbalance", "return_low"):  # fmt: skip
        assert bf.set_index("code").loc[code, "clients"] > 0, code
    for r in bf.itertuples():
        m = al.finding_members(wh, scope, r.code)
        assert len(m) == r.clients and m["client_id"].is_unique
        assert m["amount"].sum() == pytest.approx(r.aum_involved)


def test_branch_findings_respect_scope(wh):
    bid = wh.scalar("SELECT MIN(branch_id) FROM branches")
    mine = al.finding_members(wh, Scope("manager", (bid,)), "suitability")
    allc = al.finding_members(wh, Scope("head_office"), "suitability")
    assert 0 < len(mine) < len(allc)
    branches = wh.query(
        "SELECT DISTINCT branch_id FROM clients WHERE client_id IN (SELECT UNNEST(?))",
        [mine["client_id"].tolist()],
    )
    assert branches["branch_id"].tolist() == [bid]


def test_branch_agrees_with_one_client(wh):
    scope = Scope("head_office")
    members = {c: set(al.finding_members(wh, scope, c)["client_id"]) for c in al.FINDING_CODES}
    ids = wh.query("SELECT client_id FROM clients ORDER BY client_id LIMIT 60")["client_id"]
    for cid in ids:
        p, k = al.client_portfolio(wh, scope, cid)
        assert not al.validate_portfolio(p)
        one = set(codes(p, k))
        branch = {c for c, ms in members.items() if cid in ms}
        assert one == branch, cid
