"""Scope: the SQL filter for each role, URL role parsing in demo mode, login-mapped users."""

import duckdb
import pytest

from analytics import access
from analytics.access import AccessDenied, Scope

BRANCHES = ["B001", "B002"]
RMS = {"R0001": "B001", "R0007": "B002"}


@pytest.fixture()
def rows():
    con = duckdb.connect()
    con.execute("CREATE TABLE c (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR)")
    con.execute(
        "INSERT INTO c VALUES ('a','B001','R0001'), ('b','B001',NULL), ('c','B002','R0007'),"
        " ('d','B002','R0007')"
    )
    return con


def visible(con, scope):
    where, params = scope.where("c")
    return sorted(
        r[0] for r in con.execute(f"SELECT client_id FROM c WHERE {where}", params).fetchall()
    )


def test_scope_filters_each_role(rows):
    assert visible(rows, Scope("head_office")) == ["a", "b", "c", "d"]
    assert visible(rows, Scope("trainer")) == ["a", "b", "c", "d"]
    assert visible(rows, Scope("manager", ("B001",))) == ["a", "b"]
    assert visible(rows, Scope("rm", ("B002",), rm_id="R0007")) == ["c", "d"]
    assert visible(rows, Scope("rm", ("B001",), rm_id="R0001")) == ["a"]


def test_scope_values_travel_as_parameters(rows):
    # an id that would be an injection if formatted into SQL matches nothing
    evil = Scope("rm", ("B001",), rm_id="R0001' OR '1'='1")
    assert visible(rows, evil) == []
    with pytest.raises(ValueError):
        Scope("head_office").where("c; DROP TABLE c")


def test_incomplete_scopes_are_refused():
    with pytest.raises(ValueError):
        Scope("manager")
    with pytest.raises(ValueError):
        Scope("rm", ("B001",))
    with pytest.raises(ValueError):
        Scope("root")


def test_owns_single_records():
    rm = Scope("rm", ("B001",), rm_id="R0001")
    assert rm.owns("B001", "R0001") and not rm.owns("B001", "R0002") and not rm.owns("B001", None)
    mgr = Scope("manager", ("B001",))
    assert mgr.owns("B001", None) and not mgr.owns("B002", "R0007")


@pytest.mark.parametrize(
    "value, role, branches, rm",
    [
        ("head_office", "head_office", ("B001", "B002"), None),
        ("manager", "manager", ("B001",), None),
        ("manager:B002", "manager", ("B002",), None),
        ("rm:R0007", "rm", ("B002",), "R0007"),
        ("trainer", "trainer", ("B001", "B002"), None),
        (None, "trainer", ("B001", "B002"), None),
        ("manager:B999", "trainer", ("B001", "B002"), None),  # unknown: the demo default
        ("rm:R9999", "trainer", ("B001", "B002"), None),
        ("admin", "trainer", ("B001", "B002"), None),
    ],
)
def test_parse_as(value, role, branches, rm):
    scope = access.parse_as(value, BRANCHES, RMS)
    assert (scope.role, scope.branch_ids, scope.rm_id) == (role, branches, rm)
    if value in ("head_office", "manager:B002", "rm:R0007", "trainer"):
        assert access.as_value(scope) == value


def test_trainer_sees_demo_snapshots_only():
    access.check_trainer_snapshot(Scope("trainer"), "demo")
    access.check_trainer_snapshot(Scope("head_office"), "import")
    with pytest.raises(AccessDenied):
        access.check_trainer_snapshot(Scope("trainer"), "import")


def test_import_and_rollback_need_a_logged_in_person():
    """Demo mode (anybody is anybody) may check files but never import or roll back."""
    demo_ho = Scope("head_office", ("B001",), viewer_id="demo:head_office")
    real_ho = Scope("head_office", ("B001",), viewer_id="ho@bank.cn")
    demo_mgr = Scope("manager", ("B001",), viewer_id="demo:manager:B001")
    assert [access.may(demo_ho, a) for a in ("check_import", "import", "rollback")] == [
        True,
        False,
        False,
    ]
    assert [access.may(demo_mgr, a) for a in ("check_import", "import", "rollback")] == [
        True,
        False,
        False,
    ]
    assert [access.may(real_ho, a) for a in ("check_import", "import", "rollback")] == [
        True,
        True,
        True,
    ]
    rm = Scope("rm", ("B001",), rm_id="R0001", viewer_id="li@bank.cn")
    assert [access.may(rm, a) for a in ("check_import", "import", "rollback")] == [
        False,
        False,
        False,
    ]
