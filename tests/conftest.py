"""Shared fixtures: one small demo snapshot per test session (built once, opened read-only)."""

from __future__ import annotations

import pytest

from analytics import demo_data

# Small but complete: two branches so that scope tests have someone to exclude.
SMALL = dict(clients=4000, branches=2, months=13, seed=7, rms_per_branch=6, corporates=3000)


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """Path of a small demo warehouse snapshot built with the SMALL arguments."""
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    demo_data.build_snapshot(path, **SMALL)
    return path


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "page_errors: the test expects ui.errors to report an uncaught page error"
    )


@pytest.fixture(autouse=True)
def _no_hidden_page_errors(request, monkeypatch):
    """ui.errors shows an uncaught error in a page as a reference id (the traceback goes to the
    log), which AppTest no longer sees as an exception: such an error fails the test here, with
    its own traceback, unless the test is marked ``page_errors``."""
    from ui import errors

    reported: list[BaseException] = []
    report = errors.report

    def spy(error, lang=None):
        reported.append(error)
        return report(error, lang)

    monkeypatch.setattr(errors, "report", spy)
    yield
    if reported and request.node.get_closest_marker("page_errors") is None:
        raise reported[0]
