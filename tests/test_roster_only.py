"""A snapshot built from the client roster alone (issue 11, minimum import).

The roster-only snapshot (``tests/roster_fixtures.py``: branches, RMs, clients and one AUM row per
client, every other table empty, ``meta.tables`` saying so) opens every page for every role and
both languages with no exception and no error; the AUM-based parts show the real numbers; a part
that needs a table that was not imported names the file in an ``st.info``. The analytics functions
that read optional data return unknowns (None / NaN / no rows), with known answers below.
"""

from __future__ import annotations

import contextlib
import os
from datetime import date
from pathlib import Path

import logins
import numpy as np
import pandas as pd
import pytest
import streamlit as st
from roster_fixtures import AS_OF, ROSTER, build_roster_snapshot
from streamlit.testing.v1 import AppTest

from analytics import (
    client360,
    clusters,
    cohorts,
    contact_plan,
    coverage,
    invitations,
    segments,
    seniors,
    store,
    tags,
    threshold,
    value,
)
from analytics.access import Scope
from analytics.importer.contract import TABLES
from analytics.overview import headline, tier_summary
from analytics.schema import warehouse_table_names
from analytics.settings import tier_lines
from analytics.tiers import tier_of
from ui import formats
from ui.i18n import EN, ZH
from ui.shell import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ROLES = ["head_office", "manager", "manager:B002", "rm:M01"]
HEAD, B001, B002 = Scope("head_office"), Scope("manager", ("B001",)), Scope("manager", ("B002",))
M01 = Scope("rm", ("B001",), rm_id="M01")

# The files (warehouse tables) each page names on a roster-only snapshot, for every role.
NAMED = {
    "overview": ("holdings_monthly",),
    "segmentation": ("holdings_monthly", "transactions", "client_aum_monthly"),
    "threshold": ("holdings_monthly", "transactions", "digital_activity", "contact_history",
                  "client_aum_monthly"),
    "seniors": ("clients",),  # no birth dates: the roster's column is named
    "high_end": ("holdings_monthly", "clients"),
    "allocation": ("products", "holdings_monthly"),
    "client": (),  # without a client: the prompt (with one: test_client_view_*)
    "contact_plan": ("holdings_monthly", "insurance_policies", "contact_history"),
    "invitations": ("holdings_monthly", "insurance_policies", "family_members"),
    "corporate": ("corp_clients", "corp_transactions", "corp_accounts"),
    "settings": (),
    "data": (),
    "users": (),  # accounts, not warehouse tables
    "glossary": (),  # the settings in force only
}  # fmt: skip


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory) -> Path:
    """The roster-only snapshot file (not published), for the analytics tests."""
    return build_roster_snapshot(tmp_path_factory.mktemp("roster") / "roster.duckdb")


@pytest.fixture(scope="module")
def partial_db(tmp_path_factory) -> Path:
    """The variant with some optional columns and two earlier month-ends."""
    path = tmp_path_factory.mktemp("partial") / "partial.duckdb"
    return build_roster_snapshot(path, partial=True, history=True)


@pytest.fixture(scope="module")
def wh(roster_db):
    db = store.open_warehouse(roster_db)
    yield db
    db.close()


@pytest.fixture(scope="module")
def pwh(partial_db):
    db = store.open_warehouse(partial_db)
    yield db
    db.close()


def _data_folder(tmp_path_factory, name: str, **variant) -> Path:
    root = tmp_path_factory.mktemp(name)
    built = build_roster_snapshot(root / "incoming.duckdb", **variant)
    store.publish_snapshot(built, "import", root)
    return root


@pytest.fixture(scope="module")
def roster_app(tmp_path_factory) -> Path:
    """A data folder whose current snapshot is the roster-only import."""
    yield _data_folder(tmp_path_factory, "roster_app")
    st.cache_resource.clear()  # the app's workspace connection belongs to this folder's run


@pytest.fixture(scope="module")
def partial_app(tmp_path_factory) -> Path:
    yield _data_folder(tmp_path_factory, "partial_app", partial=True, history=True)
    st.cache_resource.clear()


