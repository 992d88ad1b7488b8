"""Allocation moves for every finding kind (issue 13, point 3; analytics/allocation.py).

For each finding kind a hand-built portfolio that has exactly that finding, and the move(s) it
gets, amounts worked out by hand in the comments (money in 元, scores from the score sheet in
settings.toml: safety / liquidity / return). Also: a stale or missing risk assessment makes
re-assessment the first step and nothing is bought before it; the money for a move comes from the
cash above the liquidity need (current deposits, then money funds), then open-ended products, then
time deposits withdrawn early, never from one maturing within the horizon; every finding kind the
analytics can emit has a move.

The hand calculations assume the default settings (pinned by the first test). The client is C3
(band: safety >= 3.5, return 2.5-3.3, liquidity >= 2.5) spending 10,000 a month (liquidity need
kept: 6 months = 60,000) unless said otherwise."""

from __future__ import annotations

import inspect
from datetime import date, timedelta

import pandas as pd
import pytest

from analytics import allocation as al
from analytics.settings import load_settings
from ui import describe

A = load_settings()["allocation"]
AS_OF = date(2026, 10, 31)
FRESH = AS_OF - timedelta(days=30)

# The shelf: (safety, liquidity, return) from the score sheet.
SHELF = pd.DataFrame(
    [
        ("K01", "current_deposit", "R1"),  # 5, 5, 1      spend
        ("K02", "money_fund", "R1"),  # 4, 5, 1.5         spend
        ("K03", "time_deposit", "R1"),  # 5, 2, 2         preserve
        ("K04", "wealth", "R2"),  # 4, 3, 2.5             preserve
        ("K05", "bond_fund", "R2"),  # 4, 4, 2.5          preserve
        ("K06", "wealth", "R3"),  # 3, 3, 3               grow
        ("K07", "mixed_fund", "R3"),  # 2.5, 4, 3.5       grow
        ("K08", "equity_fund", "R4"),  # 2, 4, 4          grow (index funds too: R4)
        ("K09", "protection_insurance", "R1"),  # 5, 1, 1 protect
    ],
    columns=["product_id", "category", "risk_level"],
)
SHELF["name_zh"] = "产品" + SHELF["product_id"]
SHELF["name_en"] = "Product " + SHELF["product_id"]


def day(n: int) -> date:
    return AS_OF + timedelta(days=n)


def pf(*rows) -> pd.DataFrame:
    """rows: (name, category, risk_level, amount[, maturity_date]); no product ids."""
    out = [
        dict(category=cat, product_id=None, name=name, risk_level=risk, amount=float(amount),
             maturity_date=rest[0] if rest else None)
        for name, cat, risk, amount, *rest in rows
    ]  # fmt: skip
    return pd.DataFrame(out)


def kyc(level="C3", spending=10_000.0, children=0, assessed=FRESH) -> al.KYC:
    return al.KYC(level, assessed, spending, children, AS_OF)


def codes(portfolio, k) -> list[str]:
    return [f.code for f in al.findings(portfolio, k)]


def switches(moves) -> list[tuple]:
    """(reason, from, to, amount, early) of each switch, in order."""
    return [
        (m.reason, m.from_name, m.to_product_id, m.amount, m.early)
        for m in moves
        if m.kind == "switch"
    ]


def moved(portfolio, k):
    moves = al.propose_moves(portfolio, k, SHELF)
    return moves, al.apply_moves(portfolio, moves)


# ---------------------------------------------------------------------------- the cases

# A balanced C3 household (1,000,000): no finding at all.
#   safety    (5*100 + 5*250 + 4*250 + 3*200 + 2.5*200) / 1000 = 3.85
#   liquidity (5*100 + 2*250 + 3*250 + 3*200 + 4*200) / 1000 = 3.15
#   return    (1*100 + 2*250 + 2.5*250 + 3*200 + 3.5*200) / 1000 = 2.525
#   pockets: spend 10%, preserve 50%, grow 40%; deposits 35%; cash 10 months of spending
BALANCED = pf(
    ("活期", "current_deposit", None, 100_000),
    ("定期", "time_deposit", None, 250_000),
    ("稳健理财", "wealth", "R2", 250_000),
    ("固收+", "wealth", "R3", 200_000),
    ("混合", "mixed_fund", "R3", 200_000),
)

