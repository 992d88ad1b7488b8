"""Invitation lists (客户邀约, DESIGN.md §3): each campaign's rule at its edges, the recent-contact
exclusion (CRM history and app contacts), scope, ranking by value and the invitation funnel, on a
small hand-made warehouse; plus a smoke test on the shared demo snapshot."""

from datetime import date

import pandas as pd
import pytest

from analytics import invitations as inv
from analytics.access import Scope
from analytics.schema import schema_part
from analytics.settings import load_settings
from analytics.store import Database
from analytics.value import value_scores

M3, M4 = date(2026, 3, 31), date(2026, 4, 30)
TODAY = M4
RULES = load_settings()["invitations"]
LINE = float(load_settings()["tiers"]["lines"][RULES["upgrade_line_tier"]])
# the hand answers below assume the documented defaults
assert LINE == 500_000 and RULES["upgrade_band_below"] == 0.10
assert inv.fund_loss_levels() == (-0.15, -0.20)
assert RULES["deposit_rate_3y"] == 0.0125 and RULES["exclude_contacted_days"] == 30
assert RULES["event_child_max_age"] == 18 and inv.affluent_line() == 500_000

HEAD = Scope("head_office", ("B001", "B002"))
MANAGER = Scope("manager", ("B001",))
RM1 = Scope("rm", ("B001",), rm_id="R1")
RM2 = Scope("rm", ("B001",), rm_id="R2")

