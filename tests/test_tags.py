"""Client tags: each rule on hand-made clients inside and at the edge, the filters, the demo."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from analytics import tags
from analytics.access import AccessDenied, Scope
from analytics.settings import load_settings
from analytics.store import Database

AS_OF = date(2026, 10, 31)
MONTHS = [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
EVERYONE = Scope("head_office")


def born(years: int, days_later: int = 0) -> date:
    """Birth date of someone exactly ``years`` old on AS_OF (``days_later`` > 0: one year less)."""
    return date(AS_OF.year - years, AS_OF.month, AS_OF.day) + timedelta(days=days_later)


CLIENT_DEFAULTS = dict(
    branch_id="B1",
    rm_id="R1",
    gender="M",
    birth_date=born(35),
    occupation="office_worker",
    risk_level="C3",
    risk_assessed_on=AS_OF - timedelta(days=10),
    payroll_flag=False,
    pension_flag=False,
    mobile_banking=False,
)


def _insert(con, sql, rows):
    rows = list(rows)
    if rows:  # executemany refuses an empty list
        con.executemany(sql, rows)


def build(tmp_path, clients, family=(), holdings=(), aum=(), logins=(), contacts=()):
    """A tiny warehouse with only the tables and columns the tags read. Every client gets an AUM
    row of 1,000 each month (unless ``aum`` says otherwise) and a contact 5 days before AS_OF
    (unless ``contacts`` lists the client)."""
    path = tmp_path / "tags.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        CREATE TABLE clients (client_id VARCHAR, branch_id VARCHAR, rm_id VARCHAR, gender VARCHAR,
            birth_date DATE, occupation VARCHAR, risk_level VARCHAR, risk_assessed_on DATE,
            payroll_flag BOOLEAN, pension_flag BOOLEAN, mobile_banking BOOLEAN);
        CREATE TABLE family_members (client_id VARCHAR, relation VARCHAR, birth_date DATE);
        CREATE TABLE products (product_id VARCHAR, category VARCHAR);
        CREATE TABLE holdings_monthly (month_end DATE, client_id VARCHAR, product_id VARCHAR,
            balance DECIMAL(18, 2), avg_balance DECIMAL(18, 2), cost DECIMAL(18, 2),
            maturity_date DATE);
        CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,
            rm_id VARCHAR, aum DECIMAL(18, 2), aum_month_end DECIMAL(18, 2));
        CREATE TABLE digital_activity (month_end DATE, client_id VARCHAR, mobile_logins INTEGER);
        CREATE TABLE contact_history (client_id VARCHAR, rm_id VARCHAR, contact_date DATE,
            channel VARCHAR, topic VARCHAR, outcome VARCHAR);
        """
    )
    rows = [{**CLIENT_DEFAULTS, **c} for c in clients]
    cols = ["client_id", *CLIENT_DEFAULTS]
    _insert(
        con,
        f"INSERT INTO clients VALUES ({', '.join('?' for _ in cols)})",
        [[r[c] for c in cols] for r in rows],
    )
    _insert(con, "INSERT INTO family_members VALUES (?, ?, ?)", list(family))
    cats = sorted({h[2] for h in holdings})
    _insert(con, "INSERT INTO products VALUES (?, ?)", [(c, c) for c in cats])
    _insert(
        con,
        "INSERT INTO holdings_monthly VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(m, cid, cat, bal, None, cost, mat) for m, cid, cat, bal, cost, mat in holdings],
    )
    aum = dict(aum)
    _insert(
        con,
        "INSERT INTO client_aum_monthly VALUES (?, ?, ?, ?, ?, ?)",
        [
            (m, r["client_id"], r["branch_id"], r["rm_id"], v, v)
            for r in rows
            for m, v in zip(MONTHS, aum.get(r["client_id"], [1000] * 3), strict=True)
        ],
    )
    _insert(con, "INSERT INTO digital_activity VALUES (?, ?, ?)", list(logins))
    contacts = dict(contacts)
    _insert(
        con,
        "INSERT INTO contact_history VALUES (?, ?, ?, 'call', 'review', 'reached')",
        [
            (r["client_id"], r["rm_id"], d)
            for r in rows
            for d in contacts.get(r["client_id"], [AS_OF - timedelta(days=5)])
        ],
    )
    con.close()
    return Database(path, read_only=True)