# 17 months of spending in cash (current 100,000 + money fund 70,000 = 170,000 of 600,000 =
# 28.3%, under the spend pocket's 30% line), the rest fine:
#   return (1*100 + 1.5*70 + 2.5*150 + 2*100 + 3.5*100 + 3*80) / 600 = 1370 / 600 = 2.283 < 2.5
#   safety 2370 / 600 = 3.95, liquidity 2140 / 600 = 3.57; preserve 41.7%, grow 30%
CASH_17_MONTHS = pf(
    ("活期", "current_deposit", None, 100_000),
    ("货币", "money_fund", "R1", 70_000),
    ("稳健理财", "wealth", "R2", 150_000),
    ("定期", "time_deposit", None, 100_000),
    ("混合", "mixed_fund", "R3", 100_000),
    ("固收+", "wealth", "R3", 80_000),
)

CASES = {
    "empty_portfolio": (al.empty_portfolio(), kyc()),
    "missing_risk_assessment": (
        # unassessed: grow counts in preserve (0% / 70%): grow 10%, preserve 80%
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("定期", "time_deposit", None, 400_000),
            ("稳健理财", "wealth", "R2", 250_000),
            ("债基", "bond_fund", "R2", 150_000),
            ("金条", "precious_metal", "R2", 100_000),
        ),
        kyc(None, assessed=None),
    ),
    "stale_risk_assessment": (BALANCED, kyc(assessed=AS_OF - timedelta(days=400))),
    "suitability": (
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("定期", "time_deposit", None, 200_000),
            ("稳健理财", "wealth", "R2", 250_000),
            ("固收+", "wealth", "R3", 200_000),
            ("混合", "mixed_fund", "R3", 200_000),
            ("股票基金", "equity_fund", "R4", 50_000),
        ),
        kyc(),
    ),
    "concentration": (
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("稳健理财", "wealth", "R2", 350_000),
            ("定期", "time_deposit", None, 150_000),
            ("混合", "mixed_fund", "R3", 200_000),
            ("固收+", "wealth", "R3", 200_000),
        ),
        kyc(),
    ),
    "liquidity_cover": (
        # 2 months of cash; only 15,000 in an open-ended product; the rest closed-end or term
        pf(
            ("活期", "current_deposit", None, 20_000),
            ("天天利", "wealth", "R2", 15_000),
            ("定期一个月后到期", "time_deposit", None, 150_000, day(30)),
            ("定期明年到期", "time_deposit", None, 150_000, day(400)),
            ("封闭理财R2", "wealth", "R2", 175_000, day(200)),
            ("封闭理财R3甲", "wealth", "R3", 250_000, day(200)),
            ("封闭理财R3乙", "wealth", "R3", 240_000, day(300)),
        ),
        kyc(),
    ),
    "over_saving": (
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("定期", "time_deposit", None, 520_000),
            ("稳健理财", "wealth", "R2", 250_000),
            ("金条", "precious_metal", "R2", 130_000),
        ),
        kyc("C2"),
    ),
    "protection_gap": (BALANCED, kyc(children=1)),
    "pocket_imbalance": (
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("稳健理财", "wealth", "R2", 250_000),
            ("债基A", "bond_fund", "R2", 250_000),
            ("债基B", "bond_fund", "R2", 200_000),
            ("混合", "mixed_fund", "R3", 200_000),
        ),
        kyc(),
    ),
    "safety_low": (
        pf(
            ("活期", "current_deposit", None, 100_000),
            ("债基A", "bond_fund", "R2", 200_000),
            ("债基B", "bond_fund", "R2", 220_000),
            ("混合A", "mixed_fund", "R3", 240_000),
            ("混合B", "mixed_fund", "R3", 240_000),
        ),
        kyc(),
    ),
    "return_high": (
        pf(
            ("活期", "current_deposit", None, 50_000),
            ("混合A", "mixed_fund", "R3", 300_000),
            ("混合B", "mixed_fund", "R3", 300_000),
            ("混合C", "mixed_fund", "R3", 300_000),
            ("债基", "bond_fund", "R2", 50_000),
        ),
        kyc(spending=5_000.0),
    ),
    "return_low": (CASH_17_MONTHS, kyc()),
    "liquidity_low": (
        pf(
            ("活期", "current_deposit", None, 150_000),
            ("定期", "time_deposit", None, 200_000),
            ("国债", "savings_bond", None, 550_000),
            ("年金险", "annuity_insurance", "R1", 100_000),
        ),
        kyc("C1"),
    ),
}