# client -> AUM at M3, M4 (one number: both months); everyone is B001/R1 unless in OWNER
AUM = {
    # upgrade: band [450,000, 500,000)
    "up_edge_in": 450_000.00,  # exactly 0.9 x line: in, gap 50,000
    "up_edge_out": 449_999.99,  # one fen below the band: out
    "up_on_line": 500_000.00,  # on the line: reached, out
    "up_just_under": 499_999.99,  # in, gap 0.01
    "up_grace": [520_000, 480_000],  # fell below this month (still holds platinum): in
    "up_conv": [480_000, 510_000],  # reached the line at M4: out now; converts in the funnel
    # recent contacts (all in the upgrade band)
    "ct_crm29": 460_000,  # CRM contact 29 days before today: excluded
    "ct_crm31": 461_000,  # CRM contact 31 days before today: kept
    "ct_app29": 462_000,  # app contact 29 days before: excluded when passed as extra_contacts
    "ct_app31": 463_000,  # app contact 31 days before: kept
    # fund diagnosis (positions at M4 below)
    "f_15": 100_000,
    "f_20": 100_000,
    "f_1499": 100_000,
    "f_mixed": 100_000,
    "f_old": 100_000,
    # insurance review (policies below)
    "i_equal": 100_000,
    "i_below_ill": 100_000,
    "i_below_dep": 100_000,
    "i_both": 100_000,
    "i_protect": 100_000,
    "i_at_rate": 100_000,
    "i_two": 100_000,
    "i_later": 100_000,
    # family event (family rows and marital status below)
    "fam_17": 100_000,
    "fam_18": 100_000,
    "fam_aff_married": 500_000.00,  # on the affluent line, married: in
    "fam_aff_single": 600_000,  # single, no spouse row: out
    "fam_aff_spouse": 600_000,  # marital status divorced but a spouse row: in
    "fam_aff_below": 499_000,  # married, below the affluent line (in the upgrade band)
    "fam_both": 700_000,
    # scope
    "x_rm2": 455_000,
    "x_b2": 456_000,
}
OWNER = {"x_rm2": ("B001", "R2"), "x_b2": ("B002", "R9")}
MARRIED = {"fam_aff_married", "fam_both", "fam_aff_below"}
MARITAL = {"fam_aff_spouse": "divorced"}
FAMILY = [
    ("fam_17", "child", date(2008, 5, 1)),  # 17 on TODAY, 18 the day after
    ("fam_18", "child", date(2008, 4, 30)),  # 18 on TODAY: out
    ("fam_aff_spouse", "spouse", date(1980, 1, 1)),
    ("fam_both", "spouse", date(1980, 1, 1)),
    ("fam_both", "child", date(2020, 6, 1)),  # 5
    ("fam_both", "child", date(2005, 1, 1)),  # 21: not counted
]
PRODUCTS = {
    "P_DEP": "current_deposit",
    "P_EQ": "equity_fund",
    "P_BOND": "bond_fund",
    "P_WM": "wealth",
    "P_ANN": "annuity_insurance",
    "P_PROT": "protection_insurance",
}
# (month, client, product, balance, cost)
HOLDINGS = [
    (M4, "f_15", "P_EQ", 85_000.00, 100_000.00),  # -15.00%: level 1
    (M4, "f_20", "P_EQ", 80_000.00, 100_000.00),  # -20.00%: level 2
    (M4, "f_1499", "P_EQ", 85_010.00, 100_000.00),  # -14.99%: out
    (M4, "f_1499", "P_WM", 70_000.00, 100_000.00),  # -30% but not a fund: out
    (M4, "f_mixed", "P_EQ", 84_000.00, 100_000.00),  # -16%
    (M4, "f_mixed", "P_BOND", 95_000.00, 100_000.00),  # -5%
    (M4, "f_mixed", "P_DEP", 50_000.00, 50_000.00),
    (M3, "f_old", "P_EQ", 70_000.00, 100_000.00),  # -30% last month, sold since: out
    (M4, "f_old", "P_DEP", 100_000.00, 100_000.00),
]
# (policy_id, client, product, illustrated, actual, start)
POLICIES = [
    ("IP1", "i_equal", "P_ANN", 0.03, 0.03, date(2024, 1, 1)),
    ("IP2", "i_below_ill", "P_ANN", 0.035, 0.030, date(2024, 1, 1)),
    ("IP3", "i_below_dep", "P_ANN", 0.010, 0.011, date(2024, 1, 1)),  # above illustration
    ("IP4", "i_both", "P_ANN", 0.020, 0.012, date(2024, 1, 1)),  # 0.8% vs 0.05%
    ("IP5", "i_protect", "P_PROT", None, None, date(2024, 1, 1)),
    ("IP6", "i_at_rate", "P_ANN", 0.0125, 0.0125, date(2024, 1, 1)),
    ("IP7", "i_two", "P_ANN", 0.030, 0.028, date(2024, 1, 1)),  # gap 0.2%
    ("IP8", "i_two", "P_ANN", 0.030, 0.026, date(2024, 1, 1)),  # gap 0.4%: the worst
    ("IP9", "i_later", "P_ANN", 0.030, 0.020, date(2026, 5, 15)),  # after as_of: out
]
CRM = [("ct_crm29", date(2026, 4, 1)), ("ct_crm31", date(2026, 3, 30))]
APP = pd.DataFrame(
    {"client_id": ["ct_app29", "ct_app31"], "contact_date": [date(2026, 4, 1), date(2026, 3, 30)]}
)
# (client, date, type, client_initiated)
TXNS = [
    ("f_15", date(2026, 4, 12), "purchase", True),  # after the invite: converts
    ("f_20", date(2026, 4, 1), "purchase", True),  # before the invite: no
    ("f_20", date(2026, 4, 20), "purchase", False),  # system posting: no
    ("f_20", date(2026, 4, 21), "redemption", True),  # not a purchase: no
]

EXPECTED = {
    "upgrade": {
        "up_edge_in",
        "up_just_under",
        "up_grace",
        "ct_crm31",
        "ct_app29",
        "ct_app31",
        "fam_aff_below",
        "x_rm2",
        "x_b2",
    },
    "fund_diagnosis": {"f_15", "f_20", "f_mixed"},
    "insurance_review": {"i_below_ill", "i_below_dep", "i_both", "i_two"},
    "family_event": {"fam_17", "fam_aff_married", "fam_aff_spouse", "fam_both"},
}


