"""The default demo branch (settings.toml [demo], what the app builds on first start) shows what a
trainer needs: every segmentation populated and threshold clients under every tier line."""

from __future__ import annotations

import pytest

from analytics import clusters, corporate, demo_data, rfm, store, threshold, value
from analytics.access import Scope
from analytics.settings import load_settings
from bench import demo_realism


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    d = load_settings()["demo"]
    path = tmp_path_factory.mktemp("default-demo") / "demo.duckdb"
    demo_data.build_snapshot(
        path, clients=int(d["clients"]), branches=int(d["branches"]), months=int(d["months"]),
        seed=int(d["seed"]), rms_per_branch=int(d["rms_per_branch"]),
        corporates=int(d["corporates_per_branch"]) * int(d["branches"]),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def demo(demo_path):
    wh = store.open_warehouse(demo_path)
    yield wh
    wh.close()


SCOPE = Scope("trainer")


def test_value_tiers_mvc_is_a_minority_with_most_contribution(demo):
    summary = value.value_tier_summary(demo, SCOPE).set_index("value_tier")
    assert (summary["clients"] > 0).all(), summary
    assert summary.at["MVC", "client_share"] <= 0.25
    assert summary.at["MVC", "contribution_share"] >= 0.5


def test_every_rfm_segment_and_cluster_is_populated(demo):
    segs = rfm.retail_rfm(demo, SCOPE)["segment"].value_counts()
    assert set(segs.index) == set(rfm.SEGMENTS)
    result = clusters.behaviour_clusters(demo, SCOPE)
    assert 3 <= result.k <= 8
    assert (result.profiles["size"] > 0).all() and len(result.profiles) == result.k


def test_threshold_clients_under_every_tier_line(demo):
    up = threshold.upgrade_near_miss(demo, SCOPE)
    assert set(up["line_tier"]) == set(load_settings()["tiers"]["lines"])


def test_realism_figures_meet_their_targets(demo_path):
    """Issue 13 point 5: the figures a trainer quotes (bench/demo_realism.py, by plain SQL on the
    snapshot) each within its target on the default demo."""
    figures = {name: (value, met) for name, value, _, met in demo_realism.figures(demo_path)}
    assert len(figures) == 6
    assert {name: met for name, (_, met) in figures.items()} == dict.fromkeys(figures, True), (
        figures
    )
    assert figures["branches"][0] == 3


def test_lifetime_value_models_see_churn(demo):
    """Issue 13 point 4: the demo's settlement history has dropout, so BG/NBD's a is not ~0 and
    p_alive is spread (before: a ≈ 1.5e-6, every company at 1.00); Gamma-Gamma's q stays ≤ 1 on
    corporate profit (spread over orders of magnitude), so the documented fallback (the observed
    value) is used and the view says why (ui/corporate_view.model_notes)."""
    clv = corporate.corporate_clv(demo, SCOPE)
    models = clv.attrs["models"]
    assert sorted(models) == ["B001", "B002", "B003"]
    for branch, m in models.items():
        h = clv[(clv["branch_id"] == branch) & (clv["future_value_code"] == "modelled")]
        assert m["bgnbd"]["a"] > 0.05, m
        assert 0.05 < (h["p_alive"] < 0.5).mean() < 0.4
        assert (m["gamma_gamma"]["q"] <= 1) == (m["value_model"] == "observed")
    none = clv[clv["future_value_code"] == "no_settlement"]
    assert len(none) > 0 and (none["future_profit"] == 0).all()