def test_hand_computed_cases_assume_the_default_settings():
    assert (A["concentration_max_share"], A["over_saving_max_share"]) == (0.30, 0.60)
    assert (A["liquidity_min_months"], A["liquidity_comfortable_months"]) == (3, 6)
    assert (A["maturity_horizon_days"], A["min_move_amount"]) == (90, 1000)
    assert (A["protection_premium_share"], A["protection_min_premium"]) == (0.10, 3000)
    assert (A["pocket_tolerance"], A["pocket_grow_min_level"]) == (0.20, "C3")
    assert A["unknown_client_level"] == "C1"
    assert al.target_band("C3") == {
        "safety": {"min": 3.5, "max": None},
        "liquidity": {"min": 2.5, "max": None},
        "return_": {"min": 2.5, "max": 3.3},
    }


def test_every_finding_kind_has_a_move():
    """Driven from the kinds the analytics can emit: a new finding kind without a case (and a
    move) fails here."""
    assert set(CASES) == set(al.FINDING_CODES)
    for code in al.FINDING_CODES:
        portfolio, k = CASES[code]
        moves = al.propose_moves(portfolio, k, SHELF)
        assert code in {m.reason for m in moves}, code
        assert {m.kind for m in moves} <= set(al.MOVE_KINDS), code


def test_each_case_has_exactly_its_finding():
    for code, (portfolio, k) in CASES.items():
        want = ["pocket_imbalance", "pocket_imbalance", "safety_low", "return_high"]
        # return above the band always comes with safety below it: the return-4 products score
        # safety 2-2.5 (see test_return_above_the_band); here also 90% in the grow pocket
        assert codes(portfolio, k) == (want if code == "return_high" else [code]), code


# ---------------------------------------------------------------------------- one kind at a time


def test_return_below_the_band_moves_the_cash_above_the_need():
    portfolio, k = CASES["return_low"]
    moves, after = moved(portfolio, k)
    # cash above the need: 170,000 - 6 x 10,000 = 110,000, current deposit first (100,000), then
    # the money fund (10,000); into the highest-return suitable product within the band's return
    # maximum 3.3 and liquidity minimum 2.5: K06 wealth R3 (return 3; the mixed fund's 3.5 is
    # above the band), room to the 30% line 180,000
    assert switches(moves) == [
        ("return_low", "活期", "K06", 100_000.0, False),
        ("return_low", "货币", "K06", 10_000.0, False),
    ]
    # return (1370 + 100 x (3 - 1) + 10 x (3 - 1.5)) / 600 = 1585 / 600 = 2.642, back in the band
    # safety (2370 - 200 - 10) / 600 = 3.6, liquidity (2140 - 200 - 20) / 600 = 3.2
    assert al.scores(after) == pytest.approx(
        {"safety": 2160 / 600, "liquidity": 1920 / 600, "return_": 1585 / 600}
    )
    assert codes(after, k) == []