def _client_row(cid: str) -> list:
    branch, rm = OWNER.get(cid, ("B001", "R1"))
    marital = "married" if cid in MARRIED else MARITAL.get(cid, "single")
    return [
        cid, branch, rm, "名", "Ming", "F", date(1975, 6, 1), "110101197506010000",
        "13800000000", "addr", "6222000000000000000", "office", marital, 10_000, 5_000,
        "C3", date(2026, 1, 1), False, False, None, None, True, date(2015, 1, 1),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    path = tmp_path_factory.mktemp("inv") / "wh.duckdb"
    db = Database(path, read_only=False)
    with db.cursor() as cur:
        cur.execute(schema_part("WAREHOUSE"))
        cur.execute("INSERT INTO meta VALUES ('as_of', ?), ('source', 'test')", [str(M4)])
        cur.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?, 'R3', 'T+1', NULL, NULL, TRUE)",
            [[pid, pid, pid, cat] for pid, cat in PRODUCTS.items()],
        )
        marks = ", ".join("?" for _ in _client_row("x"))
        cur.executemany(f"INSERT INTO clients VALUES ({marks})", [_client_row(c) for c in AUM])
        for cid, values in AUM.items():
            branch, rm = OWNER.get(cid, ("B001", "R1"))
            values = values if isinstance(values, list) else [values, values]
            for month, v in zip((M3, M4), values, strict=True):
                cur.execute(
                    "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
                    [month, cid, branch, rm, v, v],
                )
        cur.executemany("INSERT INTO family_members VALUES (?, ?, ?)", FAMILY)
        cur.executemany("INSERT INTO holdings_monthly VALUES (?, ?, ?, ?, NULL, ?, NULL)", HOLDINGS)
        cur.executemany(
            "INSERT INTO insurance_policies VALUES (?, ?, ?, ?, 10000, 5, ?, ?, ?)",
            [[p, c, prod, start, ill, act, start] for p, c, prod, ill, act, start in POLICIES],
        )
        cur.executemany(
            "INSERT INTO contact_history VALUES (?, 'R1', ?, 'call', 'service', 'reached')", CRM
        )
        cur.executemany(
            "INSERT INTO transactions VALUES (?, ?, ?, ?, 1000, 'mobile', 'P_EQ', NULL, ?)",
            [[i, *t] for i, t in enumerate(TXNS, start=1)],
        )
    yield db
    db.close()


def _ids(df: pd.DataFrame) -> set:
    return set(df["client_id"])


# ---------------------------------------------------------------------------- rules


@pytest.mark.parametrize("campaign", inv.CAMPAIGNS)
def test_members_and_columns(wh, campaign):
    df = inv.campaign_members(wh, HEAD, campaign)
    assert list(df.columns) == inv.columns(campaign)
    assert _ids(df) == EXPECTED[campaign]
    assert list(df["rank"]) == list(range(1, len(df) + 1))


def test_unknown_campaign(wh):
    with pytest.raises(ValueError):
        inv.campaign_members(wh, HEAD, "birthday")
    with pytest.raises(ValueError):
        inv.invite_reason("birthday")
    assert inv.invite_reason("upgrade") == "invite_upgrade"


def test_upgrade_gaps(wh):
    df = inv.campaign_members(wh, HEAD, "upgrade").set_index("client_id")
    assert df.loc["up_edge_in", "gap"] == 50_000.00
    assert df.loc["up_just_under", "gap"] == pytest.approx(0.01)
    assert df.loc["up_grace", "gap"] == 20_000.00 and df.loc["up_grace", "aum"] == 480_000
    assert (df["line"] == LINE).all()


def test_fund_levels_and_amounts(wh):
    df = inv.campaign_members(wh, HEAD, "fund_diagnosis").set_index("client_id")
    assert df.loc["f_15", "level"] == 1 and df.loc["f_15", "loss_pct"] == pytest.approx(-0.15)
    assert df.loc["f_20", "level"] == 2 and df.loc["f_20", "loss_pct"] == pytest.approx(-0.20)
    assert df.loc["f_mixed", "level"] == 1
    assert df.loc["f_mixed", "loss_pct"] == pytest.approx(-0.16)
    assert df.loc["f_mixed", "loss_amount"] == 21_000.00  # both fund losses, not the deposit
    assert df.loc["f_mixed", "positions"] == 1


def test_insurance_reasons(wh):
    df = inv.campaign_members(wh, HEAD, "insurance_review").set_index("client_id")
    assert df.loc["i_below_ill", "reason"] == "below_illustration"
    assert df.loc["i_below_ill", "yield_gap"] == pytest.approx(0.005)
    assert df.loc["i_below_dep", "reason"] == "below_deposit_rate"
    assert df.loc["i_below_dep", "yield_gap"] == pytest.approx(0.0015)
    assert df.loc["i_both", "reason"] == "below_illustration"  # the larger shortfall
    assert df.loc["i_both", "yield_gap"] == pytest.approx(0.008)
    assert df.loc["i_two", "policy_id"] == "IP8"
    assert df.loc["i_two", "yield_gap"] == pytest.approx(0.004)