@contextlib.contextmanager
def data_folder(root: Path):
    """The app reads ``root`` while inside (other test modules publish their own folders)."""
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BRANCHLENS_DATA", None)
        else:
            os.environ["BRANCHLENS_DATA"] = old


def run_page(root: Path, page_path: str, role: str, lang: str, **params) -> AppTest:
    """Run the app on the data folder ``root`` as ``role`` and open ``page_path``."""
    with data_folder(root):
        at = AppTest.from_file(APP, default_timeout=90)
        logins.log_in_as(at, role)  # a bank's data: a logged-in person, never as=
        at.query_params["lang"] = lang
        for key, v in params.items():
            at.query_params[key] = v
        at.run()
        if page_path != PAGES[0].path:
            at.switch_page(page_path)
            at.run()
        return at


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def file_name(table: str, lang: str) -> str:
    return TABLES[table].zh if lang == "zh" else TABLES[table].en


def pages_for(role: str) -> list:
    return [p for p in PAGES if role.split(":")[0] in p.roles]


def roster_frame(branch: str | None = None, rm: str | None = None) -> pd.DataFrame:
    rows = [(c, b, r, a) for c, (b, r, a) in ROSTER.items()]
    df = pd.DataFrame(rows, columns=["client_id", "branch_id", "rm_id", "aum"])
    if branch:
        df = df[df["branch_id"] == branch]
    if rm:
        df = df[df["rm_id"] == rm]
    return df