def test_protection_gap_buys_a_years_premium_from_the_cash_above_the_need():
    portfolio, k = CASES["protection_gap"]
    moves, after = moved(portfolio, k)
    # premium 10% x 12 x 10,000 = 12,000 (above the 3,000 minimum); cash above the need
    # 100,000 - 60,000 = 40,000 pays it; the shelf's first protection product is K09
    assert switches(moves) == [("protection_gap", "活期", "K09", 12_000.0, False)]
    # liquidity 3.15 - 12 x (5 - 1) / 1000 = 3.102; safety and return unchanged (5 -> 5, 1 -> 1)
    assert al.scores(after)["liquidity"] == pytest.approx(3.102)
    assert codes(after, k) == []


def test_protection_premium_without_known_spending_is_the_minimum():
    moves = al.propose_moves(BALANCED, kyc(spending=None, children=1), SHELF)
    # spending unknown: 3,000; the need kept is the spend pocket's 10% target (100,000), so the
    # current deposit (exactly 10%) cannot pay; open-ended products, lowest return first: the
    # wealth R2 (2.5) before wealth R3 (3) and the mixed fund (3.5)
    assert switches(moves) == [("protection_gap", "稳健理财", "K09", 3_000.0, False)]


def test_pockets_out_of_proportion_back_to_the_line():
    portfolio, k = CASES["pocket_imbalance"]
    moves, after = moved(portfolio, k)
    # preserve 700,000 = 70% > 40% + 20%: 100,000 over. Into the pocket below its target (grow:
    # 30% target, 20% held), safest product first: K06 wealth R3 (R3 before the mixed fund by id).
    # From the preserve pocket, open-ended, lowest return first (all 2.5), largest first: the two
    # 250,000 positions by name, 债基A first.
    assert switches(moves) == [("pocket_imbalance", "债基A", "K06", 100_000.0, False)]
    # preserve 60% (at the line), grow 30%; return 2.55 + 100 x (3 - 2.5) / 1000 = 2.6
    pk = al.pockets(after, k).set_index("pocket")["share"]
    assert (pk["preserve"], pk["grow"]) == pytest.approx((0.6, 0.3))
    assert codes(after, k) == []


def test_conservative_clients_count_grow_in_preserve():
    targets = {"spend": 0.1, "protect": 0.2, "grow": 0.0, "preserve": 0.7}
    assert al.pocket_targets(kyc("C2")) == targets
    assert al.pocket_targets(kyc(None, assessed=None)) == targets
    assert al.pocket_targets(kyc("C3")) == {**targets, "grow": 0.3, "preserve": 0.4}
    assert al.pocket_targets() == al.pocket_targets(kyc("C5"))


def test_pockets_are_checked_only_where_the_liquidity_need_fits_the_spend_line():
    # 50,000 cash of 110,000 (45%, over 10% + 20%), spending 10,000: the need kept (60,000) is
    # above the spend line (30% x 110,000 = 33,000): this money is spending money, no finding
    p = pf(("活期", "current_deposit", None, 50_000), ("稳健理财", "wealth", "R2", 60_000))
    assert "pocket_imbalance" not in codes(p, kyc("C2"))
    # at 4,000 a month the need is 24,000, within the line: 50,000 - 33,000 = 17,000 over it
    found = [f for f in al.findings(p, kyc("C2", spending=4_000.0)) if f.code == "pocket_imbalance"]
    assert [(f.fields["pocket"], f.fields["side"]) for f in found] == [("spend", "over")]
    assert found[0].fields["amount"] == pytest.approx(17_000)


def test_safety_below_the_band_moves_just_enough():
    portfolio, k = CASES["safety_low"]
    moves, after = moved(portfolio, k)
    # safety 3380 / 1000 = 3.38: 0.12 x 1,000,000 = 120,000 score-yuan short. From the least safe
    # open-ended positions (mixed funds, 2.5), into products within the C3 band on every line,
    # highest return first then the more liquid: K05 bond fund (4, 4, 2.5). Each yuan gains
    # 4 - 2.5 = 1.5: 120,000 / 1.5 = 80,000.
    assert switches(moves) == [("safety_low", "混合A", "K05", 80_000.0, False)]
    assert al.scores(after) == pytest.approx({"safety": 3.5, "liquidity": 4.1, "return_": 2.75})
    assert codes(after, k) == []