def test_family_reasons_and_child_age(wh):
    df = inv.campaign_members(wh, HEAD, "family_event").set_index("client_id")
    assert df.loc["fam_17", "reason"] == "children" and df.loc["fam_17", "children"] == 1
    assert df.loc["fam_aff_married", "reason"] == "affluent"
    assert df.loc["fam_aff_married", "children"] == 0
    assert df.loc["fam_aff_spouse", "reason"] == "affluent"
    assert df.loc["fam_both", "reason"] == "both" and df.loc["fam_both", "children"] == 1
    # the next day the child is 18
    later = inv.campaign_members(wh, HEAD, "family_event", today=date(2026, 5, 1))
    assert "fam_17" not in _ids(later)


# ---------------------------------------------------------------------------- exclusion


def test_recent_contacts_excluded(wh):
    ups = _ids(inv.qualifying(wh, HEAD, "upgrade"))
    assert {"ct_crm29", "ct_crm31", "ct_app29", "ct_app31"} <= ups
    plain = _ids(inv.campaign_members(wh, HEAD, "upgrade"))
    assert "ct_crm29" not in plain and "ct_crm31" in plain
    assert {"ct_app29", "ct_app31"} <= plain  # app contacts only count when passed
    with_app = _ids(inv.campaign_members(wh, HEAD, "upgrade", extra_contacts=APP))
    assert "ct_app29" not in with_app and "ct_app31" in with_app
    assert "ct_crm29" not in with_app
    # a later "today" moves the window: 29 days become 40
    later = _ids(inv.campaign_members(wh, HEAD, "upgrade", today=date(2026, 5, 11)))
    assert "ct_crm29" in later


def test_summary(wh):
    s = inv.campaign_summary(wh, HEAD, extra_contacts=APP).set_index("campaign")
    assert list(s.index) == list(inv.CAMPAIGNS)
    assert s.loc["upgrade", "excluded_recent"] == 2
    assert s.loc["upgrade", "clients"] == len(EXPECTED["upgrade"]) - 1  # ct_app29
    members = inv.campaign_members(wh, HEAD, "upgrade", extra_contacts=APP)
    assert s.loc["upgrade", "aum"] == pytest.approx(members["aum"].sum())
    for campaign in inv.CAMPAIGNS[1:]:
        assert s.loc[campaign, "clients"] == len(EXPECTED[campaign])
        assert s.loc[campaign, "excluded_recent"] == 0


# ---------------------------------------------------------------------------- scope


def test_scope(wh):
    assert {"x_rm2", "x_b2"} <= _ids(inv.campaign_members(wh, HEAD, "upgrade"))
    rm1 = _ids(inv.campaign_members(wh, RM1, "upgrade"))
    assert "x_rm2" not in rm1 and "x_b2" not in rm1 and "up_edge_in" in rm1
    assert _ids(inv.campaign_members(wh, RM2, "upgrade")) == {"x_rm2"}
    manager = _ids(inv.campaign_members(wh, MANAGER, "upgrade"))
    assert "x_rm2" in manager and "x_b2" not in manager
    assert _ids(inv.campaign_members(wh, Scope("manager", ("B002",)), "upgrade")) == {"x_b2"}
    for campaign in inv.CAMPAIGNS[1:]:
        assert inv.campaign_members(wh, RM2, campaign).empty


# ---------------------------------------------------------------------------- ranking