# ---------------------------------------------------------------------------- every page


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [p.id for p in PAGES])
def test_every_page_opens_and_names_the_missing_files(roster_app, page, role, lang):
    spec = next(p for p in PAGES if p.id == page)
    if role.split(":")[0] not in spec.roles:
        pytest.skip(f"{role} may not open {page}")
    at = run_page(roster_app, spec.path, role, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = ZH if lang == "zh" else EN
    assert at.title[0].value == table[spec.title_key]
    shown = infos(at)
    for name in NAMED[page]:
        assert file_name(name, lang) in shown, (name, shown)


@pytest.mark.parametrize("page", [p for p in PAGES if p.id != "data"], ids=lambda p: p.id)
def test_a_trainer_is_refused_on_every_page(roster_app, page):
    with data_folder(roster_app):  # the page script opened directly runs the app's guard
        at = AppTest.from_file(str(Path(APP).parent / page.path), default_timeout=90)
        logins.log_in(at, "trainer")
        at.query_params["lang"] = "en"
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [EN["access.trainer_demo_only"]]
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_on_partial_columns_and_history(partial_app, role):
    """Some optional columns given for some clients, three month-ends: no page raises."""
    lang = "zh" if role in ("head_office", "manager:B002") else "en"
    for spec in pages_for(role):
        at = run_page(partial_app, spec.path, role, lang)
        assert not at.exception, (spec.id, [e.value for e in at.exception])
        assert not at.error, (spec.id, [e.value for e in at.error])


# ---------------------------------------------------------------------------- the AUM numbers


@pytest.mark.parametrize(
    "role,branch,rm",
    [("head_office", None, None), ("manager", "B001", None), ("manager:B002", "B002", None),
     ("rm:M01", None, "M01"), ("rm:M03", None, "M03")],
)  # fmt: skip
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_headline_is_the_sum_of_the_roster(roster_app, roster_db, role, branch, rm, lang):
    db = store.open_warehouse(roster_db)
    where, params = "TRUE", []
    if branch:
        where, params = "branch_id = ?", [branch]
    if rm:
        where, params = "rm_id = ?", [rm]
    want = db.query(
        f"""SELECT COUNT(*) AS n, SUM(aum)::DOUBLE AS aum,
                   COUNT(*) FILTER (WHERE aum >= 500000) AS high
            FROM client_aum_monthly
            WHERE month_end = (SELECT MAX(month_end) FROM client_aum_monthly) AND {where}""",
        params,
    ).iloc[0]
    db.close()
    at = run_page(roster_app, PAGES[0].path, role, lang)
    assert not at.exception
    values = [m.value for m in at.metric]
    assert values == [
        formats.count(want["n"], lang),
        formats.money(want["aum"], lang),
        formats.count(want["high"], lang),
    ]
    assert int(want["n"]) == len(roster_frame(branch, rm))
    assert float(want["aum"]) == pytest.approx(roster_frame(branch, rm)["aum"].sum())


def test_a_manager_of_b002_sees_only_b002(roster_app):
    at = run_page(roster_app, PAGES[0].path, "manager:B002", "en")
    books = at.dataframe[0].value
    assert set(books["rm"]) == {"M03", "M04", EN["overview.unassigned"]}
    seg = run_page(roster_app, "pages/segmentation.py", "manager:B002", "en")
    with data_folder(roster_app):
        seg.selectbox(key="seg_pick").set_value("aum_tier:mass").run()
    assert not seg.exception
    listed = set(seg.dataframe[-1].value[EN["col.client_id"]])
    assert listed == {"K0013", "K0014", "K0018", "K0019"}  # every B002 client under 5万, only
    assert EN["client.value_score"] not in seg.dataframe[-1].value  # no value score to show


def test_segmentation_lists_each_aum_tier(roster_app):
    at = run_page(roster_app, "pages/segmentation.py", "head_office", "en")
    for tier in ("mass", "potential", "gold", "platinum", "diamond", "private"):
        with data_folder(roster_app):
            at.selectbox(key="seg_pick").set_value(f"aum_tier:{tier}").run()
        assert not at.exception
        listed = set(at.dataframe[-1].value[EN["col.client_id"]]) if at.dataframe else set()
        assert listed == {c for c, (_, _, a) in ROSTER.items() if tier_of(a) == tier}, tier


def test_threshold_upgrade_near_misses_with_their_gaps(roster_app):
    at = run_page(roster_app, "pages/threshold.py", "head_office", "en")
    near = next(m for m in at.metric if m.label == EN["th.upgrade"])
    # 47.5k and 46k under 5万, 190k under 20万, 480k and 455k under 50万, 1.9m under 200万
    assert near.value == EN["th.count"].format(n="6")
    assert near.delta == EN["th.gap_total"].format(gap=formats.money(181_500, "en"))
    listed = at.dataframe[0].value  # the Platinum line by default
    assert set(listed[EN["col.client_id"]]) == {"K0005", "K0016"}
    assert set(listed[EN["col.maturing"]]) == {"—"}  # unknown, not ¥0
    down = next(m for m in at.metric if m.label == EN["th.downgrade"])
    assert down.value == "—"  # one month-end: nobody can be judged, and the view says why


def test_client_view_card_and_refusals(roster_app):
    at = run_page(roster_app, "pages/client.py", "rm:M01", "en", client="K0005")
    assert not at.exception and not at.error
    card = " ".join(m.value for m in at.markdown)
    assert "¥480,000" in card and EN["tier.gold"] in card
    assert EN["th.upgrade"] in card  # 2万 short of Platinum
    shown = infos(at)
    for t in ("holdings_monthly", "transactions", "contact_history"):
        assert file_name(t, "en") in shown
    for role in ("rm:M03", "manager:B002"):
        other = run_page(roster_app, "pages/client.py", role, "zh", client="K0005")
        assert [e.value for e in other.error] == [ZH["client.refused"]]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_client_view_renders_for_every_role(roster_app, role, lang):
    own = {"head_office": "K0019", "manager": "K0012", "manager:B002": "K0019", "rm:M01": "K0001"}
    at = run_page(roster_app, "pages/client.py", role, lang, client=own[role])
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert any(own[role] in m.value for m in at.markdown)


def test_the_three_balance_check_of_a_client_needs_holdings(roster_app):
    at = run_page(roster_app, "pages/allocation.py", "rm:M01", "zh", client="K0005")
    assert not at.exception and not at.error
    assert file_name("holdings_monthly", "zh") in infos(at)
    assert ZH["al.moves"] not in [h.value for h in at.subheader]  # no made-up empty portfolio
    example = run_page(roster_app, "pages/allocation.py", "manager", "en")  # class works anyway
    assert EN["al.moves"] in [h.value for h in example.subheader]
    assert file_name("products", "en") in infos(example)  # moves need the product shelf


def test_high_end_adoption_works_on_the_roster(roster_app):
    at = run_page(roster_app, "pages/high_end.py", "manager", "en")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[EN["cohort.size"]] == "5"  # K0006, K0008, K0009, K0010, K0012
    assert metrics[EN["he.unassigned"]] == "1"  # K0012 has no RM


# ---------------------------------------------------------------------------- analytics


def test_coverage_of_a_roster_only_snapshot(wh, pwh, demo_db_path):
    assert coverage.imported(wh) == {"branches", "rms", "clients", "client_aum_monthly"}
    assert coverage.missing(wh, "value", "rfm") == ("holdings_monthly", "transactions")
    assert coverage.has(wh, "client_aum_monthly") and not coverage.has(wh, "relationship")
    assert coverage.filled_columns(wh) == frozenset()
    assert coverage.filled_columns(pwh) == {"gender", "birth_date", "risk_level"}
    demo = store.open_warehouse(demo_db_path)
    assert coverage.imported(demo) == set(warehouse_table_names())
    assert all(coverage.has(demo, part) for part in coverage.NEEDS)
    assert set(coverage.CLIENT_COLUMNS) - {"pay_day"} <= coverage.filled_columns(demo)
    demo.close()


def test_segments_keep_aum_tiers_and_leave_the_rest_unknown(wh):
    frame = segments.client_segments(wh, HEAD).set_index("client_id")
    assert list(frame.index) == sorted(ROSTER)
    for cid, (_, _, aum) in ROSTER.items():
        assert frame.loc[cid, "aum"] == pytest.approx(aum)
        assert frame.loc[cid, "aum_tier"] == tier_of(aum)
    assert frame["value_tier"].isna().all() and frame["value_score"].isna().all()
    assert frame["segment"].isna().all() and frame["cluster"].isna().all()
    counts = segments.segment_counts(frame.reset_index(), "aum_tier", ["mass", "private"])
    assert counts.set_index("aum_tier")["clients"].to_dict() == {"mass": 7, "private": 1}
    assert set(segments.client_segments(wh, B002)["client_id"]) == set(
        roster_frame("B002").client_id
    )


def test_no_value_scores_without_holdings(wh, demo_db_path):
    assert value.client_scores(wh, HEAD).empty
    demo = store.open_warehouse(demo_db_path)
    assert not value.client_scores(demo, Scope("manager", ("B001",))).empty
    demo.close()


def test_headline_and_tiers_of_a_roster(wh):
    summary = tier_summary(wh, HEAD)
    head = headline(summary)
    assert head.month_end == AS_OF and head.prev_month_end is None
    assert head.clients == 20 and head.aum == pytest.approx(roster_frame()["aum"].sum())
    assert head.high_end_clients == 6  # 50万 and above
    by_tier = summary.set_index("tier")["clients"].to_dict()
    assert by_tier == {"mass": 7, "potential": 4, "gold": 3, "platinum": 4, "diamond": 1,
                       "private": 1}  # fmt: skip


def test_upgrade_near_misses_have_unknown_closers(wh):
    up = threshold.upgrade_near_miss(wh, HEAD)
    assert dict(zip(up["client_id"], up["line_tier"], strict=True)) == {
        "K0002": "potential", "K0014": "potential", "K0004": "gold", "K0005": "platinum",
        "K0016": "platinum", "K0008": "diamond",
    }  # fmt: skip
    assert up["maturing_amount"].isna().all() and up["inflow_amount"].isna().all()
    assert not up["closable"].any()
    assert list(up["ease"]) == list(range(1, 7))
    assert up.set_index("client_id").loc["K0008", "gap"] == pytest.approx(100_000)
    assert threshold.downgrade_risk(wh, HEAD).empty  # one month-end: no one below a held line
    assert threshold.relationship_near_miss(wh, HEAD).empty  # no holdings, no logins


def test_downgrade_risk_needs_history(pwh):
    """History 0.9x, 0.95x, 1.0x: everyone rises, so nobody is at risk of losing a tier."""
    assert threshold.downgrade_risk(pwh, HEAD).empty
    moved = threshold.upgrade_near_miss(pwh, HEAD)
    assert set(moved["client_id"]) == {"K0002", "K0014", "K0004", "K0005", "K0016", "K0008"}


def test_tags_without_their_data_are_not_given(wh, pwh):
    assert tags.available_tags(wh) == ("high_net_worth",)
    bare = tags.client_tags(wh, HEAD).set_index("client_id")
    assert set(bare.index[bare.any(axis=1)]) == {"K0010"}  # 700万: high net worth, nothing else
    assert not bare["long_uncontacted"].any() and not bare["digital_silent"].any()
    assert set(tags.available_tags(pwh)) == {
        "high_net_worth", "near_retirement", "retired", "conservative", "balanced", "aggressive",
    }  # fmt: skip
    t = tags.client_tags(pwh, HEAD).set_index("client_id")
    held = {cid: [tag for tag in tags.TAGS if t.loc[cid, tag]] for cid in t.index}
    assert held["K0001"] == ["retired", "conservative"]  # F, 76, C2
    assert held["K0005"] == ["near_retirement", "aggressive"]  # M, 56, C4
    assert held["K0008"] == []  # 64 but gender unknown: retirement age unknown
    assert held["K0014"] == ["balanced"]
    assert tags.tags_of(pwh, M01, "K0001") == ["retired", "conservative"]


def test_a_card_with_nothing_but_the_roster(wh, pwh):
    card = client360.client_card(wh, M01, "K0005")
    assert card.age is None and card.gender is None and card.risk_level is None
    assert card.risk_assessed_on is None and not card.risk_stale
    assert card.payroll is None and card.pension is None and card.mobile_banking is None
    assert card.monthly_spending is None and card.open_date is None
    assert card.phone is None and card.id_number is None and card.name_zh == "周**"
    assert client360.talking_points(wh, M01, "K0005", AS_OF) == [
        ("tier_gap", {"tier": "platinum", "gap": 20_000.0})
    ]
    full = client360.client_card(pwh, M01, "K0001", unmask=True)
    masked = client360.client_card(pwh, M01, "K0001")
    assert full.age == 76 and full.gender == "F" and full.risk_level == "C2"
    assert full.phone == "13812345678" and masked.phone == "138****5678"
    assert masked.id_number == "110101********1234"


def test_seniors_are_the_clients_with_a_known_age(wh, pwh):
    assert cohorts.senior_members(wh, HEAD).empty
    assert list(cohorts.senior_members(pwh, HEAD)["client_id"]) == [
        "K0001", "K0005", "K0008", "K0017",
    ]  # fmt: skip
    assert list(cohorts.senior_members(pwh, HEAD, band="60-69")["client_id"]) == ["K0008", "K0017"]
    p = cohorts.senior_profile(pwh, B001)
    assert p.clients == 3 and p.rest_clients == 9
    assert p.aum == pytest.approx(12_000 + 480_000 + 1_900_000)
    bands = p.age_bands.set_index("band")
    assert bands.loc[cohorts.UNKNOWN, "rest"] == pytest.approx(1.0)  # nobody else has an age
    assert bands.loc[cohorts.UNKNOWN, "cohort"] == 0
    risk = p.risk_levels.set_index("risk_level")
    assert risk.loc["C2", "cohort"] == pytest.approx(1 / 3) and risk.loc["C4", "cohort"] == 1 / 3
    ind = p.indicators.set_index("measure")
    assert np.isnan(ind.loc["mobile_banking", "cohort"]) and np.isnan(ind.loc["payroll", "rest"])
    assert np.isnan(ind.loc["avg_monthly_logins", "cohort"])
    assert ind.loc["clients", "cohort"] == 3
    assert set(p.tags["tag"]) == set(tags.available_tags(pwh))
    assert p.product_mix.empty and p.penetration.empty
    months = [pd.Timestamp(m).date() for m in p.trend["month_end"]]
    assert months == [date(2026, 9, 30), date(2026, 10, 31), AS_OF]


def test_senior_lists_without_their_data_are_empty(pwh):
    opps = seniors.opportunities(pwh, HEAD)
    assert all(frame.empty for frame in opps.values())  # no holdings, transactions, pensions
    assert seniors.digital_split(pwh, HEAD).empty  # no logins: neither active nor silent
    assert seniors.maturity_calendar(pwh, HEAD)["amount"].sum() == 0


def test_a_contact_plan_from_the_roster(wh, pwh):
    day = date(2026, 11, 23)  # a Monday
    plan = contact_plan.contact_plan(wh, M01, "M01", [day])
    assert set(plan["reason"]) <= {"threshold", "cadence_overdue"}
    near = plan[plan["reason"] == "threshold"]
    assert set(near["client_id"]) == {"K0002", "K0004", "K0005"}
    assert set(plan["client_id"]) <= set(roster_frame(rm="M01")["client_id"])
    with_dates = contact_plan.contact_plan(pwh, M01, "M01", [day])
    assert "birthday" not in set(with_dates["reason"])  # no birthday near that Monday
    cover = contact_plan.coverage(wh, M01, day)
    assert cover["covered"].sum() == 0 and cover["clients"].sum() == 4  # tiers with a cadence


def test_invitations_rank_by_aum_without_scores(wh):
    members = invitations.campaign_members(
        wh, HEAD, "upgrade", scores=value.client_scores(wh, HEAD)
    )
    assert list(members["client_id"]) == ["K0005", "K0016"]  # 48万 then 45.5万
    assert members["value_score"].isna().all()
    for campaign in ("fund_diagnosis", "insurance_review", "family_event"):
        assert invitations.qualifying(wh, HEAD, campaign).empty
    logs = pd.DataFrame({
        "log_id": [1], "client_id": ["K0001"], "rm_id": ["M01"], "contact_date": [AS_OF],
        "channel": ["call"], "reason": [invitations.invite_reason("family_event")],
        "outcome": ["reached"], "note": [None],
    })  # fmt: skip
    f = invitations.funnel(wh, HEAD, "family_event", logs)
    assert f["invited"] == 1 and f["reached"] == 1 and f["converted"] is None


def test_clusters_take_unknown_ages_as_the_mean(pwh):
    feats = clusters.client_features(pwh, HEAD)
    assert feats["age"].isna().sum() == 16 and feats["tenure"].isna().all()
    x = clusters._model_matrix(feats)
    assert not np.isnan(x).any()
    age = list(clusters.FEATURES).index("age")
    known = feats["age"].dropna()
    assert x[feats["age"].isna().to_numpy(), age] == pytest.approx(known.mean())
    result = clusters.behaviour_clusters(pwh, HEAD)  # what a holdings import would cluster
    assert len(result.assignments) == 20 and result.k >= 1


def test_holdings_without_ages_or_occupations_still_value_every_client(tmp_path):
    """A roster (unknown ages, occupations, opening dates) with a holdings file: value tiers and
    scores for every client (the unknowns are look-alikes of each other), behaviour groups, and
    still no RFM without transactions."""
    db = store.open_warehouse(
        build_roster_snapshot(tmp_path / "h.duckdb", partial=True, history=True, holdings=True)
    )
    try:
        assert coverage.has(db, "value", "clusters") and not coverage.has(db, "rfm")
        tiers = value.value_tiers(db, B001)
        assert sorted(tiers["client_id"]) == sorted(roster_frame("B001")["client_id"])
        assert tiers["value_tier"].notna().all()
        scores = value.client_scores(db, B001)
        assert len(scores) == 12 and scores["value_score"].between(0, 100).all()
        # 1.8% a year on the current deposit, for the 3 month-ends in the window, minus ¥60
        k10 = tiers.set_index("client_id").loc["K0010", "actual"]
        want = sum(round(7_000_000 * f * 0.018 / 12, 2) for f in (0.9, 0.95, 1.0)) - 60
        assert k10 == pytest.approx(want, abs=0.02)
        frame = segments.client_segments(db, B001)
        assert frame["value_tier"].notna().all() and frame["cluster"].notna().all()
        assert frame["segment"].isna().all()
    finally:
        db.close()


def test_tier_lines_used_by_the_fixture():
    """The fixture's near-misses assume the default lines (5万, 20万, 50万, 200万, 600万)."""
    assert [line for _, line in tier_lines()][1:] == [50_000, 200_000, 500_000, 2_000_000,
                                                      6_000_000]  # fmt: skip