def test_return_above_the_band():
    portfolio, k = CASES["return_high"]
    moves, after = moved(portfolio, k)
    # return (1*50 + 3.5*900 + 2.5*50) / 1000 = 3.325 > 3.3: 25,000 score-yuan over; the mixed
    # funds (3.5) into K05 (2.5): 1 a yuan -> 25,000. Safety then 2.7 + 25 x 1.5 / 1000 = 2.7375,
    # 762,500 short: 275,000 more into K05 (its room to the 30% line: 300,000 - 25,000), 1.5 a
    # yuan -> 412,500; the rest 350,000 / 1.5 = 233,333.34 from the next mixed fund into K04.
    assert switches(moves) == [
        ("return_high", "混合A", "K05", 25_000.0, False),
        ("safety_low", "混合A", "K05", 275_000.0, False),
        ("safety_low", "混合B", "K04", 233_333.34, False),
    ]
    # grow 900,000 - 533,333.34 = 36.7%, preserve 58.3%: the pockets are back in proportion too
    assert al.scores(after)["return_"] == pytest.approx(2.7916666, abs=1e-6)
    assert codes(after, k) == []


def test_liquidity_score_below_the_band():
    portfolio, k = CASES["liquidity_low"]
    moves, after = moved(portfolio, k)
    # C1 (safety >= 4.5, return <= 2, liquidity >= 2.5): liquidity (750 + 400 + 1100 + 100) / 1000
    # = 2.35, 150,000 short. The least liquid sellable positions (2: the savings bond and the time
    # deposit, by name; the annuity policy is never surrendered), withdrawn early, into the only
    # product within the C1 band: K01 current deposit (5 - 2 = 3 a yuan): 50,000.
    assert switches(moves) == [("liquidity_low", "国债", "K01", 50_000.0, True)]
    assert al.scores(after)["liquidity"] == pytest.approx(2.5)
    assert codes(after, k) == []


def test_over_saving_takes_the_cash_above_the_need_before_a_time_deposit():
    portfolio, k = CASES["over_saving"]
    moves, after = moved(portfolio, k)
    # C2: deposits 620,000 = 62%, 20,000 over 60%. Cash above the need 100,000 - 60,000 = 40,000
    # pays it before any time deposit; into the preserve pocket (grow has no target below C3),
    # highest risk first: K04 wealth R2
    assert switches(moves) == [("over_saving", "活期", "K04", 20_000.0, False)]
    assert codes(after, k) == []


def test_concentration_and_suitability_moves():
    portfolio, k = CASES["concentration"]
    moves, after = moved(portfolio, k)
    # 350,000 of 1,000,000 in one wealth product: 50,000 over the 30% line, into another product
    # of the same category (K04, same scores: nothing else changes)
    assert switches(moves) == [("concentration", "稳健理财", "K04", 50_000.0, False)]
    assert codes(after, k) == []
    portfolio, k = CASES["suitability"]
    moves, after = moved(portfolio, k)
    # an R4 equity fund for a C3 client: all 50,000 out, into the same pocket (grow) at the
    # client's level, highest risk first: K06 wealth R3 (no equity fund at R3 on the shelf)
    assert switches(moves) == [("suitability", "股票基金", "K06", 50_000.0, False)]
    assert codes(after, k) == []


# ---------------------------------------------------------------------------- where money comes from