def test_rank_by_value_order(wh):
    scores = pd.DataFrame(
        {
            "client_id": ["up_edge_in", "up_just_under", "up_grace", "ct_crm31", "x_rm2"],
            "value_score": [50.0, 80.0, 50.0, 50.0, 90.0],
        }
    )
    df = inv.campaign_members(wh, HEAD, "upgrade", scores=scores)
    # 90, 80, then the three 50s by AUM (480,000 > 461,000 > 450,000), then no score by AUM
    head = ["x_rm2", "up_just_under", "up_grace", "ct_crm31", "up_edge_in"]
    assert list(df["client_id"])[:5] == head
    rest = df.iloc[5:]
    assert rest["value_score"].isna().all()
    assert list(rest["aum"]) == sorted(rest["aum"], reverse=True)
    # equal score and AUM: client_id
    tie = inv.rank_by_value(
        pd.DataFrame({"client_id": ["b", "a"], "aum": [1.0, 1.0]}),
        pd.DataFrame({"client_id": ["a", "b"], "value_score": [10.0, 10.0]}),
    )
    assert list(tie["client_id"]) == ["a", "b"] and list(tie["rank"]) == [1, 2]


def test_rank_uses_value_scores(wh):
    df = inv.campaign_members(wh, HEAD, "family_event")
    vs = value_scores(wh, HEAD).set_index("client_id")["value_score"]
    assert list(df["value_score"]) == list(vs.loc[df["client_id"]])
    assert list(df["value_score"]) == sorted(df["value_score"], reverse=True)


# ---------------------------------------------------------------------------- funnel


def _logs(rows) -> pd.DataFrame:
    cols = list(inv.LOG_COLUMNS)
    return pd.DataFrame(
        [[i, c, "R1", d, ch, r, o, None] for i, (c, d, ch, r, o) in enumerate(rows)], columns=cols
    )


FUND = inv.invite_reason("fund_diagnosis")
UP = inv.invite_reason("upgrade")
LOGS = _logs(
    [
        # f_15: invited (no answer), reached the next day, came for a visit, bought after
        ("f_15", date(2026, 4, 5), "call", FUND, "no_answer"),
        ("f_15", date(2026, 4, 6), "call", None, "reached"),
        ("f_15", date(2026, 4, 10), "visit", "review", "product_discussed"),
        # f_20: reached on the invitation, declined a visit; bought only before the invitation
        ("f_20", date(2026, 4, 5), "call", FUND, "reached"),
        ("f_20", date(2026, 4, 7), "visit", None, "declined"),
        # f_1499: reached before the invitation only, then invited twice without an answer
        ("f_1499", date(2026, 4, 1), "visit", "review", "reached"),
        ("f_1499", date(2026, 4, 8), "call", FUND, "no_answer"),
        ("f_1499", date(2026, 4, 3), "sms", FUND, "no_answer"),
        # another branch
        ("x_b2", date(2026, 4, 5), "event", FUND, "reached"),
        # upgrade invitations
        ("up_conv", date(2026, 4, 2), "call", UP, "visit_booked"),  # AUM 510,000 at M4
        ("up_grace", date(2026, 4, 2), "call", UP, "reached"),  # 520,000 only at M3, before
        ("up_edge_in", date(2026, 4, 2), "wechat", UP, "no_answer"),
    ]
)


def test_funnel_counts(wh):
    f = inv.funnel(wh, HEAD, "fund_diagnosis", LOGS)
    assert {k: f[k] for k in inv.FUNNEL_STAGES} == dict(
        invited=4, reached=2 + 1, visited=1 + 1, converted=1
    )
    assert f["data_until"] == M4
    per = inv.funnel_clients(wh, HEAD, "fund_diagnosis", LOGS).set_index("client_id")
    assert per.loc["f_15"].to_dict() == dict(
        first_invite=date(2026, 4, 5), reached=True, visited=True, converted=True
    )
    assert per.loc["f_20"].to_dict() == dict(
        first_invite=date(2026, 4, 5), reached=True, visited=False, converted=False
    )
    assert per.loc["f_1499", "first_invite"] == date(2026, 4, 3)
    assert not per.loc["f_1499", ["reached", "visited", "converted"]].any()
    assert per.loc["x_b2", "visited"]  # an event counts as a visit
    # the manager of B001 does not see x_b2; an RM of another book sees nothing
    m = inv.funnel(wh, MANAGER, "fund_diagnosis", LOGS)
    assert (m["invited"], m["reached"], m["visited"]) == (3, 2, 1)
    assert inv.funnel(wh, RM2, "fund_diagnosis", LOGS)["invited"] == 0