def flags(wh, tag, scope=EVERYONE, as_of=None):
    df = tags.client_tags(wh, scope, as_of)
    return dict(zip(df["client_id"], df[tag], strict=True))


def test_frame_shape_and_scope(tmp_path):
    wh = build(tmp_path, [{"client_id": "a"}, {"client_id": "b", "branch_id": "B2"}])
    df = tags.client_tags(wh, EVERYONE)
    assert list(df.columns) == ["client_id", *tags.TAGS]
    assert list(df["client_id"]) == ["a", "b"]
    assert all(df[t].dtype == bool for t in tags.TAGS)
    assert list(tags.client_tags(wh, Scope("manager", ("B2",)))["client_id"]) == ["b"]
    assert list(tags.client_tags(wh, Scope("rm", ("B1",), rm_id="R9"))["client_id"]) == []


def test_high_net_worth_held_tier(tmp_path):
    line = load_settings()["tiers"]["lines"][load_settings()["tags"]["high_net_worth"]["min_tier"]]
    wh = build(
        tmp_path,
        [{"client_id": c} for c in ("on", "below", "held", "lost")],
        aum={
            "on": [0, 0, line],
            "below": [0, 0, line - 0.01],
            "held": [line, line - 1, line - 1],  # within the downgrade grace period
            "lost": [line - 1] * 3,
        },
    )
    assert flags(wh, "high_net_worth") == {"on": True, "below": False, "held": True, "lost": False}


def test_retirement_rules(tmp_path):
    wh = build(
        tmp_path,
        [
            {"client_id": "m55", "gender": "M", "birth_date": born(55)},
            {"client_id": "m54", "gender": "M", "birth_date": born(55, days_later=1)},
            {"client_id": "m59", "gender": "M", "birth_date": born(59)},
            {"client_id": "m60", "gender": "M", "birth_date": born(60)},
            {"client_id": "f50", "gender": "F", "birth_date": born(50)},
            {"client_id": "f49", "gender": "F", "birth_date": born(49)},
            {"client_id": "f55", "gender": "F", "birth_date": born(55)},
            {"client_id": "early", "gender": "M", "birth_date": born(57), "occupation": "retired"},
        ],
    )
    assert flags(wh, "near_retirement") == {
        "m55": True,
        "m54": False,
        "m59": True,
        "m60": False,
        "f50": True,
        "f49": False,
        "f55": False,
        "early": False,
    }
    assert flags(wh, "retired") == {
        "m55": False,
        "m54": False,
        "m59": False,
        "m60": True,
        "f50": False,
        "f49": False,
        "f55": True,
        "early": True,
    }


def test_payroll_and_pension_flags(tmp_path):
    wh = build(
        tmp_path,
        [
            {"client_id": "pay", "payroll_flag": True},
            {"client_id": "pen", "pension_flag": True},
            {"client_id": "none"},
        ],
    )
    assert flags(wh, "salary_payroll") == {"pay": True, "pen": False, "none": False}
    assert flags(wh, "pension_payroll") == {"pay": False, "pen": True, "none": False}


def test_child_education_ages(tmp_path):
    ids = ["c3", "c2", "c22", "c23", "spouse", "none"]
    wh = build(
        tmp_path,
        [{"client_id": c} for c in ids],
        family=[
            ("c3", "child", born(3)),
            ("c2", "child", born(3, days_later=1)),
            ("c22", "child", born(22)),
            ("c22", "child", born(30)),
            ("c23", "child", born(23)),
            ("spouse", "spouse", born(10)),
        ],
    )
    assert flags(wh, "child_education") == {
        "c3": True,
        "c2": False,
        "c22": True,
        "c23": False,
        "spouse": False,
        "none": False,
    }


