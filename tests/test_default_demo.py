"""The default demo branch (settings.toml [demo], what the app builds on first start) shows what a
trainer needs: every segmentation populated and threshold clients under every tier line."""

from __future__ import annotations

import pytest

from analytics import clusters, demo_data, rfm, store, threshold, value
from analytics.access import Scope
from analytics.settings import load_settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = load_settings()["demo"]
    path = tmp_path_factory.mktemp("default-demo") / "demo.duckdb"
    demo_data.build_snapshot(
        path, clients=int(d["clients"]), branches=int(d["branches"]), months=int(d["months"]),
        seed=int(d["seed"]), rms_per_branch=int(d["rms_per_branch"]),
        corporates=int(d["corporates_per_branch"]) * int(d["branches"]),
    )  # fmt: skip
    return store.open_warehouse(path)


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