def test_funnel_upgrade_conversion(wh):
    per = inv.funnel_clients(wh, HEAD, "upgrade", LOGS).set_index("client_id")
    assert set(per.index) == {"up_conv", "up_grace", "up_edge_in"}
    assert per.loc["up_conv", "converted"]  # 510,000 at the month-end after the invitation
    assert not per.loc["up_grace", "converted"]  # on the line only before the invitation
    assert not per.loc["up_edge_in", "converted"]
    f = inv.funnel(wh, HEAD, "upgrade", LOGS)
    assert (f["invited"], f["reached"], f["visited"], f["converted"]) == (3, 2, 0, 1)


def test_funnel_without_invites(wh):
    f = inv.funnel(wh, HEAD, "insurance_review", LOGS)
    assert {k: f[k] for k in inv.FUNNEL_STAGES} == dict(
        invited=0, reached=0, visited=0, converted=0
    )
    empty = inv.funnel(wh, HEAD, "family_event", LOGS.iloc[0:0])
    assert empty["invited"] == 0


# ---------------------------------------------------------------------------- demo smoke


def test_demo_smoke(demo_db_path):
    db = Database(demo_db_path, read_only=True)
    try:
        for campaign in inv.CAMPAIGNS:
            df = inv.campaign_members(db, HEAD, campaign)
            assert not df.empty, campaign
            assert list(df.columns) == inv.columns(campaign)
            assert df["client_id"].is_unique
        summary = inv.campaign_summary(db, HEAD)
        assert list(summary["campaign"]) == list(inv.CAMPAIGNS)
        assert list(summary.columns) == list(inv.SUMMARY_COLUMNS)
    finally:
        db.close()


def test_visited_is_recorded_and_the_funnel_counts_it(wh, tmp_path):
    """Each recorded stage has its outcome: an RM records that the invited client came
    (``visited``, on any channel) and the funnel counts it, from the workspace rows the view reads."""
    from analytics.contact_log import OUTCOMES, log_contact, logged_contacts
    from analytics.store import open_workspace

    assert "visited" in OUTCOMES
    ws = open_workspace(tmp_path / "ws.duckdb")
    try:
        for cid, day, channel, reason, outcome in [
            # f_15: invited without an answer, then recorded as come (the call that confirmed it)
            ("f_15", date(2026, 4, 5), "call", FUND, "no_answer"),
            ("f_15", date(2026, 4, 9), "call", None, "visited"),
            # f_20: the invitation recorded when the client came in for it
            ("f_20", date(2026, 4, 5), "visit", FUND, "visited"),
            # f_1499: came before the invitation (not counted), reached on it
            ("f_1499", date(2026, 4, 1), "wechat", None, "visited"),
            ("f_1499", date(2026, 4, 6), "call", FUND, "reached"),
            # f_mixed: invited, and a visit with an outcome that is no visit
            ("f_mixed", date(2026, 4, 6), "call", FUND, "visit_booked"),
            ("f_mixed", date(2026, 4, 8), "call", None, "declined"),
        ]:
            log_contact(ws, wh, RM1, cid, day, channel, outcome, reason=reason, today=TODAY)
        logs = logged_contacts(ws, wh, RM1)
        assert (logs["outcome"] == "visited").sum() == 3
        f = inv.funnel(wh, RM1, "fund_diagnosis", logs)
        # converted: f_15 bought on 12 April, after its invitation; f_20 only before
        assert {k: f[k] for k in inv.FUNNEL_STAGES} == dict(
            invited=4, reached=4, visited=2, converted=1
        )
        per = inv.funnel_clients(wh, RM1, "fund_diagnosis", logs).set_index("client_id")
        assert per["visited"].to_dict() == {
            "f_15": True, "f_20": True, "f_1499": False, "f_mixed": False,
        }  # fmt: skip
        assert per["reached"].to_dict() == {
            "f_15": True, "f_20": True, "f_1499": True, "f_mixed": True,
        }  # fmt: skip
        # another RM of the branch sees none of it; the branch manager the same four
        assert inv.funnel(wh, RM2, "fund_diagnosis", logged_contacts(ws, wh, RM2))["invited"] == 0
        m = inv.funnel(wh, MANAGER, "fund_diagnosis", logged_contacts(ws, wh, MANAGER))
        assert (m["invited"], m["reached"], m["visited"], m["converted"]) == (4, 4, 2, 1)
    finally:
        ws.close()
