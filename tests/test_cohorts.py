"""Cohort profiles on the demo snapshot: shares add up, sizes add up, the senior contrasts, scope."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import cohorts, tags
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database
from analytics.tiers import tier_names

MIXES = ("age_bands", "tiers", "product_mix", "risk_levels")


@pytest.fixture(scope="module")
def wh(demo_db_path):
    return Database(demo_db_path, read_only=True)


@pytest.fixture(scope="module")
def branch(wh):
    return wh.scalar("SELECT MIN(branch_id) FROM branches")


@pytest.fixture(scope="module")
def manager(branch):
    return Scope("manager", (branch,))


@pytest.fixture(scope="module")
def senior_profile(wh, manager):
    return cohorts.cohort_profile(wh, manager, cohorts.senior_members(wh, manager))


def _ages(wh, scope):
    where, params = scope.where("c")
    return wh.query(
        f"""SELECT c.client_id, date_sub('year', c.birth_date, (SELECT MAX(month_end)
                   FROM client_aum_monthly)) AS age FROM clients c WHERE {where}""",
        params,
    )


def test_shares_sum_to_one_and_sizes_add_up(wh, manager, senior_profile):
    p = senior_profile
    for name in MIXES:
        frame = getattr(p, name)
        assert frame["cohort"].sum() == pytest.approx(1.0), name
        assert frame["rest"].sum() == pytest.approx(1.0), name
    n_scope = wh.scalar("SELECT COUNT(*) FROM clients WHERE branch_id = ?", [manager.branch_ids[0]])
    assert p.clients + p.rest_clients == n_scope
    assert p.client_share == pytest.approx(p.clients / n_scope)
    scope_aum = wh.scalar(
        "SELECT SUM(aum)::DOUBLE FROM client_aum_monthly WHERE branch_id = ? AND month_end = ?",
        [manager.branch_ids[0], p.month],
    )
    assert p.aum + p.rest_aum == pytest.approx(scope_aum)
    assert p.aum_share == pytest.approx(p.aum / scope_aum)
    # the trend's last month is the as-of AUM
    last = p.trend.iloc[-1]
    assert last["cohort"] == pytest.approx(p.aum) and last["rest"] == pytest.approx(p.rest_aum)
    assert len(p.trend) == wh.scalar("SELECT COUNT(DISTINCT month_end) FROM client_aum_monthly")
    assert list(p.tiers["tier"]) == tier_names()
    assert list(p.tags["tag"]) == list(tags.TAGS)
    for name in ("penetration", "tags"):
        frame = getattr(p, name)
        assert frame[["cohort", "rest"]].stack().between(0, 1).all(), name
    ind = p.indicators.set_index("measure")
    assert ind.loc["clients", "cohort"] == p.clients and ind.loc["aum", "rest"] == p.rest_aum


def test_senior_cohort_is_the_senior_bands(wh, manager, senior_profile):
    ages = _ages(wh, manager)
    seniors = set(cohorts.senior_members(wh, manager)["client_id"])
    min_age = load_settings()["cohorts"]["senior_min_age"]
    assert seniors == set(ages.loc[ages["age"] >= min_age, "client_id"])
    bands = senior_profile.age_bands.set_index("band")
    senior_labels = [label for label, _, _ in cohorts.senior_bands()]
    assert bands.loc[senior_labels, "cohort"].sum() == pytest.approx(1.0)
    assert bands.loc[senior_labels, "rest"].sum() == 0
    parts = [set(cohorts.senior_members(wh, manager, band)["client_id"]) for band in senior_labels]
    assert set().union(*parts) == seniors and sum(map(len, parts)) == len(seniors)
    with pytest.raises(ValueError):
        cohorts.senior_members(wh, manager, "12-13")


def test_senior_contrasts(senior_profile):
    """Seniors keep more of their AUM in deposits and log in to mobile banking less."""
    deposits = load_settings()["clusters"]["deposit_categories"]
    mix = senior_profile.product_mix.set_index("category")
    dep = mix.loc[mix.index.intersection(deposits)]
    assert dep["cohort"].sum() > dep["rest"].sum()
    ind = senior_profile.indicators.set_index("measure")
    assert ind.loc["avg_monthly_logins", "cohort"] < ind.loc["avg_monthly_logins", "rest"]


def test_high_end_members(wh, manager):
    names = tier_names()
    start = names.index(load_settings()["tiers"]["high_end_from"])
    high = cohorts.high_end_members(wh, manager)
    assert len(high) > 0 and set(high["tier"]) <= set(names[start:])
    by_tier = [cohorts.high_end_members(wh, manager, t) for t in names[start:]]
    assert sum(len(df) for df in by_tier) == len(high)
    for t, df in zip(names[start:], by_tier, strict=True):
        assert (df["tier"] == t).all()
    p = cohorts.cohort_profile(wh, manager, high)
    tiers = p.tiers.set_index("tier")
    assert tiers.loc[names[start:], "cohort"].sum() == pytest.approx(1.0)
    assert p.aum_share > p.client_share  # high-end clients hold more than their head count
    with pytest.raises(ValueError):
        cohorts.high_end_members(wh, manager, "nope")


def test_rm_cohort_holds_only_their_clients(wh, manager):
    rm = wh.scalar(
        "SELECT rm_id FROM clients WHERE branch_id = ? AND rm_id IS NOT NULL "
        "GROUP BY rm_id ORDER BY COUNT(*) DESC, rm_id LIMIT 1",
        [manager.branch_ids[0]],
    )
    scope = Scope("rm", manager.branch_ids, rm_id=rm)
    own = set(wh.query("SELECT client_id FROM clients WHERE rm_id = ?", [rm])["client_id"])
    seniors = cohorts.senior_members(wh, scope)
    assert len(seniors) > 0 and set(seniors["client_id"]) <= own
    assert set(cohorts.high_end_members(wh, scope)["client_id"]) <= own
    # members from a wider scope are cut to the RM's book
    everyone = cohorts.senior_members(wh, Scope("head_office"))
    p = cohorts.cohort_profile(wh, scope, everyone)
    assert p.clients == len(seniors)
    assert p.clients + p.rest_clients == len(own)


def test_empty_cohort(wh, manager):
    p = cohorts.cohort_profile(wh, manager, pd.DataFrame({"client_id": []}))
    assert p.clients == 0 and p.aum == 0 and p.client_share == 0
    for name in MIXES:
        assert getattr(p, name)["cohort"].sum() == 0
        assert getattr(p, name)["rest"].sum() == pytest.approx(1.0)