def test_liquidity_fix_never_breaks_a_time_deposit_maturing_within_the_horizon():
    portfolio, k = CASES["liquidity_cover"]
    moves, after = moved(portfolio, k)
    # need: 6 x 10,000 - 20,000 = 40,000, topped up with the money fund K02 (more return than a
    # current deposit, and not a deposit). Sources: the open-ended wealth product first (15,000),
    # then a time deposit withdrawn early: the one maturing in 400 days (25,000). Never the one
    # maturing in 30 days (within 90: cash soon anyway), nor the closed-end products.
    assert switches(moves) == [
        ("liquidity_cover", "天天利", "K02", 15_000.0, False),
        ("liquidity_cover", "定期明年到期", "K02", 25_000.0, True),
    ]
    held = after.set_index("name")["amount"]
    assert held["定期一个月后到期"] == 150_000
    # spend pocket 60,000 = 6 months; return 2.565 - (15 x 1 + 25 x 0.5) / 1000 = 2.5375
    assert al.scores(after)["return_"] == pytest.approx(2.5375)
    assert codes(after, k) == []


def test_funding_takes_current_deposits_then_money_funds_before_a_time_deposit():
    # protection gap; cash 3,000 current + 62,000 money fund = 6.5 months, 5,000 above the need
    portfolio = pf(
        ("活期", "current_deposit", None, 3_000),
        ("货币", "money_fund", "R1", 62_000),
        ("定期一个月后到期", "time_deposit", None, 150_000, day(30)),
        ("定期明年到期", "time_deposit", None, 150_000, day(400)),
        ("封闭理财R2", "wealth", "R2", 150_000, day(200)),
        ("封闭理财R3甲", "wealth", "R3", 220_000, day(200)),
        ("封闭理财R3乙", "wealth", "R3", 265_000, day(300)),
    )
    k = kyc(children=1)
    assert codes(portfolio, k) == ["protection_gap"]
    moves, after = moved(portfolio, k)
    # premium 12,000: the current deposit's 3,000, the money fund's 2,000 (5,000 above the need),
    # then 7,000 from the time deposit maturing after the horizon, withdrawn early
    assert switches(moves) == [
        ("protection_gap", "活期", "K09", 3_000.0, False),
        ("protection_gap", "货币", "K09", 2_000.0, False),
        ("protection_gap", "定期明年到期", "K09", 7_000.0, True),
    ]
    assert after.set_index("name")["amount"]["定期一个月后到期"] == 150_000
    assert codes(after, k) == []


def test_insurance_trusts_and_closed_end_products_are_never_sold():
    # C4, 50% in one closed-end product and 35% in one trust: both above the concentration line,
    # but neither can be sold before its term (and the annuity policy is never surrendered)
    p = pf(
        ("活期", "current_deposit", None, 100_000),
        ("封闭理财", "wealth", "R3", 500_000, day(200)),
        ("信托", "trust", "R4", 350_000),
        ("年金险", "annuity_insurance", "R1", 50_000),
    )
    assert codes(p, kyc("C4")).count("concentration") == 2
    # the pockets (grow 85%) and the liquidity score (2.4) are out too; their fixes would sell the
    # grow pocket or the illiquid positions, all locked, and the cash fixes none of them: no move
    assert al.propose_moves(p, kyc("C4"), SHELF) == []


# ---------------------------------------------------------------------------- re-assessment first


def test_stale_assessment_alone_is_re_assessment_and_no_purchase():
    portfolio, k = CASES["stale_risk_assessment"]
    moves = al.propose_moves(portfolio, k, SHELF)
    assert [(m.kind, m.reason, m.level, m.amount) for m in moves] == [
        ("reassess", "stale_risk_assessment", "C3", 0.0)
    ]
    assert al.apply_moves(portfolio, moves).equals(al.apply_moves(portfolio, []))


def test_stale_assessment_comes_first_and_every_purchase_waits_for_it():
    k = kyc(assessed=AS_OF - timedelta(days=400))
    moves = al.propose_moves(CASH_17_MONTHS, k, SHELF)
    # the same two moves as a fresh C3 (test_return_below_the_band...), after the re-assessment
    assert [(m.kind, m.reason) for m in moves[:1]] == [("reassess", "stale_risk_assessment")]
    assert switches(moves[1:]) == switches(al.propose_moves(CASH_17_MONTHS, kyc(), SHELF))
    assert [m.after_reassessment for m in moves] == [False, True, True]