def test_fund_loss_edge(tmp_path):
    oct_, sep = MONTHS[2], MONTHS[1]
    wh = build(
        tmp_path,
        [{"client_id": c} for c in ("edge", "above", "deposit", "last_month", "money")],
        holdings=[
            (oct_, "edge", "equity_fund", 85, 100, None),  # exactly -15%
            (oct_, "above", "mixed_fund", 85.01, 100, None),
            (oct_, "deposit", "time_deposit", 80, 100, None),  # not a fund
            (sep, "last_month", "bond_fund", 50, 100, None),
            (oct_, "last_month", "bond_fund", 99, 100, None),
            (oct_, "money", "money_fund", 84.99, 100, None),
        ],
    )
    assert flags(wh, "fund_loss") == {
        "edge": True,
        "above": False,
        "deposit": False,
        "last_month": False,
        "money": True,
    }


def test_risk_profile_groups(tmp_path):
    wh = build(
        tmp_path, [{"client_id": lvl, "risk_level": lvl} for lvl in ("C1", "C2", "C3", "C4", "C5")]
    )
    assert flags(wh, "conservative") == {
        "C1": True,
        "C2": True,
        "C3": False,
        "C4": False,
        "C5": False,
    }
    assert flags(wh, "balanced") == {"C1": False, "C2": False, "C3": True, "C4": False, "C5": False}
    assert flags(wh, "aggressive") == {
        "C1": False,
        "C2": False,
        "C3": False,
        "C4": True,
        "C5": True,
    }


def test_digital_active_and_silent(tmp_path):
    d = load_settings()["tags"]["digital"]
    assert d["months"] == 3  # the cases below are laid out over three month-ends
    need = int(d["min_logins"])
    wh = build(
        tmp_path,
        [
            {"client_id": "edge", "mobile_banking": True},
            {"client_id": "short", "mobile_banking": True},
            {"client_id": "old", "mobile_banking": True},
            {"client_id": "no_app", "mobile_banking": False},
            {"client_id": "never", "mobile_banking": True},
        ],
        logins=[
            (MONTHS[0], "edge", need - 1),
            (MONTHS[2], "edge", 1),
            (MONTHS[0], "short", need - 1),
            (date(2026, 7, 31), "old", 100),  # before the window
            (MONTHS[2], "no_app", 100),
        ],
    )
    active = flags(wh, "digital_active")
    assert active == {"edge": True, "short": False, "old": False, "no_app": False, "never": False}
    silent = flags(wh, "digital_silent")
    assert silent == {k: not v for k, v in active.items()}


def test_deposit_maturing_window(tmp_path):
    days = int(load_settings()["tags"]["deposit_maturing"]["within_days"])
    last, after = AS_OF + timedelta(days=days), AS_OF + timedelta(days=days + 1)
    m = MONTHS[2]
    wh = build(
        tmp_path,
        [{"client_id": c} for c in ("td_last", "td_after", "td_today", "cd", "bond", "wealth")],
        holdings=[
            (m, "td_last", "time_deposit", 100, 100, last),
            (m, "td_after", "time_deposit", 100, 100, after),
            (m, "td_today", "time_deposit", 100, 100, AS_OF),
            (m, "cd", "large_cd", 100, 100, AS_OF + timedelta(days=1)),
            (m, "bond", "savings_bond", 100, 100, last),
            (m, "wealth", "wealth", 100, 100, last),  # not a deposit
        ],
    )
    assert flags(wh, "deposit_maturing") == {
        "td_last": True,
        "td_after": False,
        "td_today": False,
        "cd": True,
        "bond": True,
        "wealth": False,
    }


def test_long_uncontacted_window(tmp_path):
    days = int(load_settings()["tags"]["long_uncontacted"]["days"])
    wh = build(
        tmp_path,
        [{"client_id": c} for c in ("inside", "edge", "never", "future")],
        contacts={
            "inside": [AS_OF - timedelta(days=days - 1)],
            "edge": [AS_OF - timedelta(days=days)],
            "never": [],
            "future": [AS_OF + timedelta(days=1)],
        },
    )
    assert flags(wh, "long_uncontacted") == {
        "inside": False,
        "edge": True,
        "never": True,
        "future": True,
    }


