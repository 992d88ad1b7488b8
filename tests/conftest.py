"""Shared fixtures: one small demo snapshot per test session (built once, opened read-only)."""

from __future__ import annotations

import pytest

from analytics import demo_data

# Small but complete: two branches so that scope tests have someone to exclude.
SMALL = dict(clients=4000, branches=2, months=13, seed=7, rms_per_branch=6, corporates=1200)


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """Path of a small demo warehouse snapshot built with the SMALL arguments."""
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    demo_data.build_snapshot(path, **SMALL)
    return path