def test_never_assessed_re_assesses_first_and_assumes_the_most_prudent_level():
    portfolio, k = CASES["missing_risk_assessment"]
    moves = al.propose_moves(portfolio, k, SHELF)
    assert [(m.kind, m.reason, m.level) for m in moves] == [
        ("reassess", "missing_risk_assessment", A["unknown_client_level"])
    ]
    # 90% in deposits (300,000 over 60%), 300,000 - 60,000 = 240,000 of cash above the need: the
    # over-saving move waits for the assessment and buys at C1 only: the R1 wealth product K10,
    # never the R2 ones (K04 would come first: highest risk first); then 60,000 from the time
    # deposit withdrawn early (maturity unknown), K10 then at the 30% line
    shelf = pd.concat([SHELF, pd.DataFrame([("K10", "wealth", "R1", "产品K10", "Product K10")],
                                           columns=SHELF.columns)])  # fmt: skip
    p = pf(
        ("活期", "current_deposit", None, 300_000),
        ("定期", "time_deposit", None, 600_000),
        ("重疾险", "protection_insurance", "R1", 100_000),
    )
    k = kyc(None, assessed=None)
    assert codes(p, k) == ["missing_risk_assessment", "over_saving"]
    moves = al.propose_moves(p, k, shelf)
    assert moves[0].kind == "reassess"
    assert [m.after_reassessment for m in moves[1:]] == [True, True]
    assert switches(moves[1:]) == [
        ("over_saving", "活期", "K10", 240_000.0, False),
        ("over_saving", "定期", "K10", 60_000.0, True),
    ]
    assert codes(al.apply_moves(p, moves), k) == ["missing_risk_assessment"]


def test_an_empty_household_is_asked_where_its_money_is():
    portfolio, k = CASES["empty_portfolio"]
    assert [(m.kind, m.reason) for m in al.propose_moves(portfolio, k, SHELF)] == [
        ("gather", "empty_portfolio")
    ]


# ---------------------------------------------------------------------------- around the moves


def test_households_need_the_viewers_date():
    """A rule never reads the wall clock: the example and blank households take the date."""
    for make in (al.example_household, al.blank_household):
        assert inspect.signature(make).parameters["as_of"].default is inspect.Parameter.empty
        assert make(AS_OF)[1].as_of == AS_OF
    assert al.example_household(AS_OF)[1].assessed_on == AS_OF - timedelta(days=200)


def test_edits_keep_product_ids_and_maturities():
    portfolio = CASES["liquidity_cover"][0].assign(product_id=[f"P{i}" for i in range(7)])
    edited = portfolio[["category", "name", "risk_level", "amount"]].iloc[[0, 2]].copy()
    edited.loc[2, "amount"] = 1.0
    edited.loc[9] = ["money_fund", "新增", "R1", 5.0]  # an added row
    out = al.with_edits(portfolio, edited)
    assert out["product_id"].tolist() == ["P0", "P2", None]
    assert out["maturity_date"].tolist() == [None, day(30), None]
    assert out["amount"].tolist() == [20_000, 1, 5]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_move_kind_reads_as_a_sentence(lang):
    k = kyc(assessed=AS_OF - timedelta(days=400))
    moves = al.propose_moves(CASES["liquidity_cover"][0], k, SHELF)
    moves += al.propose_moves(al.empty_portfolio(), kyc(), SHELF)
    assert {m.kind for m in moves} == set(al.MOVE_KINDS)
    lines = [describe.move(m, lang) for m in moves]
    assert all(line and "{" not in line for line in lines)
    assert ("C3" in lines[0]) and ("K02" in lines[1] or "产品K02" in lines[1])
    early = {"zh": "提前支取", "en": "before maturity"}[lang]
    assert early not in lines[1] and early in lines[2]
    finding = next(f for f in al.findings(CASES["pocket_imbalance"][0], kyc()))
    assert "{" not in describe.finding(finding.code, finding.fields, lang)