def test_risk_assessment_expired_edge(tmp_path):
    days = int(load_settings()["kyc"]["risk_assessment_valid_days"])
    wh = build(
        tmp_path,
        [
            {"client_id": "valid", "risk_assessed_on": AS_OF - timedelta(days=days)},
            {"client_id": "expired", "risk_assessed_on": AS_OF - timedelta(days=days + 1)},
        ],
    )
    assert flags(wh, "risk_assessment_expired") == {"valid": False, "expired": True}


def test_as_of_moves_the_windows(tmp_path):
    wh = build(
        tmp_path,
        [{"client_id": "a", "birth_date": born(60)}],
        holdings=[(MONTHS[1], "a", "time_deposit", 100, 100, date(2026, 10, 15))],
    )
    assert flags(wh, "retired") == {"a": True}
    earlier = flags(wh, "retired", as_of=date(2026, 9, 30))
    assert earlier == {"a": False}  # 59 at the end of September
    assert flags(wh, "deposit_maturing", as_of=date(2026, 9, 30)) == {"a": True}
    assert flags(wh, "deposit_maturing") == {"a": False}


def test_tags_of_and_scope(tmp_path):
    wh = build(
        tmp_path,
        [
            {"client_id": "a", "pension_flag": True, "risk_level": "C1"},
            {"client_id": "b", "branch_id": "B2"},
        ],
    )
    assert tags.tags_of(wh, EVERYONE, "a") == ["pension_payroll", "conservative", "digital_silent"]
    with pytest.raises(AccessDenied):
        tags.tags_of(wh, Scope("manager", ("B2",)), "a")
    with pytest.raises(AccessDenied):
        tags.tags_of(wh, EVERYONE, "nobody")


def test_filter_by_tags_all_and_any():
    frame = pd.DataFrame({"client_id": ["a", "b", "c", "d"]})
    for tag in tags.TAGS:
        frame[tag] = False
    frame.loc[[0, 1], "retired"] = True
    frame.loc[[1, 2], "fund_loss"] = True
    wanted = ["retired", "fund_loss"]
    assert list(tags.filter_by_tags(frame, wanted, "all")["client_id"]) == ["b"]
    assert list(tags.filter_by_tags(frame, wanted, "any")["client_id"]) == ["a", "b", "c"]
    assert list(tags.filter_by_tags(frame, ["retired"], "all")["client_id"]) == ["a", "b"]
    assert list(tags.filter_by_tags(frame, [], "all")["client_id"]) == ["a", "b", "c", "d"]
    assert list(tags.filter_by_tags(frame, [], "any")["client_id"]) == ["a", "b", "c", "d"]
    assert list(tags.filter_by_tags(frame, wanted, "any").columns) == ["client_id"]
    with pytest.raises(ValueError):
        tags.filter_by_tags(frame, ["nope"], "all")
    with pytest.raises(ValueError):
        tags.filter_by_tags(frame, wanted, "some")


def test_every_tag_has_names():
    from ui.i18n import EN, ZH

    for tag in tags.TAGS:
        assert f"tag.{tag}" in ZH and f"tag.{tag}" in EN


def test_demo_branch_every_tag_some_not_all(demo_db_path):
    wh = Database(demo_db_path, read_only=True)
    branches = list(wh.query("SELECT branch_id FROM branches ORDER BY 1")["branch_id"])
    df = tags.client_tags(wh, Scope("manager", (branches[0],)))
    assert len(df) == wh.scalar("SELECT COUNT(*) FROM clients WHERE branch_id = ?", [branches[0]])
    for tag in tags.TAGS:
        assert 0 < df[tag].sum() < len(df), tag
    assert (df["digital_active"] != df["digital_silent"]).all()
    assert (df[["conservative", "balanced", "aggressive"]].sum(axis=1) == 1).all()
